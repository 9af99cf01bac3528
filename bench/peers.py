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
not installed, fails to patch, raises, or does not make exactly one span per chat call is
reported as not running, never crashes the bench. Some peers do not remove every patch on
``uninstrument()``: whatever they left on the openai classes is put back after each block.

Workloads, timed in interleaved rounds: a non-streaming chat (µs per call), a streamed
chat of ``--chunks`` content chunks (µs per chunk = stream overhead / chunks in the
stream), a chat with a 4 KB prompt (what security scanning costs on a longer prompt) and a
non-streaming ``client.responses.create(model=..., input=...)`` answering a ``response``
object with usage (the Responses API; the floor wraps ``Responses.create`` for it with the
same span, 12 attributes and two points). A peer that makes no span for the Responses call
is shown as "n/a (no span)" in that column and still runs the chat workloads.

Then, memory per in-flight stream: per variant, ``--inflight`` streaming chats (200) are
opened, their first chunk read, and kept; tracemalloc gives the memory they hold, reported
per stream over ``bare``'s; then they are closed (spans ended at close are counted),
dropped and collected (spans ended then, and memory still held, per stream). Median of
``--inflight-reps`` repetitions (3). Also measured: the time of ``import openai_sentinel``
in a fresh interpreter (median of 5).

With ``--memory`` (off by default: about 2-3 minutes per variant), resident memory in a
fresh subprocess per variant (``bare``, ``floor``, ``sentinel-full`` and each peer that
runs): ``--rss-calls`` non-streaming chats (100 000), RSS after the first 10% (warm-up) and
at the end, the growth between; then ``--rss-abandoned`` streams (10 000) opened, one chunk
read and dropped unclosed, ``gc.collect()``, the RSS growth they left and how many of their
spans ended. The span sink keeps only a count and the last span per scope, so exported
spans are not what grows.

Run from the project root, with the virtualenv that has the peers (``make bench-peers``
builds it; without them the peers are listed as "not installed")::

    .venv-peers/bin/python bench/peers.py            # about two minutes
    .venv-peers/bin/python bench/peers.py --quick    # about 25 s, for a smoke test
    .venv-peers/bin/python bench/peers.py --calls 50 --rounds 30 --json /tmp/peers.json
    .venv-peers/bin/python bench/peers.py --memory   # + RSS over 100k calls: ~15 min more
    .venv-peers/bin/python bench/peers.py --quick --memory  # 5 000 calls, 500 abandoned

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
import tracemalloc
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

