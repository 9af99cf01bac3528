"""The functions wrapt installs around OpenAI methods: they run the user's call untouched.

The wrappers are the boundary with the caller. They hold no logic of their own and call
only functions that guard themselves (their whole body is a ``try`` whose ``except``
reports the failure once on the ``openai_sentinel`` logger and falls back to the bare
behaviour), so the caller gets exactly the result or the exception it would have had
without instrumentation, whatever fails inside.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import Token
from functools import partial
from inspect import CORO_CREATED, getcoroutinestate, iscoroutine
from typing import Any

from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from . import _abandoned
from ._enrichment import current_attributes
from ._errors import report_internal_error
from .adapters import _results
from .adapters._adapter import Adapter
from .adapters._choices import UsageChunkFilter
from .adapters.chat import reads_raw_body
from .adapters.fallback import FALLBACK_MESSAGE
from .analyzers.repeats import request_fingerprint
from .analyzers.security._model import ScanResult
from .emit import Telemetry
from .exchange import Exchange
from .invocation import Invocation
from .security import PromptBlocked, ResponseBlocked
from .semconv import (
    FINISH_REASON_CONTENT_FILTER,
    GEN_AI_CONVERSATION_ID,
    SECURITY_ACTION_BLOCKED,
    SECURITY_ACTION_OBSERVED,
    SECURITY_ACTION_REDACTED,
    SECURITY_DIRECTION_INPUT,
)
from .streams import (
    InstrumentedAsyncStream,
    InstrumentedStream,
    StreamObserver,
    finish_helper_stream,
)

__all__ = [
    "async_helper_close_wrapper",
    "async_wrapper",
    "helper_close_wrapper",
    "sync_wrapper",
]

Wrapper = Callable[[Callable[..., Any], Any, tuple[Any, ...], dict[str, Any]], Any]


def _prepare(
    telemetry: Telemetry,
    adapter: Adapter,
    resource: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[Invocation | None, dict[str, Any]]:
    """The invocation of a call (not started yet) and the keyword arguments to call with.

    The arguments change only when we must read them (iterables, with content capture
    on, become lists the client reads just the same), when the ``stream_usage`` setting
    asks a stream for its usage chunk, or when ``request_logprobs`` asks for logprobs.
    Without an invocation, the call runs untraced, with neither asked for.
    """
    call_kwargs = kwargs
    try:
        capture = telemetry.settings.capture_content
        if capture or telemetry.security is not None:
            call_kwargs = adapter.readable_kwargs(kwargs)
        params = call_kwargs
        if args and adapter.positional:
            params = {**dict(zip(adapter.positional, args, strict=False)), **call_kwargs}
        exchange = adapter.read_request(resource._client, params, capture_content=capture)
        context_attributes = current_attributes()
        if context_attributes:
            exchange.context_attributes = context_attributes
            if exchange.conversation_id is None:
                conversation = context_attributes.get(GEN_AI_CONVERSATION_ID)
                exchange.conversation_id = conversation if isinstance(conversation, str) else None
        if telemetry.repeats is not None:
            arguments = adapter.request_arguments(params)
            if arguments is not None:
                kind = f"{exchange.operation} {exchange.api_type or ''}"
                exchange.request_fingerprint = request_fingerprint(kind, arguments)
        invocation = Invocation(telemetry, exchange, adapter)
    except Exception:
        report_internal_error("request parsing")
        return None, call_kwargs
    try:
        if telemetry.security is not None:
            call_kwargs = _screen_request(telemetry, adapter, exchange, params, call_kwargs)
    except Exception:
        report_internal_error("security scanning")
    readable = call_kwargs
    try:
        if exchange.stream and telemetry.settings.stream_usage:
            requested = adapter.with_stream_usage(call_kwargs)
            if requested is not None:
                exchange.usage_injected = True
                call_kwargs = requested
        if telemetry.settings.request_logprobs:
            requested = adapter.with_logprobs(call_kwargs, exchange.request_model)
            if requested is not None:
                exchange.logprobs_injected = True
                call_kwargs = requested
    except Exception:
        exchange.usage_injected = exchange.logprobs_injected = False
        report_internal_error("request parsing")
        return invocation, readable
    return invocation, call_kwargs


def _screen_request(
    telemetry: Telemetry,
    adapter: Adapter,
    exchange: Exchange,
    params: dict[str, Any],
    call_kwargs: dict[str, Any],
) -> dict[str, Any]:
    """Scan the request and apply the input policy: the arguments to call with
    (redacted under ``redact``); ``block`` marks the exchange and the call is not made."""
    try:
        text = adapter.untrusted_text(params)
        if not text:
            return call_kwargs
        if telemetry.settings.capture_content:
            exchange.security_text = text
        result = telemetry.screen_request(exchange, text)
        if result is None or exchange.security_input_action != SECURITY_ACTION_REDACTED:
            return call_kwargs
        live = telemetry.security
        redacted = adapter.with_redacted(call_kwargs, live.scanner().redact) if live else None
        if redacted is None:
            exchange.security_input_action = SECURITY_ACTION_OBSERVED  # nothing to rewrite
            return call_kwargs
        return redacted
    except Exception:
        exchange.security_input_action = None
        report_internal_error("security scanning")
        return call_kwargs


def _blocked(exchange: Exchange) -> bool:
    """Whether the input policy blocked the call (it is then not sent)."""
    try:
        return exchange.security_input_action == SECURITY_ACTION_BLOCKED
    except Exception:
        report_internal_error("security policy")
        return False


def _refuse(invocation: Invocation, call_kwargs: dict[str, Any], *, asynchronous: bool) -> Any:
    """Answer a blocked call without sending it: the fallback, or ``PromptBlocked``.
    Its span is made all the same, marked blocked."""
    exchange = invocation.exchange
    answer = None
    try:
        invocation.start()
        if invocation.telemetry.settings.security_block_fallback and not reads_raw_body(
            call_kwargs
        ):
            answer = invocation.adapter.fallback(
                exchange.request_model,
                FALLBACK_MESSAGE,
                stream=exchange.stream,
                asynchronous=asynchronous,
            )
    except Exception:
        report_internal_error("security policy")
    if answer is not None:
        exchange.finish_reasons = [FINISH_REASON_CONTENT_FILTER]
        invocation.finish()
        return answer
    error = PromptBlocked(exchange.security_input or ScanResult(SECURITY_DIRECTION_INPUT))
    invocation.finish(error)
    raise error


async def _refuse_later(invocation: Invocation, call_kwargs: dict[str, Any]) -> Any:
    """:func:`_refuse` when awaited, as the client's coroutine would answer."""
    return _refuse(invocation, call_kwargs, asynchronous=True)


