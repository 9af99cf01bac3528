"""Every wrapped method beyond Chat Completions, through the real client and MockTransport.

Responses (``create``, ``parse``, ``retrieve``, the ``.stream()`` helper), legacy
completions, embeddings, images, audio and moderations, sync and async, streamed where
the API streams. Each call's span is compared attribute for attribute with what the
request and the scripted reply call for, and its metric points with the span.

The replies are built by :mod:`tests.support.api_payloads` in the API's wire format and
go through strict response validation, except where the client's own models reject
what the API really sends (said where it happens).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from openai_sentinel import OpenAISentinelInstrumentor, semconv

from ..support import api_payloads as payloads
from ..support.findings import pop_and_check_findings
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import async_client, sync_client

HOST = "api.openai.test"
WORDS = ["This", " is", " a", " test", "."]
INSTRUCTIONS = "You are a helpful assistant."
PROMPT = "Say this is a test"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"IHDR-sentinel-test-image-bytes-7f3a" * 8
WAV_BYTES = b"RIFF\x24\x08\x00\x00WAVEfmt " + b"sentinel-test-audio-bytes-91c2" * 8
MP3_BYTES = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"sentinel-test-speech-bytes-4be0" * 8
B64_IMAGE = base64.b64encode(b"sentinel-generated-image-bytes-" * 6).decode()
B64_PARTIALS = [base64.b64encode(f"partial-{n}-image-bytes".encode() * 4).decode() for n in (0, 1)]
PREVIOUS_ID = "resp_68a1c0ffee00112233445566778899aabbccddeeff001122"
CONVERSATION_ID = "conv_0a1b2c3d4e5f60718293a4b5c6d7e8f9"

Instrument = Callable[..., OpenAISentinelInstrumentor]
ASYNC = pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])

pytestmark = pytest.mark.filterwarnings(
    # openai 3 marks ``images.create_variation`` and ``audio.translations`` deprecated
    "ignore:deprecated:DeprecationWarning"
)

# -- the scripted API -------------------------------------------------------------------


class Body(http.SyncByteStream, http.AsyncByteStream):
    """A response body the client reads from the network as it goes; with ``fail``, the
    connection drops after it."""

    def __init__(self, body: bytes, *, fail: bool = False) -> None:
        self.body = body
        self.fail = fail

    def __iter__(self):  # type: ignore[override]
        yield self.body
        if self.fail:
            raise http.ReadError("connection reset by peer")

    async def __aiter__(self):  # type: ignore[override]
        yield self.body
        if self.fail:
            raise http.ReadError("connection reset by peer")


@dataclass(frozen=True)
class Reply:
    """What the API answers: a JSON body, an event stream, or raw bytes.

    ``lazy`` bodies are read from the "network" only when the client asks (as a real
    connection's are), so a test can tell whether anyone has read them.
    """

    json: Any = None
    events: Sequence[dict[str, Any]] | None = None
    data_chunks: Sequence[dict[str, Any]] | None = None
    content: bytes | None = None
    content_type: str = "application/json"
    status: int = 200
    lazy: bool = False

    def body(self) -> tuple[bytes, str]:
        """The body's bytes and content type."""
        if self.events is not None:
            return payloads.event_stream(self.events), "text/event-stream; charset=utf-8"
        if self.data_chunks is not None:
            return payloads.data_stream(self.data_chunks), "text/event-stream; charset=utf-8"
        if self.content is not None:
            return self.content, self.content_type
        return json.dumps(self.json).encode(), "application/json"

    def response(self) -> http.Response:
        content, content_type = self.body()
        headers = {
            "content-type": content_type,
            "x-request-id": "req_7d1f0c2a9b",
            "openai-version": "2020-10-01",
        }
        if self.lazy:
            return http.Response(self.status, headers=headers, stream=Body(content))
        return http.Response(self.status, headers=headers, content=content)


class API:
    """A MockTransport handler answering every request with one reply, keeping requests."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[http.Request] = []

    def __call__(self, request: http.Request) -> http.Response:
        request.read()
        self.requests.append(request)
        return self.reply.response()

    @property
    def sent_json(self) -> dict[str, Any]:
        return json.loads(self.requests[-1].content)


# -- calling the client -------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """One call of a client method: ``client.<method>(*args, **kwargs)``.

    ``helper`` runs the Responses ``.stream()`` helper to its final response instead.
    """

    method: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    args: tuple[Any, ...] = ()
    helper: bool = False


def _method(client: Any, path: str) -> Any:
    target = client
    for name in path.split("."):
        target = getattr(target, name)
    return target


def call_sync(client: openai.OpenAI, call: Call) -> Any:
    """Make ``call``; a stream is read to its end, and its events returned."""
    if call.helper:
        with client.responses.stream(**call.kwargs) as stream:
            events = list(stream)
            assert stream.get_final_response().id == payloads.RESPONSE_ID
        return events
    result = _method(client, call.method)(*call.args, **call.kwargs)
    if isinstance(result, openai.Stream):
        return list(result)
    return result


async def call_async(client: openai.AsyncOpenAI, call: Call) -> Any:
    """The asynchronous twin of :func:`call_sync`."""
    if call.helper:
        async with client.responses.stream(**call.kwargs) as stream:
            events = [event async for event in stream]
            assert (await stream.get_final_response()).id == payloads.RESPONSE_ID
        return events
    result = await _method(client, call.method)(*call.args, **call.kwargs)
    if isinstance(result, openai.AsyncStream):
        return [item async for item in result]
    return result


# -- what the telemetry must be ---------------------------------------------------------

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
"""Span attributes every metric point of the call carries (when the span has them)."""

CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
    semconv.GEN_AI_TOOL_DEFINITIONS,
)


def request(operation: str, model: str | None = None, **extra: Any) -> dict[str, Any]:
    """The attributes every span of ``operation`` has, plus ``extra``."""
    attributes: dict[str, Any] = {
        semconv.GEN_AI_OPERATION_NAME: operation,
        semconv.GEN_AI_PROVIDER_NAME: semconv.PROVIDER_OPENAI,
        semconv.SERVER_ADDRESS: HOST,
        semconv.SERVER_PORT: 443,
    }
    if model is not None:
        attributes[semconv.GEN_AI_REQUEST_MODEL] = model
    return attributes | extra


def responses_request(model: str | None = None, **extra: Any) -> dict[str, Any]:
    return (
        request(
            semconv.OPERATION_CHAT, model, **{semconv.OPENAI_API_TYPE: semconv.API_TYPE_RESPONSES}
        )
        | extra
    )


def usage(
    input_tokens: int,
    output_tokens: int | None = None,
    *,
    cache_read: int | None = None,
    cache_write: int | None = None,
    reasoning: int | None = None,
) -> dict[str, Any]:
    attributes = {semconv.GEN_AI_USAGE_INPUT_TOKENS: input_tokens}
    for key, value in (
        (semconv.GEN_AI_USAGE_OUTPUT_TOKENS, output_tokens),
        (semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS, cache_read),
        (semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS, cache_write),
        (semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS, reasoning),
    ):
        if value is not None:
            attributes[key] = value
    return attributes


def streamed(chunks: int, end: str = "completed") -> dict[str, Any]:
    """What every stream's span says of the stream (time to first chunk checked apart)."""
    return {
        semconv.GEN_AI_REQUEST_STREAM: True,
        semconv.SENTINEL_STREAM_CHUNKS: chunks,
        semconv.SENTINEL_STREAM_END: end,
    }


def plain(attributes: Any) -> dict[str, Any]:
    """Span attributes with sequences as tuples, as the SDK stores them."""
    return {
        key: tuple(value) if isinstance(value, list) else value
        for key, value in dict(attributes or {}).items()
    }


def check_span(span: ReadableSpan, name: str, expected: dict[str, Any]) -> None:
    """Name, kind, an unset status and exactly the ``expected`` attributes; time to first
    chunk is present (and positive) iff the span reports streamed chunks."""
    assert span.name == name
    assert span.kind is SpanKind.CLIENT
    assert span.end_time is not None
    actual = pop_and_check_findings(plain(span.attributes))
    first_chunk = actual.pop(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK, None)
    if expected.get(semconv.SENTINEL_STREAM_CHUNKS):
        assert isinstance(first_chunk, float)
        assert first_chunk > 0
    else:
        assert first_chunk is None
    assert actual == plain(expected)
    assert span.status.status_code is StatusCode.UNSET


def check_metrics(telemetry: Telemetry, expected: dict[str, Any]) -> None:
    """One duration point; token points only for reported usage; first-chunk timing
    only for streams that delivered a chunk. Their attributes follow the span's."""
    attributes = {key: expected[key] for key in METRIC_KEYS if key in expected}
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes or {}) == attributes
    assert duration.count == 1
    tokens = {
        str(point.attributes[semconv.GEN_AI_TOKEN_TYPE]): point
        for point in telemetry.points(semconv.METRIC_TOKEN_USAGE)
    }
    wanted = {
        kind: expected[key]
        for kind, key in (
            (semconv.TOKEN_TYPE_INPUT, semconv.GEN_AI_USAGE_INPUT_TOKENS),
            (semconv.TOKEN_TYPE_OUTPUT, semconv.GEN_AI_USAGE_OUTPUT_TOKENS),
        )
        if key in expected
    }
    assert {kind: point.sum for kind, point in tokens.items()} == wanted
    for kind, point in tokens.items():
        assert dict(point.attributes or {}) == {**attributes, semconv.GEN_AI_TOKEN_TYPE: kind}
        assert point.count == 1
    first_chunks = telemetry.points(semconv.METRIC_TIME_TO_FIRST_CHUNK)
    if expected.get(semconv.SENTINEL_STREAM_CHUNKS):
        (point,) = first_chunks
        assert dict(point.attributes or {}) == attributes
        gaps = telemetry.points(semconv.METRIC_TIME_PER_OUTPUT_CHUNK)
        assert sum(p.count for p in gaps) == expected[semconv.SENTINEL_STREAM_CHUNKS] - 1
    else:
        assert first_chunks == []


