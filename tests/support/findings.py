"""What the analyzers add to a span (cost, confidence, answer quality, security), checked against
what the span itself says, then taken out so a test can compare the rest exactly."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from openai_sentinel import semconv

from .prices import pop_and_check_cost

__all__ = [
    "QUALITY_KEYS",
    "SECURITY_KEYS",
    "pop_and_check_findings",
    "pop_and_check_quality",
    "pop_and_check_security",
]

QUALITY_KEYS = (
    semconv.SENTINEL_CONFIDENCE,
    semconv.SENTINEL_CONFIDENCE_MIN_TOKEN,
    semconv.SENTINEL_CONFIDENCE_SOURCE,
    semconv.SENTINEL_RESPONSE_TRUNCATED,
    semconv.SENTINEL_RESPONSE_REFUSAL,
    semconv.SENTINEL_RESPONSE_CONTENT_FILTERED,
)
SECURITY_KEYS = (
    semconv.SENTINEL_SECURITY_INJECTION_SCORE,
    semconv.SENTINEL_SECURITY_INJECTION,
    semconv.SENTINEL_SECURITY_CATEGORIES,
    semconv.SENTINEL_SECURITY_ACTION,
    semconv.SENTINEL_SECURITY_BLOCKED,
    semconv.SENTINEL_SECURITY_HALLUCINATION_RISK,
    semconv.SENTINEL_SECURITY_DOMAIN,
    semconv.SENTINEL_SECURITY_RULES_VERSION,
    semconv.SENTINEL_CONFIDENCE_HALVED,
)
_HEURISTIC_BASES = {"stop": 0.9, "tool_calls": 0.9, "length": 0.5, "content_filter": 0.2}
"""The README's heuristic: the value for each finish reason before hedging phrases."""
_REFUSAL = 0.3


def _is_heuristic_value(value: float, reason: str) -> bool:
    if math.isclose(value, _REFUSAL):
        return True
    base = _HEURISTIC_BASES.get(reason)
    return base is not None and any(math.isclose(value, base * 0.85**hedges) for hedges in range(5))


def pop_and_check_quality(attributes: dict[str, Any]) -> dict[str, Any]:
    """Take the confidence and quality attributes out of ``attributes`` and check them
    against the span's finish reasons and error; returns the rest."""
    found = {key: attributes.pop(key) for key in QUALITY_KEYS if key in attributes}
    reasons = list(attributes.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS) or ())
    first = reasons[0] if reasons else None
    fetched = attributes.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OPERATION_FETCH_RESPONSE
    if fetched:
        assert found == {}
        return attributes
    assert found.get(semconv.SENTINEL_RESPONSE_TRUNCATED, False) is ("length" in reasons)
    assert found.get(semconv.SENTINEL_RESPONSE_CONTENT_FILTERED, False) is (
        "content_filter" in reasons
    )
    confidence = found.get(semconv.SENTINEL_CONFIDENCE)
    if semconv.ERROR_TYPE in attributes or first in (None, "error"):
        assert confidence is None
        return attributes
    assert confidence is not None
    source = found[semconv.SENTINEL_CONFIDENCE_SOURCE]
    if source == semconv.CONFIDENCE_SOURCE_HEURISTIC:
        assert _is_heuristic_value(confidence, str(first)), (confidence, first)
        assert semconv.SENTINEL_CONFIDENCE_MIN_TOKEN not in found
    else:
        assert source == semconv.CONFIDENCE_SOURCE_LOGPROBS
        assert 0.0 <= found[semconv.SENTINEL_CONFIDENCE_MIN_TOKEN] <= confidence <= 1.0
    return attributes


def pop_and_check_security(attributes: dict[str, Any]) -> dict[str, Any]:
    """Take the security attributes out of ``attributes`` and check they agree with one
    another (a score in [0, 1]; an action only with categories or a risk); returns the
    rest."""
    found = {key: attributes.pop(key) for key in SECURITY_KEYS if key in attributes}
    score = found.get(semconv.SENTINEL_SECURITY_INJECTION_SCORE)
    if score is not None:
        assert 0.0 <= score <= 1.0
    if found.get(semconv.SENTINEL_SECURITY_INJECTION):
        assert score is not None and score >= 0.5
    if semconv.SENTINEL_SECURITY_ACTION in found:
        assert semconv.SENTINEL_SECURITY_RULES_VERSION in found
        assert found.get(semconv.SENTINEL_SECURITY_CATEGORIES) or found.get(
            semconv.SENTINEL_SECURITY_HALLUCINATION_RISK
        ) not in (None, semconv.SEVERITY_LOW)
    return attributes


def pop_and_check_findings(
    attributes: Mapping[str, Any], *, threshold: float | None = None
) -> dict[str, Any]:
    """:func:`pop_and_check_quality` and :func:`pop_and_check_security`, then the cost
    (``pop_and_check_cost``)."""
    rest = pop_and_check_security(pop_and_check_quality(dict(attributes)))
    if threshold is None:
        return pop_and_check_cost(rest)
    return pop_and_check_cost(rest, threshold=threshold)
