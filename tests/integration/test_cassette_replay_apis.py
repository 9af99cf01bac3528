"""Replay the recorded Responses and embeddings interactions; check telemetry against them.

Every vendored ``test_*responses*`` and ``test_*embeddings*`` cassette
(``tests/cassettes/contrib``) is sent through the real ``openai`` client over
MockTransport: ``test_async_*`` ones with ``openai.AsyncOpenAI``, the others with
``openai.OpenAI``, and, since no asynchronous Responses recordings exist, every Responses
cassette with ``AsyncOpenAI`` too. The expected span and metric points are computed here
from the recording alone (request JSON, response JSON or the SSE events) and the GenAI
semantic conventions; the caller's results are compared with an uninstrumented replay.

How a cassette is driven follows the upstream test that recorded it:

* ``*_streaming_user_exception``: the caller raises inside ``with stream:`` at the first
  event. The call did not fail, the caller's code did: the span ends ``closed``, without
  an error (the rule of this project, where upstream reports the caller's exception);
* ``*_stream_propagation_error``: upstream injected a ``ConnectionError`` into the
  client's iterator. Adapted at the transport instead: the recorded body is served up to
  its first text delta, then the connection drops;
* ``*_streaming_delegates_response_attribute``: ``stream.response`` is read (status,
  ``x-request-id``), then the stream is closed unread;
* ``*_stream_wrapper_finalize_idempotent``: read to the end, then closed again;
* ``*_instrumentation_error_swallowed``: upstream made its own instrumentation fail; we
  never break our code on purpose, so it is replayed as a plain stream;
* ``*_with_not_given_values``: ``dimensions=NOT_GIVEN`` and no ``encoding_format``
  (which the recording shows the client sending itself);
* everything else: ``responses.create`` / ``embeddings.create`` with the recorded body;
  streams are read inside ``with`` to their end.

Content capture is on for ``*captures*``, ``*with_content*`` and
``*reports_reasoning_tokens*`` (as upstream), off for the others; ``*_unsampled`` runs
with a tracer provider that samples nothing (no span, every metric point).

Strict response validation is on unless the recording cannot pass it: Responses usage
recorded before ``input_tokens_details.cache_write_tokens`` existed (required by the
current client's model), and base64 embeddings (``Embedding.embedding`` is typed
``List[float]``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from openai_sentinel import OpenAISentinelInstrumentor, semconv
from tests.support.cassettes import (
    CASSETTE_DIR,
    Cassette,
    Interaction,
    Replayer,
    instrument_for,
    load_cassette,
)
from tests.support.cassettes import sse_data as recorded_events
from tests.support.findings import pop_and_check_findings
from tests.support.http_library import http
from tests.support.telemetry import Telemetry

BASE_URL = "https://api.openai.com/v1"
RESPONSES_PATH = "/v1/responses"
EMBEDDINGS_PATH = "/v1/embeddings"

CASSETTES = [
    load_cassette(path)
    for path in sorted(CASSETTE_DIR.glob("test_*.yaml"))
    if "responses" in path.name or "embeddings" in path.name
]

ERROR_CLASS_BY_STATUS = {400: "BadRequestError", 404: "NotFoundError", 429: "RateLimitError"}
JSON_FORMATS = frozenset({"json_object", "json_schema"})
TOOL_CALL_ITEMS = frozenset({"function_call", "custom_tool_call"})
TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_DEFINITIONS,
)
METRIC_KEYS = (
    semconv.GEN_AI_OPERATION_NAME,
    semconv.GEN_AI_PROVIDER_NAME,
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.SERVER_ADDRESS,
    semconv.SERVER_PORT,
    semconv.GEN_AI_RESPONSE_MODEL,
    semconv.OPENAI_RESPONSE_SERVICE_TIER,
    semconv.ERROR_TYPE,
)
"""The span's attributes that every metric point of the call carries."""

# -- how each cassette is driven --------------------------------------------------------


def api_of(cassette: Cassette) -> str:
    (path,) = {interaction.path for interaction in cassette.interactions}
    assert path in (RESPONSES_PATH, EMBEDDINGS_PATH), path
    return path


