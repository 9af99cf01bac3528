"""The user's prices file (YAML or JSON) and service tiers, through the real client and
SDK: what the spans and metrics say, what wins over genai-prices, and bad files rejected
when ``instrument()`` runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml
from genai_prices import Usage, calc_price

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor, SettingsError, semconv
from openai_sentinel.analyzers.cost import DEFAULT_TIER_MULTIPLIERS
from openai_sentinel.analyzers.price_overrides import PricesFileError

from ..support import api_payloads, payloads
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]
PRICES_ENV = "OPENAI_SENTINEL_PRICES_FILE"
GENAI_PRICES = f"genai-prices {version('genai-prices')}"

PRICES_YAML = """\
# USD per million tokens
models:
  our-private-model:
    input_mtok: 0.8
    output_mtok: 3.2
    cache_read_mtok: 0.2
  "ft:gpt-4o-mini:*":          # the shorter prefix comes first: order must not matter
    input_mtok: 0.5
    output_mtok: 2.0
  "ft:gpt-4o-mini:acme:*":
    input_mtok: 0.3
    output_mtok: 1.2
  gpt-4o-mini:                 # genai-prices knows it too: the file wins
    input_mtok: 1.0
    output_mtok: 4.0
  gpt-4o:
    discount: 0.2
service_tiers:
  priority: 1.8
"""
PRICES: dict[str, Any] = {
    "models": {
        "our-private-model": {"input_mtok": 0.8, "output_mtok": 3.2, "cache_read_mtok": 0.2},
        "ft:gpt-4o-mini:*": {"input_mtok": 0.5, "output_mtok": 2.0},
        "ft:gpt-4o-mini:acme:*": {"input_mtok": 0.3, "output_mtok": 1.2},
        "gpt-4o-mini": {"input_mtok": 1.0, "output_mtok": 4.0},
        "gpt-4o": {"discount": 0.2},
    },
    "service_tiers": {"priority": 1.8},
}

# Every call below: 10,000 input tokens of which 4,000 cached, 2,000 output tokens.
INPUT, CACHED, OUTPUT = 10_000, 4_000, 2_000
USAGE = Usage(input_tokens=INPUT, output_tokens=OUTPUT, cache_read_tokens=CACHED)
UNCACHED_USAGE = Usage(input_tokens=INPUT, output_tokens=OUTPUT)

# our-private-model, from the file's rates by hand: 6,000 uncached at 0.8, 4,000 cached
# at 0.2, 2,000 output at 3.2 (USD per million).
PRIVATE_CACHED_INPUT = 4_000 * 0.2 / 1e6  # 0.0008
PRIVATE_INPUT = 6_000 * 0.8 / 1e6 + PRIVATE_CACHED_INPUT  # 0.0056
PRIVATE_OUTPUT = 2_000 * 3.2 / 1e6  # 0.0064
PRIVATE_TOTAL = PRIVATE_INPUT + PRIVATE_OUTPUT  # 0.012
PRIVATE_SAVINGS = 4_000 * (0.8 - 0.2) / 1e6  # 0.0024


def _approx(expected: float) -> Any:
    """Equal up to float rounding."""
    return pytest.approx(expected, rel=1e-9, abs=1e-15)


def _chat_usage(input_tokens: int, output_tokens: int, cached: int) -> dict[str, Any]:
    return {
        "prompt_tokens": input_tokens,
        "completion_tokens": output_tokens,
        "total_tokens": input_tokens + output_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _chat(telemetry: Telemetry, model: str, service_tier: str = "default") -> dict[str, Any]:
    """One real chat call answered by ``model`` in ``service_tier``; its span's attributes."""
    before = len(telemetry.spans())
    api = ScriptedAPI()
    api.body = payloads.completion(model=model, usage=_chat_usage(INPUT, OUTPUT, CACHED))
    api.body["service_tier"] = service_tier
    sync_client(api).chat.completions.create(model=model, messages=MESSAGES)
    spans = telemetry.spans()
    assert len(spans) == before + 1
    attributes = dict(spans[-1].attributes or {})
    assert attributes[semconv.GEN_AI_RESPONSE_MODEL] == model
    assert attributes[semconv.OPENAI_RESPONSE_SERVICE_TIER] == service_tier
    return attributes