try:  # ``python -m bench.peers`` from the project root
    from bench._environment import machine
    from bench._environment import version as _version
    from bench._memory import (
        HeldMemory,
        RssRun,
        dump_rss,
        held_by,
        print_rss_table,
        run_rss,
        spawn_rss,
    )
    from bench.overhead import (
        ANSWER,
        CHAT_MODULE,
        MESSAGES,
        MODEL,
        REQUEST,
        RESPONSE_MODEL,
        USAGE,
        MinimalWrapper,
        Scenario,
        Sdk,
        Summary,
        Variant,
        _fmt,
        add_round_arguments,
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
    from _memory import (  # type: ignore[no-redef,import-not-found]
        HeldMemory,
        RssRun,
        dump_rss,
        held_by,
        print_rss_table,
        run_rss,
        spawn_rss,
    )
    from overhead import (  # type: ignore[no-redef,import-not-found]
        ANSWER,
        CHAT_MODULE,
        MESSAGES,
        MODEL,
        REQUEST,
        RESPONSE_MODEL,
        USAGE,
        MinimalWrapper,
        Scenario,
        Sdk,
        Summary,
        Variant,
        _fmt,
        add_round_arguments,
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
from openai.resources.responses import Responses
from opentelemetry.instrumentation.utils import unwrap

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor

SENTINEL_SCOPE = "openai_sentinel"
FLOOR_SCOPE = "bench.minimal"
RESPONSES_MODULE = "openai.resources.responses"

RESPONSES = "responses"
"""The Responses API workload: a peer without a span there is "n/a (no span)" for it."""

SENTINEL_FULL: dict[str, Any] = {"stream_usage": True, "request_logprobs": False}
SENTINEL_MINIMAL: dict[str, Any] = {
    "security_scanning": False,
    "drift_detection": False,
    "repeat_window_seconds": 0,
    "confidence_heuristic": False,
}


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
    """Whether a peer could run here, and why not; per workload, whether it made a span."""

    name: str
    distribution: str
    version: str
    runs: bool
    reason: str = ""
    workloads: dict[str, str] = field(default_factory=dict)
    """Workload -> "" where the peer made one span per call, else why not (``no span``)."""

    def covers(self, workload: str) -> bool:
        """Whether the peer runs and made one span per call of ``workload`` in the probe."""
        return self.runs and self.workloads.get(workload, "") == ""


def _load_instrumentor(peer: Peer) -> Any:
    module = importlib.import_module(peer.module)
    return module.OpenAIInstrumentor()


def _counts(sdk: Sdk, scope: str) -> int:
    return sdk.exporter.counts[scope]


def _probe_one(sdk: Sdk, scope: str, call: Callable[[], None]) -> str:
    """Run ``call`` once: "" when it made one span in ``scope``, else why not."""
    before = _counts(sdk, scope)
    call()
    made = _counts(sdk, scope) - before
    if made == 1:
        return ""
    return "no span" if made == 0 else f"{made} spans"


def probe_peer(
    peer: Peer,
    sdk: Sdk,
    guard: PatchGuard,
    calls: Mapping[str, Callable[[], None]],
    optional: Collection[str] = (),
) -> tuple[PeerStatus, Any]:
    """Instrument the peer, run each workload once, check one span per call, uninstrument.

    A workload in ``optional`` that makes no span (or not one, or raises) is recorded in
    ``PeerStatus.workloads`` and the peer still runs the others; any other workload that
    does so means the peer does not run.
    """
    version = _version(peer.distribution)
    if version == "?":
        return PeerStatus(peer.name, peer.distribution, version, False, "not installed"), None
    try:
        instrumentor = _load_instrumentor(peer)
    except Exception as error:
        reason = f"does not import: {type(error).__name__}: {error}"
        return PeerStatus(peer.name, peer.distribution, version, False, reason), None
    workloads: dict[str, str] = {}
    try:
        instrumentor.instrument(
            tracer_provider=sdk.tracer_provider, meter_provider=sdk.meter_provider
        )
        try:
            for name, call in calls.items():
                if name in optional:
                    try:
                        workloads[name] = _probe_one(sdk, peer.scope, call)
                    except Exception as error:
                        workloads[name] = f"raises {type(error).__name__}"
                        print(f"{peer.name} {name}: {error!r}", file=sys.stderr)
                    continue
                workloads[name] = _probe_one(sdk, peer.scope, call)
                if workloads[name]:
                    scope = peer.scope
                    raise RuntimeError(f"{workloads[name]} in scope {scope!r} for one {name} call")
        finally:
            instrumentor.uninstrument()
            guard.restore()
    except Exception as error:
        reason = f"does not run with openai {openai.__version__}: {type(error).__name__}: {error}"
        traceback.print_exc(limit=3, file=sys.stderr)
        return PeerStatus(peer.name, peer.distribution, version, False, reason, workloads), None
    return PeerStatus(peer.name, peer.distribution, version, True, "", workloads), instrumentor


def _wrapped(cls: type) -> bool:
    return isinstance(cls.__dict__["create"], wrapt.FunctionWrapper)


class _ChatUsage(NamedTuple):
    """A Responses usage under the chat names ``MinimalWrapper.finish`` reads."""

    prompt_tokens: int
    completion_tokens: int


class ResponsesFloor(MinimalWrapper):
    """The floor for ``Responses.create`` (non-streaming): ``MinimalWrapper``'s CLIENT span
    made current during the call, the same 12 attributes (``max_output_tokens`` for the
    maximum, the response ``status`` for the finish reason, input / output tokens) and the
    same two histogram points, read off a ``Response``."""

    @staticmethod
    def max_tokens(kwargs: dict[str, Any]) -> Any:
        return kwargs.get("max_output_tokens")

    @staticmethod
    def outcome(result: Any) -> tuple[Any, Any, list[str], Any]:
        usage = result.usage
        tokens = None if usage is None else _ChatUsage(usage.input_tokens, usage.output_tokens)
        return result.id, result.model, [result.status or ""], tokens


def make_peer_variants(
    sdk: Sdk,
    peers: Sequence[tuple[Peer, Any]],
    guard: PatchGuard,
    *,
    responses: bool = False,
) -> list[Variant]:
    """The variants of one workload, ``bare`` first; ``peers`` are those that run it.

    With ``responses`` the floor wraps ``Responses.create`` (:class:`ResponsesFloor`)
    instead of the chat ``Completions.create``.
    """
    floor: MinimalWrapper
    floor_class: type
    floor_module: str
    if responses:
        floor, floor_class, floor_module = ResponsesFloor(sdk), Responses, RESPONSES_MODULE
    else:
        floor, floor_class, floor_module = MinimalWrapper(sdk), Completions, CHAT_MODULE
    sentinel = OpenAISentinelInstrumentor()

    def nothing() -> None:
        if _wrapped(Completions) or _wrapped(Responses):
            raise RuntimeError("a create method is still wrapped in the bare variant")

    def install_floor() -> None:
        wrapt.wrap_function_wrapper(floor_module, f"{floor_class.__name__}.create", floor)

    def uninstall_floor() -> None:
        unwrap(floor_class, "create")

    def install_sentinel(**settings: Any) -> Callable[[], None]:
        def install() -> None:
            sentinel.instrument(
                tracer_provider=sdk.tracer_provider,
                meter_provider=sdk.meter_provider,
                **settings,
            )
            if not _wrapped(floor_class):
                name = floor_class.__name__
                raise RuntimeError(f"OpenAISentinelInstrumentor did not wrap {name}.create")

        return install

    variants = [
        Variant("bare", "bare client", None, nothing, nothing),
        Variant("floor", "floor (minimal wrapper)", FLOOR_SCOPE, install_floor, uninstall_floor),
        Variant(
            "sentinel-full",
            "sentinel-full",
            SENTINEL_SCOPE,
            install_sentinel(**SENTINEL_FULL),
            sentinel.uninstrument,
        ),
        Variant(
            "sentinel-minimal",
            "sentinel-minimal",
            SENTINEL_SCOPE,
            install_sentinel(**SENTINEL_MINIMAL),
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


RESPONSES_REQUEST: dict[str, Any] = {
    "model": MODEL,
    "instructions": MESSAGES[0]["content"],
    "input": MESSAGES[1]["content"],
    "temperature": 0.2,
    "max_output_tokens": 256,
}
"""The chat of ``REQUEST`` as a Responses API request."""


def response_body() -> bytes:
    """A non-streaming ``response`` object with usage, as the Responses API sends it."""
    document = {
        "id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b",
        "object": "response",
        "created_at": 1731368630,
        "status": "completed",
        "background": False,
        "completed_at": 1731368631,
        "error": None,
        "incomplete_details": None,
        "instructions": RESPONSES_REQUEST["instructions"],
        "max_output_tokens": RESPONSES_REQUEST["max_output_tokens"],
        "max_tool_calls": None,
        "model": RESPONSE_MODEL,
        "output": [
            {
                "id": "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b",
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [
                    {"type": "output_text", "text": ANSWER, "annotations": [], "logprobs": []}
                ],
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "store": True,
        "temperature": RESPONSES_REQUEST["temperature"],
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": USAGE["prompt_tokens"],
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": USAGE["completion_tokens"],
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": USAGE["total_tokens"],
        },
        "user": None,
        "metadata": {},
    }
    return json.dumps(document, separators=(",", ":")).encode()


def responses_call(client: openai.OpenAI) -> Callable[[], None]:
    """One non-streaming ``responses.create``."""
    responses = client.responses  # the method is looked up per call: it gets wrapped

    def call() -> None:
        responses.create(**RESPONSES_REQUEST)

    return call


def open_stream(client: openai.OpenAI) -> Callable[[], tuple[Any, Any]]:
    """Open a streaming chat and read its first chunk: (the stream, its iterator), both to
    keep referenced while the stream is in flight."""
    completions = client.chat.completions

    def open_one() -> tuple[Any, Any]:
        stream = completions.create(stream=True, **REQUEST)
        # iter() of openai's Stream is a new generator delegating to the shared one: keep
        # the stream itself when it is an iterator, so that no generator is left to close
        iterator = stream if hasattr(type(stream), "__next__") else iter(stream)
        next(iterator)
        return stream, iterator

    return open_one


def close_stream(stream: Any) -> None:
    """``stream.close()``; the floor's ``MinimalStream`` has none: its inner stream's then
    (its span is not ended: the floor ends it only on the last chunk)."""
    close = getattr(stream, "close", None)
    if close is None:
        close = stream._stream.close
    close()


def flush_finalizers() -> None:
    """Let openai-sentinel finish the streams whose finalizers ran (a worker thread)."""
    with contextlib.suppress(Exception):
        flush = importlib.import_module("openai_sentinel._abandoned").flush
        flush(timeout=10)


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


# -- memory per in-flight stream -----------------------------------------------------------

IN_FLIGHT_WARMUP = 10
"""Streams opened and closed per variant before each measurement (lazy caches, imports)."""


@dataclass
class InFlight:
    """Memory held by a variant's in-flight streams (tracemalloc), and how their spans end."""

    variant: str
    streams: int
    held_kb: float | None = None
    """KB per in-flight stream (first chunk read, kept referenced), median over repetitions."""
    held_over_bare_kb: float | None = None
    """``held_kb`` minus ``bare``'s, paired per repetition, median."""
    retained_kb: float | None = None
    """KB per stream still held once closed, dropped and collected (caches, windows)."""
    retained_over_bare_kb: float | None = None
    ended_while_open: int | None = None
    """Spans ended before the streams were closed (last repetition; None for ``bare``)."""
    ended_on_close: int | None = None
    """Spans ended once ``close()`` was called on every stream (cumulative)."""
    ended_after_drop: int | None = None
    """Spans ended once the closed streams were dropped and collected (cumulative)."""
    held_kb_reps: list[float] = field(default_factory=list)
    note: str = ""


def _in_flight_once(
    sdk: Sdk, variant: Variant, open_one: Callable[[], tuple[Any, Any]], streams: int
) -> tuple[HeldMemory, list[int]]:
    counts = sdk.exporter.counts
    scope = variant.scope or ""
    ended = [0, 0, 0]
    variant.install()
    try:
        for stream, _ in [open_one() for _ in range(IN_FLIGHT_WARMUP)]:
            close_stream(stream)
        gc.collect()
        flush_finalizers()
        before = counts[scope]

        def release(kept: list[Any]) -> None:
            ended[0] = counts[scope] - before
            for stream, _ in kept:
                close_stream(stream)
            ended[1] = counts[scope] - before

        held = held_by(open_one, streams, release, flush_finalizers)
        ended[2] = counts[scope] - before
    finally:
        variant.uninstall()
    return held, ended


def measure_in_flight(
    sdk: Sdk,
    variants: Sequence[Variant],
    open_one: Callable[[], tuple[Any, Any]],
    streams: int,
    reps: int,
) -> list[InFlight]:
    """Per variant (``bare`` first), ``reps`` times in a rotated order: ``streams`` streams
    opened and kept, their memory, then closed and dropped."""
    held: dict[str, list[HeldMemory]] = {v.name: [] for v in variants}
    ended: dict[str, list[int]] = {}
    notes: dict[str, str] = {}
    tracemalloc.start()
    try:
        for rep in range(reps):
            shift = rep % len(variants)
            for variant in list(variants[shift:]) + list(variants[:shift]):
                if variant.name in notes:
                    continue
                try:
                    memory, ended[variant.name] = _in_flight_once(sdk, variant, open_one, streams)
                except Exception as error:
                    if variant.name == "bare":
                        raise
                    notes[variant.name] = f"failed: {type(error).__name__}: {error}"
                    traceback.print_exc(limit=3, file=sys.stderr)
                    continue
                held[variant.name].append(memory)
    finally:
        tracemalloc.stop()

    def per_stream(values: Sequence[HeldMemory], attribute: str) -> list[float]:
        return [getattr(v, attribute) / v.count / 1024 for v in values]

    bare = held[variants[0].name]
    result = []
    for variant in variants:
        row = InFlight(variant.name, streams, note=notes.get(variant.name, ""))
        result.append(row)
        if row.note:
            continue
        kb = per_stream(held[variant.name], "held_bytes")
        kept = per_stream(held[variant.name], "retained_bytes")
        row.held_kb_reps = [round(value, 3) for value in kb]
        row.held_kb = statistics.median(kb)
        row.retained_kb = statistics.median(kept)
        if variant is not variants[0]:
            bare_kb = per_stream(bare, "held_bytes")
            bare_kept = per_stream(bare, "retained_bytes")
            row.held_over_bare_kb = statistics.median(
                a - b for a, b in zip(kb, bare_kb, strict=True)
            )
            row.retained_over_bare_kb = statistics.median(
                a - b for a, b in zip(kept, bare_kept, strict=True)
            )
        if variant.scope is not None:
            row.ended_while_open, row.ended_on_close, row.ended_after_drop = ended[variant.name]
    return result


def print_in_flight(rows: Sequence[InFlight], reps: int) -> None:
    """One line per variant: KB per in-flight stream over bare, kept after close, spans."""
    if not rows:
        return
    k = rows[0].streams
    print(
        f"\nin-flight streams: {k} streaming chats per variant, first chunk read, kept "
        f"referenced; tracemalloc, median of {reps}\nKB/stream = held while in flight, "
        "over bare's (bare: absolute); after close = still held once closed, dropped and "
        "collected;\nspans ended (of "
        f"{k}): while open / after close() / after drop + gc.collect()"
    )
    print(f"\n  {'variant':<18}{'KB/stream':>10}{'after close':>13}{'spans ended':>20}")
    for r in rows:
        if r.note:
            print(f"  {r.variant:<18}{r.note}")
            continue
        bare = r.held_over_bare_kb is None
        held = r.held_kb if bare else r.held_over_bare_kb
        kept = r.retained_kb if bare else r.retained_over_bare_kb
        spans = (
            "-"
            if r.ended_on_close is None
            else f"{r.ended_while_open} / {r.ended_on_close} / {r.ended_after_drop}"
        )
        label = f"{r.variant} (abs.)" if bare else r.variant
        print(f"  {label:<18}{_fmt(held, 10, 2)}{_fmt(kept, 13, 2)}{spans:>20}")
    if any(r.variant == "floor" and not r.note for r in rows):
        print(
            "  (the floor's stream has no close(): its inner stream is closed, its span "
            "ends only on the last chunk)"
        )


# -- resident memory, a fresh process per variant ------------------------------------------


def rss_child(args: argparse.Namespace) -> int:
    """In a fresh process: install one variant, run the calls, print an ``RssRun`` as JSON."""
    name = args.rss_child
    sdk = make_sdk()
    peers = [(peer, _load_instrumentor(peer)) for peer in PEERS if peer.name == name]
    guard = PatchGuard()
    variants = {v.name: v for v in make_peer_variants(sdk, peers, guard)}
    if name not in variants:
        raise SystemExit(f"unknown variant {name!r}; one of {', '.join(variants)}")
    variant = variants[name]
    call = non_stream_call(make_client(completion_body(), "application/json"))
    open_one = open_stream(make_client(sse_body(args.chunks), "text/event-stream"))

    def abandon() -> None:
        open_one()  # opened, one chunk read, dropped unclosed on return

    scope = variant.scope or ""

    def spans() -> int:
        return sdk.exporter.counts[scope]

    variant.install()
    run = run_rss(
        name,
        call,
        abandon,
        args.rss_calls,
        args.rss_abandoned,
        None if variant.scope is None else spans,
        flush_finalizers,
    )
    dump_rss(run)
    return 0


def measure_rss(args: argparse.Namespace, names: Sequence[str]) -> list[RssRun]:
    """One fresh ``python bench/peers.py --rss-child NAME`` per variant, one after another."""
    runs = []
    for index, name in enumerate(names, 1):
        print(f"  memory: {name} ({index}/{len(names)})", file=sys.stderr, flush=True)
        command = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--rss-child",
            name,
            "--rss-calls",
            str(args.rss_calls),
            "--rss-abandoned",
            str(args.rss_abandoned),
            "--chunks",
            str(args.chunks),
        ]
        runs.append(spawn_rss(command, name))
    return runs


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
    responses_us: float | None = None
    responses_cpu_us: float | None = None
    responses_ratio_to_floor: float | None = None
    responses_note: str = ""
    """Why the Responses workload has no figure (``n/a (no span)``), when it was measured."""
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
    rs = results.get(RESPONSES)
    floor_cpu = ns["floor"].cpu.overhead_us
    floor_rs_cpu = None if rs is None else rs["floor"].cpu.overhead_us
    status_of = {status.name: status for status in statuses}
    rows = []
    for name, summary in ns.items():
        if name == "bare":
            continue
        stream = st.get(name)
        long = lp.get(name)
        row = Row(
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
        if rs is not None and name in rs:
            row.responses_us = rs[name].wall.overhead_us
            row.responses_cpu_us = rs[name].cpu.overhead_us
            row.responses_ratio_to_floor = _ratio(row.responses_cpu_us, floor_rs_cpu)
        elif rs is not None:
            status = status_of.get(name)
            why = status.workloads.get(RESPONSES, "") if status else ""
            row.responses_note = f"n/a ({why or 'not measured'})"
        rows.append(row)
    for status in statuses:
        if not status.runs:
            rows.append(
                Row(status.name, None, None, None, None, None, None, None, note=status.reason)
            )
    return rows


def print_rows(rows: Sequence[Row], bare: dict[str, float]) -> None:
    """The side-by-side table."""
    print(
        "\noverhead = variant - bare, paired per round, median over rounds; thread CPU time "
        "(wall alongside)\nratio = cpu overhead / floor's cpu overhead; attrs = span attributes"
        "\nresp = responses.create(), its ratio to the floor's wrapper of Responses.create"
    )
    print(
        "bare client: " + ", ".join(f"{name} {value:.1f} µs (cpu)" for name, value in bare.items())
    )
    print(
        f"\n  {'variant':<18}{'attrs':>6}{'µs/call':>9}{'(wall)':>9}{'x floor':>9}"
        f"{'µs/chunk':>10}{'(wall)':>8}{'4KB µs/call':>13}{'resp µs/call':>14}{'x floor':>9}"
    )
    for r in rows:
        if r.note:
            print(f"  {r.variant:<18}{r.note}")
            continue
        if not r.responses_note:
            responses = f"{_fmt(r.responses_cpu_us, 14)}{_fmt(r.responses_ratio_to_floor, 9, 2)}"
        elif len(r.responses_note) < 14:
            responses = f"{r.responses_note:>14}{'-':>9}"
        else:
            responses = f"  {r.responses_note}"
        print(
            f"  {r.variant:<18}{_fmt(r.span_attributes, 6, 0)}{_fmt(r.call_cpu_us, 9)}"
            f"{_fmt(r.call_us, 9)}{_fmt(r.ratio_to_floor, 9, 2)}"
            f"{_fmt(r.chunk_cpu_us, 10, 2)}{_fmt(r.chunk_us, 8, 2)}{_fmt(r.long_prompt_us, 13)}"
            f"{responses}"
        )


# -- main ----------------------------------------------------------------------------------

RSS_CALLS, RSS_CALLS_QUICK = 100_000, 5_000
RSS_ABANDONED, RSS_ABANDONED_QUICK = 10_000, 500


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_round_arguments(parser)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="5 rounds of 20 calls, 2 streams, 1 in-flight repetition; "
        f"with --memory, {RSS_CALLS_QUICK} calls and {RSS_ABANDONED_QUICK} abandoned streams",
    )
    parser.add_argument("--no-long", action="store_true", help="skip the 4 KB prompt workload")
    parser.add_argument(
        "--no-responses", action="store_true", help="skip the Responses API workload"
    )
    parser.add_argument(
        "--inflight", type=int, default=200, help="in-flight streams held per variant (200)"
    )
    parser.add_argument(
        "--inflight-reps",
        type=int,
        default=None,
        help="repetitions of the in-flight measure (3; 1 with --quick)",
    )
    parser.add_argument(
        "--no-inflight", action="store_true", help="skip the in-flight stream memory measure"
    )
    parser.add_argument(
        "--memory",
        action="store_true",
        help="also measure resident memory over --rss-calls calls and --rss-abandoned "
        "abandoned streams, in a fresh process per variant (slow: minutes per variant)",
    )
    parser.add_argument(
        "--rss-calls",
        type=int,
        default=None,
        help=f"non-streaming calls per variant with --memory ({RSS_CALLS}; "
        f"{RSS_CALLS_QUICK} with --quick)",
    )
    parser.add_argument(
        "--rss-abandoned",
        type=int,
        default=None,
        help=f"abandoned streams per variant with --memory ({RSS_ABANDONED}; "
        f"{RSS_ABANDONED_QUICK} with --quick)",
    )
    parser.add_argument("--rss-child", metavar="VARIANT", help=argparse.SUPPRESS)
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.streams, args.rounds, args.warmup = 20, 2, 5, 1
    if args.inflight_reps is None:
        args.inflight_reps = 1 if args.quick else 3
    if args.rss_calls is None:
        args.rss_calls = RSS_CALLS_QUICK if args.quick else RSS_CALLS
    if args.rss_abandoned is None:
        args.rss_abandoned = RSS_ABANDONED_QUICK if args.quick else RSS_ABANDONED
    for name in ("calls", "chunks", "streams", "rounds", "inflight", "inflight_reps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.rss_calls < 10 or args.rss_abandoned < 0:
        parser.error("--rss-calls must be at least 10, --rss-abandoned at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Probe the peers, measure every workload, print the tables, optionally write JSON."""
    args = parse_args(argv)
    if args.rss_child:
        return rss_child(args)
    started_all = time.perf_counter()
    if _wrapped(Completions) or _wrapped(Responses):
        raise RuntimeError("a create method is already wrapped; run in a clean process")
    sdk = make_sdk()
    ns_call = non_stream_call(make_client(completion_body(), "application/json"))
    st_call = stream_call(make_client(sse_body(args.chunks), "text/event-stream"))
    lp_call = long_prompt_call(make_client(completion_body(), "application/json"))
    rs_call = responses_call(make_client(response_body(), "application/json"))

    for peer in PEERS:  # import them all first, so that the snapshot sees every module
        with contextlib.suppress(Exception):  # reported by probe_peer
            importlib.import_module(peer.module)
    guard = PatchGuard()
    statuses: list[PeerStatus] = []
    running: list[tuple[Peer, Any]] = []
    probes = {"non_stream": ns_call, "stream": st_call}
    if not args.no_responses:
        probes[RESPONSES] = rs_call
    for peer in PEERS:
        status, instrumentor = probe_peer(peer, sdk, guard, probes, optional=(RESPONSES,))
        statuses.append(status)
        if status.runs:
            running.append((peer, instrumentor))
    if _wrapped(Completions) or _wrapped(Responses):
        raise RuntimeError("a peer left a create method wrapped after the probes")
    status_of = {status.name: status for status in statuses}

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
        for workload, why in status.workloads.items():
            if status.runs and why:
                print(f"  {status.name}: {why} for the {workload} workload, shown as n/a there")

    scenarios = [
        Scenario("non_stream", ns_call, args.calls, make_peer_variants(sdk, running, guard)),
        Scenario("stream", st_call, args.streams, make_peer_variants(sdk, running, guard)),
    ]
    if not args.no_long:
        scenarios.append(
            Scenario("long_prompt", lp_call, args.calls, make_peer_variants(sdk, running, guard))
        )
    if not args.no_responses:
        covering = [(p, i) for p, i in running if status_of[p.name].covers(RESPONSES)]
        variants = make_peer_variants(sdk, covering, guard, responses=True)
        scenarios.append(Scenario(RESPONSES, rs_call, args.calls, variants))
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
    workloads = f"{args.calls} calls | {args.streams} streams of {chunks} chunks"
    if not args.no_long:
        workloads += f" | {args.calls} calls with a {LONG_PROMPT_BYTES} B prompt"
    if not args.no_responses:
        workloads += f" | {args.calls} responses.create()"
    print(f"\n{args.rounds} rounds x ({workloads}) per variant")
    print_rows(rows, bare)

    in_flight: list[InFlight] = []
    if not args.no_inflight:
        started = time.perf_counter()
        in_flight = measure_in_flight(
            sdk,
            make_peer_variants(sdk, running, guard),
            open_stream(make_client(sse_body(args.chunks), "text/event-stream")),
            args.inflight,
            args.inflight_reps,
        )
        print_in_flight(in_flight, args.inflight_reps)
        print(f"({time.perf_counter() - started:.1f} s)")

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

    memory: list[RssRun] | None = None
    if args.memory:
        started = time.perf_counter()
        names = ["bare", "floor", "sentinel-full", *(peer.name for peer, _ in running)]
        memory = measure_rss(args, names)
        print_rss_table(memory)
        print(f"({time.perf_counter() - started:.1f} s)")
    total_s = time.perf_counter() - started_all
    print(f"\n{measuring:.1f} s measuring overheads, {total_s:.1f} s in all")

    if args.json:
        document = {
            "environment": env,
            "config": {**vars(args), "chunks_per_stream": chunks},
            "peers": [asdict(s) for s in statuses],
            "rows": [asdict(r) for r in rows],
            "in_flight": [asdict(r) for r in in_flight],
            "memory": None if memory is None else [asdict(r) for r in memory],
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