def mode_of(cassette: Cassette) -> str:
    """How the upstream test drove ``cassette`` (see the module's description)."""
    for suffix in (
        "streaming_user_exception",
        "stream_propagation_error",
        "streaming_delegates_response_attribute",
        "stream_wrapper_finalize_idempotent",
        "with_not_given_values",
    ):
        if suffix in cassette.name:
            return suffix
    return "plain"


def captures_content(cassette: Cassette) -> bool:
    name = cassette.name
    return any(word in name for word in ("captures", "with_content", "reasoning_tokens"))


def is_unsampled(cassette: Cassette) -> bool:
    return "unsampled" in cassette.name


def is_strict(interaction: Interaction) -> bool:
    """Whether the recorded body passes the current client's strict validation."""
    if interaction.status >= 400:
        return True
    if interaction.path == EMBEDDINGS_PATH:
        data = json.loads(interaction.body)["data"]
        return not any(isinstance(item["embedding"], str) for item in data)
    responses = (
        [event["response"] for event in recorded_events(interaction.body) if "response" in event]
        if interaction.is_sse
        else [json.loads(interaction.body)]
    )
    usages = [r["usage"] for r in responses if r.get("usage")]
    return all("cache_write_tokens" in u["input_tokens_details"] for u in usages)


def call_kwargs(cassette: Cassette, interaction: Interaction) -> dict[str, Any]:
    """The keyword arguments the recorded request was made with."""
    kwargs = interaction.request_json
    if mode_of(cassette) == "with_not_given_values":
        assert kwargs.pop("encoding_format") == "base64"  # sent by the client, unasked
        kwargs["dimensions"] = openai.NOT_GIVEN
    return kwargs


def sent_as_recorded(cassette: Cassette, interaction: Interaction, sent: dict[str, Any]) -> None:
    """The client sent the recorded body, plus the ``encoding_format`` the current client
    adds to embeddings requests that name none (recorded by older clients without it)."""
    recorded = interaction.request_json
    if interaction.path == EMBEDDINGS_PATH and "encoding_format" not in recorded:
        assert sent.pop("encoding_format") == "base64"
    assert sent == recorded


# -- what the recording calls for -------------------------------------------------------


@dataclass
class Expected:
    """The telemetry one recorded interaction calls for."""

    span_name: str
    attributes: dict[str, Any]
    error: bool = False
    stream: bool = False
    chunks: int = 0
    content: dict[str, Any] = field(default_factory=dict)

    def metric_attributes(self) -> dict[str, Any]:
        return {key: self.attributes[key] for key in METRIC_KEYS if key in self.attributes}

    @property
    def tokens(self) -> dict[str, int]:
        return {
            kind: self.attributes[key]
            for kind, key in (
                (semconv.TOKEN_TYPE_INPUT, semconv.GEN_AI_USAGE_INPUT_TOKENS),
                (semconv.TOKEN_TYPE_OUTPUT, semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
            )
            if key in self.attributes
        }


def _base(operation: str, model: str) -> dict[str, Any]:
    return {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: model,
        semconv.SERVER_ADDRESS: "api.openai.com",
        semconv.SERVER_PORT: 443,
    }


def responses_request_attributes(body: dict[str, Any]) -> dict[str, Any]:
    """Span attributes the conventions derive from a Responses request body."""
    attributes = _base("chat", body["model"]) | {semconv.OPENAI_API_TYPE: "responses"}
    for key, param in (
        (semconv.GEN_AI_REQUEST_TEMPERATURE, "temperature"),
        (semconv.GEN_AI_REQUEST_TOP_P, "top_p"),
    ):
        if body.get(param) is not None:
            attributes[key] = float(body[param])
    if body.get("max_output_tokens") is not None:
        attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] = body["max_output_tokens"]
    if body.get("service_tier") not in (None, "auto"):
        attributes[semconv.OPENAI_REQUEST_SERVICE_TIER] = body["service_tier"]
    format_type = ((body.get("text") or {}).get("format") or {}).get("type")
    if format_type is not None:
        attributes[semconv.GEN_AI_OUTPUT_TYPE] = (
            "json" if format_type in JSON_FORMATS else format_type
        )
    if body.get("previous_response_id"):
        attributes[semconv.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID] = body["previous_response_id"]
    conversation = body.get("conversation")
    if conversation:
        attributes[semconv.GEN_AI_CONVERSATION_ID] = (
            conversation if isinstance(conversation, str) else conversation["id"]
        )
    effort = (body.get("reasoning") or {}).get("effort")
    if effort:
        attributes[semconv.GEN_AI_REQUEST_REASONING_LEVEL] = effort
    if body.get("stream") is True:
        attributes[semconv.GEN_AI_REQUEST_STREAM] = True
    return attributes


