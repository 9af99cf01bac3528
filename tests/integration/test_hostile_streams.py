"""Streams a server may send that must not cost the host application: choice indexes
that are not sizes, long runs of usage-only chunks, and more text than is ever exported."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openai_sentinel import semconv

from ..support import payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import async_client, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]
WORDS = ["This", " is", " a", " test", "."]
EARLY_USAGE = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
"""What the usage-only chunks before the content say: never what the span reports."""


def _sse_handler(body: Callable[[], bytes | Iterator[bytes]]) -> Any:
    """A transport handler answering every request with the SSE body ``body()`` makes."""

    def handler(request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=body())

    return handler


def _attributes(telemetry: Telemetry) -> dict[str, Any]:
    return dict(telemetry.span().attributes or {})


# -- item 2: a choice index is a label, never a size ------------------------------------


HUGE_INDEX = 10**7
"""Large enough that a list sized from it shows (80 MB), small enough not to hurt."""


@pytest.mark.timeout(30)  # a list sized from the index would take seconds, not this
def test_huge_choice_index_costs_nothing_and_reports_the_choices_seen(
    telemetry: Telemetry, instrumented
) -> None:
    chunks = [
        payloads.chunk(role="assistant", content="hi", finish_reason="stop", index=HUGE_INDEX),
        payloads.chunk(usage=payloads.USAGE, no_choices=True),
    ]
    client = sync_client(_sse_handler(lambda: payloads.sse(chunks)))
    tracemalloc.start()
    try:
        received = list(
            client.chat.completions.create(
                model="gpt-4o-mini",
                messages=MESSAGES,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [c.choices[0].index for c in received if c.choices] == [HUGE_INDEX]
    attributes = _attributes(telemetry)
    # choice 0 was expected (n unset) and never came; the one that came stopped
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (
        semconv.FINISH_REASON_ERROR,
        "stop",
    )
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    # the whole call, client included, allocates far less than one slot per index
    assert peak < 2_000_000, f"traced peak {peak} bytes for one chunk with index {HUGE_INDEX}"


def test_string_choice_index_keeps_finish_reasons_and_usage(
    telemetry: Telemetry, instrumented
) -> None:
    answer = payloads.chunk(role="assistant", content="hi", finish_reason="stop")
    answer["choices"][0]["index"] = "0"  # a compatible server's idea of an index
    chunks = [answer, payloads.chunk(usage=payloads.USAGE, no_choices=True)]
    client = sync_client(_sse_handler(lambda: payloads.sse(chunks)), strict=False)
    received = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=MESSAGES,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert received[0].choices[0].index == "0"  # the client passes it on as sent
    attributes = _attributes(telemetry)
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5


def test_many_distinct_choice_indexes_are_tracked_up_to_the_api_limit(
    telemetry: Telemetry, instrumented
) -> None:
    sent = 1_000
    chunks = [
        payloads.chunk(role="assistant", content="hi", finish_reason="stop", index=index)
        for index in range(sent)
    ]
    client = sync_client(_sse_handler(lambda: payloads.sse(chunks)))
    received = list(
        client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    )
    assert len(received) == sent  # the caller still gets every chunk
    reasons = _attributes(telemetry)[semconv.GEN_AI_RESPONSE_FINISH_REASONS]
    assert 1 <= len(reasons) <= 128 + 1  # the API's own limit on n, plus the expected one
    assert set(reasons) == {"stop"}  # the choices followed are the first ones seen


# -- item 3: usage-only chunks, iteratively, and only the one we asked for is hidden ------


def _usage_run_body(run: int) -> bytes:
    """``run`` usage-only chunks, then the answer, then the usage chunk ``include_usage``
    adds (the stream's last)."""
    early = [payloads.chunk(usage=EARLY_USAGE, no_choices=True) for _ in range(run)]
    return payloads.sse(early + payloads.stream_chunks(WORDS, include_usage=True))


def _dumps(chunks: list[Any]) -> list[dict[str, Any]]:
    return [chunk.model_dump() for chunk in chunks]


def _stream_sync(body: bytes, **kwargs: Any) -> list[dict[str, Any]]:
    client = sync_client(_sse_handler(lambda: body))
    return _dumps(
        list(
            client.chat.completions.create(
                model="gpt-4o-mini", messages=MESSAGES, stream=True, **kwargs
            )
        )
    )


async def _stream_async(body: bytes, **kwargs: Any) -> list[dict[str, Any]]:
    client = async_client(_sse_handler(lambda: body))
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, **kwargs
    )
    return _dumps([chunk async for chunk in stream])


def _assert_span_has_the_last_usage(telemetry: Telemetry) -> None:
    attributes = _attributes(telemetry)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == payloads.USAGE["prompt_tokens"]
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == payloads.USAGE["completion_tokens"]
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.SENTINEL_STREAM_USAGE_INJECTED] is True
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"


