"""The fault-injection matrix: whatever breaks around a call, the call behaves exactly as
without instrumentation, and every span it starts is ended (once).

Every test computes the bare client's behaviour itself, before instrumenting, with the
real ``openai`` client (over ``MockTransport``, or a real socket where the network must
really drop) and the real OpenTelemetry SDK.

Audit of the issue's list against the tests that existed before this file
--------------------------------------------------------------------------

1. The OTLP exporter's endpoint is down or slow.
   Before: nothing in tests/integration. (e2e/test_demo.py
   ::test_an_unreachable_otlp_endpoint_is_reported_and_fails_therun_demo checks the demo's
   own report of a closed port, not the calls.)
   Added: test_otlp_endpoint_down_or_slow_never_holds_up_the_call (HTTP and gRPC
   exporters; batch and simple span processors, periodic metric reader; a closed port,
   and a collector that holds every export).

2. The meter/tracer providers are no-op or misconfigured.
   Before (misconfigured only): test_lifecycle.py
   ::test_provider_fault_at_instrument_is_logged_and_leaves_openai_uninstrumented
   (get_tracer raises; create_histogram raises); test_never_breaks.py
   ::test_sdk_failures_are_contained (span.set_attributes raises at finalization;
   histogram.record raises). No-op providers: nothing.
   Added: test_no_op_and_misconfigured_providers_leave_every_call_as_bare (no-op tracer,
   meter, both; an ALWAYS_OFF sampler; shut-down providers; get_meter raises; start_span
   raises; every span method raises; every instrument raises).

3. An analyzer raises.
   Before: test_fault_injection.py
   ::test_a_failure_in_any_function_of_ours_never_reaches_the_caller (every function of
   ours on the call path, the analyzers included, made to raise in turn);
   test_never_breaks.py::test_internal_failures_are_contained; test_drift.py
   ::test_an_on_drift_callback_that_raises_does_not_break_the_call.
   Covered well; added only what item 4 shows of it (one analyzer's failure used to cost
   the findings of all the others; each analyzer is now guarded on its own).

4. The pricing data fails to load.
   Before (the user's prices file): test_prices_file.py
   ::test_a_bad_prices_file_fails_instrument_naming_file_entry_and_problem (absent file,
   invalid YAML/JSON, every bad entry)
   ::test_after_a_bad_file_openai_is_uninstrumented_and_a_good_file_works
   ::test_a_bad_file_named_by_the_environment_fails_instrument_from_user_code.
   The genai-prices data: only through test_fault_injection.py's injected failures.
   Added: test_price_data_that_fails_to_load_leaves_the_calls_as_bare (genai-prices not
   importable; its lookup raises), test_price_data_that_fails_to_load_costs_only_the_cost
   (found a bug, fixed), test_an_unreadable_prices_file_fails_instrument_naming_it
   (a directory; not UTF-8).

5. The rules file is broken.
   Before: test_security_rules.py
   ::test_a_broken_rules_file_raises_naming_the_file_and_the_rule
   ::test_a_missing_rules_file_raises_naming_it
   ::test_a_rule_that_fails_its_own_examples_is_refused
   ::test_a_bad_security_setting_raises_naming_it
   ::test_reload_puts_an_edited_file_in_force_and_keeps_it_when_the_file_breaks
   ::test_the_watch_keeps_the_rules_when_the_file_breaks.
   Added: test_a_rules_file_of_the_wrong_shape_fails_instrument_naming_file_and_rule and
   ..._under_the_auto_instrumentation_loader_is_logged (a list where a word goes: found
   a bug, fixed), test_a_rules_file_that_cannot_be_read_fails_instrument_naming_it
   (a directory; not UTF-8).

6. The client raises every ``openai`` exception type.
   Before: test_chat_calls.py::test_api_errors_set_status_and_error_type (404, 429, 500;
   sync, not streamed) ::test_timeouts_and_connection_errors (sync, not streamed);
   test_never_breaks.py::test_user_errors_are_reraised_unchanged (400); cassette replays
   in test_cassette_replay.py (400, 404); test_fault_injection.py (429 sync, 500 async:
   compared with bare, no span checked); test_streams.py
   ::test_failure_mid_stream_ends_span_with_error (an SSE error event, sync).
   Added: test_every_openai_exception_reaches_the_caller_as_bare_with_one_failed_span:
   400, 401, 403, 404, 409, 422, 429, 500, 503 and an unmapped 418, connection error,
   timeout, response validation error, SSE error event; sync and async, streamed and
   not; compared with bare field by field; one ended ERROR span carrying error.type.
   (OAuthError comes only from workload-identity token exchange: out of scope.)

7. The network drops mid-stream.
   Before: test_api_coverage.py::test_stream_dropped_by_the_connection (Responses API,
   transport ReadError, sync and async); test_cassette_replay_apis.py
   (``stream_propagation_error`` cassettes, Responses API). Nothing for chat
   completions, over a real socket, or compared with bare.
   Added: test_chat_stream_dropped_by_the_transport_fails_as_bare_and_ends_its_span
   (ReadError, RemoteProtocolError),
   test_chat_stream_dropped_by_a_real_socket_fails_as_bare_and_ends_its_span (a loopback
   server that closes, or resets, the connection after three events).

8. The user cancels an asyncio task mid-stream.
   Before: test_concurrency.py::test_tasks_keep_their_spans_apart_even_when_cancelled
   (cancelled between chunks; spans end at collection; not compared with bare);
   test_chat_calls.py::test_async_call_and_cancellation (not streamed); test_edge_cases.py
   ::test_async_call_that_never_runs_leaves_no_trace (cancelled before it runs).
   Added: test_cancelled_task_mid_stream_raises_as_bare_and_ends_its_span_once (while
   awaiting the headers, while awaiting the next chunk, ``asyncio.wait_for`` timing out,
   inside ``async with`` between chunks, between chunks without it).

9. No span left unfinished: every test here checks its spans ended, and an autouse
   fixture fails any test during which the SDK saw a span ended twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import genai_prices
import grpc
import openai
import pytest
import requests
import yaml
from opentelemetry import metrics as metrics_api
from opentelemetry import trace as trace_api
from opentelemetry.distro import OpenTelemetryDistro
from opentelemetry.instrumentation.auto_instrumentation import _load
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NoOpTracerProvider, StatusCode

from openai_sentinel import OpenAISentinelInstrumentor, SettingsError, _errors, semconv
from openai_sentinel.analyzers.price_overrides import PricesFileError
from openai_sentinel.security import RulesFileError

from ..support import payloads
from ..support.demo import closed_port
from ..support.http_library import http
from ..support.telemetry import Telemetry, collect_garbage
from ..support.transport import ScriptedAPI, async_client, sync_client
from .test_cassette_replay import ERROR_CLASS_BY_STATUS

pytestmark = pytest.mark.timeout(120)

MESSAGES = [{"role": "user", "content": "Say this is a test"}]
MODEL = "gpt-4o-mini"
MODES = ("sync", "async", "sync-stream", "async-stream")
STREAM_MODES = ("sync-stream", "async-stream")
Handler = Callable[[http.Request], Any]


# == shared helpers ===============================================================================


class _DoubleEnds(logging.Handler):
    """Catches the SDK's warnings about a span ended a second time, or changed once ended."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if "ended span" in message:
            self.messages.append(message)


