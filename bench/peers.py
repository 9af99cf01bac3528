"""Overhead of openai-sentinel against its peers, side by side in one process.

Reuses the machinery of ``bench/overhead.py`` (real ``openai`` client over an
``httpx2.MockTransport`` answering pre-serialised bytes, real OpenTelemetry SDK with spans
to a counting sink and metrics to ``InMemoryMetricReader``, interleaved rounds rotated
every round, overheads paired per round against ``bare``, medians) and adds the peers,
each instrumented / uninstrumented around its block with the same tracer and meter
providers:

* ``bare``: no instrumentation;
* ``floor``: overhead.py's hand-written ``wrapt`` wrapper (one CLIENT span, 12 attributes,
  two histogram points);
* ``sentinel-full``: openai-sentinel defaults (cost, confidence heuristic, security
  scanning, repeats, drift; ``request_logprobs=False``) plus ``stream_usage=True``;
* ``sentinel-minimal``: ``security_scanning=False, drift_detection=False,
  repeat_window_seconds=0, confidence_heuristic=False``;
* ``otel-v2``: ``opentelemetry-instrumentation-openai-v2`` (OpenTelemetry contrib GenAI);
* ``openllmetry``: ``opentelemetry-instrumentation-openai`` (Traceloop's OpenLLMetry);
* ``openinference``: ``openinference-instrumentation-openai`` (Arize).

Peers run with their default settings (OpenLLMetry and OpenInference record prompts and
completions on the span by default; otel-v2 and openai-sentinel do not). A peer that is
not installed, fails to patch, raises, or does not make exactly one span per call is
reported as not running, never crashes the bench. Some peers do not remove every patch on
``uninstrument()``: whatever they left on the openai classes is put back after each block.

Workloads: a non-streaming chat (µs per call), a streamed chat of ``--chunks`` content
chunks (µs per chunk = stream overhead / chunks in the stream) and a chat with a 4 KB
prompt (what security scanning costs on a longer prompt). Also measured: the time of
``import openai_sentinel`` in a fresh interpreter (median of 5).

Run from the project root::

    .venv/bin/python bench/peers.py            # about a minute
    .venv/bin/python bench/peers.py --quick    # a few seconds, for a smoke test
    .venv/bin/python bench/peers.py --calls 50 --rounds 30 --json /tmp/peers.json

The peers come from PyPI: ``opentelemetry-instrumentation-openai-v2``,
``opentelemetry-instrumentation-openai``, ``openinference-instrumentation-openai`` and
``openinference-semantic-conventions``. The bench always exits 0 (it reports; it never
fails) unless its own code crashes.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import json
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

try:  # ``python -m bench.peers`` from the project root
    from bench._environment import machine
    from bench._environment import version as _version
    from bench.overhead import (
        CHAT_MODULE,
        MESSAGES,
        REQUEST,
        MinimalWrapper,
        Scenario,
        Sdk,
        Summary,
        Variant,
        _fmt,
        _is_wrapped,
        completion_body,
        make_client,
        make_sdk,
        non_stream_call,
        sse_body,
        stream_call,
        summarise,
    )
except ImportError:  # ``python bench/peers.py``
    from _environment import machine  # type: ignore[no-redef,import-not-found]
    from _environment import version as _version  # type: ignore[no-redef]
    from overhead import (  # type: ignore[no-redef,import-not-found]
        CHAT_MODULE,
        MESSAGES,
        REQUEST,
        MinimalWrapper,
        Scenario,
        Sdk,
        Summary,
        Variant,
        _fmt,
        _is_wrapped,
        completion_body,
        make_client,
        make_sdk,
        non_stream_call,
        sse_body,
        stream_call,
        summarise,
    )

import openai
import wrapt
from openai.resources.chat.completions import Completions
from opentelemetry.instrumentation.utils import unwrap

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor

SENTINEL_SCOPE = "openai_sentinel"
FLOOR_SCOPE = "bench.minimal"


@dataclass(frozen=True)
class Peer:
    """A third-party instrumentation: where its instrumentor lives and its span scope."""

    name: str
    distribution: str
    module: str
    scope: str
    """Instrumentation scope of the spans it makes (checked on a probe call)."""


PEERS = (
    Peer(
        "otel-v2",
        "opentelemetry-instrumentation-openai-v2",
        "opentelemetry.instrumentation.openai_v2",
        "opentelemetry.util.genai.handler",
    ),
    Peer(
        "openllmetry",
        "opentelemetry-instrumentation-openai",
        "opentelemetry.instrumentation.openai",
        "opentelemetry.instrumentation.openai.v1",
    ),
    Peer(
        "openinference",
        "openinference-instrumentation-openai",
        "openinference.instrumentation.openai",
        "openinference.instrumentation.openai",
    ),
)
PEER_DISTRIBUTIONS = (
    "opentelemetry-instrumentation-openai-v2",
    "opentelemetry-util-genai",
    "opentelemetry-instrumentation-openai",
    "opentelemetry-semantic-conventions-ai",
    "openinference-instrumentation-openai",
    "openinference-instrumentation",
    "openinference-semantic-conventions",
)

LONG_PROMPT_BYTES = 4096
"""Size of the user message of the ``long_prompt`` workload."""

# -- patch hygiene -------------------------------------------------------------------------


class PatchGuard:
    """Snapshots the attributes of the openai client classes and puts back whatever an
    instrumentor left behind after its ``uninstrument()``.

    Some peers wrap a method under one path and unwrap it under another; without this,
    their wrapper would stay installed under the next variants, ``bare`` included.
    """

    PREFIXES = ("openai.resources", "openai._base_client", "openai._client", "openai.lib")

    def __init__(self) -> None:
        classes: dict[int, type] = {}
        for name, module in list(sys.modules.items()):
            if module is None or not name.startswith(self.PREFIXES):
                continue
            for value in list(vars(module).values()):
                if isinstance(value, type) and value.__module__.startswith("openai"):
                    classes[id(value)] = value
        self.snapshot = {cls: dict(vars(cls)) for cls in classes.values()}

    def restore(self) -> int:
        """Put every class back as it was at construction; the number of fixes made."""
        fixed = 0
        for cls, saved in self.snapshot.items():
            current = vars(cls)
            for key in [k for k in current if k not in saved]:
                delattr(cls, key)
                fixed += 1
            for key, value in saved.items():
                if key in ("__dict__", "__weakref__", "__doc__"):
                    continue
                if current.get(key) is not value:
                    setattr(cls, key, value)
                    fixed += 1
        return fixed


# -- variants ------------------------------------------------------------------------------


@dataclass
class PeerStatus:
    """Whether a peer could run here, and why not."""

    name: str
    distribution: str
    version: str
    runs: bool
    reason: str = ""


def _load_instrumentor(peer: Peer) -> Any:
    module = importlib.import_module(peer.module)
    return module.OpenAIInstrumentor()


def _counts(sdk: Sdk, scope: str) -> int:
    return sdk.exporter.counts[scope]


def probe_peer(
    peer: Peer, sdk: Sdk, guard: PatchGuard, calls: Sequence[Callable[[], None]]
) -> tuple[PeerStatus, Any]:
    """Instrument the peer, run each workload once, check one span per call, uninstrument."""
    version = _version(peer.distribution)
    if version == "?":
        return PeerStatus(peer.name, peer.distribution, version, False, "not installed"), None
    try:
        instrumentor = _load_instrumentor(peer)
    except Exception as error:
        reason = f"does not import: {type(error).__name__}: {error}"
        return PeerStatus(peer.name, peer.distribution, version, False, reason), None
    try:
        instrumentor.instrument(
            tracer_provider=sdk.tracer_provider, meter_provider=sdk.meter_provider
        )
        try:
            for call in calls:
                before = _counts(sdk, peer.scope)
                call()
                made = _counts(sdk, peer.scope) - before
                if made != 1:
                    raise RuntimeError(f"{made} spans in scope {peer.scope!r} for one call")
        finally:
            instrumentor.uninstrument()
            guard.restore()
    except Exception as error:
        reason = f"does not run with openai {openai.__version__}: {type(error).__name__}: {error}"
        traceback.print_exc(limit=3, file=sys.stderr)
        return PeerStatus(peer.name, peer.distribution, version, False, reason), None
    return PeerStatus(peer.name, peer.distribution, version, True), instrumentor


def make_peer_variants(
    sdk: Sdk, peers: Sequence[tuple[Peer, Any]], guard: PatchGuard
) -> list[Variant]:
    """The variants of one workload, ``bare`` first; ``peers`` are those that run."""
    floor = MinimalWrapper(sdk)
    sentinel = OpenAISentinelInstrumentor()

    def nothing() -> None:
        if _is_wrapped():
            raise RuntimeError("Completions.create is still wrapped in the bare variant")

    def install_floor() -> None:
        wrapt.wrap_function_wrapper(CHAT_MODULE, "Completions.create", floor)

    def uninstall_floor() -> None:
        unwrap(Completions, "create")

    def install_sentinel(**settings: Any) -> Callable[[], None]:
        def install() -> None:
            sentinel.instrument(
                tracer_provider=sdk.tracer_provider,
                meter_provider=sdk.meter_provider,
                **settings,
            )
            if not _is_wrapped():
                raise RuntimeError("OpenAISentinelInstrumentor did not wrap Completions.create")

        return install

    variants = [
        Variant("bare", "bare client", None, nothing, nothing),
        Variant("floor", "floor (minimal wrapper)", FLOOR_SCOPE, install_floor, uninstall_floor),
        Variant(
            "sentinel-full",
            "sentinel-full",
            SENTINEL_SCOPE,
            install_sentinel(stream_usage=True, request_logprobs=False),
            sentinel.uninstrument,
        ),
        Variant(
            "sentinel-minimal",
            "sentinel-minimal",
            SENTINEL_SCOPE,
            install_sentinel(
                security_scanning=False,
                drift_detection=False,
                repeat_window_seconds=0,
                confidence_heuristic=False,
            ),
            sentinel.uninstrument,
        ),
    ]
    for peer, instrumentor in peers:

        def install(instrumentor: Any = instrumentor) -> None:
            instrumentor.instrument(
                tracer_provider=sdk.tracer_provider, meter_provider=sdk.meter_provider
            )

        def uninstall(instrumentor: Any = instrumentor) -> None:
            instrumentor.uninstrument()
            guard.restore()

        variants.append(Variant(peer.name, peer.name, peer.scope, install, uninstall))
    return variants


# -- workloads -----------------------------------------------------------------------------


def long_prompt_request() -> dict[str, Any]:
    """``REQUEST`` whose user message is about ``LONG_PROMPT_BYTES`` of ordinary prose."""
    paragraph = (
        "Please review the following meeting notes and list the decisions, the owners "
        "and the deadlines. The team agreed to move the release to the second week of "
        "the month, pending the results of the load tests on the staging cluster. "
    )
    text = (paragraph * (LONG_PROMPT_BYTES // len(paragraph) + 1))[:LONG_PROMPT_BYTES]
    return {**REQUEST, "messages": [MESSAGES[0], {"role": "user", "content": text}]}


def long_prompt_call(client: openai.OpenAI) -> Callable[[], None]:
    """One non-streaming ``create`` with a 4 KB prompt."""
    completions = client.chat.completions
    request = long_prompt_request()

    def call() -> None:
        completions.create(**request)

    return call


# -- import time ---------------------------------------------------------------------------


def import_time_ms(module: str, runs: int = 5, after: str = "") -> float | None:
    """Median wall time (ms) of ``import module`` in a fresh interpreter, after ``after``."""
    code = (
        f"{after}\nimport time\nt = time.perf_counter()\nimport {module}\n"
        "print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(runs):
        try:
            out = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            )
            times.append(float(out.stdout.strip()) * 1e3)
        except (subprocess.CalledProcessError, ValueError):
            return None
    return statistics.median(times)


# -- report --------------------------------------------------------------------------------


@dataclass
class Row:
    """One variant's line of the side-by-side table (µs; None where not measured)."""

    variant: str
    span_attributes: int | None
    call_us: float | None
    call_cpu_us: float | None
    ratio_to_floor: float | None
    chunk_us: float | None
    chunk_cpu_us: float | None
    long_prompt_us: float | None
    note: str = ""


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b <= 0 else a / b


