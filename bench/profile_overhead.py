"""Where openai-sentinel spends its time: the instrumented call under cProfile.

Run: ``python bench/profile_overhead.py [--calls N] [--stream] [--chunks N] [--top N]``.

It instruments the same mocked client and SDK as ``bench/overhead.py``, profiles
``--calls`` calls (non-streaming, or streams of ``--chunks`` chunks with ``--stream``)
and prints, per profiled call, the ``openai_sentinel`` functions by cumulative time and
the OpenTelemetry functions by own time. cProfile inflates every Python call, so read
the figures as proportions, not as the overhead itself.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
from collections.abc import Sequence

try:  # ``python -m bench.profile_overhead`` from the project root
    from bench import overhead
except ImportError:  # ``python bench/profile_overhead.py``
    import overhead  # type: ignore[no-redef]

from openai_sentinel import OpenAISentinelInstrumentor

# (filename, line, function) -> (primitive calls, calls, own time, cumulative time, callers)
StatsTable = dict[tuple[str, int, str], tuple[int, int, float, float, object]]


def _where(key: tuple[str, int, str]) -> str:
    filename, line, function = key
    for marker in ("openai_sentinel/", "opentelemetry/", "site-packages/"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({function})"


def print_top(
    table: StatsTable, title: str, path_part: str, calls: int, top: int, *, by_cumulative: bool
) -> None:
    """The ``top`` functions whose file path contains ``path_part``, per profiled call."""
    rows = [(key, value) for key, value in table.items() if path_part in key[0]]
    rows.sort(key=lambda row: row[1][3] if by_cumulative else row[1][2], reverse=True)
    print(f"\n{title}")
    print(f"  {'cum µs/call':>12}{'own µs/call':>12}{'calls/call':>11}  function")
    for key, (_, ncalls, own, cumulative, _) in rows[:top]:
        print(
            f"  {cumulative / calls * 1e6:>12.1f}{own / calls * 1e6:>12.1f}"
            f"{ncalls / calls:>11.1f}  {_where(key)}"
        )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="profiled calls")
    parser.add_argument("--stream", action="store_true", help="profile consumed streams")
    parser.add_argument("--chunks", type=int, default=200, help="content chunks per stream")
    parser.add_argument("--top", type=int, default=20, help="rows per table")
    parser.add_argument("--capture-content", action="store_true", help="capture_content=True")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Profile the instrumented call and print the hot spots."""
    args = parse_args(argv)
    sdk = overhead.make_sdk()
    if args.stream:
        calls = max(1, args.calls // 20)
        call = overhead.stream_call(
            overhead.make_client(overhead.sse_body(args.chunks), "text/event-stream")
        )
    else:
        calls = args.calls
        call = overhead.non_stream_call(
            overhead.make_client(overhead.completion_body(), "application/json")
        )
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(
        tracer_provider=sdk.tracer_provider,
        meter_provider=sdk.meter_provider,
        capture_content=args.capture_content,
    )
    try:
        for _ in range(max(10, calls // 10)):
            call()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(calls):
            call()
        profiler.disable()
    finally:
        instrumentor.uninstrument()

    table: StatsTable = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    kind = f"streams of {args.chunks + 2} chunks" if args.stream else "non-streaming calls"
    print(f"profiled {calls} instrumented {kind} (µs per call, inflated by cProfile)")
    total = sum(own for _, _, own, _, _ in table.values())
    print(f"  whole call: {total / calls * 1e6:.1f} µs")
    print_top(
        table,
        "openai_sentinel functions by cumulative time",
        "openai_sentinel",
        calls,
        args.top,
        by_cumulative=True,
    )
    print_top(
        table,
        "OpenTelemetry functions by own time",
        "opentelemetry",
        calls,
        args.top,
        by_cumulative=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