def finish_reason(response: dict[str, Any]) -> str:
    """A response's ``status`` as the conventions' finish reason."""
    status = response["status"]
    if status == "completed":
        calls = any(item["type"] in TOOL_CALL_ITEMS for item in response["output"])
        return "tool_calls" if calls else "stop"
    if status == "incomplete":
        reason = response["incomplete_details"]["reason"]
        return INCOMPLETE_REASONS.get(reason, reason)
    assert status == "failed", f"no recording has a {status!r} response"
    return "error"


def responses_response_attributes(response: dict[str, Any]) -> dict[str, Any]:
    """Span attributes the conventions derive from a (final) Responses response."""
    attributes: dict[str, Any] = {
        semconv.GEN_AI_RESPONSE_ID: response["id"],
        semconv.GEN_AI_RESPONSE_MODEL: response["model"],
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: [finish_reason(response)],
    }
    if response.get("service_tier") is not None:
        attributes[semconv.OPENAI_RESPONSE_SERVICE_TIER] = response["service_tier"]
    usage = response.get("usage")
    if usage:
        attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] = usage["input_tokens"]
        attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] = usage["output_tokens"]
        details = usage.get("input_tokens_details") or {}
        if details.get("cached_tokens") is not None:
            attributes[semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = details["cached_tokens"]
        if details.get("cache_write_tokens") is not None:
            attributes[semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS] = details[
                "cache_write_tokens"
            ]
        reasoning = (usage.get("output_tokens_details") or {}).get("reasoning_tokens")
        if reasoning is not None:
            attributes[semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS] = reasoning
    if response.get("error"):
        attributes[semconv.ERROR_TYPE] = response["error"]["code"]
    return attributes


def _text(content: str) -> dict[str, Any]:
    return {"type": "text", "content": content}


def responses_input_messages(value: Any) -> list[dict[str, Any]]:
    """The recorded ``input`` in the conventions' message shape (text messages only:
    no recording has other items)."""
    if isinstance(value, str):
        return [{"role": "user", "parts": [_text(value)]}]
    messages = []
    for item in value:
        assert isinstance(item["content"], str), "only text messages are recorded"
        messages.append({"role": item["role"], "parts": [_text(item["content"])]})
    return messages


def output_parts(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The conventions' message parts for one output item. A reasoning item whose summary
    holds no text has nothing readable to record."""
    if item["type"] == "message":
        return [_text(part["text"]) for part in item["content"] if part["type"] == "output_text"]
    if item["type"] in TOOL_CALL_ITEMS:
        arguments = item.get("arguments", item.get("input"))
        return [
            {
                "type": "tool_call",
                "id": item["call_id"],
                "name": item["name"],
                "arguments": arguments,
            }
        ]
    assert item["type"] == "reasoning", item["type"]
    summary = " ".join(part["text"] for part in item["summary"])
    return [{"type": "reasoning", "content": summary}] if summary else []


def responses_content(body: dict[str, Any], response: dict[str, Any] | None) -> dict[str, Any]:
    """The opt-in content attributes (parsed JSON) of a Responses call."""
    content: dict[str, Any] = {
        semconv.GEN_AI_INPUT_MESSAGES: responses_input_messages(body["input"])
    }
    if body.get("instructions"):
        content[semconv.GEN_AI_SYSTEM_INSTRUCTIONS] = [_text(body["instructions"])]
    if body.get("tools"):
        content[semconv.GEN_AI_TOOL_DEFINITIONS] = [
            {"type": tool["type"], "name": tool["name"], "description": tool["description"]}
            for tool in body["tools"]
        ]
    if response is not None:
        parts = [part for item in response["output"] for part in output_parts(item)]
        content[semconv.GEN_AI_OUTPUT_MESSAGES] = [
            {"role": "assistant", "parts": parts, "finish_reason": finish_reason(response)}
        ]
    return content


def delta_count(events: list[dict[str, Any]]) -> int:
    """Output chunks among stream events: the deltas (lifecycle events are not output)."""
    return sum(1 for event in events if event["type"].endswith(".delta"))


def expected_responses(
    cassette: Cassette, interaction: Interaction, received: Received
) -> Expected:
    body = interaction.request_json
    expected = Expected(
        span_name=f"chat {body['model']}", attributes=responses_request_attributes(body)
    )
    capture = captures_content(cassette)
    if interaction.status >= 400:
        expected.error = True
        expected.attributes[semconv.ERROR_TYPE] = ERROR_CLASS_BY_STATUS[interaction.status]
        if capture:
            expected.content = responses_content(body, None)
        return expected
    final: dict[str, Any] | None
    if interaction.is_sse:
        events = recorded_events(interaction.body)[: len(received.events)]
        assert received.events == events, "the caller did not get the recorded events"
        expected.stream = True
        expected.chunks = delta_count(events)
        expected.attributes[semconv.SENTINEL_STREAM_CHUNKS] = expected.chunks
        expected.attributes[semconv.SENTINEL_STREAM_END] = received.stream_end
        terminal = [e for e in events if e["type"] in TERMINAL_EVENTS]
        final = terminal[0]["response"] if terminal else None
        if final is None:  # ended before its terminal event: identity of what was read
            started = [e["response"] for e in events if "response" in e]
            if started:
                expected.attributes[semconv.GEN_AI_RESPONSE_ID] = started[0]["id"]
                expected.attributes[semconv.GEN_AI_RESPONSE_MODEL] = started[0]["model"]
            expected.attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] = ["error"]
    else:
        final = json.loads(interaction.body)
    if final is not None:
        expected.attributes |= responses_response_attributes(final)
    if received.error is not None:
        expected.error = True
        expected.attributes[semconv.ERROR_TYPE] = type(received.error).__qualname__
    if capture:
        expected.content = responses_content(body, final)
        if final is None:
            expected.content[semconv.GEN_AI_OUTPUT_MESSAGES] = [
                {
                    "role": "assistant",
                    "parts": [_text("".join(e["delta"] for e in received.events if "delta" in e))]
                    if expected.chunks
                    else [],
                    "finish_reason": "error",
                }
            ]
    return expected


def dimension_count(vector: list[float] | str) -> int:
    if isinstance(vector, str):
        return len(base64.b64decode(vector)) // 4  # little-endian float32
    return len(vector)


def expected_embeddings(cassette: Cassette, interaction: Interaction) -> Expected:
    kwargs = call_kwargs(cassette, interaction)
    model = kwargs["model"]
    expected = Expected(span_name=f"embeddings {model}", attributes=_base("embeddings", model))
    if isinstance(kwargs.get("encoding_format"), str):
        expected.attributes[semconv.GEN_AI_REQUEST_ENCODING_FORMATS] = [kwargs["encoding_format"]]
    if captures_content(cassette):
        texts = [kwargs["input"]] if isinstance(kwargs["input"], str) else kwargs["input"]
        expected.content = {
            semconv.GEN_AI_INPUT_MESSAGES: [{"role": "user", "parts": [_text(t)]} for t in texts]
        }
    if isinstance(kwargs.get("dimensions"), int):
        expected.attributes[semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT] = kwargs["dimensions"]
    if interaction.status >= 400:
        expected.error = True
        expected.attributes[semconv.ERROR_TYPE] = ERROR_CLASS_BY_STATUS[interaction.status]
        return expected
    response = json.loads(interaction.body)
    expected.attributes.setdefault(
        semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT, dimension_count(response["data"][0]["embedding"])
    )
    expected.attributes[semconv.GEN_AI_RESPONSE_MODEL] = response["model"]
    expected.attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] = response["usage"]["prompt_tokens"]
    return expected


# -- driving the real client --------------------------------------------------------------


@dataclass
class Received:
    """What the caller got from one call."""

    error: BaseException | None = None
    payload: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    stream_end: str | None = None
    """How the caller left the stream: ``completed``, ``closed`` or ``error``."""
    request_id: str | None = None


class DroppingReplayer(Replayer):
    """A :class:`Replayer` whose event streams break off after their first text delta, as
    if the connection dropped (``http.ReadError``)."""

    def __call__(self, request: http.Request) -> http.Response:
        response = super().__call__(request)
        body = response.content.decode()
        frames = body.split("\n\n")
        first_delta = next(n for n, f in enumerate(frames) if "output_text.delta" in f)
        kept = "\n\n".join(frames[: first_delta + 1]) + "\n\n"
        return http.Response(
            response.status_code, headers=response.headers, stream=_Dropping(kept.encode())
        )


class _Dropping(http.SyncByteStream, http.AsyncByteStream):
    def __init__(self, body: bytes) -> None:
        self.body = body

    def __iter__(self):  # type: ignore[override]
        yield self.body
        raise http.ReadError("connection reset by peer")

    async def __aiter__(self):  # type: ignore[override]
        yield self.body
        raise http.ReadError("connection reset by peer")


def _replayer(cassette: Cassette) -> Replayer:
    if mode_of(cassette) == "stream_propagation_error":
        return DroppingReplayer(cassette)
    return Replayer(cassette)


class CallerError(Exception):
    """What the caller's own code raises in ``*_streaming_user_exception``."""


def _as_dict(item: Any) -> dict[str, Any]:
    return item.to_dict()  # type: ignore[no-any-return]


def call_sync(client: openai.OpenAI, cassette: Cassette, interaction: Interaction) -> Received:
    kwargs = call_kwargs(cassette, interaction)
    mode = mode_of(cassette)
    create = (
        client.responses.create if interaction.path == RESPONSES_PATH else client.embeddings.create
    )
    received = Received()
    try:
        result = create(**kwargs)
    except openai.APIStatusError as error:
        received.error = error
        return received
    if not isinstance(result, openai.Stream):
        received.payload = result.to_dict(warnings=False)
        return received
    received.request_id = result.response.headers.get("x-request-id")
    if mode == "streaming_user_exception":
        with pytest.raises(CallerError), result as stream:
            for event in stream:
                received.events.append(_as_dict(event))
                raise CallerError
        received.stream_end = "closed"
    elif mode == "streaming_delegates_response_attribute":
        assert result.response.status_code == 200
        result.close()
        received.stream_end = "closed"
    elif mode == "stream_propagation_error":
        try:
            for event in result:
                received.events.append(_as_dict(event))
        except Exception as error:
            received.error = error
        received.stream_end = "error"
    else:
        with result as stream:
            received.events = [_as_dict(event) for event in stream]
        received.stream_end = "completed"
        if mode == "stream_wrapper_finalize_idempotent":
            result.close()
    return received


async def call_async(
    client: openai.AsyncOpenAI, cassette: Cassette, interaction: Interaction
) -> Received:
    kwargs = call_kwargs(cassette, interaction)
    mode = mode_of(cassette)
    create = (
        client.responses.create if interaction.path == RESPONSES_PATH else client.embeddings.create
    )
    received = Received()
    try:
        result = await create(**kwargs)
    except openai.APIStatusError as error:
        received.error = error
        return received
    if not isinstance(result, openai.AsyncStream):
        received.payload = result.to_dict(warnings=False)
        return received
    received.request_id = result.response.headers.get("x-request-id")
    if mode == "streaming_user_exception":
        with pytest.raises(CallerError):
            async with result as stream:
                # ``__anext__`` rather than ``async for``, whose generator the event loop
                # would finalize late.
                received.events.append(_as_dict(await stream.__anext__()))
                raise CallerError
        received.stream_end = "closed"
    elif mode == "streaming_delegates_response_attribute":
        assert result.response.status_code == 200
        await result.close()
        received.stream_end = "closed"
    elif mode == "stream_propagation_error":
        try:
            async for event in result:
                received.events.append(_as_dict(event))
        except Exception as error:
            received.error = error
        received.stream_end = "error"
    else:
        async with result as stream:
            received.events = [_as_dict(event) async for event in stream]
        received.stream_end = "completed"
        if mode == "stream_wrapper_finalize_idempotent":
            await result.close()
    return received


def sync_client(replayer: Replayer, *, strict: bool) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=BASE_URL,
        api_key="sk-test",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(replayer)),
        _strict_response_validation=strict,
    )