def _cost(attributes: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in attributes.items() if "cost" in key}


def _assert_costs(
    attributes: dict[str, Any],
    *,
    total: float,
    input_usd: float,
    output_usd: float,
    source: str,
    multiplier: float | None = None,
) -> None:
    assert attributes[semconv.SENTINEL_COST_USD] == _approx(total)
    assert attributes[semconv.SENTINEL_COST_INPUT_USD] == _approx(input_usd)
    assert attributes[semconv.SENTINEL_COST_OUTPUT_USD] == _approx(output_usd)
    assert attributes[semconv.SENTINEL_COST_SOURCE] == source
    assert attributes.get(semconv.SENTINEL_COST_TIER_MULTIPLIER) == multiplier
    assert semconv.SENTINEL_COST_UNPRICED not in attributes


def _write(path: Path, document: object) -> Path:
    text = json.dumps(document) if path.suffix == ".json" else yaml.safe_dump(document)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(params=["yaml", "json"])
def prices_file(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """The prices file above, as hand-written YAML or as JSON."""
    assert yaml.safe_load(PRICES_YAML) == PRICES  # the two formats say the same
    path = tmp_path / f"prices.{request.param}"
    if request.param == "json":
        path.write_text(json.dumps(PRICES, indent=2), encoding="utf-8")
    else:
        path.write_text(PRICES_YAML, encoding="utf-8")
    return path


def _label(path: Path) -> str:
    return f"prices file {path.name}"


# -- the prices file on spans ------------------------------------------------------------


def test_an_exact_private_model_is_priced_from_the_file(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "our-private-model")
    _assert_costs(
        attributes,
        total=PRIVATE_TOTAL,
        input_usd=PRIVATE_INPUT,
        output_usd=PRIVATE_OUTPUT,
        source=_label(prices_file),
    )
    assert attributes[semconv.SENTINEL_COST_CACHED_INPUT_USD] == _approx(PRIVATE_CACHED_INPUT)
    assert attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == _approx(PRIVATE_SAVINGS)
    assert semconv.SENTINEL_COST_OVER_THRESHOLD not in attributes  # 0.012 < 0.015


def test_the_file_wins_over_genai_prices_for_a_model_both_know(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "gpt-4o-mini")
    # No cache_read_mtok in the file: cached tokens cost the input rate, and save nothing.
    _assert_costs(
        attributes,
        total=(10_000 * 1.0 + 2_000 * 4.0) / 1e6,
        input_usd=10_000 * 1.0 / 1e6,
        output_usd=2_000 * 4.0 / 1e6,
        source=_label(prices_file),
    )
    assert attributes[semconv.SENTINEL_COST_CACHED_INPUT_USD] == pytest.approx(4_000 * 1.0 / 1e6)
    assert attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == 0.0
    genai_total = float(
        calc_price(USAGE, model_ref="gpt-4o-mini", provider_id="openai").total_price
    )
    assert attributes[semconv.SENTINEL_COST_USD] != pytest.approx(genai_total)
    # 0.018 is over the default threshold of 0.015
    assert attributes[semconv.SENTINEL_COST_OVER_THRESHOLD] is True


def test_the_dated_snapshot_is_not_the_exact_name_so_genai_prices_prices_it(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "gpt-4o-mini-2024-07-18")
    reference = calc_price(USAGE, model_ref="gpt-4o-mini-2024-07-18", provider_id="openai")
    _assert_costs(
        attributes,
        total=float(reference.total_price),
        input_usd=float(reference.input_price),
        output_usd=float(reference.output_price),
        source=GENAI_PRICES,
    )


@pytest.mark.parametrize(
    ("model", "input_rate", "output_rate"),
    [
        ("ft:gpt-4o-mini:acme:support-v2", 0.3, 1.2),  # the longer prefix
        ("ft:gpt-4o-mini:globex:bot", 0.5, 2.0),  # only the shorter one matches
    ],
)
def test_the_longest_matching_prefix_prices_a_model(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    prices_file: Path,
    model: str,
    input_rate: float,
    output_rate: float,
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, model)
    _assert_costs(
        attributes,
        total=(INPUT * input_rate + OUTPUT * output_rate) / 1e6,
        input_usd=INPUT * input_rate / 1e6,
        output_usd=OUTPUT * output_rate / 1e6,
        source=_label(prices_file),
    )


def test_a_discount_applies_to_the_genai_prices_price(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "gpt-4o")
    reference = calc_price(USAGE, model_ref="gpt-4o", provider_id="openai")
    uncached = calc_price(UNCACHED_USAGE, model_ref="gpt-4o", provider_id="openai")
    _assert_costs(
        attributes,
        total=float(reference.total_price) * 0.8,
        input_usd=float(reference.input_price) * 0.8,
        output_usd=float(reference.output_price) * 0.8,
        source=f"{GENAI_PRICES}, discount from {_label(prices_file)}",
    )
    savings = (float(uncached.input_price) - float(reference.input_price)) * 0.8
    assert attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == _approx(savings)


def test_the_file_tier_multiplier_applies_to_file_rates_and_to_a_discount(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    private = _chat(telemetry, "our-private-model", "priority")
    _assert_costs(
        private,
        total=PRIVATE_TOTAL * 1.8,
        input_usd=PRIVATE_INPUT * 1.8,
        output_usd=PRIVATE_OUTPUT * 1.8,
        source=_label(prices_file),
        multiplier=1.8,
    )
    assert private[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == _approx(PRIVATE_SAVINGS * 1.8)
    discounted = _chat(telemetry, "gpt-4o", "priority")
    standard = calc_price(USAGE, model_ref="gpt-4o", provider_id="openai")
    _assert_costs(
        discounted,
        total=float(standard.total_price) * 0.8 * 1.8,
        input_usd=float(standard.input_price) * 0.8 * 1.8,
        output_usd=float(standard.output_price) * 0.8 * 1.8,
        source=f"{GENAI_PRICES}, discount from {_label(prices_file)}",
        multiplier=1.8,
    )


def test_a_tier_the_file_does_not_name_uses_the_default_multiplier_on_file_rates(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "our-private-model", "flex")
    flex = DEFAULT_TIER_MULTIPLIERS["flex"]
    _assert_costs(
        attributes,
        total=PRIVATE_TOTAL * flex,
        input_usd=PRIVATE_INPUT * flex,
        output_usd=PRIVATE_OUTPUT * flex,
        source=_label(prices_file),
        multiplier=flex,
    )


def test_a_model_nothing_prices_is_still_unpriced(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "our-other-model")
    assert _cost(attributes) == {semconv.SENTINEL_COST_UNPRICED: True}
    assert telemetry.points(semconv.METRIC_COST) == []


def test_the_prices_file_accepts_a_path_object(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrumentor = instrument(prices_file=prices_file)
    assert instrumentor.settings.prices_file == str(prices_file)
    attributes = _chat(telemetry, "our-private-model")
    assert attributes[semconv.SENTINEL_COST_USD] == _approx(PRIVATE_TOTAL)


def test_the_environment_variable_names_the_prices_file(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    prices_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PRICES_ENV, str(prices_file))
    instrumentor = instrument()
    assert instrumentor.settings.prices_file == str(prices_file)
    attributes = _chat(telemetry, "our-private-model", "priority")
    _assert_costs(
        attributes,
        total=PRIVATE_TOTAL * 1.8,
        input_usd=PRIVATE_INPUT * 1.8,
        output_usd=PRIVATE_OUTPUT * 1.8,
        source=_label(prices_file),
        multiplier=1.8,
    )


def test_the_keyword_wins_over_the_environment_variable(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    prices_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PRICES_ENV, str(tmp_path / "absent.yaml"))
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "our-private-model")
    assert attributes[semconv.SENTINEL_COST_SOURCE] == _label(prices_file)


def test_openai_sentinel_instrument_takes_the_prices_file(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    openai_sentinel.instrument(
        prices_file=str(prices_file),
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
    attributes = _chat(telemetry, "ft:gpt-4o-mini:acme:support-v2")
    assert attributes[semconv.SENTINEL_COST_USD] == pytest.approx(
        (INPUT * 0.3 + OUTPUT * 1.2) / 1e6
    )
    assert attributes[semconv.SENTINEL_COST_SOURCE] == _label(prices_file)


# -- service tiers without a prices file ---------------------------------------------------


def test_flex_uses_the_flex_price_of_genai_prices(telemetry: Telemetry, instrumented: Any) -> None:
    attributes = _chat(telemetry, "gpt-5", "flex")
    flex = calc_price(
        USAGE, model_ref="gpt-5", provider_id="openai", price_context={"service_tier": "flex"}
    )
    standard = calc_price(USAGE, model_ref="gpt-5", provider_id="openai")
    assert flex.total_price < standard.total_price  # genai-prices has a flex price for gpt-5
    _assert_costs(
        attributes,
        total=float(flex.total_price),
        input_usd=float(flex.input_price),
        output_usd=float(flex.output_price),
        source=GENAI_PRICES,
        multiplier=None,
    )
    uncached = calc_price(
        UNCACHED_USAGE,
        model_ref="gpt-5",
        provider_id="openai",
        price_context={"service_tier": "flex"},
    )
    assert attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == _approx(
        float(uncached.input_price - flex.input_price)
    )


def test_priority_without_a_priority_price_uses_the_default_multiplier(
    telemetry: Telemetry, instrumented: Any
) -> None:
    standard = calc_price(USAGE, model_ref="gpt-4", provider_id="openai")
    priority = calc_price(
        USAGE, model_ref="gpt-4", provider_id="openai", price_context={"service_tier": "priority"}
    )
    assert priority.total_price == standard.total_price  # genai-prices: no priority price
    attributes = _chat(telemetry, "gpt-4", "priority")
    multiplier = DEFAULT_TIER_MULTIPLIERS["priority"]
    _assert_costs(
        attributes,
        total=float(standard.total_price) * multiplier,
        input_usd=float(standard.input_price) * multiplier,
        output_usd=float(standard.output_price) * multiplier,
        source=GENAI_PRICES,
        multiplier=multiplier,
    )


@pytest.mark.parametrize("tier", ["default", "auto"])
def test_the_default_tier_is_the_standard_price(
    telemetry: Telemetry, instrumented: Any, tier: str
) -> None:
    attributes = _chat(telemetry, "gpt-5", tier)
    standard = calc_price(USAGE, model_ref="gpt-5", provider_id="openai")
    _assert_costs(
        attributes,
        total=float(standard.total_price),
        input_usd=float(standard.input_price),
        output_usd=float(standard.output_price),
        source=GENAI_PRICES,
        multiplier=None,
    )


def test_the_file_tier_multiplier_wins_over_the_priority_price_of_genai_prices(
    telemetry: Telemetry, instrument: Callable[..., Any], tmp_path: Path
) -> None:
    path = _write(tmp_path / "tiers.yaml", {"service_tiers": {"priority": 1.8}})
    instrument(prices_file=str(path))
    attributes = _chat(telemetry, "gpt-4o", "priority")
    standard = calc_price(USAGE, model_ref="gpt-4o", provider_id="openai")
    priority = calc_price(
        USAGE, model_ref="gpt-4o", provider_id="openai", price_context={"service_tier": "priority"}
    )
    assert float(priority.total_price) != pytest.approx(float(standard.total_price) * 1.8)
    _assert_costs(
        attributes,
        total=float(standard.total_price) * 1.8,
        input_usd=float(standard.input_price) * 1.8,
        output_usd=float(standard.output_price) * 1.8,
        source=GENAI_PRICES,  # the prices are genai-prices', only the multiplier is the file's
        multiplier=1.8,
    )


# -- metrics -------------------------------------------------------------------------------


def test_cost_metrics_add_up_the_calls(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    _chat(telemetry, "our-private-model")
    _chat(telemetry, "our-private-model")
    spent = {
        point.attributes[semconv.GEN_AI_TOKEN_TYPE]: point.value
        for point in telemetry.points(semconv.METRIC_COST)
    }
    assert spent.keys() == {semconv.TOKEN_TYPE_INPUT, semconv.TOKEN_TYPE_OUTPUT}
    assert spent[semconv.TOKEN_TYPE_INPUT] == _approx(2 * PRIVATE_INPUT)
    assert spent[semconv.TOKEN_TYPE_OUTPUT] == _approx(2 * PRIVATE_OUTPUT)
    (saved,) = telemetry.points(semconv.METRIC_COST_CACHE_SAVINGS)
    assert saved.value == _approx(2 * PRIVATE_SAVINGS)
    assert saved.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "our-private-model"
    (per_request,) = telemetry.points(semconv.METRIC_REQUEST_COST)
    assert per_request.count == 2
    assert per_request.sum == _approx(2 * PRIVATE_TOTAL)


def test_no_saving_is_counted_when_the_cache_costs_the_input_rate(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    _chat(telemetry, "ft:gpt-4o-mini:acme:support-v2")
    assert telemetry.points(semconv.METRIC_COST_CACHE_SAVINGS) == []
    assert sum(point.value for point in telemetry.points(semconv.METRIC_COST)) == _approx(
        (INPUT * 0.3 + OUTPUT * 1.2) / 1e6
    )


def test_latest_conventions_add_the_proposed_cost_attributes_and_histogram(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    prices_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(semconv.SEMCONV_STABILITY_OPT_IN_ENV, semconv.SEMCONV_GENAI_LATEST)
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "our-private-model")
    assert attributes[semconv.GEN_AI_USAGE_COST_AMOUNT] == _approx(PRIVATE_TOTAL)
    assert attributes[semconv.GEN_AI_USAGE_COST_CURRENCY] == "USD"
    assert attributes[semconv.GEN_AI_USAGE_COST_SOURCE] == "local"
    (operation_cost,) = telemetry.points(semconv.METRIC_OPERATION_COST)
    assert operation_cost.count == 1
    assert operation_cost.sum == _approx(PRIVATE_TOTAL)
    assert telemetry.metric(semconv.METRIC_OPERATION_COST).unit == "USD"


def test_without_the_opt_in_there_are_no_proposed_cost_names(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    prices_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(semconv.SEMCONV_STABILITY_OPT_IN_ENV, raising=False)
    instrument(prices_file=str(prices_file))
    attributes = _chat(telemetry, "our-private-model")
    assert attributes[semconv.SENTINEL_COST_USD] == _approx(PRIVATE_TOTAL)
    assert not [key for key in attributes if key.startswith("gen_ai.usage.cost.")]
    assert telemetry.metric(semconv.METRIC_OPERATION_COST) is None
    assert telemetry.points(semconv.METRIC_COST) != []


# -- the Responses API ---------------------------------------------------------------------


def _respond(
    telemetry: Telemetry, model: str, usage: dict[str, Any], service_tier: str = "default"
) -> dict[str, Any]:
    api = ScriptedAPI()
    api.body = api_payloads.response(
        model=model,
        usage=usage,
        service_tier=service_tier,
        output=[api_payloads.reasoning_item("Thinking."), api_payloads.output_message("Hi.")],
    )
    sync_client(api).responses.create(model=model, input="hi")
    return dict(telemetry.span().attributes or {})


@pytest.mark.parametrize("model", ["gpt-5", "o3", "gpt-4o-mini-2024-07-18"])
def test_a_response_with_cached_and_reasoning_tokens_is_priced_like_genai_prices(
    telemetry: Telemetry, instrumented: Any, model: str
) -> None:
    usage = api_payloads.response_usage(20_000, 5_000, cached=8_000, reasoning=3_000)
    attributes = _respond(telemetry, model, usage)
    assert attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] == 8_000
    assert attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] == 3_000
    reference = calc_price(
        Usage(input_tokens=20_000, output_tokens=5_000, cache_read_tokens=8_000),
        model_ref=model,
        provider_id="openai",
    )
    uncached = calc_price(
        Usage(input_tokens=20_000, output_tokens=5_000), model_ref=model, provider_id="openai"
    )
    _assert_costs(
        attributes,
        total=float(reference.total_price),
        input_usd=float(reference.input_price),
        output_usd=float(reference.output_price),
        source=GENAI_PRICES,
    )
    assert attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == _approx(
        float(uncached.input_price - reference.input_price)
    )
    assert attributes[semconv.SENTINEL_COST_CACHED_INPUT_USD] == _approx(
        float(uncached.input_price) * 8_000 / 20_000
        - float(uncached.input_price - reference.input_price)
    )


def test_a_flex_response_is_priced_with_the_flex_price(
    telemetry: Telemetry, instrumented: Any
) -> None:
    usage = api_payloads.response_usage(20_000, 5_000, cached=8_000, reasoning=3_000)
    attributes = _respond(telemetry, "o3", usage, service_tier="flex")
    flex = calc_price(
        Usage(input_tokens=20_000, output_tokens=5_000, cache_read_tokens=8_000),
        model_ref="o3",
        provider_id="openai",
        price_context={"service_tier": "flex"},
    )
    _assert_costs(
        attributes,
        total=float(flex.total_price),
        input_usd=float(flex.input_price),
        output_usd=float(flex.output_price),
        source=GENAI_PRICES,
    )


def test_a_response_from_a_private_model_is_priced_from_the_file(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    instrument(prices_file=str(prices_file))
    usage = api_payloads.response_usage(INPUT, OUTPUT, cached=CACHED, reasoning=1_500)
    attributes = _respond(telemetry, "our-private-model", usage)
    _assert_costs(
        attributes,
        total=PRIVATE_TOTAL,
        input_usd=PRIVATE_INPUT,
        output_usd=PRIVATE_OUTPUT,
        source=_label(prices_file),
    )
    assert attributes[semconv.SENTINEL_COST_CACHE_SAVINGS_USD] == _approx(PRIVATE_SAVINGS)


# -- bad files -----------------------------------------------------------------------------

BAD_DOCUMENTS: list[tuple[str, object, str, str]] = [
    # (id, document, entry named in the message, problem named in the message)
    ("top-level-list", ["our-model"], "", "expected a mapping with 'models'"),
    ("unknown-top-level-key", {"model": {}}, "", "unknown key(s) model"),
    (
        "unknown-model-key",
        {"models": {"our-model": {"input_mtok": 1, "output_mtok": 2, "cached_mtok": 1}}},
        "models.our-model",
        "unknown key(s) cached_mtok",
    ),
    (
        "negative-rate",
        {"models": {"our-model": {"input_mtok": -1, "output_mtok": 2}}},
        "models.our-model.input_mtok",
        "expected a number 0 or more, got -1",
    ),
    (
        "string-rate",
        {"models": {"our-model": {"input_mtok": "0.8", "output_mtok": 2}}},
        "models.our-model.input_mtok",
        "expected a number, got '0.8'",
    ),
    (
        "bool-rate",
        {"models": {"our-model": {"input_mtok": True, "output_mtok": 2}}},
        "models.our-model.input_mtok",
        "expected a number, got True",
    ),
    (
        "missing-output",
        {"models": {"our-model": {"input_mtok": 1}}},
        "models.our-model",
        "missing output_mtok",
    ),
    (
        "discount-of-one",
        {"models": {"gpt-4o": {"discount": 1}}},
        "models.gpt-4o.discount",
        "expected a fraction below 1",
    ),
    (
        "discount-and-rates",
        {"models": {"gpt-4o": {"discount": 0.2, "input_mtok": 1, "output_mtok": 2}}},
        "models.gpt-4o",
        "give either 'discount' or rates, not both",
    ),
    (
        "star-in-the-middle",
        {"models": {"ft:*:acme": {"input_mtok": 1, "output_mtok": 2}}},
        "models.ft:*:acme",
        "'*' is only allowed at the end",
    ),
    (
        "zero-tier-multiplier",
        {"service_tiers": {"priority": 0}},
        "service_tiers.priority",
        "expected a number more than 0, got 0",
    ),
    (
        "negative-tier-multiplier",
        {"service_tiers": {"flex": -0.5}},
        "service_tiers.flex",
        "expected a number more than 0, got -0.5",
    ),
]
BAD_TEXTS: list[tuple[str, str, str, str]] = [
    # (id, file name, text, problem named in the message)
    ("invalid-yaml", "prices.yaml", "models: [our-model\n  input_mtok: 1\n", "not valid YAML"),
    ("invalid-json", "prices.json", '{"models": {"our-model": ', "not valid JSON"),
]


def _instrument_with_module(telemetry: Telemetry, **settings: Any) -> object:
    return openai_sentinel.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **settings,
    )


def _instrument_with_class(telemetry: Telemetry, **settings: Any) -> object:
    return OpenAISentinelInstrumentor().instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        **settings,
    )


ENTRY_POINTS = pytest.mark.parametrize(
    "entry_point",
    [_instrument_with_module, _instrument_with_class],
    ids=["openai_sentinel.instrument", "OpenAISentinelInstrumentor"],
)


def _bad_files(tmp_path: Path) -> list[tuple[Path, str, str]]:
    """Every bad file, as (path, entry, problem)."""
    files = [(tmp_path / "absent.yaml", "", "cannot be read (FileNotFoundError")]
    for case_id, document, entry, problem in BAD_DOCUMENTS:
        for suffix in (".yaml", ".json"):
            files.append((_write(tmp_path / f"{case_id}{suffix}", document), entry, problem))
    for case_id, name, text, problem in BAD_TEXTS:
        path = tmp_path / case_id / name
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
        files.append((path, "", problem))
    return files


def _assert_names_the_problem(error: BaseException, path: Path, entry: str, problem: str) -> None:
    message = str(error)
    assert isinstance(error, PricesFileError)
    assert isinstance(error, SettingsError)
    assert f"prices file {str(path)!r}" in message
    if entry:
        assert f"entry {entry}:" in message
    else:
        assert ", entry" not in message
    assert problem in message


def _assert_no_span(telemetry: Telemetry) -> None:
    sync_client(ScriptedAPI()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert telemetry.spans() == []


@ENTRY_POINTS
def test_a_bad_prices_file_fails_instrument_naming_file_entry_and_problem(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    tmp_path: Path,
    entry_point: Callable[..., object],
) -> None:
    bad_files = _bad_files(tmp_path)
    assert len(bad_files) == 1 + 2 * len(BAD_DOCUMENTS) + len(BAD_TEXTS)
    for path, entry, problem in bad_files:
        with pytest.raises(SettingsError) as raised:
            entry_point(telemetry, prices_file=str(path))
        _assert_names_the_problem(raised.value, path, entry, problem)
        assert not OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry
    _assert_no_span(telemetry)


@ENTRY_POINTS
def test_after_a_bad_file_openai_is_uninstrumented_and_a_good_file_works(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    prices_file: Path,
    tmp_path: Path,
    entry_point: Callable[..., object],
) -> None:
    bad = _write(tmp_path / "bad.yaml", {"models": {"our-model": {"input_mtok": 1}}})
    with pytest.raises(SettingsError, match="missing output_mtok"):
        entry_point(telemetry, prices_file=str(bad))
    _assert_no_span(telemetry)
    entry_point(telemetry, prices_file=str(prices_file))
    assert OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry
    attributes = _chat(telemetry, "our-private-model")
    assert attributes[semconv.SENTINEL_COST_USD] == _approx(PRIVATE_TOTAL)
    assert attributes[semconv.SENTINEL_COST_SOURCE] == _label(prices_file)


@ENTRY_POINTS
def test_a_bad_file_named_by_the_environment_fails_instrument_from_user_code(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    entry_point: Callable[..., object],
) -> None:
    bad = _write(
        tmp_path / "bad.json", {"models": {"our-model": {"input_mtok": -2, "output_mtok": 1}}}
    )
    monkeypatch.setenv(PRICES_ENV, str(bad))
    with pytest.raises(SettingsError) as raised:
        entry_point(telemetry)
    _assert_names_the_problem(
        raised.value, bad, "models.our-model.input_mtok", "expected a number 0 or more, got -2"
    )
    _assert_no_span(telemetry)


def test_an_entry_names_the_model_as_asked_when_the_api_answers_with_a_snapshot(
    telemetry: Telemetry, instrument: Callable[..., Any], prices_file: Path
) -> None:
    """``gpt-4o: discount`` applies to a call that asked for gpt-4o, which the API reports
    as a dated snapshot; priced at the snapshot's genai-prices price."""
    instrument(prices_file=str(prices_file))
    api = ScriptedAPI()
    api.body = payloads.completion(
        model="gpt-4o-2024-08-06", usage=_chat_usage(INPUT, OUTPUT, CACHED)
    )
    sync_client(api).chat.completions.create(model="gpt-4o", messages=MESSAGES)
    attributes = dict(telemetry.spans()[-1].attributes or {})
    reference = calc_price(USAGE, model_ref="gpt-4o", provider_id="openai")
    assert attributes[semconv.SENTINEL_COST_USD] == _approx(float(reference.total_price) * 0.8)
    assert attributes[semconv.SENTINEL_COST_SOURCE] == (
        f"{GENAI_PRICES}, discount from {_label(prices_file)}"
    )
