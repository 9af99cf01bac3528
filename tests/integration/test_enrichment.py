"""Manual enrichment: ``openai_sentinel.attributes()`` puts the application's context on
the spans of the calls made inside (threads and asyncio tasks keep their own, nested
blocks merge), metric points get only the allowlisted keys, with bounded values; and
``record_evaluation()`` records feedback after the call, joined to the call's span. The
real client against the simulator, the real SDK."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest
from openai import AsyncOpenAI, OpenAI
from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor, SettingsError
from openai_sentinel._enrichment import METRIC_VALUE_LIMIT, OTHER_VALUE

from ..support.telemetry import Telemetry

pytestmark = pytest.mark.timeout(60)
Instrument = Callable[..., OpenAISentinelInstrumentor]


def ask(client: OpenAI, text: str = "hello") -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}]
    )


def span_attributes(telemetry: Telemetry) -> list[dict[str, Any]]:
    return [dict(span.attributes or {}) for span in telemetry.spans()]


def test_spans_made_inside_get_the_attributes(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument()
    with openai_sentinel.attributes(user_tier="pro", feature="search", conversation_id="c-1"):
        ask(client)
    ask(client)  # outside: nothing
    inside, outside = span_attributes(telemetry)
    assert inside["user_tier"] == "pro"
    assert inside["feature"] == "search"
    assert inside["gen_ai.conversation.id"] == "c-1"
    assert inside["gen_ai.request.model"] == "gpt-4o-mini"
    assert "user_tier" not in outside
    assert "gen_ai.conversation.id" not in outside


def test_nesting_merges_and_the_inner_value_wins(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument()
    with openai_sentinel.attributes({"app.tenant": "acme"}, feature="search"):
        with openai_sentinel.attributes(feature="summarize", experiment=["a", "b"]):
            ask(client)
        ask(client)
    inner, outer = span_attributes(telemetry)
    assert inner["app.tenant"] == "acme"
    assert inner["feature"] == "summarize"
    assert inner["experiment"] == ("a", "b")
    assert outer["feature"] == "search"
    assert "experiment" not in outer


def test_our_attributes_win_over_the_applications(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument()
    with openai_sentinel.attributes({"gen_ai.request.model": "forged", "gen_ai.system": "x"}):
        ask(client)
    assert telemetry.span().attributes["gen_ai.request.model"] == "gpt-4o-mini"


def test_threads_keep_their_own(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument()
    barrier = threading.Barrier(4)

    def work(tier: str) -> None:
        with openai_sentinel.attributes(user_tier=tier):
            barrier.wait(timeout=10)  # every thread is inside its own block at once
            ask(client, tier)

    threads = [threading.Thread(target=work, args=(f"tier-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    tiers = sorted(str(attributes["user_tier"]) for attributes in span_attributes(telemetry))
    assert tiers == [f"tier-{i}" for i in range(4)]


async def test_tasks_keep_their_own_and_the_decorator_wraps_coroutines(
    instrument: Instrument, telemetry: Telemetry, aclient: AsyncOpenAI
) -> None:
    instrument()

    @openai_sentinel.attributes(feature="async")
    async def handle(tier: str) -> None:
        with openai_sentinel.attributes(user_tier=tier):
            await asyncio.sleep(0.01)  # the other tasks run in between
            await aclient.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": tier}]
            )

    await asyncio.gather(*(handle(f"t{i}") for i in range(5)))
    spans = span_attributes(telemetry)
    assert sorted(str(s["user_tier"]) for s in spans) == [f"t{i}" for i in range(5)]
    assert {s["feature"] for s in spans} == {"async"}
    assert openai_sentinel._enrichment.current_attributes() == {}


def test_the_decorator_wraps_functions(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument()

    @openai_sentinel.attributes(feature="decorated")
    def handle() -> str:
        return str(ask(client).id)

    handle()
    handle()
    assert [s["feature"] for s in span_attributes(telemetry)] == ["decorated", "decorated"]
    with pytest.raises(TypeError, match="generator"):

        @openai_sentinel.attributes(feature="x")
        def generate() -> Any:
            yield 1


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"user_tier": object()}, TypeError),
        ({"user_tier": None}, TypeError),
        ({"tags": []}, TypeError),
        ({"tags": ["a", 1]}, TypeError),
    ],
)
def test_bad_values_are_refused_naming_the_key(
    arguments: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error, match=next(iter(arguments))):
        openai_sentinel.attributes(**arguments)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="not an attribute key"):
        openai_sentinel.attributes({"9lives": "x"})
    with pytest.raises(ValueError, match="not an attribute key"):
        openai_sentinel.attributes({"with space": "x"})


def test_propagate_puts_the_values_in_baggage() -> None:
    with openai_sentinel.attributes(user_tier="pro", propagate=True):
        assert baggage.get_baggage("user_tier") == "pro"
        with openai_sentinel.attributes(feature="search"):  # not propagated
            assert baggage.get_baggage("feature") is None
    assert baggage.get_baggage("user_tier", otel_context.get_current()) is None


def test_metric_points_get_only_the_allowlisted_keys(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument(metric_attributes=["user_tier"])
    with openai_sentinel.attributes(user_tier="pro", feature="search", conversation_id="c"):
        ask(client)
    (point,) = telemetry.points("gen_ai.client.operation.duration")
    assert point.attributes["user_tier"] == "pro"
    assert "feature" not in point.attributes
    assert "gen_ai.conversation.id" not in point.attributes


def test_an_allowlisted_key_has_bounded_values(
    instrument: Instrument,
    telemetry: Telemetry,
    client: OpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    instrument(metric_attributes=["cohort"])
    for index in range(METRIC_VALUE_LIMIT + 5):
        with openai_sentinel.attributes(cohort=f"c{index}"):
            ask(client, "same")
    values = {p.attributes["cohort"] for p in telemetry.points("gen_ai.client.operation.duration")}
    assert len(values) == METRIC_VALUE_LIMIT + 1
    assert OTHER_VALUE in values
    assert "more than" in caplog.text  # said once, not per call
    assert caplog.text.count("more than") == 1


@pytest.mark.parametrize("key", ["conversation_id", "user", "request.id", "session", "prompt"])
def test_id_like_keys_are_refused_as_metric_attributes(instrument: Instrument, key: str) -> None:
    with pytest.raises(SettingsError, match="metric_attributes"):
        instrument(metric_attributes=[key])


def test_feedback_after_the_call_joins_the_calls_span(telemetry: Telemetry, client: OpenAI) -> None:
    exporter = InMemoryLogRecordExporter()
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        logger_provider=logger_provider,
    )
    try:
        answer = ask(client)
        joined = openai_sentinel.record_evaluation(
            answer, "user_feedback", score=1, label="thumbs_up", explanation="helpful"
        )
        unknown = openai_sentinel.record_evaluation("chatcmpl-unknown", "user_feedback", score=0)
    finally:
        instrumentor.uninstrument()
    assert joined is True
    assert unknown is False
    first, second = (data.log_record for data in exporter.get_finished_logs())
    span = telemetry.span()
    assert first.event_name == "gen_ai.evaluation.result"
    assert first.trace_id == span.context.trace_id
    assert first.span_id == span.context.span_id
    assert dict(first.attributes or {}) == {
        "gen_ai.evaluation.name": "user_feedback",
        "gen_ai.evaluation.score.value": 1.0,
        "gen_ai.evaluation.score.label": "thumbs_up",
        "gen_ai.evaluation.explanation": "helpful",
        "gen_ai.response.id": answer.id,
    }
    assert second.attributes["gen_ai.response.id"] == "chatcmpl-unknown"
    assert not second.span_id
    assert openai_sentinel.record_evaluation(answer, "after") is False  # uninstrumented


@pytest.mark.parametrize(
    "arguments",
    [
        {"name": ""},
        {"name": "x", "score": float("nan")},
        {"name": "x", "score": True},
        {"name": "x", "label": 3},
    ],
)
def test_bad_evaluations_are_refused(arguments: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="record_evaluation"):
        openai_sentinel.record_evaluation("chatcmpl-1", **arguments)


def test_metric_attributes_from_the_environment(
    instrument: Instrument,
    telemetry: Telemetry,
    client: OpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_SENTINEL_METRIC_ATTRIBUTES", " user_tier, feature ,")
    instrument()
    with openai_sentinel.attributes(user_tier="pro", feature="search", cohort="x"):
        ask(client)
    (point,) = telemetry.points("gen_ai.client.operation.duration")
    assert point.attributes["user_tier"] == "pro"
    assert point.attributes["feature"] == "search"
    assert "cohort" not in point.attributes
