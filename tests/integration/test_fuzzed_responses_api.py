"""Fuzzed Responses API and embeddings answers through the real client and the real SDK.

Payloads are generated from the ``openai`` package's own models (``Response`` and its
output items, the ``ResponseStreamEvent`` union, ``CreateEmbeddingResponse``) and from
realistic wire payloads with a few values deleted, nulled, retyped, made huge or given
unknown enum values. Whatever the server sends, the instrumented call behaves exactly as
the bare one (the same result, or the same exception with the same message, after the
same stream events), and it ends exactly one span whose attributes all have valid
OpenTelemetry types, the known ones the type the conventions give them.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai import OpenAI
from openai.types import CreateEmbeddingResponse, Embedding
from openai.types.create_embedding_response import Usage as EmbeddingUsage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseCreatedEvent,
    ResponseErrorEvent,
    ResponseFailedEvent,
    ResponseFunctionToolCall,
    ResponseIncompleteEvent,
    ResponseInProgressEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseReasoningItem,
    ResponseStreamEvent,
    ResponseTextDeltaEvent,
    ResponseUsage,
)
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel

from openai_sentinel import OpenAISentinelInstrumentor, semconv

from ..support import api_payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import sync_client
from .test_fuzzed_responses import FUZZ as CHAT_FUZZ
from .test_fuzzed_responses import HUGE, SCALARS, from_annotation, model_payload
from .test_fuzzed_responses import TYPED as CHAT_TYPED

pytestmark = [
    pytest.mark.timeout(300),
    # model_dump() of the fuzzed (invalid) models, in the test itself
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
    # hypothesis describing the strategies (holding ``HUGE``) of a draw it abandoned
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]
FUZZ = settings(CHAT_FUZZ, max_examples=100)
NUMBER = (int, float)
TYPED: dict[str, type | tuple[type, ...]] = {
    **CHAT_TYPED,
    semconv.GEN_AI_OPERATION_NAME: str,
    semconv.GEN_AI_PROVIDER_NAME: str,
    semconv.GEN_AI_REQUEST_MODEL: str,
    semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: int,
    semconv.GEN_AI_USAGE_CACHE_CREATION_INPUT_TOKENS: int,
    semconv.GEN_AI_USAGE_CACHE_WRITE_INPUT_TOKENS: int,
    semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: int,
    semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT: int,
    semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK: NUMBER,
    semconv.OPENAI_API_TYPE: str,
    semconv.OPENAI_RESPONSE_SERVICE_TIER: str,
    semconv.ERROR_TYPE: str,
    semconv.SENTINEL_STREAM_END: str,
    semconv.SENTINEL_STREAM_CHUNKS: int,
    semconv.SENTINEL_CONFIDENCE_MIN_TOKEN: float,
    semconv.SENTINEL_CONFIDENCE_SOURCE: str,
    semconv.SENTINEL_COST_INPUT_USD: float,
    semconv.SENTINEL_COST_OUTPUT_USD: float,
    semconv.SENTINEL_COST_SOURCE: str,
    semconv.GEN_AI_OUTPUT_MESSAGES: str,
}
"""Attributes of a known scalar type (never a bool where a number is meant): the chat
fuzzing's, and those of the Responses API, streams and embeddings."""
FLAGS = (
    semconv.GEN_AI_REQUEST_STREAM,
    semconv.SENTINEL_COST_UNPRICED,
    semconv.SENTINEL_COST_OVER_THRESHOLD,
    semconv.SENTINEL_RESPONSE_TRUNCATED,
    semconv.SENTINEL_RESPONSE_REFUSAL,
    semconv.SENTINEL_RESPONSE_CONTENT_FILTERED,
)
STRING_LISTS = (semconv.GEN_AI_RESPONSE_FINISH_REASONS, semconv.GEN_AI_REQUEST_ENCODING_FORMATS)
PROBABILITIES = (semconv.SENTINEL_CONFIDENCE, semconv.SENTINEL_CONFIDENCE_MIN_TOKEN)

# -- values ------------------------------------------------------------------------------

