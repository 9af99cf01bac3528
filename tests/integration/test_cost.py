"""Exact cost per call from ``genai-prices``: span attributes, metrics, the threshold,
and no invented zero for what cannot be priced."""

from __future__ import annotations

import subprocess
import sys

import openai
import pytest
from genai_prices import Usage, calc_price

from openai_sentinel import SettingsError, semconv
from openai_sentinel.analyzers.cost import PriceBook
from openai_sentinel.exchange import Exchange

from ..support import payloads
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]


def _exchange(model: str, provider: str = semconv.PROVIDER_OPENAI, **usage: int) -> Exchange:
    return Exchange(
        operation=semconv.OPERATION_CHAT, provider=provider, request_model=model, **usage
    )


@pytest.mark.parametrize(
    ("model", "provider", "provider_id"),
    [
        ("gpt-4o-mini", semconv.PROVIDER_OPENAI, "openai"),
        ("gpt-4o-2024-08-06", semconv.PROVIDER_OPENAI, "openai"),  # a dated snapshot
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", semconv.PROVIDER_OPENAI, "openai"),
        ("o3-mini", semconv.PROVIDER_OPENAI, "openai"),
        ("text-embedding-3-small", semconv.PROVIDER_OPENAI, "openai"),
        ("gpt-4o", semconv.PROVIDER_AZURE_OPENAI, "azure"),
    ],
)
def test_prices_agree_with_genai_prices(model: str, provider: str, provider_id: str) -> None:
    usage = {"input_tokens": 12_000, "output_tokens": 3_000, "cache_read_input_tokens": 2_000}
    cost = PriceBook().cost(_exchange(model, provider, **usage))
    reference = calc_price(
        Usage(input_tokens=12_000, output_tokens=3_000, cache_read_tokens=2_000),
        model_ref=model,
        provider_id=provider_id,
    )
    assert cost is not None
    assert cost.total == pytest.approx(float(reference.total_price), rel=1e-9)
    assert cost.input == pytest.approx(float(reference.input_price), rel=1e-9)
    assert cost.output == pytest.approx(float(reference.output_price), rel=1e-9)


def test_cached_tokens_are_a_cheaper_subset_of_input() -> None:
    book = PriceBook()
    full = book.cost(_exchange("gpt-4o", input_tokens=10_000, output_tokens=0))
    cached = book.cost(
        _exchange("gpt-4o", input_tokens=10_000, output_tokens=0, cache_read_input_tokens=8_000)
    )
    assert full is not None and cached is not None
    assert 0 < cached.total < full.total


def test_unknown_model_and_missing_usage_are_not_priced() -> None:
    book = PriceBook()
    assert book.cost(_exchange("our-private-model", input_tokens=10, output_tokens=5)) is None
    assert book.cost(_exchange("gpt-4o")) is None  # a stream without usage