@pytest.fixture(autouse=True)
def _no_span_ended_twice() -> Iterator[None]:
    handler = _DoubleEnds()
    sdk_logger = logging.getLogger("opentelemetry.sdk.trace")
    sdk_logger.addHandler(handler)
    try:
        yield
    finally:
        sdk_logger.removeHandler(handler)
    assert handler.messages == [], "a span was ended twice, or changed once ended"


@pytest.fixture
def fresh_error_log() -> Iterator[None]:
    """Internal failures are logged once per kind every few minutes: start afresh."""
    _errors._last_logged.clear()
    yield
    _errors._last_logged.clear()


@contextlib.contextmanager
def _instrumented(**kwargs: Any) -> Iterator[OpenAISentinelInstrumentor]:
    """``instrument(**kwargs)`` for the block (providers of the test's own making)."""
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(**kwargs)
    try:
        yield instrumentor
    finally:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def _described(error: BaseException) -> tuple[Any, ...]:
    """Everything the caller can read off an exception, for comparison with the bare one."""
    fields = ("status_code", "body", "request_id", "code", "param", "type", "message")
    return (
        type(error),
        str(error),
        type(error.__cause__),
        *(repr(getattr(error, name, None)) for name in fields),
    )


def _dump(chunk: Any) -> Any:
    return chunk.model_dump()


async def _outcome(mode: str, make_client: Callable[[str], Any], **kwargs: Any) -> tuple[Any, ...]:
    """What one chat call gives the caller in ``mode``: its result (streams read to the
    end), or the exception and the chunks received before it."""
    client = make_client(mode)
    received: list[Any] = []
    try:
        if mode == "sync":
            result = client.chat.completions.create(model=MODEL, messages=MESSAGES, **kwargs)
            return ("returned", _dump(result))
        if mode == "async":
            result = await client.chat.completions.create(model=MODEL, messages=MESSAGES, **kwargs)
            return ("returned", _dump(result))
        if mode == "sync-stream":
            stream = client.chat.completions.create(
                model=MODEL, messages=MESSAGES, stream=True, **kwargs
            )
            for chunk in stream:
                received.append(_dump(chunk))
        else:
            stream = await client.chat.completions.create(
                model=MODEL, messages=MESSAGES, stream=True, **kwargs
            )
            async for chunk in stream:
                received.append(_dump(chunk))
        return ("returned", received)
    except Exception as error:
        return ("raised", *_described(error), received)


def _mock_clients(handler: Handler, **options: Any) -> Callable[[str], Any]:
    def make(mode: str) -> Any:
        if mode.startswith("async"):
            return async_client(handler, **options)
        return sync_client(handler, **options)

    return make


def _assert_failed_span(telemetry: Telemetry, error_type: str, **expected: Any) -> None:
    (span,) = telemetry.spans()
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.ERROR
    attributes = dict(span.attributes or {})
    assert attributes[semconv.ERROR_TYPE] == error_type
    for key, value in expected.items():
        assert attributes[key] == value, key


