"""Soak: openai-sentinel left on for a long time against the simulator, with the calls
that stress it most (streams read to the end, streams abandoned after two chunks without
``close()``, failures, and asynchronous calls, streams and tasks cancelled mid-stream),
reporting memory, spans and dropped telemetry.

Every call is made through the real ``openai`` client with the instrumentation on; spans
go through a ``BatchSpanProcessor`` (as in production) to a counting exporter, metrics to
an ``InMemoryMetricReader``. At the end (abandoned streams collected, providers flushed)
it reports the calls made, the spans exported, the calls the duration histogram counted,
what was dropped, and the resident memory over the run: its growth after the warm-up is
what would show a leak.

    python bench/soak.py --minutes 60          # make soak
    python bench/soak.py --seconds 30 --json soak.json
    python bench/soak.py --calls 3600          # a fixed amount of work (the test's)

A short run is part of ``make test`` (``tests/e2e/test_soak.py``); the exit status is 0
unless a span or a metric point is missing.

Run it with openai 3.x (``httpx2``). With openai 1.x and 2.x (``httpx``) the bare client
itself deadlocks within seconds on this mix: an abandoned stream collected by the garbage
collector while a later request holds httpcore's connection-pool lock closes its response
under that same lock (reproduced without instrumentation on Python 3.11 and 3.13).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import openai
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from openai_sentinel import OpenAISentinelInstrumentor, _abandoned
from openai_sentinel.simulator import Simulator, SimulatorConfig

try:  # ``python -m bench.soak`` from the project root
    from bench._environment import machine
    from bench._memory import rss_mb
except ImportError:  # ``python bench/soak.py``
    from _environment import machine  # type: ignore[import-not-found,no-redef]
    from _memory import rss_mb  # type: ignore[import-not-found,no-redef]

_KINDS = (
    "chat",
    "async chat",
    "chat",
    "chat",
    "stream",
    "abandoned",
    "async stream",
    "chat",
    "error",
    "async cancelled",
    "chat",
    "stream",
)
"""One cycle of calls: five plain, two streams read to the end, one abandoned, one failure;
asynchronous: one plain, one stream read to the end, one task cancelled mid-stream."""
_WARMUP_SHARE = 0.2
"""The part of the run whose memory growth is warm-up (caches, the price table, pools)."""


class CountingExporter(SpanExporter):
    """Counts the spans it is given, and the ones still open (never the case)."""

    def __init__(self) -> None:
        self.spans = 0
        self.unfinished = 0
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        with self._lock:
            self.spans += len(spans)
            self.unfinished += sum(1 for span in spans if span.end_time is None)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


@dataclass
class Soak:
    """What one soak run measured."""

    seconds: float
    calls: dict[str, int] = field(default_factory=dict)
    """Calls made, by kind."""
    total_calls: int = 0
    spans_exported: int = 0
    spans_unfinished: int = 0
    duration_points: int = 0
    dropped_spans: int = 0
    rss_mb: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since start, resident MB) samples."""

    @property
    def rss_growth_mb(self) -> float:
        """Resident memory at the end minus after the warm-up."""
        if len(self.rss_mb) < 2:
            return 0.0
        after_warmup = next(
            (mb for at, mb in self.rss_mb if at >= self.seconds * _WARMUP_SHARE), self.rss_mb[0][1]
        )
        return self.rss_mb[-1][1] - after_warmup


def _call(client: openai.OpenAI, kind: str, index: int) -> None:
    messages: Any = [{"role": "user", "content": f"question {index % 97}"}]
    if kind == "chat":
        client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    elif kind == "stream":
        for _ in client.chat.completions.create(
            model="gpt-4o-mini", messages=messages, stream=True
        ):
            pass
    elif kind == "abandoned":
        stream = client.chat.completions.create(model="gpt-4o-mini", messages=messages, stream=True)
        for count, _ in enumerate(stream):
            if count == 1:
                break
        del stream  # neither read to the end nor closed: the span ends when it is collected
    else:
        with contextlib.suppress(openai.InternalServerError):
            client.chat.completions.create(
                model="gpt-4o-mini", messages=messages, extra_headers={"x-simulator-error": "500"}
            )