# -- one case per wrapped method (and its streaming form) ---------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    call: Call
    reply: Reply
    span_name: str
    attributes: dict[str, Any]
    strict: bool = True
    sent: dict[str, Any] = field(default_factory=dict)
    """Fields the request body must carry (JSON requests only)."""


class Answer(BaseModel):
    answer: str
    confidence: float


def _response(**kwargs: Any) -> dict[str, Any]:
    return payloads.response(output=[payloads.output_message("This is a test.")], **kwargs)


RESPONSE_BASIC = _response(instructions=INSTRUCTIONS)
RESPONSE_REASONING = payloads.response(
    model="o4-mini-2025-04-16",
    output=[
        payloads.reasoning_item("Echo the phrase."),
        payloads.output_message("This is a test."),
    ],
    usage=payloads.response_usage(1290, 96, cached=1152, cache_write=128, reasoning=64),
    service_tier="priority",
    reasoning_effort="low",
    conversation_id=CONVERSATION_ID,
)
RESPONSE_JSON = payloads.response(
    output=[payloads.output_message('{"answer":"yes","confidence":0.92}')],
    text_format={"type": "json_schema", "name": "Answer", "strict": True, "schema": {}},
    usage=payloads.response_usage(61, 12),
)
RESPONSE_EVENTS = payloads.response_events(
    payloads.response(output=[payloads.output_message("".join(WORDS))], instructions=INSTRUCTIONS),
    WORDS,
)
RESUMED_EVENTS = RESPONSE_EVENTS[4:]  # ``starting_after=3``: from the first delta on

RESPONSES_DONE = {
    semconv.GEN_AI_RESPONSE_ID: payloads.RESPONSE_ID,
    semconv.GEN_AI_RESPONSE_MODEL: payloads.RESPONSES_MODEL,
    semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
    semconv.OPENAI_RESPONSE_SERVICE_TIER: "default",
}
IMAGE_TOKENS = usage(50, 272)
TRANSCRIPTION_TOKENS = usage(14, 45)

