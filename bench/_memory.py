"""Memory measurements of ``bench/peers.py``: memory held per in-flight stream (tracemalloc)
and resident memory over a long run of calls (RSS, in a fresh process per variant).

Nothing here knows the variants: ``peers.py`` hands in the calls to make and reads back
the figures. The span sink of ``overhead.make_sdk`` (``CountingExporter``) keeps only a
count and the last span per instrumentation scope, so exported spans are not what grows.
"""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "HeldMemory",
    "RssRun",
    "dump_rss",
    "held_by",
    "print_rss_table",
    "rss_mb",
    "run_rss",
    "spawn_rss",
]


def rss_mb() -> float:
    """This process's resident memory in MB (Linux ``/proc``; peak RSS elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- memory per in-flight stream -----------------------------------------------------------


@dataclass
class HeldMemory:
    """What ``count`` objects made by one callable hold, by tracemalloc (bytes)."""

    count: int
    held_bytes: int
    """Traced memory with the objects alive minus before they were made (after a collect)."""
    retained_bytes: int
    """Traced memory after they were released, dropped and collected, minus before."""


def _traced() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def held_by(
    make: Callable[[], Any],
    count: int,
    release: Callable[[list[Any]], None],
    after_drop: Callable[[], None] | None = None,
) -> HeldMemory:
    """Make ``count`` objects with ``make`` and keep them; measure; ``release`` them, drop
    them, collect (then ``after_drop``) and measure again. Starts tracemalloc if needed."""
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    before = _traced()
    kept = [make() for _ in range(count)]
    held = _traced() - before
    release(kept)
    del kept
    gc.collect()
    if after_drop is not None:
        after_drop()
    retained = _traced() - before
    return HeldMemory(count, held, retained)


# -- resident memory over a long run -------------------------------------------------------


@dataclass
class RssRun:
    """Resident memory of one variant over ``calls`` calls and ``abandoned`` streams."""

    variant: str
    calls: int
    abandoned: int
    rss_start_mb: float = 0.0
    """After the setup, before the first call."""
    rss_after_warmup_mb: float = 0.0
    """After the first 10% of the calls (collected)."""
    rss_end_mb: float = 0.0
    """After the last call (collected)."""
    growth_mb: float = 0.0
    """``rss_end_mb - rss_after_warmup_mb``: what the 90% of the calls after the warm-up left."""
    rss_after_abandoned_mb: float = 0.0
    """After the abandoned streams, collected (and finalizers run)."""
    abandoned_growth_mb: float = 0.0
    """``rss_after_abandoned_mb - rss_end_mb``."""
    spans: int | None = None
    """Spans exported for the calls (None for ``bare``); should equal ``calls``."""
    abandoned_spans_ended: int | None = None
    """Spans exported for the abandoned streams once collected (None for ``bare``)."""
    seconds: float = 0.0
    samples: list[tuple[int, float]] = field(default_factory=list)
    """(calls made so far, resident MB), every tenth of the calls."""
    error: str = ""


def run_rss(
    variant: str,
    call: Callable[[], None],
    abandon: Callable[[], None],
    calls: int,
    abandoned: int,
    spans: Callable[[], int] | None,
    after_collect: Callable[[], None] | None = None,
) -> RssRun:
    """``calls`` x ``call()``, then ``abandoned`` x ``abandon()`` (a stream opened, one chunk
    read, dropped unclosed), sampling resident memory after a ``gc.collect()``."""
    run = RssRun(variant, calls, abandoned)
    started = time.perf_counter()

    def sample() -> float:
        gc.collect()
        if after_collect is not None:
            after_collect()
        return round(rss_mb(), 2)

    spans_before = spans() if spans else 0
    run.rss_start_mb = sample()
    run.samples.append((0, run.rss_start_mb))
    warmup = max(1, calls // 10)
    step = max(1, calls // 10)
    for index in range(1, calls + 1):
        call()
        if index % step == 0 or index == calls:
            run.samples.append((index, sample()))
            if index == warmup:
                run.rss_after_warmup_mb = run.samples[-1][1]
    run.rss_end_mb = run.samples[-1][1]
    run.growth_mb = round(run.rss_end_mb - run.rss_after_warmup_mb, 2)
    spans_after_calls = spans() if spans else 0
    for _ in range(abandoned):
        abandon()
    run.rss_after_abandoned_mb = sample()
    run.abandoned_growth_mb = round(run.rss_after_abandoned_mb - run.rss_end_mb, 2)
    if spans is not None:
        run.spans = spans_after_calls - spans_before
        run.abandoned_spans_ended = spans() - spans_after_calls
    run.seconds = round(time.perf_counter() - started, 1)
    return run


def spawn_rss(command: Sequence[str], variant: str) -> RssRun:
    """Run ``command`` (a child that prints an ``RssRun`` as JSON on its last stdout line)."""
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, check=False)
    except OSError as error:
        return RssRun(variant, 0, 0, error=f"{type(error).__name__}: {error}")
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return RssRun(variant, 0, 0, error=f"child exited {done.returncode}: {tail}")
    document = json.loads(lines[-1])
    document["samples"] = [tuple(sample) for sample in document.get("samples", [])]
    return RssRun(**document)


def print_rss_table(runs: Sequence[RssRun]) -> None:
    """One line per variant: RSS after the warm-up, at the end, growth; abandoned streams."""
    if not runs:
        return
    first = runs[0]
    print(
        f"\nresident memory, a fresh process per variant: {first.calls} non-streaming calls, "
        f"then {first.abandoned} streams\nabandoned (opened, one chunk read, dropped unclosed); "
        "MB, each sample after gc.collect()\nwarm = after the first 10% of the calls; growth = "
        "end - warm; abandoned = growth over the\nabandoned streams; spans = spans of the "
        f"calls; ended = spans of the abandoned streams ended (of {first.abandoned})"
    )
    print(
        f"\n  {'variant':<18}{'warm MB':>9}{'end MB':>9}{'growth':>9}"
        f"{'abandoned':>11}{'spans':>9}{'ended':>8}{'s':>6}"
    )
    for r in runs:
        if r.error:
            print(f"  {r.variant:<18}{r.error}")
            continue
        spans = "-" if r.spans is None else str(r.spans)
        ended = "-" if r.abandoned_spans_ended is None else str(r.abandoned_spans_ended)
        print(
            f"  {r.variant:<18}{r.rss_after_warmup_mb:>9.1f}{r.rss_end_mb:>9.1f}"
            f"{r.growth_mb:>+9.1f}{r.abandoned_growth_mb:>+11.1f}{spans:>9}{ended:>8}"
            f"{r.seconds:>6.0f}"
        )


def dump_rss(run: RssRun) -> None:
    """The child's last stdout line."""
    print(json.dumps(asdict(run)))
    sys.stdout.flush()