async def _async_call(client: openai.AsyncOpenAI, kind: str, index: int) -> None:
    messages: Any = [{"role": "user", "content": f"question {index % 97}"}]
    if kind == "async chat":
        await client.chat.completions.create(model="gpt-4o-mini", messages=messages)
        return
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=messages, stream=True
    )
    if kind == "async stream":
        async for _ in stream:
            pass
        return
    # a task cancelled while it reads the stream: its span ends with the cancellation
    started = asyncio.Event()

    async def read() -> None:
        async for _ in stream:
            started.set()

    task = asyncio.ensure_future(read())
    await started.wait()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _duration_points(reader: InMemoryMetricReader) -> int:
    data = reader.get_metrics_data()
    total = 0
    for resource_metrics in data.resource_metrics if data else ():
        for scope in resource_metrics.scope_metrics:
            for metric in scope.metrics:
                if metric.name == "gen_ai.client.operation.duration":
                    total += sum(point.count for point in metric.data.data_points)  # type: ignore[union-attr]
    return total


def run(seconds: float | None = None, calls_wanted: int | None = None, samples: int = 20) -> Soak:
    """Make calls for ``seconds``, or ``calls_wanted`` calls; sample memory ``samples``
    times along the way."""
    if (seconds is None) == (calls_wanted is None):
        raise ValueError("give seconds or calls_wanted")
    exporter = CountingExporter()
    processor = BatchSpanProcessor(exporter, max_queue_size=65_536, schedule_delay_millis=500)
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(processor)
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    soak = Soak(seconds=seconds or 0.0)
    calls: dict[str, int] = {}
    loop = asyncio.new_event_loop()  # one loop for the whole run, as an application has
    try:
        with Simulator(SimulatorConfig(min_completion_tokens=4, max_completion_tokens=12)) as sim:
            client = openai.OpenAI(base_url=sim.base_url, api_key="sk-soak", max_retries=0)
            async_client = openai.AsyncOpenAI(
                base_url=sim.base_url, api_key="sk-soak", max_retries=0
            )
            started = time.monotonic()
            next_sample, index = 0.0, 0

            def progress(elapsed: float) -> float:
                return elapsed / seconds if seconds else index / (calls_wanted or 1)

            while (done := progress(elapsed := time.monotonic() - started)) < 1.0:
                kind = _KINDS[index % len(_KINDS)]
                if kind.startswith("async"):
                    loop.run_until_complete(_async_call(async_client, kind, index))
                else:
                    _call(client, kind, index)
                calls[kind] = calls.get(kind, 0) + 1
                index += 1
                if done >= next_sample:
                    gc.collect()
                    soak.rss_mb.append((round(elapsed, 2), round(rss_mb(), 2)))
                    next_sample += 1.0 / samples
            loop.run_until_complete(async_client.close())
            gc.collect()
            _abandoned.flush(timeout=30)
            soak.seconds = round(time.monotonic() - started, 2)
            soak.rss_mb.append((soak.seconds, round(rss_mb(), 2)))
    finally:
        loop.close()
        instrumentor.uninstrument()
        tracer_provider.shutdown()
    soak.calls = calls
    soak.total_calls = sum(calls.values())
    soak.spans_exported = exporter.spans
    soak.spans_unfinished = exporter.unfinished
    soak.duration_points = _duration_points(reader)
    soak.dropped_spans = soak.total_calls - exporter.spans
    meter_provider.shutdown()
    return soak


def report(soak: Soak) -> str:
    growth = soak.rss_growth_mb
    lines = [
        f"soak: {soak.seconds:.0f} s, {soak.total_calls} calls "
        f"({', '.join(f'{kind} {count}' for kind, count in sorted(soak.calls.items()))})",
        f"  spans exported {soak.spans_exported}, unfinished {soak.spans_unfinished}, "
        f"dropped {soak.dropped_spans}; duration points {soak.duration_points}",
        f"  resident memory: {soak.rss_mb[0][1]:.1f} MB at the start, "
        f"{soak.rss_mb[-1][1]:.1f} MB at the end, {growth:+.1f} MB after the warm-up",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, default=None)
    length.add_argument("--seconds", type=float, default=None)
    length.add_argument("--calls", type=int, default=None, help="this many calls, however long")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    print(machine())
    if args.calls:
        soak = run(calls_wanted=args.calls)
    else:
        soak = run(args.seconds if args.seconds else (args.minutes or 1.0) * 60)
    print(report(soak))
    if args.json:
        figures = {**asdict(soak), "rss_growth_mb": soak.rss_growth_mb}
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    complete = soak.dropped_spans == 0 and soak.spans_unfinished == 0
    return 0 if complete and soak.duration_points == soak.total_calls else 1


if __name__ == "__main__":
    sys.exit(main())