CASES = [
    Case(
        "responses.create",
        Call(
            "responses.create",
            {
                "model": "gpt-4o-mini",
                "input": PROMPT,
                "instructions": INSTRUCTIONS,
                "temperature": 0.2,
                "top_p": 0.9,
                "max_output_tokens": 256,
                "service_tier": "flex",
                "previous_response_id": PREVIOUS_ID,
                "text": {"format": {"type": "json_object"}},
            },
        ),
        Reply(json=_response(service_tier="flex", previous_response_id=PREVIOUS_ID)),
        "chat gpt-4o-mini",
        responses_request(
            "gpt-4o-mini",
            **{
                semconv.GEN_AI_REQUEST_TEMPERATURE: 0.2,
                semconv.GEN_AI_REQUEST_TOP_P: 0.9,
                semconv.GEN_AI_REQUEST_MAX_TOKENS: 256,
                semconv.OPENAI_REQUEST_SERVICE_TIER: "flex",
                semconv.GEN_AI_REQUEST_PREVIOUS_RESPONSE_ID: PREVIOUS_ID,
                semconv.GEN_AI_OUTPUT_TYPE: "json",
            },
        )
        | RESPONSES_DONE
        | {semconv.OPENAI_RESPONSE_SERVICE_TIER: "flex"}
        | usage(22, 6, cache_read=0, cache_write=0, reasoning=0),
    ),
    Case(
        "responses.create-reasoning-conversation",
        Call(
            "responses.create",
            {
                "model": "o4-mini",
                "input": PROMPT,
                "reasoning": {"effort": "low", "summary": "auto"},
                "conversation": CONVERSATION_ID,
                "service_tier": "auto",
            },
        ),
        Reply(json=RESPONSE_REASONING),
        "chat o4-mini",
        responses_request(
            "o4-mini",
            **{
                semconv.GEN_AI_REQUEST_REASONING_LEVEL: "low",
                semconv.GEN_AI_CONVERSATION_ID: CONVERSATION_ID,
            },
        )
        | RESPONSES_DONE
        | {
            semconv.GEN_AI_RESPONSE_MODEL: "o4-mini-2025-04-16",
            semconv.OPENAI_RESPONSE_SERVICE_TIER: "priority",
        }
        | usage(1290, 96, cache_read=1152, cache_write=128, reasoning=64),
    ),
    Case(
        "responses.create-conversation-object",
        Call(
            "responses.create",
            {"model": "gpt-4o-mini", "input": PROMPT, "conversation": {"id": CONVERSATION_ID}},
        ),
        Reply(json=_response(conversation_id=CONVERSATION_ID)),
        "chat gpt-4o-mini",
        responses_request("gpt-4o-mini", **{semconv.GEN_AI_CONVERSATION_ID: CONVERSATION_ID})
        | RESPONSES_DONE
        | usage(22, 6, cache_read=0, cache_write=0, reasoning=0),
    ),
    Case(
        "responses.create-stream",
        Call(
            "responses.create",
            {"model": "gpt-4o-mini", "input": PROMPT, "instructions": INSTRUCTIONS, "stream": True},
        ),
        Reply(events=RESPONSE_EVENTS),
        "chat gpt-4o-mini",
        responses_request("gpt-4o-mini")
        | RESPONSES_DONE
        | usage(22, 6, cache_read=0, cache_write=0, reasoning=0)
        | streamed(len(WORDS)),
    ),
    Case(
        "responses.parse",
        Call("responses.parse", {"model": "gpt-4o-mini", "input": PROMPT, "text_format": Answer}),
        Reply(json=RESPONSE_JSON),
        "chat gpt-4o-mini",
        responses_request("gpt-4o-mini", **{semconv.GEN_AI_OUTPUT_TYPE: "json"})
        | RESPONSES_DONE
        | usage(61, 12, cache_read=0, cache_write=0, reasoning=0),
        sent={"text": {"format": {"type": "json_schema"}}},
    ),
    Case(
        "responses.retrieve",
        Call("responses.retrieve", args=(payloads.RESPONSE_ID,)),
        Reply(json=RESPONSE_BASIC),
        semconv.OPERATION_FETCH_RESPONSE,
        request(
            semconv.OPERATION_FETCH_RESPONSE,
            **{semconv.OPENAI_API_TYPE: semconv.API_TYPE_RESPONSES},
        )
        | RESPONSES_DONE,
    ),
    Case(
        "responses.retrieve-stream",
        Call(
            "responses.retrieve",
            {"stream": True, "starting_after": 3},
            args=(payloads.RESPONSE_ID,),
        ),
        Reply(events=RESUMED_EVENTS),
        semconv.OPERATION_FETCH_RESPONSE,
        request(
            semconv.OPERATION_FETCH_RESPONSE,
            **{semconv.OPENAI_API_TYPE: semconv.API_TYPE_RESPONSES},
        )
        | RESPONSES_DONE
        | streamed(len(WORDS)),
    ),
    Case(
        "responses.stream-helper",
        Call(
            "responses.stream",
            {"model": "gpt-4o-mini", "input": PROMPT, "instructions": INSTRUCTIONS},
            helper=True,
        ),
        Reply(events=RESPONSE_EVENTS),
        "chat gpt-4o-mini",
        responses_request("gpt-4o-mini")
        | RESPONSES_DONE
        | usage(22, 6, cache_read=0, cache_write=0, reasoning=0)
        | streamed(len(WORDS)),
    ),
    Case(
        "completions.create",
        Call(
            "completions.create",
            {
                "model": "gpt-3.5-turbo-instruct",
                "prompt": PROMPT,
                "max_tokens": 7,
                "temperature": 0.5,
                "top_p": 0.8,
                "frequency_penalty": 0.1,
                "presence_penalty": 0.2,
                "stop": ["\n\n"],
                "seed": 42,
                "n": 2,
            },
        ),
        Reply(json=payloads.text_completion(["\n\nThis is a test", "\n\nThis is indeed"])),
        "text_completion gpt-3.5-turbo-instruct",
        request(
            semconv.OPERATION_TEXT_COMPLETION,
            "gpt-3.5-turbo-instruct",
            **{
                semconv.GEN_AI_REQUEST_MAX_TOKENS: 7,
                semconv.GEN_AI_REQUEST_TEMPERATURE: 0.5,
                semconv.GEN_AI_REQUEST_TOP_P: 0.8,
                semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.1,
                semconv.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
                semconv.GEN_AI_REQUEST_STOP_SEQUENCES: ["\n\n"],
                semconv.GEN_AI_REQUEST_SEED: 42,
                semconv.GEN_AI_REQUEST_CHOICE_COUNT: 2,
                semconv.GEN_AI_RESPONSE_ID: "cmpl-AbCdEf0123456789GhIjKlMnOp",
                semconv.GEN_AI_RESPONSE_MODEL: payloads.COMPLETIONS_MODEL,
                semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop", "stop"],
            },
        )
        | usage(5, 7),
    ),
    Case(
        "completions.create-stream",
        Call(
            "completions.create",
            {"model": "gpt-3.5-turbo-instruct", "prompt": PROMPT, "stream": True},
        ),
        Reply(data_chunks=payloads.text_completion_chunks(WORDS, include_usage=False)),
        "text_completion gpt-3.5-turbo-instruct",
        request(
            semconv.OPERATION_TEXT_COMPLETION,
            "gpt-3.5-turbo-instruct",
            **{
                semconv.GEN_AI_RESPONSE_ID: "cmpl-StReAm0123456789GhIjKlMnOp",
                semconv.GEN_AI_RESPONSE_MODEL: payloads.COMPLETIONS_MODEL,
                semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
            },
        )
        | streamed(len(WORDS)),
        # The client's ``CompletionChoice.finish_reason`` admits no ``null``, which every
        # chunk but the last carries on the wire: strict validation rejects real streams.
        strict=False,
    ),
    Case(
        "embeddings.create-dimensions",
        Call(
            "embeddings.create",
            {
                "model": payloads.EMBEDDINGS_MODEL,
                "input": PROMPT,
                "dimensions": 3,
                "encoding_format": "float",
            },
        ),
        Reply(json=payloads.embeddings([[0.0123, -0.0456, 0.0789]], prompt_tokens=5)),
        f"embeddings {payloads.EMBEDDINGS_MODEL}",
        request(
            semconv.OPERATION_EMBEDDINGS,
            payloads.EMBEDDINGS_MODEL,
            **{
                semconv.GEN_AI_REQUEST_ENCODING_FORMATS: ["float"],
                semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 3,
                semconv.GEN_AI_RESPONSE_MODEL: payloads.EMBEDDINGS_MODEL,
            },
        )
        | usage(5),
    ),
    Case(
        "embeddings.create-base64",
        Call(
            "embeddings.create",
            {"model": payloads.EMBEDDINGS_MODEL, "input": PROMPT, "encoding_format": "base64"},
        ),
        Reply(
            json=payloads.embeddings(
                [[0.5, -0.25, 0.125, 1.0, -2.0]], encoding="base64", prompt_tokens=5
            )
        ),
        f"embeddings {payloads.EMBEDDINGS_MODEL}",
        request(
            semconv.OPERATION_EMBEDDINGS,
            payloads.EMBEDDINGS_MODEL,
            **{
                semconv.GEN_AI_REQUEST_ENCODING_FORMATS: ["base64"],
                semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 5,
                semconv.GEN_AI_RESPONSE_MODEL: payloads.EMBEDDINGS_MODEL,
            },
        )
        | usage(5),
        # ``Embedding.embedding`` is typed ``List[float]``: strict validation rejects the
        # base64 string the API sends when asked for it.
        strict=False,
    ),
    Case(
        "embeddings.create-default-encoding",
        Call(
            "embeddings.create",
            {"model": payloads.EMBEDDINGS_MODEL, "input": ["first text", "second text"]},
        ),
        Reply(
            json=payloads.embeddings(
                [[0.5, -0.25, 0.125, 1.0], [0.0, 0.75, -0.5, 0.25]],
                encoding="base64",
                prompt_tokens=4,
            )
        ),
        f"embeddings {payloads.EMBEDDINGS_MODEL}",
        request(
            semconv.OPERATION_EMBEDDINGS,
            payloads.EMBEDDINGS_MODEL,
            **{
                semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: 4,
                semconv.GEN_AI_RESPONSE_MODEL: payloads.EMBEDDINGS_MODEL,
            },
        )
        | usage(4),
        strict=False,  # the client asks for base64 itself when the caller names no format
        sent={"encoding_format": "base64"},
    ),
    Case(
        "images.generate",
        Call(
            "images.generate",
            {"model": "gpt-image-1", "prompt": "A lighthouse at dusk", "n": 2, "size": "1024x1024"},
        ),
        Reply(json=payloads.images([B64_IMAGE, B64_IMAGE])),
        "generate_image gpt-image-1",
        request(
            semconv.OPERATION_GENERATE_IMAGE,
            "gpt-image-1",
            **{
                semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_IMAGE,
                semconv.GEN_AI_REQUEST_CHOICE_COUNT: 2,
            },
        )
        | IMAGE_TOKENS,
    ),
    Case(
        "images.generate-stream",
        Call(
            "images.generate",
            {
                "model": "gpt-image-1",
                "prompt": "A lighthouse at dusk",
                "stream": True,
                "partial_images": 2,
            },
        ),
        Reply(events=payloads.image_events("image_generation", B64_PARTIALS, B64_IMAGE)),
        "generate_image gpt-image-1",
        request(
            semconv.OPERATION_GENERATE_IMAGE,
            "gpt-image-1",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_IMAGE},
        )
        | IMAGE_TOKENS
        | streamed(len(B64_PARTIALS) + 1),  # the partial images and the final one
    ),
    Case(
        "images.edit",
        Call(
            "images.edit",
            {
                "model": "gpt-image-1",
                "image": ("lighthouse.png", PNG_BYTES, "image/png"),
                "prompt": "Add a moon",
            },
        ),
        Reply(json=payloads.images([B64_IMAGE])),
        "edit_image gpt-image-1",
        request(
            semconv.OPERATION_EDIT_IMAGE,
            "gpt-image-1",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_IMAGE},
        )
        | IMAGE_TOKENS,
    ),
    Case(
        "images.edit-stream",
        Call(
            "images.edit",
            {
                "model": "gpt-image-1",
                "image": ("lighthouse.png", PNG_BYTES, "image/png"),
                "prompt": "Add a moon",
                "stream": True,
                "partial_images": 2,
            },
        ),
        Reply(events=payloads.image_events("image_edit", B64_PARTIALS, B64_IMAGE)),
        "edit_image gpt-image-1",
        request(
            semconv.OPERATION_EDIT_IMAGE,
            "gpt-image-1",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_IMAGE},
        )
        | IMAGE_TOKENS
        | streamed(len(B64_PARTIALS) + 1),  # the partial images and the final one
    ),
    Case(
        "images.create_variation",
        Call(
            "images.create_variation",
            {"model": "dall-e-2", "image": ("lighthouse.png", PNG_BYTES, "image/png"), "n": 2},
        ),
        Reply(
            json=payloads.images(
                urls=["https://oaidalleapiprodscus.blob.core.windows.net/private/img-1.png"] * 2,
                usage=None,
            )
        ),
        "create_image_variation dall-e-2",
        request(
            semconv.OPERATION_CREATE_IMAGE_VARIATION,
            "dall-e-2",
            **{
                semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_IMAGE,
                semconv.GEN_AI_REQUEST_CHOICE_COUNT: 2,
            },
        ),
    ),
    Case(
        "audio.transcriptions.create",
        Call(
            "audio.transcriptions.create",
            {"model": "gpt-4o-transcribe", "file": ("hello.wav", WAV_BYTES, "audio/wav")},
        ),
        Reply(json=payloads.transcription("Hello, this is a test.")),
        "transcribe_audio gpt-4o-transcribe",
        request(
            semconv.OPERATION_TRANSCRIBE_AUDIO,
            "gpt-4o-transcribe",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_TEXT},
        )
        | TRANSCRIPTION_TOKENS,
    ),
    Case(
        "audio.transcriptions.create-whisper",
        Call(
            "audio.transcriptions.create",
            {"model": "whisper-1", "file": ("hello.wav", WAV_BYTES, "audio/wav")},
        ),
        Reply(
            json=payloads.transcription(
                "Hello, this is a test.", usage={"type": "duration", "seconds": 3}
            )
        ),
        "transcribe_audio whisper-1",
        request(
            semconv.OPERATION_TRANSCRIBE_AUDIO,
            "whisper-1",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_TEXT},
        ),
    ),
    Case(
        "audio.transcriptions.create-stream",
        Call(
            "audio.transcriptions.create",
            {
                "model": "gpt-4o-mini-transcribe",
                "file": ("hello.wav", WAV_BYTES, "audio/wav"),
                "stream": True,
            },
        ),
        Reply(events=payloads.transcription_events(["Hello,", " this", " is", " a test."])),
        "transcribe_audio gpt-4o-mini-transcribe",
        request(
            semconv.OPERATION_TRANSCRIBE_AUDIO,
            "gpt-4o-mini-transcribe",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_TEXT},
        )
        | TRANSCRIPTION_TOKENS
        | streamed(4),
    ),
    Case(
        "audio.translations.create",
        Call(
            "audio.translations.create",
            {"model": "whisper-1", "file": ("bonjour.wav", WAV_BYTES, "audio/wav")},
        ),
        Reply(json=payloads.translation("Hello, this is a test.")),
        "translate_audio whisper-1",
        request(
            semconv.OPERATION_TRANSLATE_AUDIO,
            "whisper-1",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_TEXT},
        ),
    ),
    Case(
        "audio.speech.create",
        Call(
            "audio.speech.create",
            {"model": "gpt-4o-mini-tts", "voice": "alloy", "input": "Hello, this is a test."},
        ),
        Reply(content=MP3_BYTES, content_type="audio/mpeg"),
        "generate_speech gpt-4o-mini-tts",
        request(
            semconv.OPERATION_GENERATE_SPEECH,
            "gpt-4o-mini-tts",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_SPEECH},
        ),
    ),
    Case(
        "moderations.create",
        Call(
            "moderations.create",
            {"model": "omni-moderation-latest", "input": "I will hurt you."},
        ),
        Reply(json=payloads.moderation(flagged=True)),
        "moderate_content omni-moderation-latest",
        request(
            semconv.OPERATION_MODERATE_CONTENT,
            "omni-moderation-latest",
            **{
                semconv.GEN_AI_RESPONSE_ID: "modr-4c1e2b7a9f0d3e6c8b5a",
                semconv.GEN_AI_RESPONSE_MODEL: "omni-moderation-latest",
            },
        ),
    ),
]


