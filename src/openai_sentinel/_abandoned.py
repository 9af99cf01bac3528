"""Streams the caller walked away from: noted by finalizers, finished from a safe place.

Garbage collection runs finalizers (``__del__``, ``weakref.finalize``) anywhere, even
inside the OpenTelemetry SDK while it holds one of its own locks. A finalizer that
ended a span or recorded a metric there could wait on that lock forever. So a
finalizer only :func:`note`-s the work, with ``SimpleQueue.put``, which is reentrant
and takes no lock, and a daemon thread does it later, outside any SDK call.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import Final

from ._errors import report_internal_error

__all__ = ["flush", "note", "start_worker"]

Work = Callable[[], None]

_FLUSH_AT_EXIT_SECONDS: Final = 2.0


class _Worker:
    """The queue of noted work and the daemon thread that does it."""

    __slots__ = ("queue", "start_lock", "thread")

    def __init__(self) -> None:
        self.queue: SimpleQueue[Work] = SimpleQueue()
        self.thread: threading.Thread | None = None
        self.start_lock = threading.Lock()

    def serve(self) -> None:
        while True:
            _run(self.queue.get())


_worker = _Worker()


def note(work: Work) -> None:
    """Queue ``work`` for the worker thread. Safe in a finalizer: no lock, no SDK call."""
    _worker.queue.put(work)


def _run(work: Work) -> None:
    try:
        work()
    except Exception:
        report_internal_error("stream finalization")


def start_worker() -> None:
    """Start the worker thread if it is not running (call from a safe place, not a finalizer)."""
    worker = _worker
    if worker.thread is not None:
        return
    with worker.start_lock:
        if worker.thread is None:
            thread = threading.Thread(
                target=worker.serve, name="openai-sentinel-finalizer", daemon=True
            )
            thread.start()
            worker.thread = thread
            atexit.register(flush, _FLUSH_AT_EXIT_SECONDS)


def flush(timeout: float = 5.0) -> bool:
    """Finish the work noted so far; True when it is all done within ``timeout`` seconds.

    With the worker running, a marker is queued behind the pending work and awaited;
    otherwise the work runs here.
    """
    worker = _worker
    if worker.thread is None:
        while True:
            try:
                work = worker.queue.get_nowait()
            except Empty:
                return True
            _run(work)
    done = threading.Event()
    worker.queue.put(done.set)
    return done.wait(timeout)


def _forget_worker_in_child() -> None:
    """A forked child has no worker thread, and must not finish its parent's spans."""
    _worker.__init__()  # type: ignore[misc]


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_worker_in_child)