def _durations(telemetry: Telemetry) -> int:
    return sum(point.count for point in telemetry.points(semconv.METRIC_OPERATION_DURATION))


def _sse_response(body: bytes | Any) -> http.Response:
    headers = {"content-type": "text/event-stream", "x-request-id": "req_stream"}
    if isinstance(body, bytes):
        return http.Response(200, headers=headers, content=body)
    return http.Response(200, headers=headers, stream=body)


FIRST_EVENTS = [
    payloads.chunk(role="assistant", content=""),
    payloads.chunk(content="This"),
    payloads.chunk(content=" is"),
]
"""What every broken stream here sends before it breaks."""


# == every openai exception type =================================================================


def _status_handler(status: int) -> Handler:
    api = ScriptedAPI()
    api.status = status
    api.error_body = {
        "error": {
            "message": f"refused with {status}",
            "type": "invalid_request_error",
            "param": "messages",
            "code": f"code_{status}",
        }
    }
    return api


def _raising_handler(error_type: type[Exception], text: str) -> Handler:
    def handler(request: http.Request) -> http.Response:
        raise error_type(text, request=request)

    return handler


def _invalid_body_handler(request: http.Request) -> http.Response:
    body = payloads.completion()
    body["choices"] = "not a list"  # the strict client refuses it
    return http.Response(200, json=body)


def _sse_error_handler(request: http.Request) -> http.Response:
    body = payloads.sse(FIRST_EVENTS, done=False)
    body += b'data: {"error": {"message": "overloaded", "type": "server_error"}}\n\n'
    return _sse_response(body)


STATUS_ERRORS = {
    **ERROR_CLASS_BY_STATUS,
    500: "InternalServerError",
    503: "InternalServerError",
    418: "APIStatusError",  # a status the client maps to no subclass
}
FAILURES: dict[str, tuple[Callable[[], Handler], str, tuple[str, ...]]] = {
    # id: (handler, the exception the caller gets, modes it applies to)
    **{
        f"{status}": (lambda s=status: _status_handler(s), name, MODES)
        for status, name in STATUS_ERRORS.items()
    },
    "connection": (
        lambda: _raising_handler(http.ConnectError, "connection refused"),
        "APIConnectionError",
        MODES,
    ),
    "timeout": (
        lambda: _raising_handler(http.ReadTimeout, "timed out"),
        "APITimeoutError",
        MODES,
    ),
    "validation": (lambda: _invalid_body_handler, "APIResponseValidationError", ("sync", "async")),
    "sse-error-event": (lambda: _sse_error_handler, "APIError", STREAM_MODES),
}
FAILURE_CASES = [
    pytest.param(failure, mode, id=f"{failure}-{mode}")
    for failure, (_, _, modes) in FAILURES.items()
    for mode in modes
]


@pytest.mark.parametrize(("failure", "mode"), FAILURE_CASES)
async def test_every_openai_exception_reaches_the_caller_as_bare_with_one_failed_span(
    telemetry: Telemetry, instrument: Callable[..., Any], failure: str, mode: str
) -> None:
    make_handler, expected_type, _ = FAILURES[failure]
    clients = _mock_clients(make_handler())
    bare = await _outcome(mode, clients)
    assert bare[0] == "raised" and bare[1].__name__ == expected_type, bare
    instrument()
    assert await _outcome(mode, clients) == bare
    _assert_failed_span(telemetry, expected_type)
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == expected_type


# == the network drops mid-stream ================================================================


class _BrokenBody(http.SyncByteStream, http.AsyncByteStream):
    """A response body that the connection breaks off after ``FIRST_EVENTS``."""

    def __init__(self, error: type[Exception]) -> None:
        self.error = error

    def __iter__(self) -> Iterator[bytes]:
        for event in FIRST_EVENTS:
            yield payloads.sse([event], done=False)
        raise self.error("peer closed connection without sending complete message body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in FIRST_EVENTS:
            yield payloads.sse([event], done=False)
        raise self.error("peer closed connection without sending complete message body")


@pytest.mark.parametrize("mode", STREAM_MODES)
@pytest.mark.parametrize("error", [http.ReadError, http.RemoteProtocolError])
async def test_chat_stream_dropped_by_the_transport_fails_as_bare_and_ends_its_span(
    telemetry: Telemetry, instrument: Callable[..., Any], mode: str, error: type[Exception]
) -> None:
    clients = _mock_clients(lambda request: _sse_response(_BrokenBody(error)))
    bare = await _outcome(mode, clients)
    assert bare[0] == "raised" and len(bare[-1]) == len(FIRST_EVENTS), bare
    instrument()
    assert await _outcome(mode, clients) == bare
    _assert_failed_span(
        telemetry,
        bare[1].__qualname__,
        **{semconv.SENTINEL_STREAM_END: "error", semconv.SENTINEL_STREAM_CHUNKS: 3},
    )
    assert _durations(telemetry) == 1


class _DroppingServer:
    """A real HTTP server on loopback that answers every request with an event stream
    (chunked) and, after ``FIRST_EVENTS``, closes the connection (``reset``: with a TCP
    reset) without ending the body."""

    def __init__(self, *, reset: bool) -> None:
        self.reset = reset
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)
        self._accepting.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/v1"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._answer, args=(connection,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _answer(self, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(10)
            if not self._read_request(connection):
                return
            connection.sendall(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                b"x-request-id: req_dropped\r\ntransfer-encoding: chunked\r\n\r\n"
            )
            for event in FIRST_EVENTS:
                data = payloads.sse([event], done=False)
                connection.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            # the client reads what was sent before the connection goes (a reset may
            # discard data not read yet)
            time.sleep(0.2)
            if self.reset:
                linger = struct.pack("ii", 1, 0)
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)

    @staticmethod
    def _read_request(connection: socket.socket) -> bool:
        """Read one request (headers and body); False if the client went away."""
        request = b""
        while b"\r\n\r\n" not in request:
            received = connection.recv(65536)
            if not received:
                return False
            request += received
        head, _, body = request.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            received = connection.recv(65536)
            if not received:
                return False
            body += received
        return True

    def close(self) -> None:
        self._listener.close()
        for thread in self._threads:
            thread.join(timeout=10)


