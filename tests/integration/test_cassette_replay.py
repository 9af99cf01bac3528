"""Replay real recorded OpenAI chat interactions and check the telemetry against them.

Every vendored chat cassette (``tests/cassettes/contrib``) is sent through the real
``openai`` client, sync and async, over ``httpx2.MockTransport``. The expected
telemetry is computed here from the recording alone (the request JSON, the response
JSON or the SSE ``data:`` lines) and the GenAI semantic conventions v1.41. Attribute
and metric names are spelled out as the conventions spell them rather than imported
from ``openai_sentinel.semconv``, so that a wrong name in the package cannot hide.

How each cassette is driven follows what its upstream test did:

* ``*_with_raw_response*``: ``chat.completions.with_raw_response.create`` then ``.parse()``;
* ``*_with_context_manager_streaming``: the stream is read inside ``with`` / ``async with``;
* ``*_streaming_not_complete``: two chunks are read, then the stream is closed, so the
  choice never receives its finish reason (reported as ``"error"``);
* everything else: ``chat.completions.create``; streams are read to the end.

``*_with_content*`` cassettes run with content capture on (the others with it off), and
``*_unsampled`` ones with a tracer provider that samples nothing: no span may be
exported, yet every metric must be recorded as for a sampled call. (Their recordings
are the same as those of ``*_chat_completion_streaming`` / ``*_with_content``, whose
spans are checked.)
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from openai_sentinel import OpenAISentinelInstrumentor
from tests.support.cassettes import (
    CASSETTE_DIR,
    Cassette,
    Interaction,
    Replayer,
    chat_cassettes,
    instrument_for,
    sse_data,
)
from tests.support.http_library import http
from tests.support.telemetry import Telemetry

BASE_URL = "https://api.openai.com/v1"
EARLY_CLOSE_AFTER = 2
"""Chunks read from a ``*_streaming_not_complete`` stream before it is closed."""

CASSETTES = chat_cassettes()

# -- names, as the GenAI semantic conventions v1.41 spell them --------------------------

REQUEST_KEYS = frozenset(
    {
        "gen_ai.request.temperature",
        "gen_ai.request.top_p",
        "gen_ai.request.max_tokens",
        "gen_ai.request.frequency_penalty",
        "gen_ai.request.presence_penalty",
        "gen_ai.request.stop_sequences",
        "gen_ai.request.seed",
        "gen_ai.request.choice.count",
        "gen_ai.request.stream",
        "gen_ai.output.type",
        "openai.request.service_tier",
    }
)
"""Request attributes that must be absent when the request did not carry the parameter."""

RESPONSE_KEYS = frozenset(
    {
        "gen_ai.response.id",
        "gen_ai.response.model",
        "gen_ai.response.finish_reasons",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "openai.response.service_tier",
        "openai.response.system_fingerprint",
        "error.type",
    }
)
"""Response attributes that must be absent when the recording does not provide them."""

CONTENT_KEYS = frozenset(
    {
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
        "gen_ai.tool.definitions",
    }
)
TIME_TO_FIRST_CHUNK_ATTR = "gen_ai.response.time_to_first_chunk"

DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
TOKEN_TYPE = "gen_ai.token.type"
OPTIONAL_METRIC_KEYS = frozenset({"openai.response.service_tier"})
"""Low-cardinality metric attributes the conventions allow beyond the ones required here."""

JSON_FORMATS = frozenset({"json_object", "json_schema"})
ERROR_CLASS_BY_STATUS = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}

# -- what the recording says ----------------------------------------------------------


@dataclass
class Turn:
    """The telemetry one recorded interaction calls for."""

    interaction: Interaction
    request: dict[str, Any]
    span_name: str
    attributes: dict[str, Any]
    """Exact values of the tracked request and response attributes."""
    stream: bool
    chunks: list[dict[str, Any]] = field(default_factory=list)
    """The recorded ``data:`` payloads the caller is expected to receive."""
    error_type: str | None = None
    response_model: str | None = None
    service_tier: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    texts: set[str] = field(default_factory=set)
    """Message text and ids that must never show up in metric attributes."""

    @property
    def chunks_with_choices(self) -> int:
        """Chunks the caller receives that carry at least one choice."""
        return sum(1 for chunk in self.chunks if chunk.get("choices"))

    def metric_attributes(self) -> dict[str, Any]:
        """The attributes every metric point of this call must carry."""
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": self.request["model"],
            "server.address": "api.openai.com",
            "server.port": 443,
        }
        if self.response_model is not None:
            attributes["gen_ai.response.model"] = self.response_model
        if self.error_type is not None:
            attributes["error.type"] = self.error_type
        return attributes


def request_attributes(request: dict[str, Any]) -> dict[str, Any]:
    """Span attributes the conventions derive from the request body."""
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "openai.api.type": "chat_completions",
        "gen_ai.request.model": request["model"],
        "server.address": "api.openai.com",
        "server.port": 443,
    }
    for param in ("temperature", "top_p", "frequency_penalty", "presence_penalty"):
        if request.get(param) is not None:
            attributes[f"gen_ai.request.{param}"] = float(request[param])
    max_tokens = request.get("max_completion_tokens", request.get("max_tokens"))
    if max_tokens is not None:
        attributes["gen_ai.request.max_tokens"] = max_tokens
    stop = request.get("stop")
    if stop is not None:
        attributes["gen_ai.request.stop_sequences"] = [stop] if isinstance(stop, str) else stop
    if request.get("seed") is not None:
        attributes["gen_ai.request.seed"] = request["seed"]
    if request.get("n") not in (None, 1):
        attributes["gen_ai.request.choice.count"] = request["n"]
    if request.get("stream") is True:
        attributes["gen_ai.request.stream"] = True
    if request.get("service_tier") not in (None, "auto"):
        attributes["openai.request.service_tier"] = request["service_tier"]
    format_type = (request.get("response_format") or {}).get("type")
    if format_type is not None:
        attributes["gen_ai.output.type"] = "json" if format_type in JSON_FORMATS else format_type
    return attributes


def usage_attributes(usage: dict[str, Any] | None) -> dict[str, Any]:
    """``gen_ai.usage.*`` from a recorded ``usage`` object (empty when there is none)."""
    if not usage:
        return {}
    attributes = {
        "gen_ai.usage.input_tokens": usage["prompt_tokens"],
        "gen_ai.usage.output_tokens": usage["completion_tokens"],
    }
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if cached is not None:
        attributes["gen_ai.usage.cache_read.input_tokens"] = cached
    reasoning = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
    if reasoning is not None:
        attributes["gen_ai.usage.reasoning.output_tokens"] = reasoning
    return attributes


def message_texts(messages: Iterable[dict[str, Any]]) -> set[str]:
    """Text content and tool-call arguments of chat messages (request or response)."""
    texts: set[str] = set()
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            texts.add(content)
        elif isinstance(content, list):
            texts.update(part["text"] for part in content if isinstance(part.get("text"), str))
        for call in message.get("tool_calls") or ():
            texts.add(call["function"]["arguments"])
    return texts


def streamed_messages(chunks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The assistant messages of a stream, its deltas joined per choice."""
    contents: dict[int, list[str]] = {}
    arguments: dict[tuple[int, int], list[str]] = {}
    for chunk in chunks:
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            contents.setdefault(choice["index"], []).append(delta.get("content") or "")
            for call in delta.get("tool_calls") or ():
                key = (choice["index"], call["index"])
                arguments.setdefault(key, []).append(
                    (call.get("function") or {}).get("arguments") or ""
                )
    messages: list[dict[str, Any]] = [{"content": "".join(parts)} for parts in contents.values()]
    messages += [
        {"tool_calls": [{"function": {"arguments": "".join(parts)}}]}
        for parts in arguments.values()
    ]
    return messages


