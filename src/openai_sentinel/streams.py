"""Proxies for ``openai.Stream`` / ``openai.AsyncStream`` that finalize the span exactly once.

The proxy is a ``wrapt.ObjectProxy``, so the caller still gets an object that passes
``isinstance(x, openai.Stream)`` and exposes ``.response``. The span ends when the
stream is exhausted, fails, is closed, is left through ``with`` / ``async with``, or,
if the caller walks away, soon after the proxy is garbage-collected (its finalizer only
notes it; see :mod:`openai_sentinel._abandoned`).

The proxies' methods are the boundary with the caller: they call only functions that
guard themselves (:class:`StreamObserver`'s), so nothing of ours can fail through them.
"""

from __future__ import annotations

import copy
import time
from array import array
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from types import TracebackType
from typing import Any

import wrapt

from . import _abandoned
from ._errors import report_internal_error
from .adapters._adapter import CHUNK_USAGE_ONLY, ChunkReader
from .invocation import Invocation, StreamEnd
from .security import ResponseBlocked
from .semconv import SECURITY_ACTION_BLOCKED

__all__ = ["InstrumentedAsyncStream", "InstrumentedStream", "StreamObserver"]

_perf_counter = time.perf_counter


_GAP_BATCH = 256
"""Chunk gaps buffered (as C doubles: 2 KB) before they are recorded, so memory stays
flat on long streams; most streams record theirs once, when they end."""


class StreamObserver:
    """Timing and chunk bookkeeping of one stream, shared by the sync and async proxies.

    Every method guards itself: a failure is reported and turns the bookkeeping off.
    :meth:`observe` runs once per chunk, so it keeps to local reads and one list append.
    """

    __slots__ = (
        "_abandoned_at",
        "_active",
        "_add",
        "_chunks",
        "_exchange",
        "_gaps",
        "_last",
        "hide_usage_chunk",
        "invocation",
        "reader",
    )

    def __init__(
        self, invocation: Invocation, reader: ChunkReader, *, hide_usage_chunk: bool
    ) -> None:
        self.invocation = invocation
        self.reader = reader
        self.hide_usage_chunk = hide_usage_chunk
        self._exchange = invocation.exchange
        self._add = reader.add
        self._gaps = array("d")
        self._last: float | None = None
        self._abandoned_at: float | None = None
        self._chunks = 0
        self._active = not invocation.done

    def observe(self, chunk: Any) -> bool:
        """Account for one chunk; True if it may be the usage chunk we asked for.

        The usage chunk we asked for stays hidden even when the bookkeeping is off
        (after an internal failure, or if the invocation could not start).
        """
        try:
            if not self._active:
                return self._hidden(chunk)
            now = _perf_counter()
            kind = self._add(chunk)
            if kind:  # not output: usage only, or a lifecycle event
                return kind == CHUNK_USAGE_ONLY and self.hide_usage_chunk
            last = self._last
            if last is None:
                self._exchange.time_to_first_chunk = now - self.invocation.started
            else:
                gaps = self._gaps
                gaps.append(now - last)
                if len(gaps) >= _GAP_BATCH:
                    self._record_gaps()
            self._last = now
            self._chunks += 1
        except Exception:
            self._active = False
            report_internal_error("stream chunk handling")
            return self._hidden(chunk)
        return False

    def _hidden(self, chunk: Any) -> bool:
        try:
            return self.hide_usage_chunk and self.reader.usage_only(chunk)
        except Exception:
            report_internal_error("stream chunk handling")
            return False

    def _record_gaps(self) -> None:
        try:
            gaps, self._gaps = self._gaps, array("d")
            self.invocation.telemetry.record_chunk_gaps(self._exchange, gaps)
        except Exception:
            report_internal_error("metric recording")

    def finish(self, error: BaseException | None, end: str) -> None:
        """Finalize the span once; how the stream ended goes on ``sentinel.stream.end``."""
        try:
            invocation = self.invocation
            if invocation.done:
                return
            self._active = False
            exchange = self._exchange
            exchange.chunk_count = self._chunks
            exchange.stream_end = end
        except Exception:
            report_internal_error("stream finalization")
            return
        try:
            self.reader.fill()
        except Exception:
            report_internal_error("stream finalization")
        try:
            if self._gaps:
                self._record_gaps()
            ended_at = (self._last or self._abandoned_at) if end == StreamEnd.ABANDONED else None
            invocation.finish(error, ended_at=ended_at)
        except Exception:
            report_internal_error("stream finalization")

    def withhold_if_blocked(self) -> None:
        """At the end of a completed stream, raise :class:`ResponseBlocked` in place of
        the end when the output policy blocked its answer (its chunks have already
        reached the caller, who is told to discard them)."""
        try:
            security = self.invocation.findings.security
            if (
                security is not None
                and security.output is not None
                and security.output_action == SECURITY_ACTION_BLOCKED
            ):
                raise ResponseBlocked(security.output)
        except Exception as error:
            if isinstance(error, ResponseBlocked):
                raise  # the block policy's own, on purpose
            report_internal_error("security policy")

    def abandon(self) -> None:
        """Note that the caller dropped the stream. Called by finalizers: it takes no lock
        and calls no SDK; the span is finished later, from the worker thread."""
        if not self.invocation.done:
            self._abandoned_at = _perf_counter()
            _abandoned.note(self._finish_abandoned)

    def _finish_abandoned(self) -> None:
        self.finish(None, StreamEnd.ABANDONED)