@pytest.fixture(params=[False, True], ids=["closed", "reset"])
def dropping_server(request: pytest.FixtureRequest) -> Iterator[_DroppingServer]:
    server = _DroppingServer(reset=request.param)
    yield server
    server.close()


def _socket_clients(base_url: str, opened: list[Any]) -> Callable[[str], Any]:
    """Clients over real sockets (no proxy from the environment); each is kept to be closed."""

    def make(mode: str) -> Any:
        if mode.startswith("async"):
            client: Any = openai.AsyncOpenAI(
                api_key="sk-test",
                base_url=base_url,
                max_retries=0,
                http_client=http.AsyncClient(trust_env=False),
            )
        else:
            client = openai.OpenAI(
                api_key="sk-test",
                base_url=base_url,
                max_retries=0,
                http_client=http.Client(trust_env=False),
            )
        opened.append(client)
        return client

    return make


@pytest.mark.parametrize("mode", STREAM_MODES)
async def test_chat_stream_dropped_by_a_real_socket_fails_as_bare_and_ends_its_span(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    dropping_server: _DroppingServer,
    mode: str,
) -> None:
    opened: list[Any] = []
    clients = _socket_clients(dropping_server.base_url, opened)
    try:
        bare = await _outcome(mode, clients)
        assert bare[0] == "raised" and len(bare[-1]) == len(FIRST_EVENTS), bare
        # openai 3 wraps the transport's error in APIConnectionError; 1 and 2 let it through
        assert issubclass(bare[1], (openai.APIConnectionError, http.TransportError)), bare
        instrument()
        assert await _outcome(mode, clients) == bare
    finally:
        for client in opened:
            if isinstance(client, openai.AsyncOpenAI):
                await client.close()
            else:
                client.close()
    _assert_failed_span(
        telemetry,
        bare[1].__qualname__,
        **{semconv.SENTINEL_STREAM_END: "error", semconv.SENTINEL_STREAM_CHUNKS: 3},
    )


# == the task is cancelled mid-stream ============================================================


class _StallingBody(http.AsyncByteStream):
    """Sends ``FIRST_EVENTS``, then waits for more that never comes."""

    def __init__(self, stalled: asyncio.Event) -> None:
        self.stalled = stalled

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for event in FIRST_EVENTS:
            yield payloads.sse([event], done=False)
        self.stalled.set()
        await asyncio.Event().wait()
        yield b""  # pragma: no cover - never reached


class _Stalling:
    """An API whose answer stalls: before its headers, or after ``FIRST_EVENTS``."""

    def __init__(self, *, before_headers: bool) -> None:
        self.before_headers = before_headers
        self.stalled = asyncio.Event()

    async def __call__(self, request: http.Request) -> http.Response:
        if self.before_headers:
            self.stalled.set()
            await asyncio.Event().wait()
        return _sse_response(_StallingBody(self.stalled))


async def _read_stream(client: Any, received: list[Any], *, phase: str) -> None:
    """What the application does with the stream while it is cancelled (``phase``)."""
    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    if phase == "inside async with, between chunks":
        async with stream:
            async for chunk in stream:
                received.append(_dump(chunk))
                if len(received) == len(FIRST_EVENTS):
                    await asyncio.Event().wait()  # the application's own wait
    elif phase == "between chunks":
        async for chunk in stream:
            received.append(_dump(chunk))
            if len(received) == len(FIRST_EVENTS):
                await asyncio.Event().wait()
    else:
        async for chunk in stream:
            received.append(_dump(chunk))


CANCEL_PHASES = {
    # phase: (stalls before the headers, span end, error type)
    "awaiting the headers": (True, None, "CancelledError"),
    "awaiting the next chunk": (False, "error", "CancelledError"),
    "wait_for timing out on the next chunk": (False, "error", "CancelledError"),
    "inside async with, between chunks": (False, "closed", None),
    "between chunks": (False, "abandoned", None),
}