def expected_turn(interaction: Interaction, *, read_only: int | None) -> Turn:
    """What the telemetry of ``interaction`` must show; ``read_only`` caps the chunks read."""
    request = interaction.request_json
    turn = Turn(
        interaction=interaction,
        request=request,
        span_name=f"chat {request['model']}",
        attributes=request_attributes(request),
        stream=interaction.is_sse,
    )
    turn.texts = message_texts(request.get("messages") or ())
    response: dict[str, Any]
    if interaction.status >= 400:
        turn.error_type = ERROR_CLASS_BY_STATUS.get(interaction.status, "InternalServerError")
        turn.attributes["error.type"] = turn.error_type
        return turn
    if turn.stream:
        turn.chunks = sse_data(interaction.body)[:read_only]
        assert turn.chunks, "a recorded stream without chunks"
        assert len({chunk["id"] for chunk in turn.chunks}) == 1, "one response id per stream"
        response = _fold_chunks(turn.chunks, request)
        turn.texts |= message_texts(streamed_messages(turn.chunks))
    else:
        response = json.loads(interaction.body)
        response["finish_reasons"] = [
            choice["finish_reason"]
            for choice in sorted(response["choices"], key=lambda c: c["index"])
        ]
        turn.texts |= message_texts(choice["message"] for choice in response["choices"])
    turn.texts.add(response["id"])
    turn.response_model = response["model"]
    turn.service_tier = response.get("service_tier")
    usage = response.get("usage")
    if usage:
        turn.input_tokens = usage["prompt_tokens"]
        turn.output_tokens = usage["completion_tokens"]
    turn.attributes |= {
        "gen_ai.response.id": response["id"],
        "gen_ai.response.model": response["model"],
        "gen_ai.response.finish_reasons": response["finish_reasons"],
        **usage_attributes(usage),
    }
    if turn.service_tier is not None:
        turn.attributes["openai.response.service_tier"] = turn.service_tier
    if response.get("system_fingerprint") is not None:
        turn.attributes["openai.response.system_fingerprint"] = response["system_fingerprint"]
    return turn


