"""Streaming chat calls: the span and metrics are finalized exactly once, however it ends."""

from __future__ import annotations

import json

import openai
import pytest
from opentelemetry.trace import StatusCode

from openai_sentinel import semconv

from ..support import payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry, collect_garbage
from ..support.transport import ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "Say this is a test"}]
WORDS = ["This", " is", " a", " test", "."]


def _create(api: ScriptedAPI, **kwargs: object) -> openai.Stream[object]:
    return sync_client(api).chat.completions.create(  # type: ignore[no-any-return]
        model="gpt-4o-mini", messages=MESSAGES, stream=True, **kwargs
    )


def _attributes(telemetry: Telemetry) -> dict[str, object]:
    return dict(telemetry.span().attributes or {})


def test_exhausted_stream_reports_everything(telemetry: Telemetry, instrumented) -> None:
    stream = _create(ScriptedAPI(), stream_options={"include_usage": True})
    assert isinstance(stream, openai.Stream)
    assert stream.response.status_code == 200
    assert telemetry.spans() == []  # still open while the stream is being read
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "This is a test."
    )
    assert chunks[-1].usage is not None  # the caller asked for usage, so sees it
    attributes = _attributes(telemetry)
    assert attributes[semconv.GEN_AI_REQUEST_STREAM] is True
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-stream1"
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == len(WORDS) + 2
    assert attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0  # type: ignore[operator]
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in attributes
    (first,) = telemetry.points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert first.count == 1
    (gaps,) = telemetry.points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert gaps.count == len(WORDS) + 1
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1
    tokens = {
        p.attributes[semconv.GEN_AI_TOKEN_TYPE]: p.sum
        for p in telemetry.points(semconv.METRIC_TOKEN_USAGE)
    }
    assert tokens == {"input": 12, "output": 5}


def test_duration_runs_to_the_end_of_the_stream(telemetry: Telemetry, instrumented) -> None:
    stream = _create(ScriptedAPI())
    first = next(stream)
    assert first.choices[0].delta.role == "assistant"
    list(stream)
    span = telemetry.span()
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    span_seconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
    assert duration.sum == pytest.approx(span_seconds, abs=1e-6)
    ttfc = (span.attributes or {})[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK]
    assert ttfc <= duration.sum  # type: ignore[operator]


def test_without_usage_no_tokens_are_invented(telemetry: Telemetry, instrumented) -> None:
    list(_create(ScriptedAPI()))
    attributes = _attributes(telemetry)
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attributes
    assert telemetry.points(semconv.METRIC_TOKEN_USAGE) == []


def test_stream_usage_setting_injects_and_hides_the_usage_chunk(
    telemetry: Telemetry, instrument
) -> None:
    instrument(stream_usage=True)
    api = ScriptedAPI()
    chunks = list(_create(api))
    assert api.requests[-1]["stream_options"] == {"include_usage": True}
    assert all(chunk.choices for chunk in chunks)  # the usage-only chunk is hidden
    assert len(chunks) == len(WORDS) + 2
    attributes = _attributes(telemetry)
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attributes[semconv.SENTINEL_STREAM_USAGE_INJECTED] is True


def test_stream_usage_setting_respects_the_callers_choice(telemetry: Telemetry, instrument) -> None:
    instrument(stream_usage=True)
    api = ScriptedAPI()
    list(_create(api, stream_options={"include_usage": False}))
    assert api.requests[-1]["stream_options"] == {"include_usage": False}
    chunks = list(_create(api, stream_options={"include_usage": True}))
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    first, second = telemetry.spans()
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in (first.attributes or {})
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in (second.attributes or {})