async def _cancelled_outcome(phase: str) -> tuple[Any, ...]:
    """Run the stream in a task, cancel it where ``phase`` says; what the caller saw."""
    before_headers, stream_end, _ = CANCEL_PHASES[phase]
    api = _Stalling(before_headers=before_headers)
    client = async_client(api)
    received: list[Any] = []
    waits_in_its_own_code = stream_end in ("closed", "abandoned")

    async def application() -> None:
        if phase.startswith("wait_for"):
            await asyncio.wait_for(_read_stream(client, received, phase=phase), timeout=0.5)
        else:
            await _read_stream(client, received, phase=phase)

    def reached() -> bool:
        if waits_in_its_own_code:
            return len(received) == len(FIRST_EVENTS)
        return api.stalled.is_set()

    task = asyncio.ensure_future(application())
    for _ in range(10_000):
        if reached():
            break
        await asyncio.sleep(0.001)
    for _ in range(5):  # let the task reach the wait it is to be cancelled in
        await asyncio.sleep(0)
    assert reached() and not task.done(), phase
    if not phase.startswith("wait_for"):
        task.cancel()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=10)
        outcome: tuple[Any, ...] = ("returned",)
    except BaseException as error:  # CancelledError is one
        outcome = ("raised", type(error), str(error))
    result = (*outcome, task.cancelled(), received)
    del task, application
    return result


@pytest.mark.parametrize("phase", list(CANCEL_PHASES))
async def test_cancelled_task_mid_stream_raises_as_bare_and_ends_its_span_once(
    telemetry: Telemetry, instrument: Callable[..., Any], phase: str
) -> None:
    _, stream_end, error_type = CANCEL_PHASES[phase]
    bare = await _cancelled_outcome(phase)
    # asyncio.TimeoutError: the built-in TimeoutError from Python 3.11, its own class before
    timeout = phase.startswith("wait_for")
    expected_error = asyncio.TimeoutError if timeout else asyncio.CancelledError
    assert bare[1] is expected_error, bare
    assert len(bare[-1]) == (0 if CANCEL_PHASES[phase][0] else len(FIRST_EVENTS))
    instrument()
    assert await _cancelled_outcome(phase) == bare
    if stream_end == "abandoned":  # no one closed it: it ends when it is collected
        for _ in range(3):
            await asyncio.sleep(0.01)
            collect_garbage()
    (span,) = telemetry.spans()
    assert span.end_time is not None
    attributes = dict(span.attributes or {})
    assert attributes.get(semconv.SENTINEL_STREAM_END) == stream_end
    assert attributes.get(semconv.ERROR_TYPE) == error_type
    expected_status = StatusCode.ERROR if error_type else StatusCode.UNSET
    assert span.status.status_code is expected_status
    assert _durations(telemetry) == 1


# == no-op and misconfigured providers ===========================================================


class ProviderFault(RuntimeError):
    """What the misconfigured providers raise."""


def _fault(*args: Any, **kwargs: Any) -> Any:
    raise ProviderFault("misconfigured")


class _RaisingSpan(trace_api.Span):
    """A span every method of which raises; it counts the calls to ``end``."""

    def __init__(self, ends: list[str]) -> None:
        self.ends = ends

    def end(self, end_time: int | None = None) -> None:
        self.ends.append("end")
        raise ProviderFault("end")

    get_span_context = set_attributes = set_attribute = add_event = add_link = _fault
    update_name = is_recording = set_status = record_exception = _fault


class _RaisingSpanTracer(trace_api.Tracer):
    def __init__(self, ends: list[str], *, at_start: bool) -> None:
        self.ends = ends
        self.at_start = at_start

    def start_span(self, *args: Any, **kwargs: Any) -> trace_api.Span:
        if self.at_start:
            raise ProviderFault("start_span")
        return _RaisingSpan(self.ends)

    @contextlib.contextmanager
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[trace_api.Span]:
        yield self.start_span(*args, **kwargs)


class _RaisingTracerProvider(trace_api.TracerProvider):
    """Hands out tracers whose ``start_span`` raises (``at_start``), or whose spans do."""

    def __init__(self, *, at_start: bool) -> None:
        self.ends: list[str] = []
        self.at_start = at_start

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace_api.Tracer:
        return _RaisingSpanTracer(self.ends, at_start=self.at_start)


class _RaisingInstrument:
    """An instrument every method of which raises."""

    def __getattr__(self, name: str) -> Any:
        return _fault