TEXT = st.text(max_size=12) | st.just(HUGE)
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.just(2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([float("nan"), float("inf"), float("-inf")]),
    st.text(max_size=6),
    st.just(HUGE),
    st.just([]),
    st.just({}),
    st.lists(st.integers(0, 3), min_size=1, max_size=2),
)
"""A value of any JSON type, where the field has another one (or none)."""
TOKENS = st.integers(0, 10**6) | st.integers(-3, -1) | st.just(2**63) | st.just(0)
MODELS = st.sampled_from(
    ["gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4.1", "o3", "gpt-5", "text-embedding-3-small"]
) | st.text(max_size=8)
"""Priced models mostly, so that the cost of fuzzed usage is computed too."""
STATUSES = st.sampled_from(
    ["completed", "incomplete", "failed", "cancelled", "in_progress", "queued"]
) | st.text(max_size=8)
_DELETE = object()


def overridden(
    base: st.SearchStrategy[dict[str, Any]], **fields: st.SearchStrategy[Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """``base`` with some of ``fields`` replaced by values of their own strategies."""
    return st.tuples(base, st.fixed_dictionaries({}, optional=fields)).map(
        lambda pair: {**pair[0], **pair[1]}
    )


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if path:
        yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


@st.composite
def mutated(draw: st.DrawFn, body: st.SearchStrategy[Any], most: int = 3) -> Any:
    """A realistic ``body`` with up to ``most`` values anywhere in it deleted, or replaced
    by a value of the wrong type, an unknown enum value, a huge string or an empty list."""
    value = copy.deepcopy(draw(body))
    for _ in range(draw(st.integers(0, most))):
        paths = list(_paths(value))
        if not paths:
            break
        path = paths[draw(st.integers(0, len(paths) - 1))]  # sampled_from: a huge repr
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        replacement = draw(st.just(_DELETE) | WRONG)
        if replacement is _DELETE:
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    return value


# -- Responses ---------------------------------------------------------------------------

LOGPROB = st.fixed_dictionaries(
    {
        "token": TEXT,
        "bytes": st.lists(st.integers(0, 255), max_size=3),
        "logprob": st.floats(max_value=0.0, allow_nan=False) | WRONG,
        "top_logprobs": st.just([]) | WRONG,
    }
)
OUTPUT_TEXT = overridden(model_payload(ResponseOutputText), logprobs=st.lists(LOGPROB, max_size=3))
REALISTIC_ITEM = st.one_of(
    st.builds(api_payloads.output_message, TEXT, status=STATUSES),
    st.builds(api_payloads.function_call, TEXT, TEXT),
    st.builds(api_payloads.reasoning_item, TEXT),
    st.builds(
        lambda text, logprobs: {
            **api_payloads.output_message(text),
            "content": [
                {"type": "output_text", "annotations": [], "logprobs": logprobs, "text": text},
                {"type": "refusal", "refusal": text},
            ],
        },
        TEXT,
        st.lists(LOGPROB, max_size=3),
    ),
)
OUTPUT_ITEM = st.one_of(
    REALISTIC_ITEM,
    overridden(
        model_payload(ResponseOutputMessage), content=st.lists(OUTPUT_TEXT | WRONG, max_size=3)
    ),
    model_payload(ResponseFunctionToolCall),
    model_payload(ResponseReasoningItem),
    # any item of the union, and items of a type the client does not know
    from_annotation(Response.model_fields["output"].annotation, 0).map(lambda items: items[:1]),
    st.fixed_dictionaries({"type": st.text(max_size=8)}, optional={"id": TEXT, "status": TEXT}),
    WRONG,
)
REALISTIC_USAGE = st.builds(
    api_payloads.response_usage,
    TOKENS,
    TOKENS,
    cached=TOKENS,
    cache_write=st.none() | TOKENS,
    reasoning=TOKENS,
)
REALISTIC_RESPONSE = st.builds(
    api_payloads.response,
    output=st.lists(REALISTIC_ITEM, max_size=3),
    usage=st.none() | REALISTIC_USAGE,
    status=STATUSES,
    model=MODELS,
    incomplete_reason=st.none() | st.sampled_from(["max_output_tokens", "content_filter"]) | TEXT,
    error=st.none() | st.builds(api_payloads.response_error, TEXT, TEXT),
    service_tier=st.none() | st.sampled_from(["default", "flex", "priority", "auto"]) | TEXT,
    previous_response_id=st.none() | TEXT,
    max_output_tokens=st.none() | TOKENS,
)
RESPONSE_BODY = st.one_of(
    mutated(REALISTIC_RESPONSE),
    mutated(REALISTIC_RESPONSE),
    overridden(
        model_payload(Response),
        output=st.lists(OUTPUT_ITEM, max_size=4).map(
            lambda items: [item for group in items for item in _flat(group)]
        )
        | WRONG,
        usage=REALISTIC_USAGE | model_payload(ResponseUsage) | WRONG,
        status=STATUSES | WRONG,
        model=MODELS | WRONG,
    ),
)
"""A ``Response`` object: a realistic one mutated, or one made from the model."""


def _flat(group: Any) -> list[Any]:
    # the union's strategy gives a list of items, the others one item
    return group if isinstance(group, list) else [group]


# -- Responses stream events --------------------------------------------------------------


def _with_response(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    return overridden(model_payload(model), response=RESPONSE_BODY)


UNKNOWN_EVENT = st.fixed_dictionaries(
    {"type": st.text(max_size=10) | st.sampled_from(["response.new_thing", "response.x.delta"])},
    optional={"sequence_number": st.integers(0, 9), "delta": TEXT, "response": RESPONSE_BODY},
)
EVENT = st.one_of(
    _with_response(ResponseCreatedEvent),
    _with_response(ResponseInProgressEvent),
    overridden(model_payload(ResponseTextDeltaEvent), logprobs=st.lists(LOGPROB, max_size=2)),
    _with_response(ResponseCompletedEvent),
    _with_response(ResponseFailedEvent),
    _with_response(ResponseIncompleteEvent),
    model_payload(ResponseErrorEvent),
    overridden(model_payload(ResponseOutputItemDoneEvent), item=OUTPUT_ITEM),
    from_annotation(ResponseStreamEvent, 0),  # any event of the union
    UNKNOWN_EVENT,
    # a top-level ``error`` (the client raises), and data that is not an object
    st.fixed_dictionaries(
        {"type": st.just("error"), "error": st.just({"message": "boom"}) | WRONG}
    ),
    WRONG,
)
GARBAGE = object()
"""An event whose data is not JSON."""
REALISTIC_EVENTS = st.builds(
    api_payloads.response_events,
    REALISTIC_RESPONSE,
    st.lists(TEXT, max_size=3),
    terminal=st.none() | st.sampled_from(["response.completed", "response.failed"]),
)


@st.composite
def event_sequence(draw: st.DrawFn) -> list[Any]:
    """The events of a stream: a realistic sequence mutated, cut short or with fuzzed events
    inserted, or a few fuzzed events."""
    if draw(st.integers(0, 2)) == 2:  # (hypothesis draws small integers more often)
        return draw(st.lists(EVENT | st.just(GARBAGE), max_size=5))
    events: list[Any] = draw(mutated(REALISTIC_EVENTS, most=2))
    for _ in range(draw(st.integers(0, 2))):
        events.insert(draw(st.integers(0, len(events))), draw(EVENT))
    if draw(st.integers(0, 4)) == 4:
        events = events[: draw(st.integers(0, len(events)))]
    return events


def event_stream(events: list[Any]) -> bytes:
    """Events framed as the Responses API sends them (``event:`` line when the type is a
    printable string, then ``data:``), whatever the events hold."""
    frames = []
    for event in events:
        if event is GARBAGE:
            frames.append('data: {"type": "response.out\n\n')
            continue
        kind = event.get("type") if isinstance(event, dict) else None
        line = f"event: {kind}\n" if isinstance(kind, str) and kind.isprintable() else ""
        frames.append(f"{line}data: {json.dumps(event)}\n\n")
    return "".join(frames).encode()


# -- embeddings -----------------------------------------------------------------------------

FLOAT32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
VECTOR = st.one_of(
    st.lists(FLOAT32, max_size=6),
    st.sampled_from([0, 1, 256, 1536, 3072, 20_000]).map(lambda n: [0.25] * n),
    st.lists(FLOAT32, max_size=6).map(api_payloads.float32_base64),
    st.sampled_from([1, 1536, 3072]).map(lambda n: api_payloads.float32_base64([0.5] * n)),
    st.binary(max_size=14).map(lambda raw: base64.b64encode(raw).decode()),  # not float32s
    st.text(max_size=8),  # not base64
    st.just(HUGE),
    st.lists(st.lists(FLOAT32, max_size=2) | st.text(max_size=3) | st.none(), max_size=3),
    WRONG,
)
"""An ``embedding``: floats, base64 of float32s (or of bytes that are not), or not one."""
EMBEDDING = st.one_of(
    st.fixed_dictionaries(
        {"object": st.just("embedding"), "index": st.integers(0, 3), "embedding": VECTOR}
    ),
    overridden(model_payload(Embedding), embedding=VECTOR),
    WRONG,
)
EMBEDDINGS_BODY = st.one_of(
    mutated(
        st.builds(
            api_payloads.embeddings,
            st.lists(st.lists(FLOAT32, max_size=4), max_size=3),
            encoding=st.sampled_from(["float", "base64"]),
            prompt_tokens=TOKENS,
            model=MODELS,
        )
    ),
    overridden(
        model_payload(CreateEmbeddingResponse),
        data=st.lists(EMBEDDING, max_size=3) | WRONG,
        usage=model_payload(EmbeddingUsage) | WRONG,
        model=MODELS | WRONG,
    ),
)
_OMIT = object()
ENCODING_FORMATS = st.sampled_from([_OMIT, "float", "base64"])
"""Unset, the client asks for base64 and decodes it; set, it returns what came."""

# -- running and checking ------------------------------------------------------------------


def _snapshot(value: Any) -> tuple[str, str]:
    """What a caller sees of a result: its type and its contents (``repr`` so that NaN
    equals NaN)."""
    if isinstance(value, BaseModel):
        return type(value).__qualname__, repr(value.model_dump())
    return type(value).__qualname__, repr(value)


def _outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return "result", call()
    except Exception as error:
        return "raised", type(error), str(error)


def _check_value(key: str, value: Any) -> None:
    if isinstance(value, tuple):
        assert value, f"{key} is an empty sequence"
        assert isinstance(value[0], SCALARS), (key, value)
        assert all(type(item) is type(value[0]) for item in value), (key, value)
    else:
        assert isinstance(value, SCALARS), (key, value)
    if key in TYPED:
        assert isinstance(value, TYPED[key]) and not isinstance(value, bool), (key, value)
    if key in FLAGS:
        assert isinstance(value, bool), (key, value)
    if key in STRING_LISTS:
        assert isinstance(value, tuple) and isinstance(value[0], str), (key, value)
    if key in PROBABILITIES:
        assert 0.0 <= value <= 1.0, (key, value)


def _check_span(telemetry: Telemetry) -> ReadableSpan:
    spans = telemetry.spans()
    assert len(spans) == 1, f"the call has exactly one span, ended: {[s.name for s in spans]}"
    span = spans[0]
    assert span.end_time is not None
    for key, value in (span.attributes or {}).items():
        _check_value(key, value)
    for event in span.events:
        for key, value in (event.attributes or {}).items():
            _check_value(f"{event.name}: {key}", value)
    return span


@pytest.fixture(params=[False, True], ids=["default", "capture_content"])
def fuzz_instrumented(telemetry: Telemetry, request: pytest.FixtureRequest) -> Iterator[Telemetry]:
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=request.param,
    )
    yield telemetry
    instrumentor.uninstrument()


def _client(content: bytes, content_type: str) -> OpenAI:
    return sync_client(  # as users run it: lenient parsing
        lambda request: http.Response(200, content=content, headers={"content-type": content_type}),
        strict=False,
    )


def _same_with_and_without(telemetry: Telemetry, call: Callable[[], Any]) -> ReadableSpan:
    with suppress_instrumentation():
        bare = _outcome(call)
    telemetry.spans_exporter.clear()
    assert _outcome(call) == bare
    return _check_span(telemetry)


# -- the tests -------------------------------------------------------------------------------


@FUZZ
@given(body=RESPONSE_BODY)
def test_fuzzed_responses_change_nothing(
    fuzz_instrumented: Telemetry, body: dict[str, Any]
) -> None:
    client = _client(json.dumps(body).encode(), "application/json")

    def ask() -> Any:
        result = client.responses.create(model="gpt-4o-mini", input="hi")
        return _snapshot(result), _outcome(lambda: result.output_text)

    _same_with_and_without(fuzz_instrumented, ask)


@FUZZ
@given(events=event_sequence(), stop_after=st.none() | st.none() | st.integers(0, 3))
def test_fuzzed_response_streams_change_nothing(
    fuzz_instrumented: Telemetry, events: list[Any], stop_after: int | None
) -> None:
    client = _client(event_stream(events), "text/event-stream")

    def read() -> Any:
        seen: list[Any] = []
        try:
            stream = client.responses.create(model="gpt-4o-mini", input="hi", stream=True)
            for event in stream:
                if len(seen) == stop_after:
                    break
                seen.append(_snapshot(event))
            stream.close()  # early, or after the last event
        except Exception as error:
            return seen, type(error), str(error)
        return seen

    span = _same_with_and_without(fuzz_instrumented, read)
    assert (span.attributes or {}).get(semconv.GEN_AI_REQUEST_STREAM) is True


@FUZZ
@given(body=EMBEDDINGS_BODY, encoding_format=ENCODING_FORMATS)
def test_fuzzed_embeddings_change_nothing(
    fuzz_instrumented: Telemetry, body: dict[str, Any], encoding_format: Any
) -> None:
    client = _client(json.dumps(body).encode(), "application/json")
    options: dict[str, Any] = (
        {} if encoding_format is _OMIT else {"encoding_format": encoding_format}
    )

    def embed() -> Any:
        return _snapshot(
            client.embeddings.create(model="text-embedding-3-small", input="hi", **options)
        )

    _same_with_and_without(fuzz_instrumented, embed)


@pytest.mark.parametrize(
    ("vector", "expected"),
    [
        pytest.param("AAAAAA==", (1,), id="one-float"),
        pytest.param(api_payloads.float32_base64([0.5, 0.25, 1.0]), (3,), id="three-floats"),
        pytest.param("", (None, 0), id="empty"),
        pytest.param("=", (None, 0), id="one-pad"),
        pytest.param("====", (None, 0), id="four-pads"),
    ],
)
def test_base64_embedding_dimension_count_is_never_negative(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, vector: str, expected: Any
) -> None:
    """Found by the fuzzing above: with ``encoding_format="base64"`` the client returns the
    string as it came, and the dimension count is read from its length."""
    body = api_payloads.embeddings([[0.5]])
    body["data"][0]["embedding"] = vector
    client = _client(json.dumps(body).encode(), "application/json")
    result = client.embeddings.create(
        model="text-embedding-3-small", input="hi", encoding_format="base64"
    )
    assert result.data[0].embedding == vector
    attributes = telemetry.span().attributes or {}
    assert attributes.get(semconv.GEN_AI_EMBEDDINGS_DIMENSION_COUNT) in expected


def _responses_call(body: dict[str, Any]) -> Any:
    client = _client(json.dumps(body).encode(), "application/json")
    return client.responses.create(model="gpt-4.1-mini", input="hi")


@pytest.mark.parametrize("output", [3, "not a list", {"type": "message"}])
def test_an_output_that_is_not_a_list_loses_only_the_answer(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, output: Any
) -> None:
    """Found by the fuzzing above: a malformed ``output`` used to stop the reading of the
    response there, losing the usage and everything read after it."""
    body = api_payloads.response(usage=api_payloads.response_usage(12, 5))
    body["output"] = output
    _responses_call(body)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == 12
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert attributes[semconv.GEN_AI_RESPONSE_ID] == body["id"]


def test_negative_token_counts_are_not_recorded(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzzing above: a negative count is no count; recorded, it made the SDK
    warn on every call (histograms take no negative values)."""
    body = api_payloads.response(
        output=[api_payloads.output_message("Paris.")],
        usage=api_payloads.response_usage(-3, 5),
    )
    _responses_call(body)
    attributes = telemetry.span().attributes or {}
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in attributes
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5
    assert not [r for r in caplog.records if "non-negative" in r.getMessage()]