def _fold_chunks(chunks: list[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """The response-level values a stream's chunks add up to.

    A choice whose finish reason never arrived is reported as ``"error"``; the number
    of choices is what the request asked for (``n``) or what the chunks show, if more.
    """
    finish: dict[int, str] = {}
    seen: set[int] = set()
    folded: dict[str, Any] = {"id": chunks[0]["id"], "model": chunks[0]["model"]}
    for chunk in chunks:
        for key in ("service_tier", "system_fingerprint", "usage"):
            if chunk.get(key) is not None:
                folded[key] = chunk[key]
        for choice in chunk.get("choices") or ():
            seen.add(choice["index"])
            if choice.get("finish_reason") is not None:
                finish[choice["index"]] = choice["finish_reason"]
    count = max(request.get("n") or 1, max(seen, default=-1) + 1)
    folded["finish_reasons"] = [finish.get(index, "error") for index in range(count)]
    return folded


# -- driving the real client ------------------------------------------------------------


@dataclass
class Received:
    """What the caller got back from one call."""

    error: openai.APIStatusError | None = None
    completion: dict[str, Any] | None = None
    """``model_dump()`` of a non-streamed result."""
    payload: dict[str, Any] | None = None
    """``to_dict()`` of a non-streamed result: the JSON the API sent."""
    is_stream: bool = False
    chunks: list[dict[str, Any]] = field(default_factory=list)
    """``to_dict()`` of each chunk, in the order received."""
    request_id: str | None = None


def mode_of(cassette: Cassette) -> str:
    """How the upstream test drove this cassette (see the module docstring)."""
    name = cassette.name
    if "with_raw_response" in name:
        return "raw"
    if "context_manager" in name:
        return "context_manager"
    if name.endswith("streaming_not_complete"):
        return "closed_early"
    return "plain"


def captures_content(cassette: Cassette) -> bool:
    """``*_with_content`` cassettes run with content capture on, the others with it off."""
    return "with_content" in cassette.name


def is_unsampled(cassette: Cassette) -> bool:
    """``*_unsampled`` cassettes run with a tracer provider that samples no span."""
    return cassette.name.endswith("unsampled")


def _finish(parsed: Any, received: Received) -> Received:
    if isinstance(parsed, openai.BaseModel):
        received.completion = parsed.model_dump()
        received.payload = parsed.to_dict()
    return received


def call_sync(client: openai.OpenAI, interaction: Interaction, mode: str) -> Received:
    """Send the recorded request with the sync client and read what comes back."""
    body = interaction.request_json
    received = Received()
    try:
        if mode == "raw":
            raw = client.chat.completions.with_raw_response.create(**body)
            received.request_id = raw.headers.get("x-request-id")
            parsed: Any = raw.parse()
        elif mode == "context_manager":
            with client.chat.completions.create(**body) as stream:
                received.is_stream = isinstance(stream, openai.Stream)
                received.chunks = [chunk.to_dict() for chunk in stream]
            return received
        else:
            parsed = client.chat.completions.create(**body)
    except openai.APIStatusError as error:
        received.error = error
        return received
    if not isinstance(parsed, openai.Stream):
        return _finish(parsed, received)
    received.is_stream = True
    if mode == "closed_early":
        received.chunks = [next(parsed).to_dict() for _ in range(EARLY_CLOSE_AFTER)]
        parsed.close()
    else:
        received.chunks = [chunk.to_dict() for chunk in parsed]
    return received


async def call_async(client: openai.AsyncOpenAI, interaction: Interaction, mode: str) -> Received:
    """Send the recorded request with the async client and read what comes back."""
    body = interaction.request_json
    received = Received()
    try:
        if mode == "raw":
            raw = await client.chat.completions.with_raw_response.create(**body)
            received.request_id = raw.headers.get("x-request-id")
            parsed: Any = raw.parse()
        elif mode == "context_manager":
            async with await client.chat.completions.create(**body) as stream:
                received.is_stream = isinstance(stream, openai.AsyncStream)
                received.chunks = [chunk.to_dict() async for chunk in stream]
            return received
        else:
            parsed = await client.chat.completions.create(**body)
    except openai.APIStatusError as error:
        received.error = error
        return received
    if not isinstance(parsed, openai.AsyncStream):
        return _finish(parsed, received)
    received.is_stream = True
    if mode == "closed_early":
        # ``__anext__`` rather than ``async for ... break``, which would leave an async
        # generator of the client to be finalized after the event loop is gone.
        received.chunks = [(await parsed.__anext__()).to_dict() for _ in range(EARLY_CLOSE_AFTER)]
        await parsed.close()
    else:
        received.chunks = [chunk.to_dict() async for chunk in parsed]
    return received


def sync_client(replayer: Replayer) -> openai.OpenAI:
    """A real ``OpenAI`` client whose HTTP goes to ``replayer``.

    Strict response validation is on: every recorded payload, including those of
    openai 1.26 clients, validates against the current models.
    """
    return openai.OpenAI(
        base_url=BASE_URL,
        api_key="sk-test",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(replayer)),
        _strict_response_validation=True,
    )


def async_client(replayer: Replayer) -> openai.AsyncOpenAI:
    """A real ``AsyncOpenAI`` client whose HTTP goes to ``replayer``."""
    return openai.AsyncOpenAI(
        base_url=BASE_URL,
        api_key="sk-test",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(replayer)),
        _strict_response_validation=True,
    )