def test_failure_mid_stream_ends_span_with_error(telemetry: Telemetry, instrumented) -> None:
    body = payloads.sse(
        [payloads.chunk(role="assistant", content=""), payloads.chunk(content="Hi")], done=False
    )
    body += b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'

    def handler(request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    stream = sync_client(handler).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    received = []
    with pytest.raises(openai.APIError):
        for chunk in stream:
            received.append(chunk)
    assert len(received) == 2
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes[semconv.ERROR_TYPE] == "APIError"
    assert attributes[semconv.SENTINEL_STREAM_END] == "error"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("error",)
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == "APIError"


def test_close_after_a_few_chunks(telemetry: Telemetry, instrumented) -> None:
    stream = _create(ScriptedAPI())
    next(stream)
    next(stream)
    stream.close()
    stream.close()
    attributes = _attributes(telemetry)
    assert attributes[semconv.SENTINEL_STREAM_END] == "closed"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("error",)
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == 2
    assert len(telemetry.points(semconv.METRIC_OPERATION_DURATION)) == 1


def test_with_block_left_early(telemetry: Telemetry, instrumented) -> None:
    with _create(ScriptedAPI()) as stream:
        assert isinstance(stream, openai.Stream)
        for chunk in stream:
            if chunk.choices[0].delta.content == " is":
                break
    assert _attributes(telemetry)[semconv.SENTINEL_STREAM_END] == "closed"
    assert stream.response.is_closed


def test_user_exception_inside_with_block_closes_without_error(
    telemetry: Telemetry, instrumented
) -> None:
    """The call did not fail, the caller's code did: same rule as for the .stream() helper."""
    with pytest.raises(KeyError), _create(ScriptedAPI()) as stream:
        next(stream)
        raise KeyError("user bug")
    with (
        pytest.raises(KeyError),
        sync_client(ScriptedAPI()).chat.completions.stream(
            model="gpt-4o-mini", messages=MESSAGES
        ) as helper,
    ):
        next(iter(helper))
        raise KeyError("user bug")
    for span in telemetry.spans():
        attributes = span.attributes or {}
        assert span.status.status_code is StatusCode.UNSET
        assert semconv.ERROR_TYPE not in attributes
        assert attributes[semconv.SENTINEL_STREAM_END] == "closed"


def test_abandoned_after_break_is_finalized_when_collected(
    telemetry: Telemetry, instrumented
) -> None:
    stream = _create(ScriptedAPI(), n=2)
    for _ in stream:
        break
    assert telemetry.spans() == []
    del stream
    collect_garbage()
    attributes = _attributes(telemetry)
    assert attributes[semconv.SENTINEL_STREAM_END] == "abandoned"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("error", "error")
    assert len(telemetry.points(semconv.METRIC_OPERATION_DURATION)) == 1


def test_each_finalization_trigger_runs_once(telemetry: Telemetry, instrumented) -> None:
    with _create(ScriptedAPI()) as stream:
        list(stream)
        stream.close()
    del stream
    collect_garbage()
    assert len(telemetry.spans()) == 1
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1


def test_stream_helper_makes_one_span_and_ends_it_on_exit(
    telemetry: Telemetry, instrumented
) -> None:
    client = sync_client(ScriptedAPI())
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        for event in stream:
            if event.type == "content.delta":
                break
    attributes = _attributes(telemetry)
    assert attributes[semconv.SENTINEL_STREAM_END] == "closed"
    with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == "This is a test."
    spans = telemetry.spans()
    assert len(spans) == 2
    assert (spans[1].attributes or {})[semconv.SENTINEL_STREAM_END] == "completed"


def test_raw_response_stream_is_instrumented_and_still_parses(
    telemetry: Telemetry, instrumented
) -> None:
    raw = sync_client(ScriptedAPI()).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    assert raw.headers["content-type"] == "text/event-stream"
    stream = raw.parse()
    assert stream is raw.parse()
    assert isinstance(stream, openai.Stream)
    assert len(list(stream)) == len(WORDS) + 2
    assert _attributes(telemetry)[semconv.SENTINEL_STREAM_END] == "completed"


def test_raw_response_non_stream_parses_once(telemetry: Telemetry, instrumented) -> None:
    raw = sync_client(ScriptedAPI()).chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES
    )
    completion = raw.parse()
    assert completion is raw.parse()
    assert completion.choices[0].message.content == "This is a test."
    assert raw.headers["x-request-id"] == "req_1"
    assert _attributes(telemetry)[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12


def test_streaming_response_body_is_left_unread(telemetry: Telemetry, instrument) -> None:
    instrument(stream_usage=True)
    api = ScriptedAPI()
    client = sync_client(api)
    with client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    ) as response:
        assert telemetry.span().attributes[semconv.SENTINEL_RESPONSE_UNREAD] is True  # type: ignore[index]
        lines = [line for line in response.iter_lines() if line.startswith("data: {")]
    assert len(lines) == len(WORDS) + 2  # no injected usage chunk in the raw body
    assert "stream_options" not in api.requests[-1]


async def test_async_stream_lifecycle(telemetry: Telemetry, instrument) -> None:
    instrument(stream_usage=True)
    client = async_client(ScriptedAPI())
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    assert isinstance(stream, openai.AsyncStream)
    chunks = [chunk async for chunk in stream]
    assert all(chunk.choices for chunk in chunks)

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    async with stream:
        async for _ in stream:
            break

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    await stream.__anext__()
    await stream.close()

    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    await stream.aclose()

    async with client.chat.completions.stream(model="gpt-4o-mini", messages=MESSAGES) as helper:
        async for event in helper:
            if event.type == "content.delta":
                break

    ends = [(s.attributes or {})[semconv.SENTINEL_STREAM_END] for s in telemetry.spans()]
    assert ends == ["completed", "closed", "closed", "closed", "closed"]
    first = telemetry.spans()[0].attributes or {}
    assert first[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    durations = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert sum(point.count for point in durations) == 5


async def test_async_stream_abandoned(telemetry: Telemetry, instrumented) -> None:
    stream = await async_client(ScriptedAPI()).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    await stream.__anext__()
    del stream
    collect_garbage()
    assert _attributes(telemetry)[semconv.SENTINEL_STREAM_END] == "abandoned"


def test_content_is_accumulated_from_deltas_when_captured(telemetry: Telemetry, instrument) -> None:
    instrument(capture_content=True)
    list(_create(ScriptedAPI()))
    output = json.loads(_attributes(telemetry)[semconv.GEN_AI_OUTPUT_MESSAGES])  # type: ignore[arg-type]
    assert output == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "This is a test."}],
            "finish_reason": "stop",
        }
    ]


def test_long_stream_records_every_gap_under_one_attribute_set(
    telemetry: Telemetry, instrumented
) -> None:
    api = ScriptedAPI()
    api.stream_words = [f" w{index}" for index in range(300)]
    chunks = list(_create(api))
    (gaps,) = telemetry.points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert gaps.count == len(chunks) - 1
    assert gaps.attributes[semconv.GEN_AI_RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"


def test_chunk_gaps_of_a_failed_stream_carry_no_error_type(
    telemetry: Telemetry, instrumented
) -> None:
    body = payloads.sse([payloads.chunk(content=str(index)) for index in range(5)], done=False)
    body += b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'

    def handler(request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    stream = sync_client(handler).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    with pytest.raises(openai.APIError):
        list(stream)
    (gaps,) = telemetry.points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert gaps.count == 4
    assert semconv.ERROR_TYPE not in gaps.attributes
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == "APIError"
