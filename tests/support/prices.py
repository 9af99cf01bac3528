"""The cost a span should carry, computed with ``genai-prices`` called directly."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from genai_prices import Usage, calc_price

from openai_sentinel import semconv
from openai_sentinel.analyzers.cost import DEFAULT_TIER_MULTIPLIERS, price_source

__all__ = ["COST_KEYS", "DEFAULT_THRESHOLD", "pop_and_check_cost"]

COST_KEYS = (
    semconv.SENTINEL_COST_USD,
    semconv.SENTINEL_COST_INPUT_USD,
    semconv.SENTINEL_COST_OUTPUT_USD,
    semconv.SENTINEL_COST_SOURCE,
    semconv.SENTINEL_COST_UNPRICED,
    semconv.SENTINEL_COST_OVER_THRESHOLD,
    semconv.SENTINEL_COST_CACHED_INPUT_USD,
    semconv.SENTINEL_COST_CACHE_SAVINGS_USD,
    semconv.SENTINEL_COST_TIER_MULTIPLIER,
    semconv.GEN_AI_USAGE_COST_AMOUNT,
    semconv.GEN_AI_USAGE_COST_CURRENCY,
    semconv.GEN_AI_USAGE_COST_SOURCE,
)
DEFAULT_THRESHOLD = 0.015
_PROVIDER_IDS = {semconv.PROVIDER_AZURE_OPENAI: "azure"}


def _tier_context(tier: str) -> dict[str, str]:
    return {"processing": "batch"} if tier == "batch" else {"service_tier": tier}


def _reference(attributes: Mapping[str, Any], *, cached: bool = True) -> tuple[Any, float] | None:
    """genai-prices' price of the span's usage and the tier multiplier to apply to it (1.0
    when the data has a price for the tier)."""
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
    usage = Usage(
        input_tokens=tokens[0] or 0,
        output_tokens=tokens[1] or 0,
        cache_read_tokens=(attributes.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS) or None)
        if cached
        else None,
        cache_write_tokens=attributes.get(semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS) or None,
    )
    provider_id = _PROVIDER_IDS.get(str(provider), "openai")
    tier = attributes.get(semconv.OPENAI_RESPONSE_SERVICE_TIER)
    try:
        standard = calc_price(usage, model_ref=str(model), provider_id=provider_id)
        if tier in (None, "default", "auto"):
            return standard, 1.0
        for_tier = calc_price(
            usage,
            model_ref=str(model),
            provider_id=provider_id,
            price_context=_tier_context(str(tier)),
        )
    except LookupError:
        return None
    if for_tier.total_price != standard.total_price:
        return for_tier, 1.0
    return standard, DEFAULT_TIER_MULTIPLIERS.get(str(tier), 1.0)


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
    found = _reference(attributes)
    if found is None:
        assert cost == {semconv.SENTINEL_COST_UNPRICED: True}
        return attributes
    reference, multiplier = found
    total = float(reference.total_price) * multiplier
    approx = {"rel": 1e-9, "abs": 1e-15}
    assert cost[semconv.SENTINEL_COST_USD] == pytest.approx(total, **approx)
    assert cost[semconv.SENTINEL_COST_INPUT_USD] == pytest.approx(
        float(reference.input_price) * multiplier, **approx
    )
    assert cost[semconv.SENTINEL_COST_OUTPUT_USD] == pytest.approx(
        float(reference.output_price) * multiplier, **approx
    )
    assert cost[semconv.SENTINEL_COST_SOURCE] == price_source()
    assert cost.get(semconv.SENTINEL_COST_OVER_THRESHOLD, False) is (total > threshold)
    assert cost.get(semconv.SENTINEL_COST_TIER_MULTIPLIER) == (
        multiplier if multiplier != 1.0 else None
    )
    if attributes.get(semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS):
        uncached = _reference(attributes, cached=False)
        assert uncached is not None
        savings = (float(uncached[0].input_price) - float(reference.input_price)) * multiplier
        assert cost[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == pytest.approx(savings, **approx)
        assert (
            0 < cost[semconv.SENTINEL_COST_CACHED_INPUT_USD] < cost[semconv.SENTINEL_COST_INPUT_USD]
        )
    else:
        assert semconv.SENTINEL_COST_CACHE_SAVINGS_USD not in cost
    if semconv.GEN_AI_USAGE_COST_AMOUNT in cost:
        assert cost[semconv.GEN_AI_USAGE_COST_AMOUNT] == cost[semconv.SENTINEL_COST_USD]
        assert cost[semconv.GEN_AI_USAGE_COST_CURRENCY] == "USD"
        assert cost[semconv.GEN_AI_USAGE_COST_SOURCE] == "local"
    return attributes