def replay_sync(cassette: Cassette) -> tuple[Replayer, list[Received]]:
    """Every interaction of ``cassette``, in order, through one sync client."""
    replayer = Replayer(cassette)
    with sync_client(replayer) as client:
        mode = mode_of(cassette)
        return replayer, [call_sync(client, item, mode) for item in cassette.interactions]


async def replay_async(cassette: Cassette) -> tuple[Replayer, list[Received]]:
    """Every interaction of ``cassette``, in order, through one async client."""
    replayer = Replayer(cassette)
    async with async_client(replayer) as client:
        mode = mode_of(cassette)
        return replayer, [await call_async(client, item, mode) for item in cassette.interactions]


# -- checks -------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Span attribute values as JSON-like data (the SDK stores sequences as tuples)."""
    return list(value) if isinstance(value, tuple) else value


def check_replay(replayer: Replayer) -> None:
    """Every interaction was played, and the client sent exactly the recorded bodies."""
    assert replayer.all_played
    recorded = [item.request_json for item in replayer.cassette.interactions]
    assert [json.loads(body) for body in replayer.sent] == recorded


def check_received(turn: Turn, got: Received, baseline: Received, stream_type: type) -> None:
    """The caller's result is what the recording holds, and what it is uninstrumented."""
    interaction = turn.interaction
    if turn.error_type is not None:
        assert got.error is not None, "the recorded error was not raised"
        assert type(got.error).__qualname__ == turn.error_type
        assert got.error.status_code == interaction.status
        assert got.error.body == json.loads(interaction.body)["error"]
        assert baseline.error is not None
        assert type(baseline.error) is type(got.error)
        return
    assert got.error is None
    if turn.stream:
        assert got.is_stream, f"not an {stream_type.__name__}"
        assert [c["id"] for c in got.chunks] == [c["id"] for c in turn.chunks]
        assert got.chunks == turn.chunks
        assert got.chunks == baseline.chunks
    else:
        assert not got.is_stream
        assert got.payload == json.loads(interaction.body)
        assert got.completion == baseline.completion
    if got.request_id is not None or baseline.request_id is not None:
        recorded = {k.lower(): v for k, v in interaction.headers}.get("x-request-id")
        assert got.request_id == baseline.request_id == recorded