def _begin(invocation: Invocation) -> Token[Context] | None:
    """Start the invocation and make its span current; the token restores the context."""
    try:
        _abandoned.start_worker()
        invocation.start()
        return invocation.activate()
    except Exception:
        report_internal_error("span start")
        return None


def _observer(invocation: Invocation) -> StreamObserver:
    reader = invocation.adapter.stream_reader(
        invocation.exchange,
        capture_content=invocation.telemetry.settings.capture_content,
        text_limit=invocation.telemetry.content_buffer_limit,
    )
    return StreamObserver(invocation, reader, hide_usage_chunk=invocation.exchange.usage_injected)


def _wrap_stream(invocation: Invocation, stream: Any) -> Any:
    """Our proxy around ``stream``, or ``None`` if it is not a client stream."""
    if _results.is_stream(stream):
        return InstrumentedStream(stream, _observer(invocation))
    if _results.is_async_stream(stream):
        return InstrumentedAsyncStream(stream, _observer(invocation))
    return None


def _handle_result(invocation: Invocation, result: Any) -> Any:
    """Read ``result`` into the exchange and finish, or wrap the stream it is."""
    exchange = invocation.exchange
    capture = invocation.telemetry.settings.capture_content
    read_response = invocation.adapter.read_response
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
            read_response(exchange, _results.raw_json(result), capture_content=capture)
    else:
        proxy = _wrap_stream(invocation, result)
        if proxy is not None:
            exchange.stream = True
            return proxy
        read_response(exchange, result, capture_content=capture)
        exchange.answer_rewritable = True
    invocation.finish()
    return result


def _complete(invocation: Invocation, result: Any, token: Token[Context] | None) -> Any:
    """Hand ``result`` back to the caller, finalizing now or wrapping the stream."""
    try:
        invocation.deactivate(token)
        handled = _handle_result(invocation, result)
    except Exception:
        report_internal_error("response parsing")
        invocation.finish()
        return _hide_injected_usage(invocation, result)
    try:
        return _apply_output_policy(invocation, handled)
    except Exception as error:
        if isinstance(error, PromptBlocked):
            raise  # the block policy's own, on purpose
        report_internal_error("security policy")
        return handled


def _apply_output_policy(invocation: Invocation, result: Any) -> Any:
    """Withhold (fallback or ``ResponseBlocked``) or redact an answer the output policy
    flagged; anything else passes untouched."""
    try:
        security = invocation.findings.security
        if security is None or security.output is None or security.output_action is None:
            return result
        if security.output_action == SECURITY_ACTION_REDACTED:
            live = invocation.telemetry.security
            if live is not None:
                invocation.adapter.redact_answer(result, live.scanner().redact)
            return result
        if security.output_action != SECURITY_ACTION_BLOCKED:
            return result
        if invocation.telemetry.settings.security_block_fallback and not _results.is_raw(result):
            exchange = invocation.exchange
            model = exchange.response_model or exchange.request_model
            fallback = invocation.adapter.fallback(
                model, FALLBACK_MESSAGE, stream=False, asynchronous=False
            )
            if fallback is not None:
                return fallback
        raise ResponseBlocked(security.output)
    except Exception as error:
        if isinstance(error, PromptBlocked):
            raise  # the block policy's own, on purpose
        report_internal_error("security policy")
        return result