class _RaisingInstrumentsMeter:
    """A meter whose instruments all raise when used."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("create_"):
            return lambda *args, **kwargs: _RaisingInstrument()
        raise AttributeError(name)


class _RaisingInstrumentsProvider(metrics_api.MeterProvider):
    def get_meter(self, *args: Any, **kwargs: Any) -> Any:
        return _RaisingInstrumentsMeter()


class _MeterlessProvider(MeterProvider):
    """An SDK meter provider that fails when asked for a meter."""

    get_meter = _fault


def _sdk_tracing(**options: Any) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(**options)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def _sdk_metrics() -> tuple[MeterProvider, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    return MeterProvider(metric_readers=[reader]), reader


def _shut_down(provider: Any) -> Any:
    provider.shutdown()
    return provider


def _provider_case(case: str) -> tuple[Telemetry, dict[str, Any]]:
    """The recording providers of ``case`` (in-memory, to check), and the providers to
    instrument with."""
    tracer_provider, spans = _sdk_tracing()
    meter_provider, reader = _sdk_metrics()
    recorded = Telemetry(tracer_provider, meter_provider, spans, reader)
    given: dict[str, Any] = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
    if case in ("no-op tracer", "no-op both"):
        given["tracer_provider"] = NoOpTracerProvider()
    if case in ("no-op meter", "no-op both"):
        given["meter_provider"] = NoOpMeterProvider()
    if case == "always-off sampler":
        recorded.tracer_provider, recorded.spans_exporter = _sdk_tracing(sampler=ALWAYS_OFF)
        given["tracer_provider"] = recorded.tracer_provider
    if case == "shut-down providers":
        given = {name: _shut_down(provider) for name, provider in given.items()}
    if case == "start_span raises":
        given["tracer_provider"] = _RaisingTracerProvider(at_start=True)
    if case == "every span method raises":
        given["tracer_provider"] = _RaisingTracerProvider(at_start=False)
    if case == "every instrument raises":
        given["meter_provider"] = _RaisingInstrumentsProvider()
    if case == "get_meter raises":
        given["meter_provider"] = _MeterlessProvider()
    return recorded, given


PROVIDER_CASES = {
    # case: (spans recorded per call, duration points per call or None for "not checked",
    # a valid configuration)
    "no-op tracer": (0, 1, True),
    "no-op meter": (1, 0, True),
    "no-op both": (0, 0, True),
    "always-off sampler": (0, 1, True),
    "shut-down providers": (0, 0, True),
    "start_span raises": (0, 0, False),
    "every span method raises": (0, None, False),  # the SDK's exemplar filter reads the span
    "every instrument raises": (1, 0, False),
    "get_meter raises": (0, 0, False),
}


@pytest.mark.usefixtures("fresh_error_log")
@pytest.mark.parametrize("case", list(PROVIDER_CASES))
async def test_no_op_and_misconfigured_providers_leave_every_call_as_bare(
    caplog: pytest.LogCaptureFixture, case: str
) -> None:
    spans_per_call, durations_per_call, valid = PROVIDER_CASES[case]
    recorded, given = _provider_case(case)
    clients = _mock_clients(ScriptedAPI())
    bare = [await _outcome(mode, clients) for mode in MODES]
    assert all(outcome[0] == "returned" for outcome in bare)
    with caplog.at_level(logging.WARNING, logger="openai_sentinel"), _instrumented(**given):
        assert [await _outcome(mode, clients) for mode in MODES] == bare
    spans = recorded.spans()
    assert len(spans) == spans_per_call * len(MODES)
    assert all(span.end_time is not None for span in spans)
    if durations_per_call is not None:
        assert _durations(recorded) == durations_per_call * len(MODES)
    tracer_provider = given["tracer_provider"]
    if isinstance(tracer_provider, _RaisingTracerProvider) and not tracer_provider.at_start:
        assert tracer_provider.ends == ["end"] * len(MODES), "each span is ended once"
    ours = [record for record in caplog.records if record.name == "openai_sentinel"]
    if valid:
        assert ours == [], "a valid configuration is no failure"
    else:
        assert ours, "the failure is logged"


# == the OTLP exporters' endpoint is down or slow ================================================

EXPORT_TIMEOUT = 0.5
"""Seconds each OTLP export may take, where the test needs it short: a simple span
processor makes the call wait that long (the SDK's design: it exports in ``end()``)."""
HOLD = 15.0
"""Seconds the slow collector holds an export before it answers, unless released earlier."""
PATIENT_TIMEOUT = 30.0
"""The exporters' timeout behind a batch processor, longer than ``HOLD``: a call that
waited for an export would return only after the collector answered."""


class _HoldingCollector:
    """An OTLP collector (HTTP or gRPC) on loopback that holds every export it receives
    until ``release`` is set (or ``HOLD`` has passed), then accepts it."""

    def __init__(self, protocol: str) -> None:
        self.protocol = protocol
        self.received = threading.Event()
        self.release = threading.Event()
        self.answered = threading.Event()
        if protocol == "http":
            self._start_http()
        else:
            self._start_grpc()

    def _hold(self) -> None:
        self.received.set()
        self.release.wait(HOLD)
        self.answered.set()

    def _start_http(self) -> None:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                collector._hold()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self._http.server_address[1]}"

    def _start_grpc(self) -> None:
        collector = self

        class Traces(trace_service_pb2_grpc.TraceServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                collector._hold()
                return trace_service_pb2.ExportTraceServiceResponse()

        class Metrics(metrics_service_pb2_grpc.MetricsServiceServicer):
            def Export(self, request: Any, context: Any) -> Any:
                collector._hold()
                return metrics_service_pb2.ExportMetricsServiceResponse()

        self._grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Traces(), self._grpc)
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(Metrics(), self._grpc)
        port = self._grpc.add_insecure_port("127.0.0.1:0")
        self._grpc.start()
        self.endpoint = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.release.set()
        if self.protocol == "http":
            self._http.shutdown()
            self._http.server_close()
        else:
            self._grpc.stop(grace=None)


