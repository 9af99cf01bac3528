"""What the OpenTelemetry SDK alone costs for the telemetry openai-sentinel emits.

``bench/peers.py`` compares whole instrumentations. This bench separates the part no
instrumentation can avoid once it decides what to record: the SDK's own work for one CLIENT
span of ``A`` attributes and ``P`` histogram points of the conventions' attributes, measured
in place (interleaved with bare calls of the real ``openai`` client over the mock transport
of ``bench/overhead.py``, same SDK setup, thread CPU time, medians of paired rounds), where
caches are cold from the client's own work and every SDK call costs about twice its cost
in a tight loop.

Variants, each a ``wrapt`` wrapper around ``Completions.create`` that reads nothing of the
call and records pre-built attribute dictionaries (so the figures are the SDK's alone):

* ``span12+2pts``: the floor of ``overhead.py`` and ``peers.py`` (12 span attributes,
  duration and one token point);
* ``span25+5pts``: what openai-sentinel records with everything on (25 span attributes;
  duration, input and output tokens, cost and confidence, in the span's context so the
  SDK offers them as exemplars, as ours are);
* ``span25``, ``5pts``, ``1pt``: the parts, to read the cost of a span and of a point;
* ``span25+5fast``, ``5fast``: the same points through openai-sentinel's
  ``FastHistogram`` (``_fast_histogram.py``), as it records them (same data points and
  exemplars, the SDK's lookups done once per attribute set);
* streams: ``1pt/chunk``, one ``time_per_output_chunk`` point per chunk with the
  conventions' six attributes and no exemplar, as the conventions ask, through
  ``Histogram.record``; ``batched``, the same points in batches of 64 through
  ``FastHistogram.record_batch``, as openai-sentinel records them.

Run from the project root: ``.venv/bin/python bench/sdk_floor.py`` (about 40 s; ``--quick``:
10 s). It reports; it never fails.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import wrapt
from openai.resources.chat.completions import Completions
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import INVALID_SPAN, SpanKind

from openai_sentinel._fast_histogram import FastHistogram

try:  # ``python -m bench.sdk_floor`` from the project root
    from bench._environment import machine
    from bench._environment import version as _version
    from bench.overhead import (
        CHAT_MODULE,
        Scenario,
        Sdk,
        Variant,
        completion_body,
        make_client,
        make_sdk,
        non_stream_call,
        sse_body,
        stream_call,
        summarise,
    )
except ImportError:  # ``python bench/sdk_floor.py``
    from _environment import machine  # type: ignore[no-redef,import-not-found]
    from _environment import version as _version  # type: ignore[no-redef]
    from overhead import (  # type: ignore[no-redef,import-not-found]
        CHAT_MODULE,
        Scenario,
        Sdk,
        Variant,
        completion_body,
        make_client,
        make_sdk,
        non_stream_call,
        sse_body,
        stream_call,
        summarise,
    )

SCOPE = "bench.sdk_floor"
METRIC_ATTRIBUTES: dict[str, Any] = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4o-mini",
    "server.address": "api.openai.com",
    "server.port": 443,
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "openai.response.service_tier": "default",
}
CHUNK_ATTRIBUTES = {k: v for k, v in METRIC_ATTRIBUTES.items() if not k.startswith("openai.")}
NO_EXEMPLAR = trace.set_span_in_context(INVALID_SPAN)


def span_attributes(count: int) -> dict[str, Any]:
    """``count`` attributes of the types a GenAI span carries (strings, ints, floats)."""
    kinds: list[Any] = ["chat", 443, 0.2, "gpt-4o-mini", 256, 1.5e-05, True]
    return {f"gen_ai.bench.attribute_{i}": kinds[i % len(kinds)] for i in range(count)}


class Recorder:
    """A wrapper that makes one span of ``attributes`` around the call, current while it
    runs, and records ``points`` histogram points (in its context) when it returns; for a
    stream, chunk points (``per_chunk``: none, ``record`` or ``batched``) and the rest
    when it ends; with ``fast``, the call's points go through ``FastHistogram``."""

    def __init__(
        self, sdk: Sdk, *, attributes: int, points: int, per_chunk: str, fast: bool = False
    ) -> None:
        self.tracer = sdk.tracer_provider.get_tracer(SCOPE)
        meter = sdk.meter_provider.get_meter(SCOPE)
        self.histograms: list[Any] = [
            meter.create_histogram(f"bench.floor.h{i}") for i in range(points)
        ]
        if fast:
            self.histograms = [FastHistogram(histogram) for histogram in self.histograms]
        self.chunk_histogram = meter.create_histogram("bench.floor.chunk")
        self.attributes = span_attributes(attributes)
        self.with_span = attributes > 0
        self.per_chunk = per_chunk

    def record(self, context: Any) -> None:
        for index, histogram in enumerate(self.histograms):
            histogram.record(0.5 + index, METRIC_ATTRIBUTES, context)

    def chunks(self, stream: Any, span: Any, context: Any) -> Iterator[Any]:
        record = self.chunk_histogram.record
        batch = FastHistogram(self.chunk_histogram)
        gaps: list[float] = []
        for chunk in stream:
            if self.per_chunk == "record":
                record(0.01, CHUNK_ATTRIBUTES, NO_EXEMPLAR)
            elif self.per_chunk == "batched":
                gaps.append(0.01)
                if len(gaps) == 64:
                    batch.record_batch(gaps, CHUNK_ATTRIBUTES, NO_EXEMPLAR)
                    gaps = []
            yield chunk
        if gaps:
            batch.record_batch(gaps, CHUNK_ATTRIBUTES, NO_EXEMPLAR)
        self.record(context)
        if span is not None:
            span.end()

    def __call__(self, wrapped: Callable[..., Any], instance: Any, args: Any, kwargs: Any) -> Any:
        span = context = token = None
        if self.with_span:
            span = self.tracer.start_span("chat", kind=SpanKind.CLIENT, attributes=self.attributes)
            context = trace.set_span_in_context(span)
            token = otel_context.attach(context)
        try:
            result = wrapped(*args, **kwargs)
        finally:
            if token is not None:
                otel_context.detach(token)
        if kwargs.get("stream") is True:
            return self.chunks(result, span, context)
        self.record(context)
        if span is not None:
            span.end()
        return result


