"""Fuzzed responses through the real client: payloads generated from the ``openai``
package's own response models (chat completions and stream chunks), with optional fields
missing, nulls, wrong types, empty lists, unknown enum values and huge strings. The
instrumented call behaves exactly as the bare one (the same result, or the same
exception), and every span attribute it records has a valid type."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openai import OpenAI
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from opentelemetry.instrumentation.utils import suppress_instrumentation
from pydantic import BaseModel

from openai_sentinel import OpenAISentinelInstrumentor

from ..support import payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import sync_client

pytestmark = [
    pytest.mark.timeout(300),
    # model_dump() of the fuzzed (invalid) models, in the test itself
    pytest.mark.filterwarnings("ignore:Pydantic serializer warnings:UserWarning"),
]
FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    # one instrumentation for all the examples; each clears the spans it looks at
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
HUGE = "x" * 100_000
SCALARS = (str, bool, int, float)
TYPED = {
    "gen_ai.usage.input_tokens": int,
    "gen_ai.usage.output_tokens": int,
    "gen_ai.response.model": str,
    "gen_ai.response.id": str,
    "sentinel.confidence": float,
    "sentinel.cost.usd": float,
}


def _text() -> st.SearchStrategy[str]:
    return st.text(max_size=12) | st.just(HUGE)


def from_annotation(annotation: Any, depth: int) -> st.SearchStrategy[Any]:
    """Values for a field of this annotation: mostly of its type, sometimes not."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return from_annotation(args[0], depth)
    if origin is typing.Literal:
        return st.sampled_from(args) | st.text(max_size=8)  # unknown enum values too
    if origin in (typing.Union, types.UnionType):
        return st.one_of([from_annotation(arg, depth) for arg in args])
    if annotation is type(None):
        return st.none()
    if origin in (list, typing.List):  # noqa: UP006 - the models' own annotations
        return st.lists(from_annotation(args[0], depth + 1), max_size=3)
    if origin in (dict, typing.Dict):  # noqa: UP006
        return st.dictionaries(st.text(max_size=5), from_annotation(args[1], depth + 1), max_size=2)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return model_payload(annotation, depth + 1) if depth < 5 else st.none()
    if annotation is str:
        return _text()
    if annotation is bool:
        return st.booleans()
    if annotation is int:
        return st.integers(-(2**40), 2**40)
    if annotation is float:
        return st.floats(allow_nan=False, allow_infinity=False) | st.integers(0, 10)
    return st.none() | st.text(max_size=5) | st.integers(0, 5)


def model_payload(model: type[BaseModel], depth: int = 0) -> st.SearchStrategy[dict[str, Any]]:
    """A JSON object for ``model``: required fields present (a tenth of them null or of
    another type), optional ones present or not."""
    wrong = st.none() | st.integers(0, 3) | st.text(max_size=3)
    required: dict[str, st.SearchStrategy[Any]] = {}
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for name, field in model.model_fields.items():
        key = field.alias or name
        value = from_annotation(field.annotation, depth)
        if field.is_required():
            required[key] = st.one_of(value, value, value, value, value, value, value, value, wrong)
        else:
            optional[key] = value | st.none()
    return st.fixed_dictionaries(required, optional=optional)


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "result", call()
    except Exception as error:
        return "raised", type(error)


def _check_attributes(telemetry: Telemetry) -> None:
    spans = telemetry.spans()
    assert len(spans) == 1, "the call has exactly one span, ended"
    for span in spans:
        assert span.end_time is not None
        for key, value in (span.attributes or {}).items():
            if isinstance(value, tuple):
                assert value and all(type(item) is type(value[0]) for item in value), key
                assert isinstance(value[0], SCALARS), key
            else:
                assert isinstance(value, SCALARS), (key, value)
            if key in TYPED:
                assert isinstance(value, TYPED[key]) and not isinstance(value, bool), (key, value)
        confidence = (span.attributes or {}).get("sentinel.confidence")
        assert confidence is None or 0.0 <= float(confidence) <= 1.0


@pytest.fixture
def fuzz_instrumented(telemetry: Telemetry) -> Any:
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )
    yield telemetry
    instrumentor.uninstrument()


def _client(respond: Callable[[http.Request], http.Response]) -> OpenAI:
    return sync_client(respond, strict=False)  # as users run it: lenient parsing


@FUZZ
@given(body=model_payload(ChatCompletion))
def test_fuzzed_completions_change_nothing(
    fuzz_instrumented: Telemetry, body: dict[str, Any]
) -> None:
    content = json.dumps(body).encode()
    client = _client(
        lambda request: http.Response(
            200, content=content, headers={"content-type": "application/json"}
        )
    )
    messages: Any = [{"role": "user", "content": "hi"}]

    def ask() -> Any:
        result = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        return result.model_dump() if isinstance(result, BaseModel) else result

    with suppress_instrumentation():
        bare = _outcome(ask)
    fuzz_instrumented.spans_exporter.clear()
    assert _outcome(ask) == bare
    _check_attributes(fuzz_instrumented)


@FUZZ
@given(chunks=st.lists(model_payload(ChatCompletionChunk), min_size=0, max_size=4))
def test_fuzzed_streams_change_nothing(
    fuzz_instrumented: Telemetry, chunks: list[dict[str, Any]]
) -> None:
    content = payloads.sse(chunks)
    client = _client(
        lambda request: http.Response(
            200, content=content, headers={"content-type": "text/event-stream"}
        )
    )
    messages: Any = [{"role": "user", "content": "hi"}]

    def read() -> Any:
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
        return [chunk.model_dump() if isinstance(chunk, BaseModel) else chunk for chunk in stream]

    with suppress_instrumentation():
        bare = _outcome(read)
    fuzz_instrumented.spans_exporter.clear()
    assert _outcome(read) == bare
    _check_attributes(fuzz_instrumented)
