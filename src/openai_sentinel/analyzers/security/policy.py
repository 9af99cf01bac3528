"""What the security policy does with a scan: observe, redact or block, per direction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ... import semconv
from ._model import SEVERITY_RANK, ScanResult

__all__ = [
    "BLOCK",
    "OBSERVE",
    "REDACT",
    "SecurityFindings",
    "action_for",
    "redactable",
]

OBSERVE: Final = "observe"
REDACT: Final = "redact"
BLOCK: Final = "block"
_REDACTABLE: Final = frozenset({semconv.SECURITY_CATEGORY_PII, semconv.SECURITY_CATEGORY_SECRET})


@dataclass(frozen=True, slots=True)
class SecurityFindings:
    """The scans of one call and what the policy did about each."""

    input: ScanResult | None = None
    output: ScanResult | None = None
    input_action: str | None = None
    """``observed``, ``redacted`` or ``blocked`` when the request was flagged."""
    output_action: str | None = None
    """The same, for the answer."""
    confidence_halved: bool = False
    """Critical hallucination risk halved the reported confidence."""

    @property
    def blocked(self) -> bool:
        """The call was not sent, or its answer was withheld."""
        return semconv.SECURITY_ACTION_BLOCKED in (self.input_action, self.output_action)

    @property
    def categories(self) -> tuple[str, ...]:
        """The finding categories of both directions, sorted."""
        found: set[str] = set()
        for result in (self.input, self.output):
            if result is not None:
                found.update(result.categories)
        return tuple(sorted(found))


def redactable(result: ScanResult) -> bool:
    """Whether ``result`` found PII or secrets (what redaction replaces)."""
    return any(finding.category in _REDACTABLE for finding in result.findings)


def _blockable(result: ScanResult, least_severity: str) -> bool:
    """An injection, or a PII or secret finding at least ``least_severity``."""
    if result.injection:
        return True
    least = SEVERITY_RANK[least_severity]
    return any(
        finding.category in _REDACTABLE and SEVERITY_RANK[finding.severity] >= least
        for finding in result.findings
    )


def action_for(
    result: ScanResult,
    policy: str,
    least_severity: str,
    *,
    can_redact: bool = True,
    can_block: bool = True,
) -> str | None:
    """What ``policy`` does with ``result``: ``blocked``, ``redacted``, ``observed``
    (flagged, left alone), or ``None`` when nothing was flagged. An answer that is
    streamed or raw cannot be redacted (``can_redact``), and one whose body the caller
    reads itself cannot be withheld either (``can_block``): it is observed."""
    if not result.flagged:
        return None
    if can_block and policy == BLOCK and _blockable(result, least_severity):
        return semconv.SECURITY_ACTION_BLOCKED
    if can_redact and policy == REDACT and redactable(result):
        return semconv.SECURITY_ACTION_REDACTED
    return semconv.SECURITY_ACTION_OBSERVED
