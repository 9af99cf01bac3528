"""The instrumentation's life cycle: instrument, uninstrument and re-instrument, faults
at ``instrument()``, other wrappers, cached raw/streaming-response methods, memory held
per client class, and streams under ``copy``, ``pickle`` and ``iter``.

Where the question is "as without us", the test computes the bare client's behaviour
itself, before instrumenting.
"""

from __future__ import annotations

import copy
import gc
import logging
import pickle
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
import wrapt
from openai.resources.chat.completions import Completions
from opentelemetry.distro import OpenTelemetryDistro
from opentelemetry.instrumentation.auto_instrumentation import _load
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor, SettingsError, semconv

from ..support.http_library import http
from ..support.telemetry import Telemetry, collect_garbage, make_telemetry
from ..support.transport import BASE_URL, ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "Say this is a test"}]
ANSWER = "This is a test."
STREAMED = ["", "This", " is", " a", " test", ".", None]
"""The delta contents of :class:`ScriptedAPI`'s stream, role chunk and finish chunk included."""

ORIGINAL_CREATE = vars(Completions)["create"]


@pytest.fixture
def instrumentor() -> Iterator[OpenAISentinelInstrumentor]:
    """The (singleton) instrumentor, uninstrumented at the end whatever the test did."""
    instance = OpenAISentinelInstrumentor()
    yield instance
    if instance.is_instrumented_by_opentelemetry:
        instance.uninstrument()


def _instrument(instrumentor: OpenAISentinelInstrumentor, telemetry: Telemetry) -> None:
    instrumentor.instrument(
        tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider
    )


def _answer(client: openai.OpenAI) -> str | None:
    completion = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return completion.choices[0].message.content


def _durations(telemetry: Telemetry) -> int:
    return sum(point.count for point in telemetry.points(semconv.METRIC_OPERATION_DURATION))


# --- 5. Faults at instrument() ---------------------------------------------------------


class ProviderFault(RuntimeError):
    pass


class _TracerlessProvider(TracerProvider):
    """An SDK tracer provider that fails when asked for a tracer."""

    def get_tracer(self, *args: Any, **kwargs: Any) -> Any:
        raise ProviderFault("no tracer today")


class _HistogramlessProvider(MeterProvider):
    """An SDK meter provider whose meters fail to create histograms."""

    def get_meter(self, *args: Any, **kwargs: Any) -> Any:
        meter = super().get_meter(*args, **kwargs)

        def create_histogram(*a: Any, **k: Any) -> Any:
            raise ProviderFault("no histograms today")

        meter.create_histogram = create_histogram  # type: ignore[method-assign]
        return meter


def _sentinel_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.name == "openai_sentinel" and record.levelno >= logging.ERROR
    ]


@pytest.mark.parametrize("faulty", ["tracer_provider", "meter_provider"])
def test_provider_fault_at_instrument_is_logged_and_leaves_openai_uninstrumented(
    telemetry: Telemetry,
    instrumentor: OpenAISentinelInstrumentor,
    caplog: pytest.LogCaptureFixture,
    faulty: str,
) -> None:
    providers: dict[str, Any] = {
        "tracer_provider": telemetry.tracer_provider,
        "meter_provider": telemetry.meter_provider,
    }
    providers[faulty] = (
        _TracerlessProvider() if faulty == "tracer_provider" else _HistogramlessProvider()
    )
    client = sync_client(ScriptedAPI())
    with caplog.at_level(logging.ERROR, logger="openai_sentinel"):
        assert instrumentor.instrument(**providers) is None
    (error,) = _sentinel_errors(caplog)
    assert "could not get a tracer or its instruments" in error.getMessage()
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert vars(Completions)["create"] is ORIGINAL_CREATE
    assert _answer(client) == ANSWER
    assert telemetry.spans() == []
    assert _durations(telemetry) == 0

    _instrument(instrumentor, telemetry)  # good providers now: it takes effect
    assert instrumentor.is_instrumented_by_opentelemetry
    assert _answer(client) == ANSWER
    assert len(telemetry.spans()) == 1
    assert _durations(telemetry) == 1


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("OPENAI_SENTINEL_CAPTURE_CONTENT", "perhaps", "true/false"),
        ("OPENAI_SENTINEL_CONTENT_MAX_LENGTH", "abc", "an integer from 1"),
    ],
)
def test_bad_environment_value_under_the_auto_instrumentation_loader_is_logged(
    instrumentor: OpenAISentinelInstrumentor,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    variable: str,
    value: str,
    accepted: str,
) -> None:
    """The loader ``opentelemetry-instrument`` runs, in process: it must get to its end,
    so that the instrumentations after ours are loaded."""
    monkeypatch.setenv(variable, value)
    monkeypatch.delenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", raising=False)
    with caplog.at_level(logging.DEBUG):
        _load._load_instrumentors(OpenTelemetryDistro())  # returns: the loop went on
    (error,) = _sentinel_errors(caplog)
    message = error.getMessage()
    assert variable in message and repr(value) in message
    assert "accepted values" in message and accepted in message
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR and r is not error]
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert vars(Completions)["create"] is ORIGINAL_CREATE
    assert _answer(sync_client(ScriptedAPI())) == ANSWER