def async_client(replayer: Replayer, *, strict: bool) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        base_url=BASE_URL,
        api_key="sk-test",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(replayer)),
        _strict_response_validation=strict,
    )


def _strict(cassette: Cassette) -> bool:
    return all(is_strict(interaction) for interaction in cassette.interactions)


def replay_sync(cassette: Cassette) -> tuple[Replayer, list[Received]]:
    replayer = _replayer(cassette)
    with sync_client(replayer, strict=_strict(cassette)) as client:
        return replayer, [call_sync(client, cassette, item) for item in cassette.interactions]


async def replay_async(cassette: Cassette) -> tuple[Replayer, list[Received]]:
    replayer = _replayer(cassette)
    async with async_client(replayer, strict=_strict(cassette)) as client:
        return replayer, [
            await call_async(client, cassette, item) for item in cassette.interactions
        ]


# -- checks ----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def check_received(
    cassette: Cassette, interaction: Interaction, got: Received, baseline: Received
) -> None:
    """The caller got what the recording holds, exactly as without instrumentation."""
    assert type(got.error) is type(baseline.error)
    if interaction.status >= 400:
        assert isinstance(got.error, openai.APIStatusError)
        assert type(got.error).__qualname__ == ERROR_CLASS_BY_STATUS[interaction.status]
        assert got.error.body == json.loads(interaction.body)["error"]
        return
    assert got.events == baseline.events
    assert got.payload == baseline.payload
    if not interaction.is_sse:
        recorded = json.loads(interaction.body)
        decoded = interaction.path == EMBEDDINGS_PATH and "encoding_format" not in call_kwargs(
            cassette, interaction
        )
        if decoded:  # base64 the client asked for itself, decoded to floats for the caller
            assert got.payload is not None
            assert got.payload["usage"] == recorded["usage"]
            assert len(got.payload["data"]) == len(recorded["data"])
        else:
            assert got.payload == recorded
    else:
        recorded_id = {k.lower(): v for k, v in interaction.headers}.get("x-request-id")
        assert got.request_id == baseline.request_id == recorded_id