def _chunks(next_chunk: Callable[[], Any], observer: StreamObserver) -> Iterator[Any]:
    """The chunks of a stream, observed, without the usage chunk we asked for.

    That chunk is the stream's last, so a usage-only chunk is held until the next one
    shows it was not (then it is the server's own and is passed on): one chunk of
    look-ahead, only after usage-only chunks, and no recursion however many arrive.
    """
    held = None
    while True:
        try:
            chunk = next_chunk()
        except StopIteration:
            observer.finish(None, StreamEnd.COMPLETED)
            observer.withhold_if_blocked()
            return
        except BaseException as error:
            observer.finish(error, StreamEnd.ERROR)
            raise
        hide = observer.observe(chunk)
        if held is not None:
            yield held
            held = None
        if hide:
            held = chunk
        else:
            yield chunk


async def _async_chunks(
    next_chunk: Callable[[], Awaitable[Any]], observer: StreamObserver
) -> AsyncIterator[Any]:
    """The asynchronous twin of :func:`_chunks`."""
    held = None
    while True:
        try:
            chunk = await next_chunk()
        except StopAsyncIteration:
            observer.finish(None, StreamEnd.COMPLETED)
            observer.withhold_if_blocked()
            return
        except BaseException as error:
            observer.finish(error, StreamEnd.ERROR)
            raise
        hide = observer.observe(chunk)
        if held is not None:
            yield held
            held = None
        if hide:
            held = chunk
        else:
            yield chunk


class _LikeTheClientsStream:
    """Copying, pickling and collection of a stream proxy, as for the client's stream.

    A shallow copy shares the iterator and the span, as the client's copy shares its
    iterator; only the original's collection counts as abandoning the stream.
    """

    __wrapped__: Any
    _self_iterator: Any
    _self_observer: StreamObserver
    _self_owner: bool

    def __copy__(self) -> Any:
        proxy_class: Any = type(self)
        duplicate = proxy_class(copy.copy(self.__wrapped__), self._self_observer, owner=False)
        duplicate._self_iterator = self._self_iterator
        return duplicate

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return copy.deepcopy(self.__wrapped__, memo)

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.__wrapped__.__reduce_ex__(protocol)

    def __del__(self) -> None:
        try:
            if self._self_owner:
                self._self_observer.abandon()
        except BaseException:  # pragma: no cover - interpreter shutdown; nothing may run
            return


class InstrumentedStream(_LikeTheClientsStream, wrapt.ObjectProxy[Any]):
    """A synchronous ``openai.Stream`` whose span ends with the stream.

    Like the client's stream, ``iter()`` gives a new generator over one shared iterator.
    """

    def __init__(self, stream: Any, observer: StreamObserver, *, owner: bool = True) -> None:
        super().__init__(stream)
        self._self_observer = observer
        self._self_owner = owner
        self._self_iterator = _chunks(stream.__next__, observer)

    def __next__(self) -> Any:
        return self._self_iterator.__next__()

    def __iter__(self) -> Iterator[Any]:
        # As the client's own ``__iter__``: closing this generator leaves the shared
        # iterator open, which ``yield from`` would not.
        for chunk in self._self_iterator:  # noqa: UP028
            yield chunk

    def __enter__(self) -> InstrumentedStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.__wrapped__.__exit__(exc_type, exc, traceback)
        finally:
            self._self_observer.finish(None, StreamEnd.CLOSED)

    def close(self) -> None:
        """Close the stream and end its span."""
        try:
            self.__wrapped__.close()
        finally:
            self._self_observer.finish(None, StreamEnd.CLOSED)


class InstrumentedAsyncStream(_LikeTheClientsStream, wrapt.ObjectProxy[Any]):
    """An ``openai.AsyncStream`` whose span ends with it, like :class:`InstrumentedStream`."""

    def __init__(self, stream: Any, observer: StreamObserver, *, owner: bool = True) -> None:
        super().__init__(stream)
        self._self_observer = observer
        self._self_owner = owner
        self._self_iterator = _async_chunks(stream.__anext__, observer)

    async def __anext__(self) -> Any:
        return await self._self_iterator.__anext__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for chunk in self._self_iterator:
            yield chunk

    async def __aenter__(self) -> InstrumentedAsyncStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.__wrapped__.__aexit__(exc_type, exc, traceback)
        finally:
            self._self_observer.finish(None, StreamEnd.CLOSED)

    async def close(self) -> None:
        """Close the stream and end its span."""
        try:
            await self.__wrapped__.close()
        finally:
            self._self_observer.finish(None, StreamEnd.CLOSED)

    async def aclose(self) -> None:
        """Close the stream and end its span (``aclose`` spelling of openai >= 3)."""
        try:
            await self.__wrapped__.close()
        finally:
            self._self_observer.finish(None, StreamEnd.CLOSED)


def finish_helper_stream(helper: Any) -> None:
    """End the span of the raw stream under a ``.stream()`` helper that is being closed."""
    try:
        raw_stream = getattr(helper, "_raw_stream", None)
        if isinstance(raw_stream, (InstrumentedStream, InstrumentedAsyncStream)):
            raw_stream._self_observer.finish(None, StreamEnd.CLOSED)
    except Exception:
        report_internal_error("stream finalization")
