"""Concurrency: 64 threads and 256 asyncio tasks making calls at once, streams read to the
end, closed early or cancelled mid-stream: every call's span ends exactly once, under its
own parent, with its own attributes (no cross-talk between threads or tasks), and
nothing hangs (the suite's timeout)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable

import pytest
from openai import AsyncOpenAI, OpenAI
from opentelemetry.sdk.trace import ReadableSpan

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor

from ..support.telemetry import Telemetry, collect_garbage

pytestmark = pytest.mark.timeout(120)
Instrument = Callable[..., OpenAISentinelInstrumentor]
THREADS, TASKS = 64, 256


def _check(telemetry: Telemetry, expected_calls: int) -> list[ReadableSpan]:
    spans = telemetry.spans()
    ids = Counter(span.context.span_id for span in spans)
    assert not [span_id for span_id, count in ids.items() if count > 1], "a span ended twice"
    assert all(span.end_time is not None for span in spans)
    parents = {span.context.span_id: span for span in spans if span.name.startswith("work ")}
    calls = [span for span in spans if not span.name.startswith("work ")]
    assert len(calls) == expected_calls
    for call in calls:
        assert call.parent is not None, call.name
        parent = parents[call.parent.span_id]
        # the call carries the attributes its own thread or task set, under its own parent
        assert call.attributes["worker"] == parent.attributes["worker"]
    return calls


def test_threads_keep_their_spans_apart(
    instrument: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    instrument()
    tracer = telemetry.tracer_provider.get_tracer("app")
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait(timeout=30)
            with (
                tracer.start_as_current_span(f"work {worker}", attributes={"worker": worker}),
                openai_sentinel.attributes(worker=worker),
            ):
                messages = [{"role": "user", "content": f"worker {worker}"}]
                if worker % 3 == 0:
                    client.chat.completions.create(model="gpt-4o-mini", messages=messages)
                else:
                    stream = client.chat.completions.create(
                        model="gpt-4o-mini", messages=messages, stream=True
                    )
                    with stream:  # every other stream is closed after its first chunk
                        for index, _ in enumerate(stream):
                            if worker % 3 == 1 and index == 0:
                                break
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors[:3]
    assert not any(thread.is_alive() for thread in threads)
    calls = _check(telemetry, THREADS)
    closed_early = [c for c in calls if c.attributes.get("sentinel.stream.end") == "closed"]
    assert len(closed_early) == len(range(1, THREADS, 3))


async def test_tasks_keep_their_spans_apart_even_when_cancelled(
    instrument: Instrument, telemetry: Telemetry, aclient: AsyncOpenAI
) -> None:
    instrument()
    tracer = telemetry.tracer_provider.get_tracer("app")
    first_chunk = {worker: asyncio.Event() for worker in range(TASKS)}

    async def work(worker: int) -> None:
        with (
            tracer.start_as_current_span(f"work {worker}", attributes={"worker": worker}),
            openai_sentinel.attributes(worker=worker),
        ):
            stream = await aclient.chat.completions.create(
                model="gpt-4o-mini",
                messages=[{"role": "user", "content": f"task {worker}"}],
                stream=True,
            )
            async for _ in stream:
                first_chunk[worker].set()
                await asyncio.sleep(0)  # let the other tasks interleave

    tasks = [asyncio.create_task(work(worker)) for worker in range(TASKS)]
    cancelled = []
    for worker in range(0, TASKS, 4):  # a quarter is cancelled mid-stream
        await asyncio.wait_for(first_chunk[worker].wait(), timeout=30)
        if not tasks[worker].done():
            tasks[worker].cancel()
            cancelled.append(worker)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
    assert not [
        r
        for r in results
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
    ]
    # a task cancelled between two chunks leaves its stream unread, not failed: the span
    # ends as abandoned once the stream is collected (the CancelledErrors' tracebacks hold
    # the tasks' frames, and so the streams, until they are dropped)
    del results, tasks
    for _ in range(3):  # the loop closes the cancelled HTTP streams; then they are collected
        await asyncio.sleep(0.05)
        collect_garbage()
    calls = _check(telemetry, TASKS)
    ended = Counter(str(call.attributes.get("sentinel.stream.end")) for call in calls)
    assert ended["completed"] == TASKS - len(cancelled)
    assert ended["abandoned"] + ended["error"] == len(cancelled)