def check_span(span: ReadableSpan, expected: Expected, *, capture: bool) -> None:
    assert span.name == expected.span_name
    assert span.kind is SpanKind.CLIENT
    assert span.end_time is not None
    attributes = pop_and_check_findings(dict(span.attributes or {}))
    first_chunk = attributes.pop(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, None)
    if expected.chunks:
        assert isinstance(first_chunk, float)
        assert first_chunk > 0
    else:
        assert first_chunk is None
    content = {
        key: json.loads(str(attributes.pop(key))) for key in CONTENT_KEYS if key in attributes
    }
    actual = {key: _plain(value) for key, value in attributes.items()}
    assert actual == expected.attributes
    assert content == (expected.content if capture else {})
    status = StatusCode.ERROR if expected.error else StatusCode.UNSET
    assert span.status.status_code is status


def check_metrics(telemetry: Telemetry, expected: list[Expected]) -> None:
    """Each call's duration point, its token points and, for streams, chunk timings; calls
    with the same attributes aggregate into one point."""

    def counts(name: str) -> dict[frozenset[tuple[str, Any]], tuple[int, float]]:
        found: dict[frozenset[tuple[str, Any]], tuple[int, float]] = {}
        for point in telemetry.points(name):
            found[frozenset(dict(point.attributes or {}).items())] = (point.count, point.sum)
        return found

    def grouped(items: list[tuple[dict[str, Any], float]]) -> dict[Any, tuple[int, float]]:
        result: dict[Any, tuple[int, float]] = {}
        for attributes, value in items:
            key = frozenset(attributes.items())
            count, total = result.get(key, (0, 0.0))
            result[key] = (count + 1, total + value)
        return result

    durations = counts(semconv.METRIC_OPERATION_DURATION)
    wanted = grouped([(e.metric_attributes(), 0.0) for e in expected])
    assert {key: count for key, (count, _) in durations.items()} == {
        key: count for key, (count, _) in wanted.items()
    }
    tokens = grouped(
        [
            ({**e.metric_attributes(), semconv.GEN_AI_TOKEN_TYPE: kind}, value)
            for e in expected
            for kind, value in e.tokens.items()
        ]
    )
    assert counts(semconv.METRIC_TOKEN_USAGE) == tokens
    streams = [e for e in expected if e.chunks]
    first = counts(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    assert {k: c for k, (c, _) in first.items()} == {
        k: c for k, (c, _) in grouped([(e.metric_attributes(), 0.0) for e in streams]).items()
    }
    gaps = counts(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert sum(count for count, _ in gaps.values()) == sum(e.chunks - 1 for e in streams)
    for attributes in gaps:
        assert semconv.ERROR_TYPE not in dict(attributes)


def check_all(
    cassette: Cassette,
    telemetry: Telemetry,
    outcome: tuple[Replayer, list[Received]],
    baseline: list[Received],
) -> None:
    replayer, received = outcome
    assert replayer.all_played
    for interaction, sent in zip(cassette.interactions, replayer.sent, strict=True):
        sent_as_recorded(cassette, interaction, json.loads(sent))
    expected = []
    for interaction, got, base in zip(cassette.interactions, received, baseline, strict=True):
        check_received(cassette, interaction, got, base)
        if interaction.path == RESPONSES_PATH:
            expected.append(expected_responses(cassette, interaction, got))
        else:
            expected.append(expected_embeddings(cassette, interaction))
    spans = telemetry.spans()
    if is_unsampled(cassette):
        assert spans == []
    else:
        assert len(spans) == len(expected), [span.name for span in spans]
        for span, wanted in zip(spans, expected, strict=True):
            check_span(span, wanted, capture=captures_content(cassette))
    check_metrics(telemetry, expected)


# -- the tests ----------------------------------------------------------------------------

Instrument = Callable[..., OpenAISentinelInstrumentor]


SYNC_CASES = [
    pytest.param(cassette, id=cassette.name)
    for cassette in CASSETTES
    if not cassette.name.startswith("test_async_")
]
ASYNC_CASES = [
    pytest.param(cassette, id=cassette.name)
    for cassette in CASSETTES
    if cassette.name.startswith("test_async_") or api_of(cassette) == RESPONSES_PATH
]


@pytest.mark.parametrize("cassette", SYNC_CASES)
def test_sync_replay(
    cassette: Cassette,
    telemetry: Telemetry,
    instrument: Instrument,
    instrumented: OpenAISentinelInstrumentor,
) -> None:
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
    check_all(cassette, telemetry, replay_sync(cassette), baseline)


@pytest.mark.parametrize("cassette", ASYNC_CASES)
async def test_async_replay(
    cassette: Cassette,
    telemetry: Telemetry,
    instrument: Instrument,
    instrumented: OpenAISentinelInstrumentor,
) -> None:
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
    check_all(cassette, telemetry, await replay_async(cassette), baseline)


def test_every_responses_and_embeddings_cassette_is_replayed() -> None:
    """21 Responses and 15 embeddings cassettes, one interaction each."""
    by_api = [api_of(cassette) for cassette in CASSETTES]
    assert by_api.count(RESPONSES_PATH) == 21
    assert by_api.count(EMBEDDINGS_PATH) == 15
    assert all(len(cassette.interactions) == 1 for cassette in CASSETTES)