def test_explicit_keyword_of_the_wrong_type_is_rejected(
    telemetry: Telemetry, instrumentor: OpenAISentinelInstrumentor
) -> None:
    with pytest.raises(SettingsError, match=r"'content_max_length' got '100'"):
        openai_sentinel.instrument(
            tracer_provider=telemetry.tracer_provider, content_max_length="100"
        )
    assert not instrumentor.is_instrumented_by_opentelemetry
    assert vars(Completions)["create"] is ORIGINAL_CREATE
    assert _answer(sync_client(ScriptedAPI())) == ANSWER
    assert telemetry.spans() == []


# --- 6. with_raw_response / with_streaming_response -------------------------------------

KINDS = ("with_raw_response", "with_streaming_response")
PATHS: dict[str, Callable[[Any, str], Any]] = {
    "client.chat.completions.<kind>": lambda client, kind: getattr(client.chat.completions, kind),
    "client.chat.<kind>.completions": lambda client, kind: getattr(client.chat, kind).completions,
    "client.<kind>.chat.completions": lambda client, kind: getattr(client, kind).chat.completions,
}
MODES = ("sync", "async")


def _client(mode: str) -> Any:
    return sync_client(ScriptedAPI()) if mode == "sync" else async_client(ScriptedAPI())


async def _call_through(methods: Any, kind: str, mode: str) -> str | None:
    """One ``create`` through a raw- or streaming-response object, as the client's docs show."""
    if mode == "sync":
        if kind == "with_raw_response":
            completion = methods.create(model="gpt-4o-mini", messages=MESSAGES).parse()
        else:
            with methods.create(model="gpt-4o-mini", messages=MESSAGES) as response:
                completion = response.parse()
    elif kind == "with_raw_response":
        raw = await methods.create(model="gpt-4o-mini", messages=MESSAGES)
        completion = raw.parse()
    else:
        async with methods.create(model="gpt-4o-mini", messages=MESSAGES) as response:
            completion = await response.parse()
    content: str | None = completion.choices[0].message.content
    return content


raw_and_streaming = pytest.mark.parametrize(
    ("mode", "kind", "path"),
    [(mode, kind, path) for mode in MODES for kind in KINDS for path in PATHS],
)


@raw_and_streaming
async def test_response_methods_read_before_instrument_are_traced(
    telemetry: Telemetry, instrumentor: OpenAISentinelInstrumentor, mode: str, kind: str, path: str
) -> None:
    client = _client(mode)
    methods = PATHS[path](client, kind)  # cached, with ``create`` bound, before we patch
    _instrument(instrumentor, telemetry)
    assert PATHS[path](client, kind) is methods
    assert await _call_through(methods, kind, mode) == ANSWER
    span = telemetry.span()
    assert span.attributes is not None
    assert span.attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"


@raw_and_streaming
async def test_response_methods_follow_a_reinstrument_to_the_new_providers(
    instrumentor: OpenAISentinelInstrumentor, mode: str, kind: str, path: str
) -> None:
    first, second = make_telemetry(), make_telemetry()
    client = _client(mode)
    _instrument(instrumentor, first)
    methods = PATHS[path](client, kind)
    assert await _call_through(methods, kind, mode) == ANSWER
    instrumentor.uninstrument()
    _instrument(instrumentor, second)
    assert await _call_through(PATHS[path](client, kind), kind, mode) == ANSWER
    assert len(first.spans()) == 1
    assert _durations(first) == 1
    assert len(second.spans()) == 1
    assert _durations(second) == 1