def _carries(sent: Any, wanted: Any) -> bool:
    """Whether ``sent`` has every field of ``wanted`` (nested objects compared likewise)."""
    if isinstance(wanted, dict):
        return isinstance(sent, dict) and all(
            key in sent and _carries(sent[key], value) for key, value in wanted.items()
        )
    return bool(sent == wanted)


def _check_case(case: Case, api: API, telemetry: Telemetry, result: Any) -> None:
    assert result is not None
    check_span(telemetry.span(), case.span_name, case.attributes)
    check_metrics(telemetry, case.attributes)
    if case.sent:
        assert _carries(api.sent_json, case.sent), api.sent_json


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_sync_call(case: Case, telemetry: Telemetry, instrumented) -> None:
    api = API(case.reply)
    with sync_client(api, strict=case.strict) as client:
        result = call_sync(client, case.call)
    _check_case(case, api, telemetry, result)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
async def test_async_call(case: Case, telemetry: Telemetry, instrumented) -> None:
    api = API(case.reply)
    async with async_client(api, strict=case.strict) as client:
        result = await call_async(client, case.call)
    _check_case(case, api, telemetry, result)


def test_every_wrapped_method_has_a_case() -> None:
    """The table above covers every method the instrumentor wraps beyond chat."""
    from openai_sentinel.instrumentor import _RESOURCES

    wrapped = {
        f"{resource.module.removeprefix('openai.resources.')}.{method}"
        for resource in _RESOURCES
        for method, _ in resource.methods
        if resource.module != "openai.resources.chat.completions"
    }
    assert wrapped == {case.call.method for case in CASES if not case.call.helper}


# -- legacy completions: the usage chunk asked for --------------------------------------


@ASYNC
async def test_completion_stream_usage_is_injected_and_hidden(
    asynchronous: bool, telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(stream_usage=True)
    api = API(Reply(data_chunks=payloads.text_completion_chunks(WORDS, include_usage=True)))
    call = Call(
        "completions.create", {"model": "gpt-3.5-turbo-instruct", "prompt": PROMPT, "stream": True}
    )
    if asynchronous:
        async with async_client(api, strict=False) as client:
            chunks = await call_async(client, call)
    else:
        with sync_client(api, strict=False) as client:
            chunks = call_sync(client, call)
    assert api.sent_json["stream_options"] == {"include_usage": True}
    assert len(chunks) == len(WORDS)
    assert all(chunk.choices for chunk in chunks), "the usage chunk we asked for was shown"
    expected = (
        request(
            semconv.OPERATION_TEXT_COMPLETION,
            "gpt-3.5-turbo-instruct",
            **{
                semconv.GEN_AI_RESPONSE_ID: "cmpl-StReAm0123456789GhIjKlMnOp",
                semconv.GEN_AI_RESPONSE_MODEL: payloads.COMPLETIONS_MODEL,
                semconv.GEN_AI_RESPONSE_FINISH_REASONS: ["stop"],
                semconv.SENTINEL_STREAM_USAGE_INJECTED: True,
            },
        )
        | usage(5, 7)
        | streamed(len(WORDS))
    )
    check_span(telemetry.span(), "text_completion gpt-3.5-turbo-instruct", expected)
    check_metrics(telemetry, expected)


def test_completion_stream_keeps_the_callers_usage_choice(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(stream_usage=True)
    api = API(Reply(data_chunks=payloads.text_completion_chunks(WORDS, include_usage=True)))
    with sync_client(api, strict=False) as client:
        chunks = call_sync(
            client,
            Call(
                "completions.create",
                {
                    "model": "gpt-3.5-turbo-instruct",
                    "prompt": PROMPT,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                },
            ),
        )
    assert chunks[-1].usage is not None and chunks[-1].choices == []
    attributes = telemetry.span().attributes or {}
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in attributes
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 7


# -- Responses: finish reasons and errors the API reports -------------------------------


def _create(api: API, **kwargs: Any) -> Any:
    with sync_client(api) as client:
        return call_sync(
            client, Call("responses.create", {"model": "gpt-4o-mini", "input": PROMPT, **kwargs})
        )


def test_incomplete_for_max_output_tokens_is_length(telemetry: Telemetry, instrumented) -> None:
    body = payloads.response(
        status="incomplete",
        incomplete_reason="max_output_tokens",
        output=[payloads.output_message("This is", status="incomplete")],
        max_output_tokens=16,
        usage=payloads.response_usage(22, 16),
    )
    _create(API(Reply(json=body)), max_output_tokens=16)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_LENGTH,)
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 16
    assert telemetry.span().status.status_code is StatusCode.UNSET


def test_incomplete_stream_for_content_filter(telemetry: Telemetry, instrumented) -> None:
    final = payloads.response(
        status="incomplete",
        incomplete_reason="content_filter",
        output=[payloads.output_message("This", status="incomplete")],
    )
    events = _create(API(Reply(events=payloads.response_events(final, ["This"]))), stream=True)
    assert events[-1].type == "response.incomplete"
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (
        semconv.FINISH_REASON_CONTENT_FILTER,
    )
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"


def test_function_call_output_is_tool_calls(telemetry: Telemetry, instrumented) -> None:
    tool = payloads.function_tool("get_current_weather", "Get the current weather")
    body = payloads.response(
        output=[payloads.function_call("get_current_weather", '{"location":"Seattle"}')],
        tools=[tool],
        usage=payloads.response_usage(72, 8),
    )
    _create(API(Reply(json=body)), tools=[tool])
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_TOOL_CALLS,)


