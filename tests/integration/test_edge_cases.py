"""What real clients and servers do at the edges: one-shot iterables, odd chunks, failed
parses, raw responses, coroutines that never run."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import warnings
from typing import Any

import openai
import pytest
from pydantic import BaseModel

import openai_sentinel.adapters.chat as chat_adapter
from openai_sentinel import semconv

from ..support import payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry, collect_garbage
from ..support.transport import ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]


def _stream_handler(chunks: list[dict[str, Any]]) -> Any:
    def handler(request: http.Request) -> http.Response:
        return http.Response(
            200, headers={"content-type": "text/event-stream"}, content=payloads.sse(chunks)
        )

    return handler


def test_generator_arguments_reach_the_api_with_capture_on(
    telemetry: Telemetry, instrument
) -> None:
    instrument(capture_content=True)
    api = ScriptedAPI()
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    sync_client(api).chat.completions.create(
        model="gpt-4o-mini",
        messages=(message for message in MESSAGES),
        tools=(tool for tool in tools),
    )
    assert api.requests[-1]["messages"] == MESSAGES
    assert api.requests[-1]["tools"] == tools
    attributes = telemetry.span().attributes or {}
    assert json.loads(attributes[semconv.GEN_AI_INPUT_MESSAGES])[0]["parts"][0]["content"] == "hi"  # type: ignore[arg-type]


def _raise(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("injected")


@pytest.mark.parametrize(
    "broken", ["add", "__init__"], ids=["chunk handling fails", "stream proxy cannot be built"]
)
def test_injected_usage_chunk_stays_hidden_after_failures(
    telemetry: Telemetry, instrument, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    instrument(stream_usage=True)
    monkeypatch.setattr(chat_adapter.ChatStreamAccumulator, broken, _raise)
    chunks = list(
        sync_client(ScriptedAPI()).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
    )
    assert chunks and all(chunk.choices for chunk in chunks)
    assert len(telemetry.spans()) == 1


def test_azure_filter_chunk_does_not_blank_the_identity(telemetry: Telemetry, instrumented) -> None:
    filter_chunk = payloads.chunk(no_choices=True)
    filter_chunk.update(id="", model="", created=0, system_fingerprint=None, service_tier=None)
    chunks = [filter_chunk, *payloads.stream_chunks(["Hello"], include_usage=False)]
    list(
        sync_client(_stream_handler(chunks), strict=False).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
    )
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-stream1"
    assert attributes[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"


def test_chunks_without_choice_index_keep_usage_and_finish(
    telemetry: Telemetry, instrumented
) -> None:
    chunks = payloads.stream_chunks(["Hello", " there"], include_usage=True)
    for chunk in chunks:
        for choice in chunk["choices"]:
            del choice["index"]
    list(
        sync_client(_stream_handler(chunks), strict=False).chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True
        )
    )
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5


class Answer(BaseModel):
    answer: str


def test_failed_parse_keeps_the_usage_it_was_billed(
    telemetry: Telemetry, instrumented, caplog: pytest.LogCaptureFixture
) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(content='{"answer": "tru', finish_reason="length")
    client = sync_client(api)
    with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
        with pytest.raises(openai.LengthFinishReasonError):
            client.chat.completions.parse(
                model="gpt-4o-mini", messages=MESSAGES, response_format=Answer
            )
        raw = client.chat.completions.with_raw_response.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Answer
        )
        with pytest.raises(openai.LengthFinishReasonError):
            raw.parse()
    failed, raw_span = telemetry.spans()
    attributes = failed.attributes or {}
    assert attributes[semconv.ERROR_TYPE] == "LengthFinishReasonError"
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("length",)
    assert (raw_span.attributes or {})[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert not [r for r in caplog.records if r.name == "openai_sentinel"]
    tokens = telemetry.points(semconv.METRIC_TOKEN_USAGE)
    assert sum(point.sum for point in tokens) == 2 * (12 + 5)


def test_raw_response_is_not_parsed_for_the_caller(telemetry: Telemetry, instrumented) -> None:
    raw = sync_client(ScriptedAPI()).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    assert raw._parsed_by_type == {}  # the caller's parse() cache is untouched
    assert (telemetry.span().attributes or {})[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-test123"
    assert raw.parse().id == "chatcmpl-test123"


def test_truthy_stream_flag_is_still_a_stream(telemetry: Telemetry, instrumented) -> None:
    stream = sync_client(ScriptedAPI()).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        stream=1,  # type: ignore[call-overload]
    )
    assert telemetry.spans() == []
    list(stream)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)


def test_empty_choices_report_no_finish_reasons(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(choices=0)
    sync_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert semconv.GEN_AI_RESPONSE_FINISH_REASONS not in (telemetry.span().attributes or {})


async def test_async_span_starts_when_awaited(telemetry: Telemetry, instrumented) -> None:
    client = async_client(ScriptedAPI())
    pending = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    created_at = time.time_ns()
    await asyncio.sleep(0)
    await pending
    assert (telemetry.span().start_time or 0) >= created_at


async def test_async_call_that_never_runs_leaves_no_trace(
    telemetry: Telemetry, instrumented
) -> None:
    client = async_client(ScriptedAPI())
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES).close()
        task = asyncio.ensure_future(
            client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        )
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the bare client warns here too
        helper = client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES)
        del helper
        collect_garbage()
    assert telemetry.spans() == []
    assert telemetry.points(semconv.METRIC_OPERATION_DURATION) == []


async def test_async_call_dropped_without_await_warns_like_the_client(instrumented) -> None:
    client = async_client(ScriptedAPI())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        collect_garbage()
    never_awaited = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert never_awaited == ["coroutine 'AsyncCompletions.create' was never awaited"]


def _failing_messages() -> Any:
    yield {"role": "user", "content": "first"}
    raise ValueError("user generator failed")


async def test_a_failing_generator_fails_the_call_as_without_us(
    telemetry: Telemetry, instrument, caplog: pytest.LogCaptureFixture
) -> None:
    instrument(capture_content=True)
    api = ScriptedAPI()
    with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
        with pytest.raises(ValueError, match="user generator failed"):
            sync_client(api).chat.completions.create(
                model="gpt-4o-mini", messages=_failing_messages()
            )
        with pytest.raises(ValueError, match="user generator failed"):
            await async_client(api).chat.completions.create(
                model="gpt-4o-mini", messages=_failing_messages()
            )
    assert api.requests == []
    assert not [r for r in caplog.records if r.name == "openai_sentinel"]
    assert [(s.attributes or {})[semconv.ERROR_TYPE] for s in telemetry.spans()] == [
        "ValueError",
        "ValueError",
    ]


def test_usage_asked_through_extra_body_is_left_to_the_caller(
    telemetry: Telemetry, instrument
) -> None:
    instrument(stream_usage=True)
    chunks = list(
        sync_client(ScriptedAPI()).chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            extra_body={"stream_options": {"include_usage": True}},
        )
    )
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in (telemetry.span().attributes or {})


def test_raw_response_that_is_not_json_is_not_our_failure(
    telemetry: Telemetry, instrumented, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "text/html"}, content=b"<html>")

    with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
        raw = sync_client(handler, strict=False).chat.completions.with_raw_response.create(
            model="gpt-4o-mini", messages=MESSAGES
        )
    assert raw.text == "<html>"
    assert not [r for r in caplog.records if r.name == "openai_sentinel"]
    assert len(telemetry.spans()) == 1
