"""Finalizers never call the OpenTelemetry SDK: they only note the work for a worker thread.

Garbage collection can run a finalizer anywhere, even inside the SDK while it holds its
own non-reentrant lock; a finalizer that ended a span or recorded a metric there would
wait forever.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor

from openai_sentinel import semconv

from ..support.http_library import http
from ..support.telemetry import Telemetry, collect_garbage
from ..support.transport import ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]
SCENARIO = Path(__file__).parents[1] / "support" / "abandon_during_collection.py"


@pytest.mark.timeout(150)
def test_streams_abandoned_during_a_metric_collection_do_not_deadlock() -> None:
    """It hung for good before: a stream's finalizer waited on the SDK's lock."""
    rounds = 600
    done = subprocess.run(
        [sys.executable, str(SCENARIO), str(rounds)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["finished", str(rounds)]


class _EndingThreads(SpanProcessor):
    """Remembers the thread that ended each span."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.threads.append(threading.current_thread().name)


def test_an_abandoned_stream_is_finished_by_the_worker_not_the_finalizer(
    telemetry: Telemetry, instrumented
) -> None:
    ending = _EndingThreads()
    telemetry.tracer_provider.add_span_processor(ending)
    stream = sync_client(ScriptedAPI()).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True
    )
    next(stream)
    del stream
    collect_garbage()
    assert ending.threads == ["openai-sentinel-finalizer"]
    (span,) = telemetry.spans()
    assert (span.attributes or {})[semconv.SENTINEL_STREAM_END] == "abandoned"
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1


async def test_a_call_closed_while_in_flight_is_finished_by_the_worker(
    telemetry: Telemetry, instrumented
) -> None:
    """``coroutine.close()`` (what the garbage collector does to a dropped, suspended
    coroutine) ends the span from the worker thread, as a failed call."""
    ending = _EndingThreads()
    telemetry.tracer_provider.add_span_processor(ending)
    release = asyncio.Event()

    async def slow_handler(request: http.Request) -> http.Response:
        await release.wait()
        return http.Response(500)

    client = async_client(ScriptedAPI())
    client._client = http.AsyncClient(transport=http.MockTransport(slow_handler))
    call = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    call.send(None)  # runs until the transport waits
    call.close()
    collect_garbage()
    assert ending.threads == ["openai-sentinel-finalizer"]
    (span,) = telemetry.spans()
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "GeneratorExit"
