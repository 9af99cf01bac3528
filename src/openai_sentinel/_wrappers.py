"""The functions wrapt installs around OpenAI methods: they run the user's call untouched.

Each hook into our own code is guarded: if it fails, the failure is reported once on
the ``openai_sentinel`` logger and the user's call returns exactly what it would
have returned without instrumentation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from opentelemetry import context as otel_context
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


def _begin(telemetry: Telemetry, resource: Any, kwargs: Mapping[str, Any]) -> Invocation | None:
    try:
        exchange = chat.read_request(
            resource._client, kwargs, capture_content=telemetry.settings.capture_content
        )
        return Invocation(telemetry, exchange)
    except Exception:
        report_internal_error("request parsing")
        return None


def _with_usage_requested(invocation: Invocation, kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` asking a stream for its usage chunk, when the settings say so."""
    try:
        exchange = invocation.exchange
        if not (exchange.stream and invocation.telemetry.settings.stream_usage):
            return kwargs
        requested = chat.with_stream_usage(kwargs)
        if requested is None:
            return kwargs
        exchange.usage_injected = True
        return requested
    except Exception:
        report_internal_error("request parsing")
        return kwargs


def _observer(invocation: Invocation) -> StreamObserver:
    reader = chat.ChatStreamAccumulator(
        invocation.exchange, capture_content=invocation.telemetry.settings.capture_content
    )
    return StreamObserver(invocation, reader, hide_usage_chunk=invocation.exchange.usage_injected)


def _complete(invocation: Invocation, result: Any) -> Any:
    """Hand ``result`` back to the caller, finalizing now or wrapping the stream."""
    try:
        exchange = invocation.exchange
        if _results.is_unread(result):
            exchange.response_unread = True
        elif exchange.stream:
            stream = result.parse() if _results.is_raw(result) else result
            if _results.is_stream(stream):
                proxy: Any = InstrumentedStream(stream, _observer(invocation))
            elif _results.is_async_stream(stream):
                proxy = InstrumentedAsyncStream(stream, _observer(invocation))
            else:
                invocation.finish()
                return result
            if stream is result:
                return proxy
            _results.replace_parsed(result, proxy)
            return result
        else:
            completion = result.parse() if _results.is_raw(result) else result
            chat.read_response(
                exchange, completion, capture_content=invocation.telemetry.settings.capture_content
            )
    except Exception:
        report_internal_error("response parsing")
    invocation.finish()
    return result


def chat_wrapper(telemetry: Telemetry) -> Wrapper:
    """Wrapper for the synchronous ``chat.completions.create`` and ``parse``."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        invocation = _begin(telemetry, instance, kwargs)
        if invocation is None:
            return wrapped(*args, **kwargs)
        kwargs = _with_usage_requested(invocation, kwargs)
        token = otel_context.attach(invocation.context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            invocation.finish(error)
            raise
        finally:
            otel_context.detach(token)
        return _complete(invocation, result)

    return wrapper


async def _traced(invocation: Invocation, awaitable: Awaitable[Any]) -> Any:
    """Await the client's coroutine with the span current, then complete the invocation."""
    token = otel_context.attach(invocation.context)
    try:
        result = await awaitable
    except BaseException as error:
        invocation.finish(error)
        raise
    finally:
        otel_context.detach(token)
    return _complete(invocation, result)


def async_chat_wrapper(telemetry: Telemetry) -> Wrapper:
    """Wrapper for the asynchronous ``chat.completions.create`` and ``parse``.

    The wrapper itself is synchronous, like the client's ``create``: argument errors
    are raised at call time exactly as without instrumentation, and the coroutine it
    returns awaits the client's own.
    """

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        invocation = _begin(telemetry, instance, kwargs)
        if invocation is None:
            return wrapped(*args, **kwargs)
        kwargs = _with_usage_requested(invocation, kwargs)
        try:
            awaitable = wrapped(*args, **kwargs)
        except BaseException as error:
            invocation.finish(error)
            raise
        return _traced(invocation, awaitable)

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