def check_span(span: ReadableSpan, turn: Turn, *, capture: bool) -> None:
    """Name, kind, status and every tracked attribute of one call's span."""
    assert span.name == turn.span_name
    assert span.kind is SpanKind.CLIENT
    assert span.end_time is not None
    attributes = dict(span.attributes or {})
    tracked = {"gen_ai.operation.name", "gen_ai.provider.name", "openai.api.type"}
    tracked |= {"gen_ai.request.model", "server.address", "server.port"}
    tracked |= REQUEST_KEYS | RESPONSE_KEYS
    actual = {key: _plain(attributes[key]) for key in tracked if key in attributes}
    if turn.request.get("stream") is False and actual.get("gen_ai.request.stream") is False:
        del actual["gen_ai.request.stream"]  # stream=False sent explicitly: False or absent
    assert actual == turn.attributes

    if turn.error_type is not None:
        assert span.status.status_code is StatusCode.ERROR
    else:
        assert span.status.status_code is StatusCode.UNSET

    if turn.stream and turn.error_type is None:
        first = attributes.get(TIME_TO_FIRST_CHUNK_ATTR)
        assert isinstance(first, float)
        assert first > 0
    else:
        assert TIME_TO_FIRST_CHUNK_ATTR not in attributes

    content = CONTENT_KEYS & attributes.keys()
    if not capture:
        assert content == set(), "content recorded although capture is off"
    else:
        recorded = json.loads(str(attributes["gen_ai.input.messages"]))
        assert len(recorded) == len(turn.request["messages"])


def _group(attributes: dict[str, Any]) -> frozenset[tuple[str, Any]]:
    return frozenset(
        (key, value) for key, value in attributes.items() if key not in OPTIONAL_METRIC_KEYS
    )


def check_metric_attributes(attributes: dict[str, Any], turns: list[Turn]) -> None:
    """Only low-cardinality attributes: no response ids, no message text."""
    assert "gen_ai.response.id" not in attributes
    assert not CONTENT_KEYS & attributes.keys()
    tiers = {turn.service_tier for turn in turns if turn.service_tier is not None}
    if "openai.response.service_tier" in attributes:
        assert attributes["openai.response.service_tier"] in tiers
    forbidden = set().union(*(turn.texts for turn in turns))
    for value in attributes.values():
        if isinstance(value, str):
            assert not any(
                text and (text == value or (len(text) >= 8 and text in value)) for text in forbidden
            ), value


def check_histogram(
    telemetry: Telemetry,
    name: str,
    expected: Sequence[tuple[dict[str, Any], float | None]],
    turns: list[Turn],
) -> None:
    """Points of histogram ``name`` are exactly ``expected``: (attributes, value or None).

    Calls with the same attributes aggregate into one point, so counts (and sums, when
    a value is given) are compared per attribute set.
    """
    expected_counts: Counter[frozenset[tuple[str, Any]]] = Counter()
    expected_sums: dict[frozenset[tuple[str, Any]], float] = {}
    for attributes, value in expected:
        expected_counts[_group(attributes)] += 1
        if value is not None:
            key = _group(attributes)
            expected_sums[key] = expected_sums.get(key, 0) + value
    actual_counts: Counter[frozenset[tuple[str, Any]]] = Counter()
    actual_sums: dict[frozenset[tuple[str, Any]], float] = {}
    points = telemetry.points(name)
    for point in points:
        attributes = dict(point.attributes or {})
        check_metric_attributes(attributes, turns)
        key = _group(attributes)
        actual_counts[key] += point.count
        actual_sums[key] = actual_sums.get(key, 0) + point.sum
    assert len(points) == len(expected_counts), f"{name}: {len(points)} point(s)"
    assert actual_counts == expected_counts, name
    if expected_sums:
        assert actual_sums == expected_sums, name