def _hide_injected_usage(invocation: Invocation, result: Any) -> Any:
    """After a failure, still keep the usage chunk we asked for away from the caller."""
    try:
        if not invocation.exchange.usage_injected:
            return result
        observer = StreamObserver(invocation, UsageChunkFilter(), hide_usage_chunk=True)
        if _results.is_stream(result):
            return InstrumentedStream(result, observer)
        if _results.is_async_stream(result):
            return InstrumentedAsyncStream(result, observer)
    except Exception:
        report_internal_error("response parsing")
    return result


def _fail(invocation: Invocation, error: BaseException, token: Token[Context] | None) -> None:
    """Finish with ``error``, keeping what a failed ``parse()`` still knows of the response."""
    try:
        invocation.deactivate(token)
        completion = invocation.adapter.completion_of_error(error)
        if completion is not None:
            invocation.adapter.read_response(
                invocation.exchange,
                completion,
                capture_content=invocation.telemetry.settings.capture_content,
            )
    except Exception:
        report_internal_error("response parsing")
    try:
        invocation.finish(error)
    except Exception:
        report_internal_error("span finalization")


def _fail_unstarted(invocation: Invocation, error: BaseException) -> None:
    """A call that failed before its coroutine existed: a span for the failure alone."""
    try:
        invocation.start()
        _fail(invocation, error, None)
    except Exception:
        report_internal_error("span finalization")


def sync_wrapper(telemetry: Telemetry, adapter: Adapter) -> Wrapper:
    """Wrapper for a synchronous client method read by ``adapter``."""

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not telemetry.active or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        invocation, call_kwargs = _prepare(telemetry, adapter, instance, args, kwargs)
        if invocation is None:
            return wrapped(*args, **call_kwargs)
        if _blocked(invocation.exchange):
            return _refuse(invocation, call_kwargs, asynchronous=False)
        token = _begin(invocation)
        try:
            result = wrapped(*args, **call_kwargs)
        except BaseException as error:
            _fail(invocation, error, token)
            raise
        return _complete(invocation, result, token)

    return wrapper


async def _traced(invocation: Invocation, client_call: Awaitable[Any]) -> Any:
    """Await the client's coroutine with the span current, then complete the invocation."""
    token = _begin(invocation)
    try:
        result = await client_call
    except GeneratorExit as error:
        # Closed, most likely by the garbage collector, possibly inside the SDK and from
        # another context: no context of ours to restore, and the span ends later.
        _abandon(invocation, error)
        raise
    except BaseException as error:
        _fail(invocation, error, token)
        raise
    return _complete(invocation, result, token)


def _abandon(invocation: Invocation, error: BaseException) -> None:
    """Leave the finishing of a call closed by a finalizer to the worker thread."""
    try:
        _abandoned.note(partial(invocation.finish, error))
    except Exception:  # pragma: no cover - note() is a queue put
        return


def _close_if_unstarted(client_call: Coroutine[Any, Any, Any]) -> None:
    """Finalizer: close a client coroutine ours never awaited (runs none of its code)."""
    try:
        if getcoroutinestate(client_call) == CORO_CREATED:
            client_call.close()
    except Exception:  # pragma: no cover - a finalizer may neither raise nor log
        return


def _adopt_name(call: Any, client_call: Any) -> None:
    """Give our coroutine the client's name, and close the client's if ours never runs.

    If ours never runs (dropped, closed, or its task cancelled before the first step),
    the client's coroutine is closed when ours is collected: no request, no span, and
    only one "never awaited" warning, naming the client's method, as without us.
    """
    try:
        if iscoroutine(client_call):
            call.__name__ = client_call.__name__
            call.__qualname__ = client_call.__qualname__
            weakref.finalize(call, _close_if_unstarted, client_call)
    except Exception:
        report_internal_error("span start")


def async_wrapper(telemetry: Telemetry, adapter: Adapter) -> Wrapper:
    """Wrapper for an asynchronous client method read by ``adapter``.

    Like the client's method, it is called synchronously (argument errors raise at call
    time) and returns a native coroutine; the span starts when that coroutine first runs.
    """

    def wrapper(
        wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if not telemetry.active or not is_instrumentation_enabled():
            return wrapped(*args, **kwargs)
        invocation, call_kwargs = _prepare(telemetry, adapter, instance, args, kwargs)
        if invocation is None:
            return wrapped(*args, **call_kwargs)
        if _blocked(invocation.exchange):
            return _refuse_later(invocation, call_kwargs)
        try:
            client_call = wrapped(*args, **call_kwargs)
        except BaseException as error:
            _fail_unstarted(invocation, error)
            raise
        call = _traced(invocation, client_call)  # creating a coroutine runs none of its code
        _adopt_name(call, client_call)
        return call

    return wrapper


def helper_close_wrapper(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Around ``ChatCompletionStream.close``: the helper closes the HTTP response itself,
    bypassing the raw stream, so its span is ended here."""
    try:
        return wrapped(*args, **kwargs)
    finally:
        finish_helper_stream(instance)


async def async_helper_close_wrapper(
    wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Around ``AsyncChatCompletionStream.close``; see :func:`helper_close_wrapper`."""
    try:
        return await wrapped(*args, **kwargs)
    finally:
        finish_helper_stream(instance)