def build_rows(
    results: dict[str, dict[str, Summary]], chunks: int, statuses: Sequence[PeerStatus]
) -> list[Row]:
    """The table: one row per variant, then one per peer that could not run."""
    ns = results["non_stream"]
    st = results.get("stream", {})
    lp = results.get("long_prompt", {})
    floor_cpu = ns["floor"].cpu.overhead_us
    rows = []
    for name, summary in ns.items():
        if name == "bare":
            continue
        stream = st.get(name)
        long = lp.get(name)
        rows.append(
            Row(
                name,
                summary.span_attributes,
                summary.wall.overhead_us,
                summary.cpu.overhead_us,
                _ratio(summary.cpu.overhead_us, floor_cpu),
                None
                if stream is None or stream.wall.overhead_us is None
                else stream.wall.overhead_us / chunks,
                None
                if stream is None or stream.cpu.overhead_us is None
                else stream.cpu.overhead_us / chunks,
                None if long is None else long.cpu.overhead_us,
            )
        )
    for status in statuses:
        if not status.runs:
            rows.append(Row(status.name, None, None, None, None, None, None, None, status.reason))
    return rows


def print_rows(rows: Sequence[Row], bare: dict[str, float]) -> None:
    """The side-by-side table."""
    print(
        "\noverhead = variant - bare, paired per round, median over rounds; thread CPU time "
        "(wall alongside)\nratio = cpu overhead / floor's cpu overhead; attrs = span attributes"
    )
    print(
        "bare client: " + ", ".join(f"{name} {value:.1f} µs (cpu)" for name, value in bare.items())
    )
    print(
        f"\n  {'variant':<18}{'attrs':>6}{'µs/call':>9}{'(wall)':>9}{'x floor':>9}"
        f"{'µs/chunk':>10}{'(wall)':>8}{'4KB µs/call':>13}"
    )
    for r in rows:
        if r.note:
            print(f"  {r.variant:<18}{r.note}")
            continue
        print(
            f"  {r.variant:<18}{_fmt(r.span_attributes, 6, 0)}{_fmt(r.call_cpu_us, 9)}"
            f"{_fmt(r.call_us, 9)}{_fmt(r.ratio_to_floor, 9, 2)}"
            f"{_fmt(r.chunk_cpu_us, 10, 2)}{_fmt(r.chunk_us, 8, 2)}{_fmt(r.long_prompt_us, 13)}"
        )


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=50, help="non-stream calls per block")
    parser.add_argument("--chunks", type=int, default=200, help="content chunks per stream")
    parser.add_argument("--streams", type=int, default=4, help="streams per block")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=2, help="discarded rounds first")
    parser.add_argument("--quick", action="store_true", help="5 rounds of 20 calls, 2 streams")
    parser.add_argument("--no-long", action="store_true", help="skip the 4 KB prompt workload")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.streams, args.rounds, args.warmup = 20, 2, 5, 1
    for name in ("calls", "chunks", "streams", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Probe the peers, measure every workload, print the table, optionally write JSON."""
    args = parse_args(argv)
    started_all = time.perf_counter()
    if _is_wrapped():
        raise RuntimeError("Completions.create is already wrapped; run in a clean process")
    sdk = make_sdk()
    ns_call = non_stream_call(make_client(completion_body(), "application/json"))
    st_call = stream_call(make_client(sse_body(args.chunks), "text/event-stream"))
    lp_call = long_prompt_call(make_client(completion_body(), "application/json"))

    for peer in PEERS:  # import them all first, so that the snapshot sees every module
        with contextlib.suppress(Exception):  # reported by probe_peer
            importlib.import_module(peer.module)
    guard = PatchGuard()
    statuses: list[PeerStatus] = []
    running: list[tuple[Peer, Any]] = []
    for peer in PEERS:
        status, instrumentor = probe_peer(peer, sdk, guard, (ns_call, st_call))
        statuses.append(status)
        if status.runs:
            running.append((peer, instrumentor))
    if _is_wrapped():
        raise RuntimeError("a peer left Completions.create wrapped after the probes")

    env = {
        **machine(),
        "openai": openai.__version__,
        "openai_sentinel": openai_sentinel.__version__,
        "opentelemetry_sdk": _version("opentelemetry-sdk"),
        "peers": {d: _version(d) for d in PEER_DISTRIBUTIONS},
    }
    print(
        f"openai-sentinel {env['openai_sentinel']} vs peers: python {env['python']}, "
        f"openai {env['openai']}, opentelemetry-sdk {env['opentelemetry_sdk']}, "
        f"{env['cpus']} cpus, loadavg {env['loadavg']}, {env['platform']}"
    )
    print("peer packages: " + ", ".join(f"{d} {v}" for d, v in env["peers"].items()))
    for status in statuses:
        if not status.runs:
            print(f"  {status.name}: {status.reason}")

    scenarios = [
        Scenario("non_stream", ns_call, args.calls, make_peer_variants(sdk, running, guard)),
        Scenario("stream", st_call, args.streams, make_peer_variants(sdk, running, guard)),
    ]
    if not args.no_long:
        scenarios.append(
            Scenario("long_prompt", lp_call, args.calls, make_peer_variants(sdk, running, guard))
        )
    progress = sys.stderr.isatty()
    started = time.perf_counter()
    total = args.warmup + args.rounds
    for index in range(total):
        for scenario in scenarios:
            scenario.run_round(index, sdk, keep=index >= args.warmup)
        if index == 0:
            gc.collect()
            gc.freeze()
        if progress:
            so_far = time.perf_counter() - started
            print(f"\r  round {index + 1}/{total} ({so_far:.0f} s)", end="", file=sys.stderr)
    if progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    measuring = time.perf_counter() - started

    results = {s.name: summarise(s) for s in scenarios}
    chunks = args.chunks + 2  # + the finish chunk and the usage chunk
    rows = build_rows(results, chunks, statuses)
    bare = {name: summaries["bare"].cpu.per_call_us for name, summaries in results.items()}
    print(
        f"\n{args.rounds} rounds x ({args.calls} calls | {args.streams} streams of {chunks} "
        f"chunks | {args.calls} calls with a {LONG_PROMPT_BYTES} B prompt) per variant"
    )
    print_rows(rows, bare)

    imports = {
        "import openai_sentinel (cold)": import_time_ms("openai_sentinel"),
        "import openai_sentinel (after openai)": import_time_ms(
            "openai_sentinel", after="import openai"
        ),
        "import openai (cold)": import_time_ms("openai"),
    }
    print()
    for label, value in imports.items():
        shown = "failed" if value is None else f"{value:.0f} ms"
        print(f"{label}: {shown} (fresh interpreter, median of 5)")
    total_s = time.perf_counter() - started_all
    print(f"\n{measuring:.1f} s measuring, {total_s:.1f} s in all")

    if args.json:
        document = {
            "environment": env,
            "config": {**vars(args), "chunks_per_stream": chunks},
            "peers": [asdict(s) for s in statuses],
            "rows": [asdict(r) for r in rows],
            "import_ms": imports,
            "elapsed_s": round(total_s, 2),
            "results": {
                name: {key: asdict(summary) for key, summary in summaries.items()}
                for name, summaries in results.items()
            },
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