async def _stream(asynchronous: bool, reply: Reply, **kwargs: Any) -> list[Any]:
    call = Call(
        "responses.create", {"model": "gpt-4o-mini", "input": PROMPT, "stream": True, **kwargs}
    )
    api = API(reply)
    if asynchronous:
        async with async_client(api) as client:
            return await call_async(client, call)  # type: ignore[no-any-return]
    with sync_client(api) as client:
        return call_sync(client, call)  # type: ignore[no-any-return]


def _check_stream_error(telemetry: Telemetry, code: str, chunks: int) -> None:
    span = telemetry.span()
    attributes = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attributes[semconv.ERROR_TYPE] == code
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_ERROR,)
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == chunks
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attributes
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert (duration.attributes or {})[semconv.ERROR_TYPE] == code
    assert telemetry.points(semconv.METRIC_TOKEN_USAGE) == []
    assert span.events == ()  # nothing was raised: no exception event


@ASYNC
@pytest.mark.parametrize(
    ("code", "error_type"),
    [("server_error", "server_error"), (None, semconv.ERROR_TYPE_OTHER)],
    ids=["code", "no-code"],
)
async def test_error_event_fails_the_span_without_raising(
    code: str | None, error_type: str, asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    started = payloads.response_events(_response(), ["Hel"])[:5]
    events = [*started, payloads.error_event(code, "The server had an error.", 5)]
    received = await _stream(asynchronous, Reply(events=events))
    assert [event.type for event in received][-1] == "error"
    _check_stream_error(telemetry, error_type, chunks=1)
    assert (telemetry.span().attributes or {})[semconv.GEN_AI_RESPONSE_ID] == payloads.RESPONSE_ID


@ASYNC
async def test_failed_response_fails_the_span_without_raising(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    final = payloads.response(
        status="failed",
        error=payloads.response_error("rate_limit_exceeded", "Rate limit reached."),
        output=[],
    )
    final["usage"] = None
    received = await _stream(
        asynchronous, Reply(events=payloads.response_events(final, ["Hel", "lo"]))
    )
    assert received[-1].type == "response.failed"
    _check_stream_error(telemetry, "rate_limit_exceeded", chunks=2)


@ASYNC
async def test_stream_cut_before_the_terminal_event(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    events = payloads.response_events(_response(), WORDS)[:-1]  # no response.completed
    received = await _stream(asynchronous, Reply(events=events))
    assert len(received) == len(events)
    span = telemetry.span()
    attributes = span.attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_ERROR,)
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == len(WORDS)
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == payloads.RESPONSE_ID
    assert semconv.GEN_AI_USAGE_OUTPUT_TOKENS not in attributes
    assert telemetry.points(semconv.METRIC_TOKEN_USAGE) == []


@ASYNC
async def test_stream_dropped_by_the_connection(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    body = payloads.event_stream(payloads.response_events(_response(), WORDS)[:6])

    def handler(request: http.Request) -> http.Response:
        return http.Response(
            200, headers={"content-type": "text/event-stream"}, stream=Body(body, fail=True)
        )

    call = Call("responses.create", {"model": "gpt-4o-mini", "input": PROMPT, "stream": True})
    received: list[Any] = []
    # openai 3 wraps the transport's error in APIConnectionError; 1.x and 2.x do not
    with pytest.raises((http.ReadError, openai.APIConnectionError)) as raised:
        if asynchronous:
            async with async_client(handler) as client:
                async for event in await _method(client, call.method)(**call.kwargs):
                    received.append(event)
        else:
            with sync_client(handler) as client:
                received.extend(_method(client, call.method)(**call.kwargs))
    assert len(received) == 6
    span = telemetry.span()
    attributes = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__
    assert attributes[semconv.SENTINEL_STREAM_END] == "error"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_ERROR,)
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == 2


def test_stream_closed_by_the_caller_before_the_end(telemetry: Telemetry, instrumented) -> None:
    with sync_client(API(Reply(events=RESPONSE_EVENTS))) as client:
        stream = client.responses.create(model="gpt-4o-mini", input=PROMPT, stream=True)
        for event in stream:
            if event.type == "response.output_text.delta":
                break
        assert telemetry.spans() == []
        stream.close()
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.SENTINEL_STREAM_END] == "closed"
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == 1
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_ERROR,)


# -- Responses: the .stream() helper --------------------------------------------------


def test_stream_helper_left_early_ends_its_one_span_on_exit(
    telemetry: Telemetry, instrumented
) -> None:
    with sync_client(API(Reply(events=RESPONSE_EVENTS))) as client:
        with client.responses.stream(model="gpt-4o-mini", input=PROMPT) as stream:
            for event in stream:
                if event.type == "response.output_text.delta":
                    break
            assert telemetry.spans() == [], "the span ended before the `with` was left"
        _check_helper_left_early(telemetry)


async def test_async_stream_helper_left_early_ends_its_one_span_on_exit(
    telemetry: Telemetry, instrumented
) -> None:
    async with async_client(API(Reply(events=RESPONSE_EVENTS))) as client:
        async with client.responses.stream(model="gpt-4o-mini", input=PROMPT) as stream:
            async for event in stream:
                if event.type == "response.output_text.delta":
                    break
            assert telemetry.spans() == [], "the span ended before the `async with` was left"
        _check_helper_left_early(telemetry)


def _check_helper_left_early(telemetry: Telemetry) -> None:
    expected = (
        responses_request("gpt-4o-mini")
        | {
            semconv.GEN_AI_RESPONSE_ID: payloads.RESPONSE_ID,
            semconv.GEN_AI_RESPONSE_MODEL: payloads.RESPONSES_MODEL,
            semconv.GEN_AI_RESPONSE_FINISH_REASONS: [semconv.FINISH_REASON_ERROR],
        }
        | streamed(1, "closed")
    )
    check_span(telemetry.span(), "chat gpt-4o-mini", expected)
    check_metrics(telemetry, expected)


# -- Responses: retrieve -----------------------------------------------------------------