@pytest.mark.parametrize("run", [3, 1_000], ids=["3 usage-only chunks", "1000 usage-only chunks"])
def test_injected_usage_hides_only_the_last_usage_chunk(
    telemetry: Telemetry, instrument, run: int
) -> None:
    body = _usage_run_body(run)
    bare = _stream_sync(body)  # not instrumented yet: what the client alone hands over
    assert len(bare) == run + len(WORDS) + 3
    instrument(stream_usage=True)
    received = _stream_sync(body)
    assert received == bare[:-1]
    _assert_span_has_the_last_usage(telemetry)


@pytest.mark.parametrize("run", [3, 1_000], ids=["3 usage-only chunks", "1000 usage-only chunks"])
async def test_injected_usage_hides_only_the_last_usage_chunk_async(
    telemetry: Telemetry, instrument, run: int
) -> None:
    body = _usage_run_body(run)
    bare = await _stream_async(body)
    assert len(bare) == run + len(WORDS) + 3
    instrument(stream_usage=True)
    received = await _stream_async(body)
    assert received == bare[:-1]
    _assert_span_has_the_last_usage(telemetry)


def _assert_callers_usage_is_on_the_span(telemetry: Telemetry) -> None:
    attributes = _attributes(telemetry)
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in attributes
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == payloads.USAGE["prompt_tokens"]


def test_usage_the_caller_asked_for_is_never_hidden(telemetry: Telemetry, instrument) -> None:
    body = _usage_run_body(1_000)
    options = {"include_usage": True}
    bare = _stream_sync(body, stream_options=options)
    instrument(stream_usage=True)
    received = _stream_sync(body, stream_options=options)
    assert received == bare
    assert received[-1]["choices"] == []
    assert received[-1]["usage"]["total_tokens"] == payloads.USAGE["total_tokens"]
    _assert_callers_usage_is_on_the_span(telemetry)


async def test_usage_the_caller_asked_for_is_never_hidden_async(
    telemetry: Telemetry, instrument
) -> None:
    body = _usage_run_body(1_000)
    options = {"include_usage": True}
    bare = await _stream_async(body, stream_options=options)
    instrument(stream_usage=True)
    received = await _stream_async(body, stream_options=options)
    assert received == bare
    assert received[-1]["choices"] == []
    assert received[-1]["usage"]["total_tokens"] == payloads.USAGE["total_tokens"]
    _assert_callers_usage_is_on_the_span(telemetry)


# -- item 13: capture buffers what can be exported, not the stream ----------------------

PIECE_CHARS = 64 * 1024
PIECES = 256
"""16 MB of streamed text; the captured attribute keeps about content_max_length of it."""
PEAK_BOUND = 4_000_000
"""Bytes. The bare client peaks near 0.5 MB on this stream (one 64 KB chunk at a time,
decoded and parsed); buffering the text would take 16 MB for the pieces and 16 MB more
to join them."""


def _big_text_body() -> Iterator[bytes]:
    """The stream, made one event at a time so that the transport never holds it all."""
    piece = "x" * PIECE_CHARS
    yield payloads.sse([payloads.chunk(role="assistant", content="")], done=False)
    for _ in range(PIECES):
        yield payloads.sse([payloads.chunk(content=piece)], done=False)
    yield payloads.sse([payloads.chunk(finish_reason="stop")])


def _traced_peak_of_stream(client: Any) -> tuple[int, int]:
    """Chunks received and the traced allocation peak while reading one big stream,
    each chunk dropped as soon as it is read."""
    tracemalloc.start()
    try:
        received = 0
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        for _ in stream:
            received += 1
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return received, peak


def test_capture_buffers_what_it_can_export_not_the_whole_stream(
    telemetry: Telemetry, instrument
) -> None:
    client = sync_client(_sse_handler(_big_text_body))
    for _ in client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True):
        pass  # warm-up: the client's one-time imports and caches are not the stream's cost
    bare_received, bare_peak = _traced_peak_of_stream(client)
    assert bare_peak < PEAK_BOUND / 2, f"the bare client alone peaked at {bare_peak} bytes"
    instrument(capture_content=True)
    received, peak = _traced_peak_of_stream(client)
    assert received == bare_received == PIECES + 2
    assert peak < PEAK_BOUND, (
        f"capture peaked at {peak} bytes (bare: {bare_peak}) for {PIECES * PIECE_CHARS} "
        "characters of text"
    )
    attributes = _attributes(telemetry)
    output = attributes[semconv.GEN_AI_OUTPUT_MESSAGES]
    assert len(output) <= 4096 + 256  # about content_max_length, JSON structure included
    (message,) = json.loads(output)
    assert message["finish_reason"] == "stop"
    text = "".join(part["content"] for part in message["parts"])
    assert text.startswith("xxxx")
    assert text.endswith("…[truncated]")
