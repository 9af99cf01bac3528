"""What a security scan reports: findings with offsets, and the verdict on one text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ... import semconv

__all__ = ["SEVERITY_RANK", "Finding", "ScanResult", "most_severe"]

SEVERITY_RANK: Final = {name: rank for rank, name in enumerate(semconv.SEVERITIES)}
"""``low`` 0 … ``critical`` 3."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a rule found in a text, between ``start`` and ``end`` (``str`` indices).

    ``entity`` names a PII finding's type as Presidio does (``EMAIL_ADDRESS``,
    ``PHONE_NUMBER``…); it is ``None`` for other categories. A finding never holds the
    matched text: the caller slices it from the text it scanned when it may.
    """

    category: str
    rule_id: str
    severity: str
    start: int
    end: int
    entity: str | None = None


def most_severe(severities: list[str] | tuple[str, ...]) -> str | None:
    """The highest of ``severities``, or ``None`` for none."""
    return max(severities, key=SEVERITY_RANK.__getitem__) if severities else None


@dataclass(frozen=True, slots=True)
class ScanResult:
    """The verdict of :func:`openai_sentinel.security.scan` on one text."""

    direction: str
    findings: tuple[Finding, ...] = ()
    injection: bool = False
    """The injection score reached the threshold."""
    injection_score: float = 0.0
    """How likely the text is an injection or jailbreak attempt, in [0, 1]."""
    hallucination_risk: str = semconv.SEVERITY_LOW
    """``low`` … ``critical``; above ``low`` only for an answer in a high-stakes domain."""
    domain: str | None = None
    """``medical``, ``legal`` or ``financial`` when the text (or the request, for an
    answer) is about one of them."""
    rules_version: str = ""
    categories: tuple[str, ...] = field(init=False)
    """The distinct categories of the findings, sorted."""

    def __post_init__(self) -> None:
        findings = self.findings
        categories = tuple(sorted({finding.category for finding in findings})) if findings else ()
        object.__setattr__(self, "categories", categories)

    @property
    def flagged(self) -> bool:
        """Something was found: an injection, a finding, or a hallucination risk above low."""
        return (
            self.injection or bool(self.findings) or self.hallucination_risk != semconv.SEVERITY_LOW
        )

    def of_category(self, *categories: str) -> tuple[Finding, ...]:
        """The findings of the given categories."""
        return tuple(finding for finding in self.findings if finding.category in categories)