def _otlp_exporters(protocol: str, endpoint: str, timeout: float) -> tuple[Any, Any]:
    """OTLP span and metric exporters to ``endpoint`` (no proxy from the environment)."""
    if protocol == "http":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        def session() -> requests.Session:
            made = requests.Session()
            made.trust_env = False
            return made

        return (
            OTLPSpanExporter(f"{endpoint}/v1/traces", timeout=timeout, session=session()),
            OTLPMetricExporter(f"{endpoint}/v1/metrics", timeout=timeout, session=session()),
        )
    from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
        OTLPMetricExporter as GRPCMetricExporter,
    )
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
        OTLPSpanExporter as GRPCSpanExporter,
    )

    options: Any = (("grpc.enable_http_proxy", 0),)
    return (
        GRPCSpanExporter(endpoint, insecure=True, timeout=timeout, channel_options=options),
        GRPCMetricExporter(endpoint, insecure=True, timeout=timeout, channel_options=options),
    )


@pytest.mark.parametrize("processor", ["batch", "simple"])
@pytest.mark.parametrize("endpoint", ["down", "slow"])
@pytest.mark.parametrize("protocol", ["http", "grpc"])
async def test_otlp_endpoint_down_or_slow_never_holds_up_the_call(
    protocol: str, endpoint: str, processor: str
) -> None:
    clients = _mock_clients(ScriptedAPI())
    bare = [await _outcome(mode, clients) for mode in MODES]
    assert all(outcome[0] == "returned" for outcome in bare)

    collector = _HoldingCollector(protocol) if endpoint == "slow" else None
    address = collector.endpoint if collector else f"http://127.0.0.1:{closed_port()}"
    patient = processor == "batch" and collector is not None
    timeout = PATIENT_TIMEOUT if patient else EXPORT_TIMEOUT
    span_exporter, metric_exporter = _otlp_exporters(protocol, address, timeout)
    memory = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(memory))  # to see what ended
    tracer_provider.add_span_processor(
        BatchSpanProcessor(span_exporter, schedule_delay_millis=20)
        if processor == "batch"
        else SimpleSpanProcessor(span_exporter)
    )
    reader = InMemoryMetricReader()
    periodic = PeriodicExportingMetricReader(
        metric_exporter, export_interval_millis=50, export_timeout_millis=2_000
    )
    meter_provider = MeterProvider(metric_readers=[reader, periodic])
    recorded = Telemetry(tracer_provider, meter_provider, memory, reader)
    try:
        with _instrumented(tracer_provider=tracer_provider, meter_provider=meter_provider):
            assert await _outcome("sync", clients) == bare[0]
            if collector is not None:  # the exports are now held by the slow collector
                assert collector.received.wait(10), "nothing was exported"
            assert [await _outcome(mode, clients) for mode in MODES] == bare
            if collector is not None:
                assert not collector.answered.is_set(), "a call waited for the collector"
    finally:
        if collector is not None:
            collector.release.set()
        tracer_provider.shutdown()
        meter_provider.shutdown(timeout_millis=5_000)
        if collector is not None:
            collector.stop()
    spans = recorded.spans()
    assert len(spans) == 1 + len(MODES)
    assert all(span.end_time is not None for span in spans)
    assert all(span.status.status_code is StatusCode.UNSET for span in spans)


# == the price data fails to load ================================================================


class PriceDataFault(RuntimeError):
    """The price data's own failure."""


def _break_price_data(monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    if failure == "genai-prices not importable":
        monkeypatch.setitem(sys.modules, "genai_prices", None)
    else:

        def calc_price(*args: Any, **kwargs: Any) -> Any:
            raise PriceDataFault("the price data failed to load")

        monkeypatch.setattr(genai_prices, "calc_price", calc_price)


PRICE_FAILURES = ["genai-prices not importable", "its lookup raises"]


@pytest.mark.usefixtures("fresh_error_log")
@pytest.mark.parametrize("failure", PRICE_FAILURES)
async def test_price_data_that_fails_to_load_leaves_the_calls_as_bare(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: str,
) -> None:
    clients = _mock_clients(ScriptedAPI())
    bare = [await _outcome(mode, clients) for mode in MODES]
    _break_price_data(monkeypatch, failure)
    with caplog.at_level(logging.WARNING, logger="openai_sentinel"):
        instrument(stream_usage=True)  # streamed calls have usage to price too
        assert [await _outcome(mode, clients) for mode in MODES] == bare
    spans = telemetry.spans()
    assert len(spans) == len(MODES)
    for span in spans:
        attributes = dict(span.attributes or {})
        assert span.end_time is not None
        assert span.status.status_code is StatusCode.UNSET
        assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] == payloads.USAGE["prompt_tokens"]
        assert semconv.SENTINEL_COST_USD not in attributes
    assert _durations(telemetry) == len(MODES)
    assert [r for r in caplog.records if r.name == "openai_sentinel"], "the failure is logged"


PII_ANSWER = "Write to jane.doe@example.com or call +1 415 555 0100."