@ASYNC
async def test_retrieve_reports_no_token_usage(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    body = payloads.response(
        output=[payloads.output_message("This is a test.")],
        usage=payloads.response_usage(1290, 96, cached=1152, cache_write=128, reasoning=64),
    )
    for call in (
        Call("responses.retrieve", args=(payloads.RESPONSE_ID,)),
        Call("responses.retrieve", {"stream": True}, args=(payloads.RESPONSE_ID,)),
    ):
        reply = (
            Reply(events=payloads.response_events(body, WORDS)) if call.kwargs else Reply(json=body)
        )
        if asynchronous:
            async with async_client(API(reply)) as client:
                await call_async(client, call)
        else:
            with sync_client(API(reply)) as client:
                call_sync(client, call)
    spans = telemetry.spans()
    assert len(spans) == 2
    for span in spans:
        attributes = span.attributes or {}
        assert attributes[semconv.GEN_AI_OPERATION_NAME] == semconv.OPERATION_FETCH_RESPONSE
        assert not [key for key in attributes if key.startswith("gen_ai.usage.")]
    assert telemetry.points(semconv.METRIC_TOKEN_USAGE) == []
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 2


def test_retrieving_a_failed_response_is_not_a_failed_fetch(
    telemetry: Telemetry, instrumented
) -> None:
    """The fetch succeeded: the stored response's own failure shows in its finish reason,
    not as an error of this call (as the conventions' ``fetch_response`` operation and
    the official instrumentation have it)."""
    body = payloads.response(
        status="failed", error=payloads.response_error("server_error"), output=[]
    )
    body["usage"] = None
    with sync_client(API(Reply(json=body))) as client:
        client.responses.retrieve(payloads.RESPONSE_ID)
    span = telemetry.span()
    attributes = span.attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (semconv.FINISH_REASON_ERROR,)
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in attributes


@pytest.mark.parametrize("status", ["queued", "in_progress"])
def test_unfinished_background_response_has_no_finish_reason(
    status: str, telemetry: Telemetry, instrumented
) -> None:
    """A response still queued or running has not finished: it has no finish reason
    (``gen_ai.response.finish_reasons`` says why the model stopped generating)."""
    body = payloads.response(status=status, background=True, output=[])
    with sync_client(API(Reply(json=body))) as client:
        client.responses.create(model="gpt-4o-mini", input=PROMPT, background=True)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == payloads.RESPONSE_ID
    assert semconv.GEN_AI_RESPONSE_FINISH_REASONS not in attributes


# -- streams of other APIs ----------------------------------------------------------------


@ASYNC
async def test_single_event_image_stream_is_timed(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    """With ``partial_images=0`` (the default) the one ``image_generation.completed`` event
    carries the image: the stream's output, so it has a time to first chunk."""
    reply = Reply(events=payloads.image_events("image_generation", [], B64_IMAGE))
    call = Call("images.generate", {"model": "gpt-image-1", "prompt": "A cat", "stream": True})
    if asynchronous:
        async with async_client(API(reply)) as client:
            events = await call_async(client, call)
    else:
        with sync_client(API(reply)) as client:
            events = call_sync(client, call)
    assert [event.type for event in events] == ["image_generation.completed"]
    expected = (
        request(
            semconv.OPERATION_GENERATE_IMAGE,
            "gpt-image-1",
            **{semconv.GEN_AI_OUTPUT_TYPE: semconv.OUTPUT_TYPE_IMAGE},
        )
        | IMAGE_TOKENS
        | streamed(1)
    )
    check_span(telemetry.span(), "generate_image gpt-image-1", expected)
    check_metrics(telemetry, expected)


def test_stream_usage_setting_leaves_apis_without_usage_chunks_alone(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    """Only Completions streams take ``stream_options.include_usage``: the Responses API
    would reject it, and images and audio streams report usage by themselves."""
    instrument(stream_usage=True)
    streams = [
        (
            Reply(events=RESPONSE_EVENTS),
            Call("responses.create", {"model": "gpt-4o-mini", "input": PROMPT, "stream": True}),
        ),
        (
            Reply(events=payloads.image_events("image_generation", B64_PARTIALS, B64_IMAGE)),
            Call("images.generate", {"model": "gpt-image-1", "prompt": "A cat", "stream": True}),
        ),
        (
            Reply(events=payloads.transcription_events(["Hello."])),
            Call(
                "audio.transcriptions.create",
                {"model": "gpt-4o-transcribe", "file": ("a.wav", WAV_BYTES), "stream": True},
            ),
        ),
    ]
    for reply, call in streams:
        api = API(reply)
        with sync_client(api) as client:
            call_sync(client, call)
        assert b"stream_options" not in api.requests[-1].content
        assert b"include_usage" not in api.requests[-1].content
    for span in telemetry.spans():
        attributes = span.attributes or {}
        assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in attributes
        assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0


@ASYNC
async def test_stream_helper_resuming_a_stored_response_is_a_fetch(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    """``responses.stream(response_id=...)`` goes through ``retrieve(stream=True)``."""
    reply = Reply(events=RESPONSE_EVENTS)
    if asynchronous:
        async with (
            async_client(API(reply)) as client,
            client.responses.stream(response_id=payloads.RESPONSE_ID) as stream,
        ):
            final = await stream.get_final_response()
    else:
        with (
            sync_client(API(reply)) as client,
            client.responses.stream(response_id=payloads.RESPONSE_ID) as stream,
        ):
            final = stream.get_final_response()
    assert final.id == payloads.RESPONSE_ID
    expected = (
        request(
            semconv.OPERATION_FETCH_RESPONSE,
            **{semconv.OPENAI_API_TYPE: semconv.API_TYPE_RESPONSES},
        )
        | RESPONSES_DONE
        | streamed(len(WORDS))
    )
    check_span(telemetry.span(), semconv.OPERATION_FETCH_RESPONSE, expected)
    check_metrics(telemetry, expected)


def test_parse_failure_keeps_the_answer_out_of_the_span(telemetry: Telemetry, instrumented) -> None:
    """An answer that does not match ``text_format``: the caller gets pydantic's error, the
    span says what failed without quoting the answer (content capture is off)."""
    secret = "my card is 4111 1111 1111 1111"
    body = payloads.response(
        output=[payloads.output_message(json.dumps({"answer": secret, "confidence": "high"}))]
    )
    with sync_client(API(Reply(json=body))) as client, pytest.raises(ValueError) as raised:
        client.responses.parse(model="gpt-4o-mini", input=PROMPT, text_format=Answer)
    span = telemetry.span()
    attributes = span.attributes or {}
    assert span.status.status_code is StatusCode.ERROR
    assert attributes[semconv.ERROR_TYPE] == type(raised.value).__qualname__
    assert attributes[semconv.GEN_AI_OUTPUT_TYPE] == "json"
    text = _span_text(span)
    assert "4111" not in text and "high" not in text
    assert "confidence" in str(span.status.description)


# -- raw and streaming responses -------------------------------------------------------


@ASYNC
async def test_raw_response_of_responses_create(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    api = API(Reply(json=RESPONSE_BASIC))
    kwargs = {"model": "gpt-4o-mini", "input": PROMPT}
    if asynchronous:
        async with async_client(api) as client:
            raw = await client.responses.with_raw_response.create(**kwargs)
    else:
        with sync_client(api) as client:
            raw = client.responses.with_raw_response.create(**kwargs)
    parsed = raw.parse()
    assert parsed is raw.parse()
    assert parsed.output_text == "This is a test."
    assert raw.headers["x-request-id"] == "req_7d1f0c2a9b"
    expected = (
        responses_request("gpt-4o-mini")
        | RESPONSES_DONE
        | usage(22, 6, cache_read=0, cache_write=0, reasoning=0)
    )
    check_span(telemetry.span(), "chat gpt-4o-mini", expected)
    check_metrics(telemetry, expected)


@ASYNC
async def test_raw_response_of_a_responses_stream(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    api = API(Reply(events=RESPONSE_EVENTS))
    kwargs = {"model": "gpt-4o-mini", "input": PROMPT, "stream": True}
    if asynchronous:
        async with async_client(api) as client:
            raw = await client.responses.with_raw_response.create(**kwargs)
            stream = raw.parse()
            assert isinstance(stream, openai.AsyncStream)
            events = [event async for event in stream]
    else:
        with sync_client(api) as client:
            raw = client.responses.with_raw_response.create(**kwargs)
            stream = raw.parse()
            assert isinstance(stream, openai.Stream)
            events = list(stream)
    assert len(events) == len(RESPONSE_EVENTS)
    expected = (
        responses_request("gpt-4o-mini")
        | RESPONSES_DONE
        | usage(22, 6, cache_read=0, cache_write=0, reasoning=0)
        | streamed(len(WORDS))
    )
    check_span(telemetry.span(), "chat gpt-4o-mini", expected)
    check_metrics(telemetry, expected)


@ASYNC
async def test_streaming_response_of_responses_create_is_left_unread(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    api = API(Reply(events=RESPONSE_EVENTS, lazy=True))
    kwargs = {"model": "gpt-4o-mini", "input": PROMPT, "stream": True}
    if asynchronous:
        async with (
            async_client(api) as client,
            client.responses.with_streaming_response.create(**kwargs) as response,
        ):
            assert not response.http_response.is_stream_consumed
            lines = [line async for line in response.iter_lines() if line.startswith("data:")]
    else:
        with (
            sync_client(api) as client,
            client.responses.with_streaming_response.create(**kwargs) as response,
        ):
            assert not response.http_response.is_stream_consumed
            lines = [line for line in response.iter_lines() if line.startswith("data:")]
    assert len(lines) == len(RESPONSE_EVENTS)
    expected = responses_request("gpt-4o-mini") | {
        semconv.GEN_AI_REQUEST_STREAM: True,
        semconv.SENTINEL_RESPONSE_UNREAD: True,
    }
    check_span(telemetry.span(), "chat gpt-4o-mini", expected)
    check_metrics(telemetry, expected)


@ASYNC
async def test_raw_response_of_embeddings_create(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    """The client asks for base64 and decodes it in ``parse()``: the raw body still tells
    the dimension count."""
    vector = [0.5, -0.25, 0.125, 1.0, -2.0, 0.75]
    api = API(Reply(json=payloads.embeddings([vector], encoding="base64", prompt_tokens=3)))
    kwargs = {"model": payloads.EMBEDDINGS_MODEL, "input": PROMPT}
    if asynchronous:
        async with async_client(api, strict=False) as client:
            raw = await client.embeddings.with_raw_response.create(**kwargs)
    else:
        with sync_client(api, strict=False) as client:
            raw = client.embeddings.with_raw_response.create(**kwargs)
    assert raw.parse().data[0].embedding == vector
    expected = request(
        semconv.OPERATION_EMBEDDINGS,
        payloads.EMBEDDINGS_MODEL,
        **{
            semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: len(vector),
            semconv.GEN_AI_RESPONSE_MODEL: payloads.EMBEDDINGS_MODEL,
        },
    ) | usage(3)
    check_span(telemetry.span(), f"embeddings {payloads.EMBEDDINGS_MODEL}", expected)
    check_metrics(telemetry, expected)


@ASYNC
async def test_streaming_response_of_embeddings_create_is_left_unread(
    asynchronous: bool, telemetry: Telemetry, instrumented
) -> None:
    api = API(Reply(json=payloads.embeddings([[0.1, 0.2]]), lazy=True))
    kwargs = {"model": payloads.EMBEDDINGS_MODEL, "input": PROMPT, "encoding_format": "float"}
    if asynchronous:
        async with (
            async_client(api) as client,
            client.embeddings.with_streaming_response.create(**kwargs) as response,
        ):
            assert not response.http_response.is_stream_consumed
            parsed = await response.parse()
    else:
        with (
            sync_client(api) as client,
            client.embeddings.with_streaming_response.create(**kwargs) as response,
        ):
            assert not response.http_response.is_stream_consumed
            parsed = response.parse()
    assert parsed.data[0].embedding == [0.1, 0.2]
    expected = request(
        semconv.OPERATION_EMBEDDINGS,
        payloads.EMBEDDINGS_MODEL,
        **{
            semconv.GEN_AI_REQUEST_ENCODING_FORMATS: ["float"],
            semconv.SENTINEL_RESPONSE_UNREAD: True,
        },
    )
    check_span(telemetry.span(), f"embeddings {payloads.EMBEDDINGS_MODEL}", expected)
    check_metrics(telemetry, expected)


# -- API errors, every family ---------------------------------------------------------

ERROR_CALLS = list({case.call.method: case.call for case in reversed(CASES)}.values())[::-1]
"""The first call of every method in :data:`CASES` (the helper goes through ``create``)."""
ERROR_CLASSES = {400: "BadRequestError", 404: "NotFoundError", 429: "RateLimitError"}


@pytest.mark.parametrize("status", sorted(ERROR_CLASSES))
@pytest.mark.parametrize("call", [pytest.param(c, id=c.method) for c in ERROR_CALLS])
@ASYNC
async def test_api_error(
    asynchronous: bool, call: Call, status: int, telemetry: Telemetry, instrumented
) -> None:
    api = API(Reply(json=payloads.api_error(status), status=status))
    with pytest.raises(openai.APIStatusError) as raised:
        if asynchronous:
            async with async_client(api) as client:
                await call_async(client, call)
        else:
            with sync_client(api) as client:
                call_sync(client, call)
    assert type(raised.value).__qualname__ == ERROR_CLASSES[status]
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes[semconv.ERROR_TYPE] == ERROR_CLASSES[status]
    if call.method == "responses.retrieve":  # the id asked for, even when the fetch fails
        assert attributes[semconv.GEN_AI_RESPONSE_ID].startswith("resp_")
    else:
        assert semconv.GEN_AI_RESPONSE_ID not in attributes
    assert not [key for key in attributes if key.startswith("gen_ai.usage.")]
    (event,) = span.events
    assert event.name == "exception"
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert (duration.attributes or {})[semconv.ERROR_TYPE] == ERROR_CLASSES[status]
    assert telemetry.points(semconv.METRIC_TOKEN_USAGE) == []


# -- content capture ---------------------------------------------------------------------


def _content(span: ReadableSpan, key: str) -> Any:
    value = (span.attributes or {}).get(key)
    return None if value is None else json.loads(str(value))


def _no_content(span: ReadableSpan) -> None:
    attributes = span.attributes or {}
    assert [key for key in CONTENT_KEYS if key in attributes] == []


def _span_text(span: ReadableSpan) -> str:
    """Everything a span carries as text: attributes, events, status."""
    parts = [repr(dict(span.attributes or {})), str(span.status.description)]
    parts += [repr((event.name, dict(event.attributes or {}))) for event in span.events]
    return "\n".join(parts)


def _assert_absent(span: ReadableSpan, *blobs: bytes | str) -> None:
    text = _span_text(span)
    for blob in blobs:
        raw = blob if isinstance(blob, bytes) else blob.encode()
        for form in (raw, base64.b64encode(raw)):
            assert form[8:40].decode("latin-1") not in text, "media bytes were recorded"


USER_TEXT = [{"role": "user", "parts": [{"type": "text", "content": PROMPT}]}]
SYSTEM_TEXT = [{"type": "text", "content": INSTRUCTIONS}]


@ASYNC
@pytest.mark.parametrize("stream", [False, True], ids=["response", "stream"])
async def test_responses_content_is_captured(
    stream: bool, asynchronous: bool, telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    reply = Reply(events=RESPONSE_EVENTS) if stream else Reply(json=RESPONSE_BASIC)
    call = Call(
        "responses.create",
        {"model": "gpt-4o-mini", "input": PROMPT, "instructions": INSTRUCTIONS, "stream": stream},
    )
    if asynchronous:
        async with async_client(API(reply)) as client:
            await call_async(client, call)
    else:
        with sync_client(API(reply)) as client:
            call_sync(client, call)
    span = telemetry.span()
    assert _content(span, semconv.GEN_AI_SYSTEM_INSTRUCTIONS) == SYSTEM_TEXT
    assert _content(span, semconv.GEN_AI_INPUT_MESSAGES) == USER_TEXT
    assert _content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "This is a test."}],
            "finish_reason": "stop",
        }
    ]
    assert semconv.GEN_AI_TOOL_DEFINITIONS not in (span.attributes or {})


def test_responses_input_items_tools_and_tool_calls_are_captured(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    image_data_url = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()
    tool = payloads.function_tool("get_current_weather", "Get the current weather")
    items = [
        {"role": "developer", "content": "Answer briefly."},
        {
            "role": "user",
            "content": [
                {"type": "input_text", "text": "What is in this picture, and the weather?"},
                {"type": "input_image", "image_url": image_data_url, "detail": "auto"},
                {
                    "type": "input_image",
                    "image_url": "https://example.com/cat.png",
                    "detail": "low",
                },
            ],
        },
        {
            "type": "function_call",
            "call_id": "call_prev",
            "name": "get_current_weather",
            "arguments": '{"location":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "call_prev", "output": '{"temp_c":21}'},
    ]
    body = payloads.response(
        output=[
            payloads.reasoning_item("Need the weather."),
            payloads.function_call("get_current_weather", '{"location":"Seattle"}'),
        ],
        tools=[tool],
    )
    with sync_client(API(Reply(json=body))) as client:
        client.responses.create(model="gpt-4o-mini", input=items, tools=[tool])
    span = telemetry.span()
    assert _content(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "developer", "parts": [{"type": "text", "content": "Answer briefly."}]},
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "What is in this picture, and the weather?"},
                {"type": "generic", "generic_type": "input_image"},
                {"type": "uri", "modality": "image", "uri": "https://example.com/cat.png"},
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": "call_prev",
                    "name": "get_current_weather",
                    "arguments": '{"location":"Paris"}',
                }
            ],
        },
        {
            "role": "tool",
            "parts": [
                {"type": "tool_call_response", "id": "call_prev", "response": '{"temp_c":21}'}
            ],
        },
    ]
    assert _content(span, semconv.GEN_AI_TOOL_DEFINITIONS) == [
        {
            "type": "function",
            "name": "get_current_weather",
            "description": "Get the current weather",
        }
    ]
    assert _content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [
                {"type": "reasoning", "content": "Need the weather."},
                {
                    "type": "tool_call",
                    "id": payloads.CALL_ID,
                    "name": "get_current_weather",
                    "arguments": '{"location":"Seattle"}',
                },
            ],
            "finish_reason": "tool_calls",
        }
    ]
    _assert_absent(span, PNG_BYTES)


