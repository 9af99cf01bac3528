"""The functions wrapt installs around OpenAI methods: they run the user's call untouched.

Each hook into our own code is guarded: if it fails, the failure is reported once on
the ``openai_sentinel`` logger and the user's call returns exactly what it would have
returned without instrumentation.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Coroutine
from inspect import CORO_CREATED, getcoroutinestate, iscoroutine
from types import CoroutineType
from typing import Any

from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from ._errors import report_internal_error
from .adapters import _results, chat
from .emit import Telemetry
from .invocation import Invocation
from .streams import (
    InstrumentedAsyncStream,
    InstrumentedStream,
    StreamObserver,
    finish_helper_stream,
)

__all__ = [
    "async_chat_wrapper",
    "async_helper_close_wrapper",
    "chat_wrapper",
    "helper_close_wrapper",
]

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _prepare(
    telemetry: Telemetry, resource: Any, kwargs: dict[str, Any]
) -> tuple[Invocation | None, dict[str, Any]]:
    """The invocation of a call (not started yet) and the keyword arguments to call with.

    The arguments change only when we must read them (iterables, with content capture
    on, become lists the client reads just the same) or when the ``stream_usage``
    setting asks a stream for its usage chunk.
    """
    try:
        capture = telemetry.settings.capture_content
        call_kwargs = chat.readable_kwargs(kwargs) if capture else kwargs
        exchange = chat.read_request(resource._client, call_kwargs, capture_content=capture)
    except Exception:
        report_internal_error("request parsing")
        return None, kwargs
    if exchange.stream and telemetry.settings.stream_usage:
        try:
            requested = chat.with_stream_usage(call_kwargs)
        except Exception:
            report_internal_error("request parsing")
            requested = None
        if requested is not None:
            exchange.usage_injected = True
            call_kwargs = requested
    return Invocation(telemetry, exchange), call_kwargs


def _observer(invocation: Invocation) -> StreamObserver:
    reader = chat.ChatStreamAccumulator(
        invocation.exchange, capture_content=invocation.telemetry.settings.capture_content
    )
    return StreamObserver(invocation, reader, hide_usage_chunk=invocation.exchange.usage_injected)


def _wrap_stream(invocation: Invocation, stream: Any) -> Any:
    """Our proxy around ``stream``, or ``None`` if it is not a client stream."""
    if _results.is_stream(stream):
        return InstrumentedStream(stream, _observer(invocation))
    if _results.is_async_stream(stream):
        return InstrumentedAsyncStream(stream, _observer(invocation))
    return None


def _complete(invocation: Invocation, result: Any) -> Any:
    """Hand ``result`` back to the caller, finalizing now or wrapping the stream.

    A stream proxy is made even when the invocation could not start, so that a usage
    chunk we asked for stays hidden.
    """
    exchange = invocation.exchange
    capture = invocation.telemetry.settings.capture_content
    try:
        if _results.is_unread(result):
            exchange.response_unread = True
        elif _results.is_raw(result):
            if _results.raw_is_stream(result):
                proxy = _wrap_stream(invocation, result.parse())
                if proxy is not None:
                    exchange.stream = True
                    _results.replace_parsed(result, proxy)
                    return result
            else:
                chat.read_response(exchange, _results.raw_json(result), capture_content=capture)
        else:
            proxy = _wrap_stream(invocation, result)
            if proxy is not None:
                exchange.stream = True
                return proxy
            chat.read_response(exchange, result, capture_content=capture)
    except Exception:
        report_internal_error("response parsing")
        invocation.finish()
        return _hide_injected_usage(invocation, result)
    invocation.finish()
    return result


def _hide_injected_usage(invocation: Invocation, result: Any) -> Any:
    """After a failure, still keep the usage chunk we asked for away from the caller."""
    if not invocation.exchange.usage_injected:
        return result
    try:
        observer = StreamObserver(invocation, chat.UsageChunkFilter(), hide_usage_chunk=True)
        if _results.is_stream(result):
            return InstrumentedStream(result, observer)
        if _results.is_async_stream(result):
            return InstrumentedAsyncStream(result, observer)
    except Exception:
        report_internal_error("response parsing")
    return result


def _fail(invocation: Invocation, error: BaseException) -> None:
    """Finish with ``error``, keeping what a failed ``parse()`` still knows of the response."""
    try:
        completion = chat.completion_of_error(error)
        if completion is not None:
            chat.read_response(
                invocation.exchange,
                completion,
                capture_content=invocation.telemetry.settings.capture_content,
            )
    except Exception:
        report_internal_error("response parsing")
    invocation.finish(error)


def chat_wrapper(telemetry: Telemetry) -> Wrapper:
    """Wrapper for the synchronous ``chat.completions.create`` and ``parse``."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        invocation, call_kwargs = _prepare(telemetry, instance, kwargs)
        if invocation is None:
            return wrapped(*args, **kwargs)
        invocation.start()
        token = invocation.activate()
        try:
            result = wrapped(*args, **call_kwargs)
        except BaseException as error:
            _fail(invocation, error)
            raise
        finally:
            invocation.deactivate(token)
        return _complete(invocation, result)

    return wrapper


