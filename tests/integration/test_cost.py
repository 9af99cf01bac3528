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