def test_output_of_a_stream_cut_short_is_what_arrived(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    events = payloads.response_events(_response(), WORDS)[:6]  # two deltas, then nothing
    with sync_client(API(Reply(events=events))) as client:
        list(client.responses.create(model="gpt-4o-mini", input=PROMPT, stream=True))
    assert _content(telemetry.span(), semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "This is"}],
            "finish_reason": "error",
        }
    ]


def test_responses_content_is_absent_without_capture(telemetry: Telemetry, instrumented) -> None:
    tool = payloads.function_tool("get_current_weather", "Get the current weather")
    with sync_client(API(Reply(json=RESPONSE_BASIC))) as client:
        client.responses.create(
            model="gpt-4o-mini", input=PROMPT, instructions=INSTRUCTIONS, tools=[tool]
        )
    with sync_client(API(Reply(events=RESPONSE_EVENTS))) as client:
        list(client.responses.create(model="gpt-4o-mini", input=PROMPT, stream=True))
    for span in telemetry.spans():
        _no_content(span)
        assert PROMPT not in _span_text(span)
        assert "This is a test." not in _span_text(span)


@ASYNC
@pytest.mark.parametrize("stream", [False, True], ids=["response", "stream"])
async def test_transcription_text_is_captured_never_the_audio(
    stream: bool, asynchronous: bool, telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    words = ["Hello,", " this", " is", " a test."]
    reply = (
        Reply(events=payloads.transcription_events(words))
        if stream
        else Reply(json=payloads.transcription("".join(words)))
    )
    call = Call(
        "audio.transcriptions.create",
        {
            "model": "gpt-4o-transcribe",
            "file": ("hello.wav", WAV_BYTES, "audio/wav"),
            "prompt": "A friendly greeting.",
            "stream": stream,
        },
    )
    if asynchronous:
        async with async_client(API(reply)) as client:
            await call_async(client, call)
    else:
        with sync_client(API(reply)) as client:
            call_sync(client, call)
    span = telemetry.span()
    assert _content(span, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello, this is a test."}]}
    ]
    assert _content(span, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "A friendly greeting."}]}
    ]
    _assert_absent(span, WAV_BYTES)