async def _traced(invocation: Invocation, client_call: Awaitable[Any]) -> Any:
    """Await the client's coroutine with the span current, then complete the invocation."""
    invocation.start()
    token = invocation.activate()
    try:
        result = await client_call
    except GeneratorExit as error:
        # Closed by the garbage collector, possibly from another context: there is no
        # context of ours to restore there.
        token = None
        _fail(invocation, error)
        raise
    except BaseException as error:
        _fail(invocation, error)
        raise
    finally:
        invocation.deactivate(token)
    return _complete(invocation, result)


def _close_if_unstarted(client_call: Coroutine[Any, Any, Any]) -> None:
    if getcoroutinestate(client_call) == CORO_CREATED:
        client_call.close()


def _traced_coroutine(invocation: Invocation, client_call: Any) -> Any:
    """A native coroutine awaiting ``client_call`` under the client's own name.

    If ours never runs (dropped, closed, or its task cancelled before the first step),
    the client's coroutine is closed when ours is collected: no request, no span, and
    only one "never awaited" warning, naming the client's method, as without us.
    """
    call: CoroutineType[Any, Any, Any] = _traced(invocation, client_call)  # type: ignore[assignment]
    if iscoroutine(client_call):
        call.__name__ = client_call.__name__
        call.__qualname__ = client_call.__qualname__
        weakref.finalize(call, _close_if_unstarted, client_call)
    return call


def async_chat_wrapper(telemetry: Telemetry) -> Wrapper:
    """Wrapper for the asynchronous ``chat.completions.create`` and ``parse``.

    Like the client's method, it is called synchronously (argument errors raise at call
    time) and returns a native coroutine; the span starts when that coroutine first runs.
    """

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        invocation, call_kwargs = _prepare(telemetry, instance, kwargs)
        if invocation is None:
            return wrapped(*args, **kwargs)
        try:
            client_call = wrapped(*args, **call_kwargs)
        except BaseException as error:
            invocation.start()
            _fail(invocation, error)
            raise
        return _traced_coroutine(invocation, client_call)

    return wrapper


def helper_close_wrapper(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Around ``ChatCompletionStream.close``: the helper closes the HTTP response itself,
    bypassing the raw stream, so its span is ended here."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        try:
            finish_helper_stream(getattr(instance, "_raw_stream", None))
        except Exception:
            report_internal_error("stream finalization")


async def async_helper_close_wrapper(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Around ``AsyncChatCompletionStream.close``; see :func:`helper_close_wrapper`."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        try:
            finish_helper_stream(getattr(instance, "_raw_stream", None))
        except Exception:
            report_internal_error("stream finalization")