@pytest.mark.parametrize("failure", PRICE_FAILURES)
def test_price_data_that_fails_to_load_costs_only_the_cost(
    telemetry: Telemetry,
    instrument: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(PII_ANSWER)
    _break_price_data(monkeypatch, failure)
    instrument(security_output_policy="redact")
    answer = sync_client(api).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert "jane.doe@example.com" not in (answer.choices[0].message.content or "")
    attributes = dict(telemetry.span().attributes or {})
    assert semconv.SENTINEL_COST_USD not in attributes
    assert semconv.SENTINEL_CONFIDENCE in attributes


# == the prices file and the rules file are broken ===============================================


def _unreadable_file(tmp_path: Path, kind: str, suffix: str) -> Path:
    if kind == "a directory":
        path = tmp_path / f"folder{suffix}"
        path.mkdir()
    else:
        path = tmp_path / f"latin1{suffix}"
        path.write_bytes("models: {caf\xe9: {input_mtok: 1}}\n".encode("latin-1"))
    return path


def _assert_left_uninstrumented(telemetry: Telemetry) -> None:
    assert not OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry
    bare = sync_client(ScriptedAPI()).chat.completions.create(model=MODEL, messages=MESSAGES)
    assert bare.choices[0].message.content == "This is a test."
    assert telemetry.spans() == []


@pytest.mark.parametrize("kind", ["a directory", "not UTF-8"])
def test_an_unreadable_prices_file_fails_instrument_naming_it(
    telemetry: Telemetry, instrument: Callable[..., Any], tmp_path: Path, kind: str
) -> None:
    path = _unreadable_file(tmp_path, kind, ".yaml")
    with pytest.raises(PricesFileError) as raised:
        instrument(prices_file=str(path))
    assert isinstance(raised.value, SettingsError)
    assert f"prices file {str(path)!r}" in str(raised.value)
    assert "cannot be read" in str(raised.value)
    _assert_left_uninstrumented(telemetry)


RULE = {
    "id": "acme.rule",
    "category": "prompt_injection",
    "severity": "high",
    "weight": 5.0,
    "pattern": "discount codes",
}
PII_RULE = {
    "id": "acme.employee",
    "category": "pii",
    "entity": "EMPLOYEE_ID",
    "severity": "medium",
    "pattern": "ACME-[0-9]{6}",
}
BROKEN_RULES = [
    pytest.param({**RULE, "severity": "urgent"}, id="unknown severity"),
    pytest.param({**RULE, "category": ["prompt_injection"]}, id="category list"),
    pytest.param({**RULE, "severity": ["high"]}, id="severity list"),
    pytest.param({**PII_RULE, "severity": ["medium"]}, id="pii severity list"),
]


@pytest.fixture
def _packaged_rules_after() -> Iterator[None]:
    yield
    from openai_sentinel import security

    security.LIVE.reset()


def _rules_file(tmp_path: Path, rule: dict[str, Any]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"rules": [rule]}), encoding="utf-8")
    return path


@pytest.mark.usefixtures("_packaged_rules_after")
@pytest.mark.parametrize("rule", BROKEN_RULES)
def test_a_rules_file_of_the_wrong_shape_fails_instrument_naming_file_and_rule(
    telemetry: Telemetry, instrument: Callable[..., Any], tmp_path: Path, rule: dict[str, Any]
) -> None:
    path = _rules_file(tmp_path, rule)
    with pytest.raises(Exception) as raised:  # its type is what is checked
        instrument(security_rules_file=str(path))
    assert isinstance(raised.value, RulesFileError), repr(raised.value)
    assert str(path) in str(raised.value) and rule["id"] in str(raised.value)
    _assert_left_uninstrumented(telemetry)


@pytest.mark.usefixtures("_packaged_rules_after")
@pytest.mark.parametrize("kind", ["a directory", "not UTF-8"])
def test_a_rules_file_that_cannot_be_read_fails_instrument_naming_it(
    telemetry: Telemetry, instrument: Callable[..., Any], tmp_path: Path, kind: str
) -> None:
    path = _unreadable_file(tmp_path, kind, ".yaml")
    with pytest.raises(RulesFileError, match="cannot be read") as raised:
        instrument(security_rules_file=str(path))
    assert str(path) in str(raised.value)
    _assert_left_uninstrumented(telemetry)


@pytest.mark.usefixtures("_packaged_rules_after")
@pytest.mark.parametrize("rule", BROKEN_RULES)
def test_a_rules_file_of_the_wrong_shape_under_the_auto_instrumentation_loader_is_logged(
    telemetry: Telemetry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    rule: dict[str, Any],
) -> None:
    """``opentelemetry-instrument`` must get to the end of its loop (the instrumentations
    after ours load); openai is left uninstrumented and the problem logged."""
    path = _rules_file(tmp_path, rule)
    monkeypatch.setenv("OPENAI_SENTINEL_SECURITY_RULES_FILE", str(path))
    monkeypatch.delenv("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", raising=False)
    try:
        with caplog.at_level(logging.ERROR):
            _load._load_instrumentors(OpenTelemetryDistro())
    finally:
        instrumentor = OpenAISentinelInstrumentor()
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
    (error,) = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.name == "openai_sentinel"
    assert str(path) in error.getMessage() and rule["id"] in error.getMessage()
    _assert_left_uninstrumented(telemetry)