@raw_and_streaming
async def test_response_methods_are_not_traced_after_uninstrument(
    telemetry: Telemetry, instrumentor: OpenAISentinelInstrumentor, mode: str, kind: str, path: str
) -> None:
    client = _client(mode)
    _instrument(instrumentor, telemetry)
    methods = PATHS[path](client, kind)
    assert await _call_through(methods, kind, mode) == ANSWER
    instrumentor.uninstrument()
    assert await _call_through(PATHS[path](client, kind), kind, mode) == ANSWER
    assert len(telemetry.spans()) == 1
    assert _durations(telemetry) == 1


# --- 7. uninstrument() with other wrappers on top of ours -------------------------------


@pytest.fixture
def restored_create() -> Iterator[None]:
    """Whatever a test stacks on ``Completions.create``, the original is put back."""
    assert vars(Completions)["create"] is ORIGINAL_CREATE
    try:
        yield
    finally:
        Completions.create = ORIGINAL_CREATE  # type: ignore[method-assign]


def test_uninstrument_under_a_later_wrapt_wrapper_removes_only_ours(
    telemetry: Telemetry, instrumentor: OpenAISentinelInstrumentor, restored_create: None
) -> None:
    calls: list[str] = []

    def counting(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        calls.append(kwargs["model"])
        return wrapped(*args, **kwargs)

    client = sync_client(ScriptedAPI())
    _instrument(instrumentor, telemetry)
    wrapt.wrap_function_wrapper(Completions, "create", counting)
    assert _answer(client) == ANSWER
    assert (len(calls), len(telemetry.spans())) == (1, 1)

    instrumentor.uninstrument()
    assert _answer(client) == ANSWER
    assert len(calls) == 2, "the other wrapper was removed"
    assert len(telemetry.spans()) == 1, "ours still traces after uninstrument"
    assert _durations(telemetry) == 1

    _instrument(instrumentor, telemetry)
    assert _answer(client) == ANSWER
    assert (len(calls), len(telemetry.spans())) == (3, 2)


def test_uninstrument_under_a_later_plain_function_switches_ours_off(
    telemetry: Telemetry, instrumentor: OpenAISentinelInstrumentor, restored_create: None
) -> None:
    calls: list[str] = []
    client = sync_client(ScriptedAPI())
    _instrument(instrumentor, telemetry)
    previous = Completions.create

    def counting(self: Completions, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs["model"])
        return previous(self, *args, **kwargs)

    Completions.create = counting  # type: ignore[method-assign]
    assert _answer(client) == ANSWER
    assert (len(calls), len(telemetry.spans())) == (1, 1)

    instrumentor.uninstrument()
    assert vars(Completions)["create"] is counting
    assert _answer(client) == ANSWER
    assert len(calls) == 2
    assert len(telemetry.spans()) == 1, "ours still traces after uninstrument"
    assert _durations(telemetry) == 1

    _instrument(instrumentor, telemetry)  # on top of the plain function: one span, not two
    assert _answer(client) == ANSWER
    assert (len(calls), len(telemetry.spans())) == (3, 2)
    assert _durations(telemetry) == 2


# --- 8. Memory held per client class ----------------------------------------------------


def test_dynamically_made_client_classes_are_not_kept_alive(
    telemetry: Telemetry, instrumentor: OpenAISentinelInstrumentor
) -> None:
    _instrument(instrumentor, telemetry)
    http_client = http.Client(transport=http.MockTransport(ScriptedAPI()))
    classes: list[weakref.ref[type]] = []
    for number in range(2000):
        client_class = type(f"TenantClient{number}", (openai.OpenAI,), {})
        client = client_class(
            api_key="sk-test", base_url=BASE_URL, max_retries=0, http_client=http_client
        )
        assert _answer(client) == ANSWER
        classes.append(weakref.ref(client_class))
        del client, client_class
    gc.collect()
    assert len(telemetry.spans()) == 2000
    alive = sum(ref() is not None for ref in classes)
    assert alive <= 64, f"{alive} of 2000 client classes are still alive"


# --- 9. Streams under copy, pickle and iter ---------------------------------------------


async def _stream(client: Any) -> Any:
    call = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
    return call if isinstance(client, openai.OpenAI) else await call


def _delta(chunk: Any) -> str | None:
    content: str | None = chunk.choices[0].delta.content
    return content


async def _next(iterator: Any) -> str | None:
    if hasattr(iterator, "__anext__"):
        return _delta(await anext(iterator))
    return _delta(next(iterator))


async def _rest(iterator: Any) -> list[str | None]:
    if hasattr(iterator, "__aiter__"):
        return [_delta(chunk) async for chunk in iterator]
    return [_delta(chunk) for chunk in iterator]


async def _read_through_a_copy(stream: Any) -> tuple[Any, list[str | None], list[str | None]]:
    """Read a stream through it and its shallow copy in turn: what each saw, and the copy."""
    duplicate = copy.copy(stream)
    read = [await _next(stream), await _next(duplicate), await _next(stream)]
    read += await _rest(duplicate)
    return duplicate, read, await _rest(stream)


def _outcome(operation: Callable[[Any], Any], stream: Any) -> type:
    """The type of what ``operation(stream)`` returns, or of the exception it raises."""
    try:
        return type(operation(stream))
    except Exception as error:
        return type(error)


def _stream_type(mode: str) -> type:
    return openai.Stream if mode == "sync" else openai.AsyncStream


@pytest.mark.parametrize("mode", MODES)
async def test_shallow_copy_of_a_stream_shares_its_chunks_like_the_bare_copy(
    telemetry: Telemetry, instrument: Callable[..., Any], mode: str
) -> None:
    bare_copy, bare_read, bare_rest = await _read_through_a_copy(await _stream(_client(mode)))
    assert isinstance(bare_copy, _stream_type(mode))
    assert bare_read == STREAMED and bare_rest == []

    instrument()
    stream = await _stream(_client(mode))
    duplicate, read, rest = await _read_through_a_copy(stream)
    assert duplicate is not stream
    assert isinstance(duplicate, _stream_type(mode))
    assert duplicate.response is stream.response
    assert (read, rest) == (bare_read, bare_rest)
    del duplicate
    collect_garbage()
    del stream
    collect_garbage()
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == len(STREAMED)
    assert _durations(telemetry) == 1


@pytest.mark.parametrize("mode", MODES)
async def test_collecting_a_copy_leaves_the_streams_span_to_the_stream(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, mode: str
) -> None:
    stream = await _stream(_client(mode))
    duplicate = copy.copy(stream)
    first = await _next(duplicate)
    del duplicate
    collect_garbage()
    assert telemetry.spans() == [], "the copy's collection ended the stream's span"
    assert [first, *await _rest(stream)] == STREAMED
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    assert attributes[semconv.SENTINEL_STREAM_CHUNKS] == len(STREAMED)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("operation", [copy.deepcopy, pickle.dumps], ids=["deepcopy", "pickle"])
async def test_deep_copy_and_pickle_of_a_stream_fail_as_the_bare_ones(
    telemetry: Telemetry, instrument: Callable[..., Any], mode: str, operation: Any
) -> None:
    bare = _outcome(operation, await _stream(_client(mode)))
    assert issubclass(bare, Exception), "the bare stream is not expected to copy"

    instrument()
    stream = await _stream(_client(mode))
    assert _outcome(operation, stream) is bare
    assert await _rest(stream) == STREAMED  # and the stream is still whole
    assert len(telemetry.spans()) == 1


async def _iterate(stream: Any, mode: str) -> tuple[type, bool, list[str | None], list[str | None]]:
    """What ``iter``/``aiter`` gives, and how it shares the stream: read one chunk through
    it, close it, then read the rest from the stream itself."""
    iterator = iter(stream) if mode == "sync" else aiter(stream)
    first = [await _next(iterator)]
    if mode == "sync":
        iterator.close()
    else:
        await iterator.aclose()
    return type(iterator), iterator is stream, first, await _rest(stream)


@pytest.mark.parametrize("mode", MODES)
async def test_iter_of_a_stream_gives_what_the_bare_stream_gives(
    telemetry: Telemetry, instrument: Callable[..., Any], mode: str
) -> None:
    bare = await _iterate(await _stream(_client(mode)), mode)
    assert bare[1] is False and bare[2] + bare[3] == STREAMED

    instrument()
    assert await _iterate(await _stream(_client(mode)), mode) == bare
    assert (telemetry.span().attributes or {})[semconv.SENTINEL_STREAM_END] == "completed"


def test_response_wrappers_gain_no_method_the_client_does_not_bind(instrument) -> None:
    """``responses.with_streaming_response`` has no ``parse`` in any client release: it
    stays missing once instrumented, as on the bare client."""
    client = sync_client(ScriptedAPI())
    bare = hasattr(client.responses.with_streaming_response, "parse")
    instrument()
    assert hasattr(client.responses.with_streaming_response, "parse") is bare is False
    assert hasattr(client.responses.with_raw_response, "parse")