def check_metrics(telemetry: Telemetry, turns: list[Turn]) -> None:
    """Duration, token usage and, for streams, chunk timing points."""
    check_histogram(telemetry, DURATION, [(t.metric_attributes(), None) for t in turns], turns)
    tokens = [
        ({**turn.metric_attributes(), TOKEN_TYPE: kind}, value)
        for turn in turns
        for kind, value in (("input", turn.input_tokens), ("output", turn.output_tokens))
        if value is not None
    ]
    check_histogram(telemetry, TOKEN_USAGE, tokens, turns)
    streams = [turn for turn in turns if turn.stream and turn.error_type is None]
    check_histogram(
        telemetry, TIME_TO_FIRST_CHUNK, [(t.metric_attributes(), None) for t in streams], turns
    )
    gaps = [
        (turn.metric_attributes(), None)
        for turn in streams
        for _ in range(turn.chunks_with_choices - 1)
    ]
    check_histogram(telemetry, TIME_PER_OUTPUT_CHUNK, gaps, turns)


def check_all(
    cassette: Cassette,
    telemetry: Telemetry,
    outcome: tuple[Replayer, list[Received]],
    baseline: list[Received],
    *,
    stream_type: type,
) -> None:
    """Everything the recording says about the instrumented replay of ``cassette``."""
    replayer, received = outcome
    check_replay(replayer)
    read_only = EARLY_CLOSE_AFTER if mode_of(cassette) == "closed_early" else None
    turns = [expected_turn(item, read_only=read_only) for item in cassette.interactions]
    for turn, got, base in zip(turns, received, baseline, strict=True):
        check_received(turn, got, base, stream_type)
    spans = telemetry.spans()
    if is_unsampled(cassette):
        assert spans == []
    else:
        assert len(spans) == len(turns), [span.name for span in spans]
        for span, turn in zip(spans, turns, strict=True):
            check_span(span, turn, capture=captures_content(cassette))
    check_metrics(telemetry, turns)


# -- the tests --------------------------------------------------------------------------


CASES = [pytest.param(cassette, id=cassette.name) for cassette in CASSETTES]


Instrument = Callable[..., OpenAISentinelInstrumentor]


@pytest.mark.parametrize("cassette", CASES)
def test_sync_replay(
    cassette: Cassette,
    telemetry: Telemetry,
    instrument: Instrument,
    instrumented: OpenAISentinelInstrumentor,
) -> None:
    """A recorded exchange through ``openai.OpenAI``: telemetry as the recording says."""
    instrumented.uninstrument()
    _, baseline = replay_sync(cassette)
    assert telemetry.spans() == []
    instrument_for(
        telemetry,
        instrument,
        instrumented,
        capture=captures_content(cassette),
        unsampled=is_unsampled(cassette),
    )
    outcome = replay_sync(cassette)
    check_all(cassette, telemetry, outcome, baseline, stream_type=openai.Stream)


@pytest.mark.parametrize("cassette", CASES)
async def test_async_replay(
    cassette: Cassette,
    telemetry: Telemetry,
    instrument: Instrument,
    instrumented: OpenAISentinelInstrumentor,
) -> None:
    """A recorded exchange through ``openai.AsyncOpenAI``: telemetry as the recording says."""
    instrumented.uninstrument()
    _, baseline = await replay_async(cassette)
    assert telemetry.spans() == []
    instrument_for(
        telemetry,
        instrument,
        instrumented,
        capture=captures_content(cassette),
        unsampled=is_unsampled(cassette),
    )
    outcome = await replay_async(cassette)
    check_all(cassette, telemetry, outcome, baseline, stream_type=openai.AsyncStream)


def test_vendored_cassettes_are_complete() -> None:
    """All 35 chat cassettes (39 interactions) are vendored, with their license and origin."""
    assert len(CASSETTES) == 35
    assert sum(len(cassette.interactions) for cassette in CASSETTES) == 39
    assert (CASSETTE_DIR / "LICENSE").read_text().lstrip().startswith("Apache License")
    assert "466ae4c00de77d1f54f77a9600f1d08eba2306b5" in (CASSETTE_DIR / "README.md").read_text()