def variants(sdk: Sdk, shapes: Sequence[tuple[str, int, int, str]]) -> list[Variant]:
    """``bare`` and one variant per ``(name, span attributes, points, per chunk)``."""

    def nothing() -> None:
        return None

    result = [Variant("bare", "bare client", None, nothing, nothing)]
    for name, attributes, points, per_chunk in shapes:
        recorder = Recorder(
            sdk,
            attributes=attributes,
            points=points,
            per_chunk=per_chunk,
            fast=name.endswith("fast"),
        )

        def install(recorder: Recorder = recorder) -> None:
            wrapt.wrap_function_wrapper(CHAT_MODULE, "Completions.create", recorder)

        def uninstall() -> None:
            unwrap(Completions, "create")

        scope = SCOPE if attributes > 0 else None
        result.append(Variant(name, name, scope, install, uninstall))
    return result


CALL_SHAPES = (
    ("span12+2pts", 12, 2, ""),
    ("span25+5pts", 25, 5, ""),
    ("span25", 25, 0, ""),
    ("5pts", 0, 5, ""),
    ("1pt", 0, 1, ""),
    ("span25+5fast", 25, 5, ""),
    ("5fast", 0, 5, ""),
)
STREAM_SHAPES = (
    ("span25+5pts", 25, 5, ""),
    ("span25+5pts+1pt/chunk", 25, 5, "record"),
    ("span25+5pts+batched", 25, 5, "batched"),
)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="measured rounds")
    parser.add_argument("--calls", type=int, default=50, help="calls per block")
    parser.add_argument("--chunks", type=int, default=200, help="content chunks per stream")
    parser.add_argument("--quick", action="store_true", help="5 rounds of 20 calls")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.calls = 5, 20
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the SDK's share, print it."""
    args = parse_args(argv)
    sdk = make_sdk()
    calls = Scenario(
        "non_stream",
        non_stream_call(make_client(completion_body(), "application/json")),
        args.calls,
        variants(sdk, CALL_SHAPES),
    )
    streams = Scenario(
        "stream",
        stream_call(make_client(sse_body(args.chunks), "text/event-stream")),
        max(2, args.calls // 12),
        variants(sdk, STREAM_SHAPES),
    )
    for index in range(args.rounds + 2):
        for scenario in (calls, streams):
            scenario.run_round(index, sdk, keep=index >= 2)
        if index == 0:
            gc.collect()
            gc.freeze()
    env = machine()
    print(
        f"opentelemetry-sdk {_version('opentelemetry-sdk')}, python {env['python']}, "
        f"{env['cpus']} cpus, loadavg {env['loadavg']}; {args.rounds} rounds; thread CPU µs "
        "over the bare client, median of paired rounds"
    )
    print("\nper non-streaming call")
    for name, summary in summarise(calls).items():
        if name != "bare":
            print(f"  {name:<24}{summary.cpu.overhead_us or 0.0:>8.1f}")
    chunks = args.chunks + 2
    stream = summarise(streams)
    print(f"\nper stream of {chunks} chunks (and per chunk)")
    for name, summary in stream.items():
        if name != "bare":
            overhead = summary.cpu.overhead_us or 0.0
            print(f"  {name:<24}{overhead:>8.1f}{overhead / chunks:>8.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
