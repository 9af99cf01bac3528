"""Security findings as telemetry: span attributes, one span event per finding, and
the ``sentinel.security.events`` counter."""

from __future__ import annotations

from typing import Final

from opentelemetry.metrics import Meter
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._sums import in_process_sum
from .analyzers.security._model import SEVERITY_RANK, Finding, ScanResult
from .analyzers.security.policy import SecurityFindings

__all__ = ["SecurityTelemetry", "security_attributes"]

Attributes = dict[str, AttributeValue]
_REDACTED: Final = frozenset({semconv.SECURITY_CATEGORY_PII, semconv.SECURITY_CATEGORY_SECRET})
MATCH_LIMIT: Final = 200
"""Characters of a matched text an event quotes (content capture only, redacted)."""


def security_attributes(security: SecurityFindings) -> Attributes:
    """Span attributes: the injection score, categories, action, hallucination risk."""
    attributes: Attributes = {}
    request, answer = security.input, security.output
    if request is not None:
        attributes[semconv.SENTINEL_SECURITY_INJECTION_SCORE] = round(request.injection_score, 4)
        if request.injection:
            attributes[semconv.SENTINEL_SECURITY_INJECTION] = True
        if request.domain is not None:
            attributes[semconv.SENTINEL_SECURITY_DOMAIN] = request.domain
    if answer is not None and (answer.domain is not None or request is None):
        if answer.domain is not None:
            attributes[semconv.SENTINEL_SECURITY_DOMAIN] = answer.domain
        attributes[semconv.SENTINEL_SECURITY_HALLUCINATION_RISK] = answer.hallucination_risk
    categories = security.categories
    if categories:
        attributes[semconv.SENTINEL_SECURITY_CATEGORIES] = list(categories)
    actions = [a for a in (security.input_action, security.output_action) if a is not None]
    if actions:
        attributes[semconv.SENTINEL_SECURITY_ACTION] = _strongest(actions)
        scanned = request or answer
        if scanned is not None:
            attributes[semconv.SENTINEL_SECURITY_RULES_VERSION] = scanned.rules_version
    if security.blocked:
        attributes[semconv.SENTINEL_SECURITY_BLOCKED] = True
    if security.confidence_halved:
        attributes[semconv.SENTINEL_CONFIDENCE_HALVED] = True
    return attributes


_ACTION_ORDER: Final = (
    semconv.SECURITY_ACTION_OBSERVED,
    semconv.SECURITY_ACTION_REDACTED,
    semconv.SECURITY_ACTION_BLOCKED,
)


def _strongest(actions: list[str]) -> str:
    return max(actions, key=_ACTION_ORDER.index)


def _event_attributes(finding: Finding, direction: str) -> Attributes:
    attributes: Attributes = {
        semconv.SENTINEL_SECURITY_RULE_ID: finding.rule_id,
        semconv.SENTINEL_SECURITY_CATEGORY: finding.category,
        semconv.SENTINEL_SECURITY_SEVERITY: finding.severity,
        semconv.SENTINEL_SECURITY_DIRECTION: direction,
        semconv.SENTINEL_SECURITY_START: finding.start,
        semconv.SENTINEL_SECURITY_END: finding.end,
    }
    if finding.entity is not None:
        attributes[semconv.SENTINEL_SECURITY_ENTITY] = finding.entity
    return attributes


class SecurityTelemetry:
    """Writes one call's security findings; counts them by category, severity,
    direction and action."""

    __slots__ = ("_events",)

    def __init__(self, meter: Meter) -> None:
        self._events = in_process_sum(meter, semconv.METRIC_SECURITY_EVENTS, "{event}")

    @staticmethod
    def add_events(
        span: Span,
        security: SecurityFindings,
        timestamp: int,
        texts: tuple[str | None, str | None] = (None, None),
        redact: object = None,
    ) -> None:
        """One ``sentinel.security.finding`` event per finding. ``texts`` (the scanned
        input and output, given only when content capture is on) let an event quote
        its match, redacted by ``redact`` and cut to :data:`MATCH_LIMIT` characters."""
        for result, text in ((security.input, texts[0]), (security.output, texts[1])):
            if result is None:
                continue
            for finding in result.findings:
                attributes = _event_attributes(finding, result.direction)
                if text is not None and callable(redact):
                    match = str(redact(text[finding.start : finding.end]))
                    attributes[semconv.SENTINEL_SECURITY_MATCH] = match[:MATCH_LIMIT]
                span.add_event(semconv.EVENT_SECURITY_FINDING, attributes, timestamp)

    def record(self, security: SecurityFindings) -> None:
        """Count the findings of the call (an injection verdict counts once, as its
        strongest category, even with no finding of its own)."""
        for result, action in (
            (security.input, security.input_action),
            (security.output, security.output_action),
        ):
            if result is None or action is None:
                continue
            for finding in _counted(result):
                done = action
                if action == semconv.SECURITY_ACTION_REDACTED and finding.category not in _REDACTED:
                    done = semconv.SECURITY_ACTION_OBSERVED  # redaction replaces PII only
                self._events.add(
                    1,
                    (
                        (semconv.SENTINEL_SECURITY_CATEGORY, finding.category),
                        (semconv.SENTINEL_SECURITY_SEVERITY, finding.severity),
                        (semconv.SENTINEL_SECURITY_DIRECTION, result.direction),
                        (semconv.SENTINEL_SECURITY_ACTION, done),
                    ),
                )


def _counted(result: ScanResult) -> list[Finding]:
    """One finding per category of the call, the most severe: a call is one attempt,
    however many rules it matched."""
    strongest: dict[str, Finding] = {}
    for finding in result.findings:
        kept = strongest.get(finding.category)
        if kept is None or SEVERITY_RANK[finding.severity] > SEVERITY_RANK[kept.severity]:
            strongest[finding.category] = finding
    return list(strongest.values())
