"""Proxies for ``openai.Stream`` / ``openai.AsyncStream`` that finalize the span exactly once.

The proxy is a ``wrapt.ObjectProxy``, so the caller still gets an object that passes
``isinstance(x, openai.Stream)`` and exposes ``.response``. The span ends when the
stream is exhausted, fails, is closed, is left through ``with`` / ``async with``, or,
if the caller walks away, when the proxy is garbage-collected.
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import Any, Protocol

import wrapt

from ._errors import report_internal_error
from .invocation import Invocation, StreamEnd

__all__ = ["ChunkReader", "InstrumentedAsyncStream", "InstrumentedStream", "StreamObserver"]

_perf_counter = time.perf_counter


_GAP_BATCH = 64
"""Chunk gaps buffered before they are recorded, so memory stays flat on long streams."""


class ChunkReader(Protocol):
    """What an adapter provides to fold a stream's chunks into its exchange."""

    def add(self, chunk: Any) -> bool:
        """Take one chunk; True if it only carries usage."""

    def fill(self) -> None:
        """Write what the chunks said (finish reasons, usage, content) into the exchange."""

    def usage_only(self, chunk: Any) -> bool:
        """Whether ``chunk`` only carries usage (the chunk ``include_usage`` adds)."""


class StreamObserver:
    """Timing and chunk bookkeeping of one stream, shared by the sync and async proxies.

    :meth:`observe` runs once per chunk, so it keeps to local reads and one list append.
    """

    __slots__ = (
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
        self._gaps: list[float] = []
        self._last: float | None = None
        self._chunks = 0
        self._active = not invocation.done

    def observe(self, chunk: Any) -> bool:
        """Account for one chunk; True if the caller must not see it (injected usage).

        The usage chunk we asked for stays hidden even when the bookkeeping is off
        (after an internal failure, or if the invocation could not start).
        """
        if not self._active:
            return self._hidden(chunk)
        try:
            now = _perf_counter()
            if self._add(chunk):
                return self.hide_usage_chunk
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
        if not self.hide_usage_chunk:
            return False
        try:
            return self.reader.usage_only(chunk)
        except Exception:
            report_internal_error("stream chunk handling")
            return False

    def _record_gaps(self) -> None:
        gaps, self._gaps = self._gaps, []
        try:
            self.invocation.telemetry.record_chunk_gaps(self._exchange, gaps)
        except Exception:
            report_internal_error("metric recording")

    def finish(self, error: BaseException | None, end: str) -> None:
        """Finalize the span once; how the stream ended goes on ``sentinel.stream.end``."""
        invocation = self.invocation
        if invocation.done:
            return
        self._active = False
        exchange = self._exchange
        exchange.chunk_count = self._chunks
        exchange.stream_end = end
        try:
            self.reader.fill()
        except Exception:
            report_internal_error("stream finalization")
        if self._gaps:
            self._record_gaps()
        ended_at = self._last if end == StreamEnd.ABANDONED else None
        invocation.finish(error, ended_at=ended_at)


class InstrumentedStream(wrapt.ObjectProxy[Any]):
    """A synchronous ``openai.Stream`` whose span ends with the stream."""

    def __init__(self, stream: Any, observer: StreamObserver) -> None:
        super().__init__(stream)
        self._self_observer = observer
        self._self_next = stream.__next__

    def __iter__(self) -> InstrumentedStream:
        return self

    def __next__(self) -> Any:
        observer = self._self_observer
        try:
            chunk = self._self_next()
        except StopIteration:
            observer.finish(None, StreamEnd.COMPLETED)
            raise
        except BaseException as error:
            observer.finish(error, StreamEnd.ERROR)
            raise
        if observer.observe(chunk):
            return self.__next__()
        return chunk

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

    def __del__(self) -> None:
        try:
            self._self_observer.finish(None, StreamEnd.ABANDONED)
        except Exception:  # pragma: no cover - interpreter shutdown
            report_internal_error("stream finalization")


class InstrumentedAsyncStream(wrapt.ObjectProxy[Any]):
    """An ``openai.AsyncStream`` whose span ends with the stream."""

    def __init__(self, stream: Any, observer: StreamObserver) -> None:
        super().__init__(stream)
        self._self_observer = observer
        self._self_next = stream.__anext__

    def __aiter__(self) -> InstrumentedAsyncStream:
        return self

    async def __anext__(self) -> Any:
        observer = self._self_observer
        try:
            chunk = await self._self_next()
        except StopAsyncIteration:
            observer.finish(None, StreamEnd.COMPLETED)
            raise
        except BaseException as error:
            observer.finish(error, StreamEnd.ERROR)
            raise
        if observer.observe(chunk):
            return await self.__anext__()
        return chunk

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
        await self.close()

    def __del__(self) -> None:
        try:
            self._self_observer.finish(None, StreamEnd.ABANDONED)
        except Exception:  # pragma: no cover - interpreter shutdown
            report_internal_error("stream finalization")


def finish_helper_stream(raw_stream: Any) -> None:
    """End the span of the raw stream under a ``.stream()`` helper that is being closed."""
    if isinstance(raw_stream, (InstrumentedStream, InstrumentedAsyncStream)):
        raw_stream._self_observer.finish(None, StreamEnd.CLOSED)