def test_span_and_metrics_carry_the_cost(telemetry: Telemetry, instrumented) -> None:
    sync_client(ScriptedAPI()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    reference = calc_price(
        Usage(input_tokens=12, output_tokens=5, cache_read_tokens=4),
        model_ref="gpt-4o-mini-2024-07-18",
        provider_id="openai",
    )
    total = float(reference.total_price)
    assert attributes[semconv.SENTINEL_COST_USD] == pytest.approx(total)
    assert semconv.SENTINEL_COST_OVER_THRESHOLD not in attributes
    spent = {
        point.attributes[semconv.GEN_AI_TOKEN_TYPE]: point.value
        for point in telemetry.points(semconv.METRIC_COST)
    }
    assert sum(spent.values()) == pytest.approx(total)
    assert spent[semconv.TOKEN_TYPE_OUTPUT] == pytest.approx(float(reference.output_price))
    (per_request,) = telemetry.points(semconv.METRIC_REQUEST_COST)
    assert per_request.count == 1 and per_request.sum == pytest.approx(total)
    assert telemetry.metric(semconv.METRIC_COST).unit == "USD"
    assert telemetry.points(semconv.METRIC_COST_OVER_THRESHOLD) == []


def test_an_unpriced_call_is_flagged_with_no_zero(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(model="our-private-model")
    sync_client(api).chat.completions.create(model="our-private-model", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.SENTINEL_COST_UNPRICED] is True
    assert semconv.SENTINEL_COST_USD not in attributes
    assert telemetry.points(semconv.METRIC_COST) == []
    assert telemetry.points(semconv.METRIC_REQUEST_COST) == []


def test_a_call_over_the_threshold_is_marked_and_counted(telemetry: Telemetry, instrument) -> None:
    instrument(cost_threshold_usd=0.000001)
    sync_client(ScriptedAPI()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.SENTINEL_COST_OVER_THRESHOLD] is True
    (over,) = telemetry.points(semconv.METRIC_COST_OVER_THRESHOLD)
    assert over.value == 1


@pytest.mark.parametrize("value", ["0.01", -1.0, True, float("nan")])
def test_a_bad_threshold_is_rejected(value: object, instrument) -> None:
    with pytest.raises(SettingsError, match="cost_threshold_usd"):
        instrument(cost_threshold_usd=value)


def test_importing_the_package_does_not_load_the_price_data() -> None:
    code = "import sys, openai_sentinel; print('genai_prices' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_a_call_that_failed_before_any_usage_is_neither_priced_nor_flagged(
    telemetry: Telemetry, instrumented
) -> None:
    api = ScriptedAPI()
    api.status = 429
    with pytest.raises(openai.RateLimitError):
        sync_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert not [key for key in attributes if key.startswith("sentinel.cost.")]
    assert telemetry.points(semconv.METRIC_COST) == []


# -- service tiers and prices tiered by context length --------------------------------------


def test_the_batch_tier_uses_the_batch_price_of_the_data() -> None:
    usage = Usage(input_tokens=10_000, output_tokens=2_000)
    standard = calc_price(usage, model_ref="gpt-4", provider_id="openai")
    batch = calc_price(
        usage, model_ref="gpt-4", provider_id="openai", price_context={"processing": "batch"}
    )
    assert batch.total_price < standard.total_price  # genai-prices has a batch price
    cost = PriceBook().quote(
        "gpt-4", service_tier="batch", input_tokens=10_000, output_tokens=2_000
    )
    assert cost is not None
    assert cost.total == pytest.approx(float(batch.total_price), rel=1e-9)
    assert cost.input == pytest.approx(float(batch.input_price), rel=1e-9)
    assert cost.tier_multiplier is None


@pytest.mark.parametrize("tier", ["default", "auto", None])
def test_the_default_and_auto_response_tiers_are_the_standard_price(tier: str | None) -> None:
    exchange = _exchange("gpt-5", input_tokens=10_000, output_tokens=2_000)
    exchange.response_service_tier = tier
    cost = PriceBook().cost(exchange)
    standard = calc_price(
        Usage(input_tokens=10_000, output_tokens=2_000), model_ref="gpt-5", provider_id="openai"
    )
    assert cost is not None
    assert cost.total == pytest.approx(float(standard.total_price), rel=1e-9)
    assert cost.tier_multiplier is None


def _tiered_model() -> tuple[str, int]:
    """A model whose prices change with the input length, and where they change."""
    model = "gpt-5.4"
    found = calc_price(
        Usage(input_tokens=0, output_tokens=0), model_ref=model, provider_id="openai"
    )
    tiers = found.model_price.input_mtok.tiers
    assert tiers, f"{model} no longer has prices tiered by input length"
    return model, int(tiers[0].start)


@pytest.mark.parametrize("above", [False, True], ids=["below-threshold", "above-threshold"])
def test_prices_tiered_by_input_length_agree_with_genai_prices(above: bool) -> None:
    model, threshold = _tiered_model()
    input_tokens = threshold + 28_000 if above else threshold // 2
    cached = input_tokens // 3
    cost = PriceBook().quote(model, input_tokens=input_tokens, output_tokens=1_000, cached=cached)
    reference = calc_price(
        Usage(input_tokens=input_tokens, output_tokens=1_000, cache_read_tokens=cached),
        model_ref=model,
        provider_id="openai",
    )
    uncached = calc_price(
        Usage(input_tokens=input_tokens, output_tokens=1_000), model_ref=model, provider_id="openai"
    )
    assert cost is not None
    assert cost.total == pytest.approx(float(reference.total_price), rel=1e-9)
    assert cost.input == pytest.approx(float(reference.input_price), rel=1e-9)
    assert cost.output == pytest.approx(float(reference.output_price), rel=1e-9)
    savings = float(uncached.input_price - reference.input_price)
    assert cost.cache_savings == pytest.approx(savings, rel=1e-9)


@pytest.mark.parametrize("above", [False, True], ids=["below-threshold", "above-threshold"])
def test_the_cached_part_of_a_tiered_price_is_what_the_cached_tokens_cost(above: bool) -> None:
    model, threshold = _tiered_model()
    input_tokens = threshold + 28_000 if above else threshold // 2
    cached = input_tokens // 3
    cost = PriceBook().quote(model, input_tokens=input_tokens, output_tokens=1_000, cached=cached)
    reference = calc_price(
        Usage(input_tokens=input_tokens, output_tokens=1_000, cache_read_tokens=cached),
        model_ref=model,
        provider_id="openai",
    )
    uncached = calc_price(
        Usage(input_tokens=input_tokens, output_tokens=1_000), model_ref=model, provider_id="openai"
    )
    # genai-prices prices every input token at the rate of the tier the whole input falls in
    uncached_rate = float(uncached.input_price) / input_tokens
    cached_part = float(reference.input_price) - (input_tokens - cached) * uncached_rate
    assert cost is not None
    assert cost.cached_input == pytest.approx(cached_part, rel=1e-9)
