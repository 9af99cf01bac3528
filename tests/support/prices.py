"""The cost a span should carry, computed with ``genai-prices`` called directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from openai_sentinel import semconv
from openai_sentinel.analyzers.cost import price_source

__all__ = ["COST_KEYS", "DEFAULT_THRESHOLD", "pop_and_check_cost"]

COST_KEYS = (
    semconv.SENTINEL_COST_USD,
    semconv.SENTINEL_COST_INPUT_USD,
    semconv.SENTINEL_COST_OUTPUT_USD,
    semconv.SENTINEL_COST_SOURCE,
    semconv.SENTINEL_COST_UNPRICED,
    semconv.SENTINEL_COST_OVER_THRESHOLD,
)
DEFAULT_THRESHOLD = 0.015
_PROVIDER_IDS = {semconv.PROVIDER_AZURE_OPENAI: "azure"}


def _reference(attributes: Mapping[str, Any]) -> Any:
    model = attributes.get(semconv.GEN_AI_RESPONSE_MODEL) or attributes.get(
        semconv.GEN_AI_REQUEST_MODEL
    )
    tokens = (
        attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS),
        attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
    )
    if model is None or tokens == (None, None):
        return None
    provider = attributes.get(semconv.GEN_AI_PROVIDER_NAME)
    try:
        return calc_price(
            Usage(
                input_tokens=tokens[0] or 0,
                output_tokens=tokens[1] or 0,
                cache_read_tokens=attributes.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS)
                or None,
                cache_write_tokens=attributes.get(semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS)
                or None,
            ),
            model_ref=str(model),
            provider_id=_PROVIDER_IDS.get(str(provider), "openai"),
        )
    except LookupError:
        return None


def pop_and_check_cost(
    attributes: dict[str, Any], *, threshold: float = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """Take the cost attributes out of ``attributes`` and check them against genai-prices
    priced from the span's own model and usage; returns the rest."""
    cost = {key: attributes.pop(key) for key in COST_KEYS if key in attributes}
    if attributes.get(semconv.GEN_AI_OPERATION_NAME) == semconv.OPERATION_FETCH_RESPONSE:
        assert cost == {}
        return attributes
    if semconv.ERROR_TYPE in attributes and semconv.GEN_AI_USAGE_INPUT_TOKENS not in attributes:
        assert cost == {}  # failed before any usage: nothing billed, nothing flagged
        return attributes
    reference = _reference(attributes)
    if reference is None:
        assert cost == {semconv.SENTINEL_COST_UNPRICED: True}
        return attributes
    total = float(reference.total_price)
    assert cost[semconv.SENTINEL_COST_USD] == pytest.approx(total, rel=1e-9, abs=1e-15)
    assert cost[semconv.SENTINEL_COST_INPUT_USD] == pytest.approx(
        float(reference.input_price), rel=1e-9, abs=1e-15
    )
    assert cost[semconv.SENTINEL_COST_OUTPUT_USD] == pytest.approx(
        float(reference.output_price), rel=1e-9, abs=1e-15
    )
    assert cost[semconv.SENTINEL_COST_SOURCE] == price_source()
    assert cost.get(semconv.SENTINEL_COST_OVER_THRESHOLD, False) is (total > threshold)
    return attributes
