"""Failures inside openai-sentinel never reach the caller, who gets exactly the same result.

Each test makes one hook point fail for real: a faulty SDK provider (span or metric
calls raise), a malformed response, or an internal function replaced by one that
raises, to prove the guard around it. Every failure must be logged on the
``openai_sentinel`` logger.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import Span, TracerProvider

import openai_sentinel.adapters.chat as chat_adapter
from openai_sentinel import OpenAISentinelInstrumentor, _errors, semconv

from ..support import payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]


class Boom(RuntimeError):
    """The injected failure."""


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise Boom("injected")


@pytest.fixture(autouse=True)
def _fresh_error_log() -> Iterator[None]:
    _errors._last_logged.clear()
    yield
    _errors._last_logged.clear()


def _baseline() -> tuple[Any, list[Any]]:
    """What the bare client returns, for comparison."""
    client = sync_client(ScriptedAPI())
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    chunks = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    return completion.model_dump(), [chunk.model_dump() for chunk in chunks]


def _run_sync() -> tuple[Any, list[Any]]:
    return _baseline()


async def _run_async() -> tuple[Any, list[Any]]:
    client = async_client(ScriptedAPI())
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    return completion.model_dump(), [chunk.model_dump() async for chunk in stream]


def _logged(caplog: pytest.LogCaptureFixture, where: str) -> bool:
    return any(
        record.name == "openai_sentinel" and where in record.getMessage()
        for record in caplog.records
    )


HOOKS = [
    ("request parsing", chat_adapter, "read_request"),
    ("response parsing", chat_adapter, "read_response"),
    ("stream chunk handling", chat_adapter.ChatStreamAccumulator, "add"),
    ("stream finalization", chat_adapter.ChatStreamAccumulator, "fill"),
]


@pytest.mark.parametrize(
    "settings", [{}, {"stream_usage": True, "capture_content": True}], ids=["defaults", "all-on"]
)
@pytest.mark.parametrize(("where", "owner", "name"), HOOKS, ids=[h[0] for h in HOOKS])
async def test_internal_failures_are_contained(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    instrument,
    where: str,
    owner: Any,
    name: str,
    settings: dict[str, Any],
) -> None:
    expected = _baseline()
    instrument(**settings)
    monkeypatch.setattr(owner, name, _boom)
    with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
        assert _run_sync() == expected
        assert await _run_async() == expected
    assert _logged(caplog, where)


class _FailingSpan(Span):
    def set_attributes(self, attributes: Any) -> None:
        if semconv.GEN_AI_RESPONSE_ID in attributes or semconv.SENTINEL_STREAM_END in attributes:
            raise Boom("span attributes")
        super().set_attributes(attributes)


class _FailingTracerProvider(TracerProvider):
    """A tracer provider whose spans fail while being finalized."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        tracer = super().get_tracer(*args, **kwargs)
        original = tracer.start_span

        def start_span(*a: Any, **k: Any) -> Any:
            span = original(*a, **k)
            span.__class__ = _FailingSpan
            return span

        tracer.start_span = start_span  # type: ignore[method-assign]
        return tracer


class _FailingConsumer:
    """An SDK measurement consumer that fails whatever is asked of it."""

    def __getattr__(self, name: str) -> Any:
        raise Boom(f"measurement consumer: {name}")


class _FailingMeterProvider(MeterProvider):
    """A meter provider whose histograms raise on every point, whichever way it is
    recorded (``Histogram.record`` or straight to the SDK's aggregations)."""

    def get_meter(self, *args: Any, **kwargs: Any) -> Any:
        meter = super().get_meter(*args, **kwargs)
        create = meter.create_histogram

        def create_histogram(*a: Any, **k: Any) -> Any:
            histogram = create(*a, **k)
            histogram._measurement_consumer = _FailingConsumer()
            return histogram

        meter.create_histogram = create_histogram  # type: ignore[method-assign]
        return meter


@pytest.mark.parametrize(
    ("where", "providers"),
    [
        ("span finalization", {"tracer_provider": _FailingTracerProvider()}),
        ("metric recording", {"meter_provider": _FailingMeterProvider()}),
    ],
    ids=["span finalization", "metric recording"],
)
async def test_sdk_failures_are_contained(
    caplog: pytest.LogCaptureFixture, where: str, providers: dict[str, Any]
) -> None:
    expected = _baseline()
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(**providers)
    try:
        with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
            assert _run_sync() == expected
            assert await _run_async() == expected
    finally:
        instrumentor.uninstrument()
    assert _logged(caplog, where)


def test_malformed_response_is_returned_untouched(
    telemetry: Telemetry, instrumented, caplog: pytest.LogCaptureFixture
) -> None:
    body = payloads.completion()
    body["usage"] = {"prompt_tokens": "many", "completion_tokens": None}
    body["choices"] = "not a list"

    def handler(request: http.Request) -> http.Response:
        return http.Response(200, json=body)

    result = sync_client(handler, strict=False).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert result.choices == "not a list"
    span = telemetry.span()
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in (span.attributes or {})


def test_failure_is_logged_once_per_kind(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, instrumented
) -> None:
    monkeypatch.setattr(chat_adapter, "read_response", _boom)
    client = sync_client(ScriptedAPI())
    with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
        for _ in range(5):
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert sum(_logged_record(r) for r in caplog.records) == 1


def _logged_record(record: logging.LogRecord) -> bool:
    return record.name == "openai_sentinel" and "response parsing" in record.getMessage()


def test_user_errors_are_reraised_unchanged(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.status = 400
    api.error_body = {
        "error": {
            "message": "bad",
            "type": "invalid_request_error",
            "param": "messages",
            "code": None,
        }
    }
    import openai

    with pytest.raises(openai.BadRequestError) as raised:
        sync_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert raised.value.status_code == 400
    assert raised.value.param == "messages"