def test_media_bytes_are_never_recorded(telemetry: Telemetry, instrument: Instrument) -> None:
    instrument(capture_content=True)
    image = ("lighthouse.png", PNG_BYTES, "image/png")
    with sync_client(API(Reply(json=payloads.images([B64_IMAGE])))) as client:
        client.images.edit(model="gpt-image-1", image=image, mask=image, prompt="Add a moon")
    with sync_client(
        API(Reply(events=payloads.image_events("image_generation", B64_PARTIALS, B64_IMAGE)))
    ) as client:
        list(client.images.generate(model="gpt-image-1", prompt="A lighthouse", stream=True))
    with sync_client(API(Reply(json=payloads.translation("Hello.")))) as client:
        client.audio.translations.create(model="whisper-1", file=("a.wav", WAV_BYTES, "audio/wav"))
    with sync_client(API(Reply(content=MP3_BYTES, content_type="audio/mpeg"))) as client:
        client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello.")
    edit, generate, translate, speech = telemetry.spans()
    assert _content(edit, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "Add a moon"}]}
    ]
    assert _content(generate, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "A lighthouse"}]}
    ]
    assert _content(translate, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello."}]}
    ]
    assert _content(speech, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello."}]}
    ]
    for span in (edit, generate, translate, speech):
        _assert_absent(span, PNG_BYTES, WAV_BYTES, MP3_BYTES, B64_IMAGE, *B64_PARTIALS)


def test_media_content_is_absent_without_capture(telemetry: Telemetry, instrumented) -> None:
    with sync_client(API(Reply(json=payloads.transcription("Hello, this is a test.")))) as client:
        client.audio.transcriptions.create(
            model="gpt-4o-transcribe", file=("a.wav", WAV_BYTES, "audio/wav"), prompt="Greeting."
        )
    with sync_client(API(Reply(json=payloads.images([B64_IMAGE])))) as client:
        client.images.generate(model="gpt-image-1", prompt="A lighthouse")
    with sync_client(API(Reply(content=MP3_BYTES, content_type="audio/mpeg"))) as client:
        client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hello.")
    for span in telemetry.spans():
        _no_content(span)
        text = _span_text(span)
        assert "Hello" not in text and "lighthouse" not in text and "Greeting" not in text


@pytest.mark.parametrize(
    ("value", "texts"),
    [
        ("I will hurt you.", ["I will hurt you."]),
        (["I will hurt you.", "Have a nice day."], ["I will hurt you.", "Have a nice day."]),
        (
            [
                {"type": "text", "text": "Look at this"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            ],
            ["Look at this"],
        ),
    ],
    ids=["string", "strings", "multimodal"],
)
def test_moderation_input_is_captured(
    value: Any, texts: list[str], telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    results = len(value) if isinstance(value, list) and isinstance(value[0], str) else 1
    with sync_client(API(Reply(json=payloads.moderation(results)))) as client:
        client.moderations.create(model="omni-moderation-latest", input=value)
    span = telemetry.span()
    recorded = _content(span, semconv.GEN_AI_INPUT_MESSAGES)
    assert recorded is not None, "the moderated text was not recorded"
    recorded_texts = [part["content"] for message in recorded for part in message["parts"]]
    assert " ".join(recorded_texts) == " ".join(texts)
    assert "iVBORw0KGgo" not in _span_text(span)


def test_embeddings_and_completions_content_is_captured(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    instrument(capture_content=True)
    with sync_client(API(Reply(json=payloads.embeddings([[0.1], [0.2]])))) as client:
        client.embeddings.create(
            model=payloads.EMBEDDINGS_MODEL,
            input=["first text", "second text"],
            encoding_format="float",
        )
    with sync_client(API(Reply(json=payloads.text_completion()))) as client:
        client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT)
    embeddings, completion = telemetry.spans()
    assert _content(embeddings, semconv.GEN_AI_INPUT_MESSAGES) == [
        {"role": "user", "parts": [{"type": "text", "content": "first text"}]},
        {"role": "user", "parts": [{"type": "text", "content": "second text"}]},
    ]
    assert semconv.GEN_AI_OUTPUT_MESSAGES not in (embeddings.attributes or {})
    assert _content(completion, semconv.GEN_AI_INPUT_MESSAGES) == USER_TEXT
    assert _content(completion, semconv.GEN_AI_OUTPUT_MESSAGES) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "\n\nThis is indeed a test"}],
            "finish_reason": "stop",
        }
    ]
