"""What pricing and repeat detection cost per call, measured side by side in one process.

Three parts:

1. End to end: the real ``openai`` client (``max_retries=0``) over a mock transport that
   answers pre-serialised bytes, the real OpenTelemetry SDK, non-streaming
   ``chat.completions.create`` calls with a ~1 KB prompt. Variants, in blocks interleaved
   in rounds (order rotated every round), instrumentation installed / removed around each
   block outside the timed region:

   * ``bare``: no instrumentation (context);
   * ``unpriced``: the response names a model ``genai-prices`` does not know (the price
     book answers from its cached "unpriced" marker) and ``repeat_window_seconds=0`` (no
     fingerprint, no table);
   * ``priced-norepeat``: a known model (``gpt-4o-mini-2024-07-18``, cached tokens in the
     usage), repeat detection off: pricing plus the cost attributes and metric points;
   * ``priced``: the known model, repeat detection on, every request new;
   * ``priced-repeat``: the same, every request a repeat (two more metric points).

   The target: priced - unpriced <= 5 µs per call (thread CPU time decides).

2. The analyzers alone, timeit-style: ``PriceBook.cost`` (plain rates, tiered prices,
   unknown model), ``request_fingerprint`` (1, 10, 100 KB prompts),
   ``RepeatTracker.observe`` at capacity, ``Telemetry.analyze``, and the SDK cost of the
   cost metric points. Some are also timed one by one right after a bare client call,
   with the caches as a real call leaves them (they cost two to six times more there).

3. Import check, in fresh subprocesses: ``import openai_sentinel`` must not import
   ``genai_prices``; how long ``instrument()`` takes the first time (it loads the price
   data) and afterwards.

Run: ``python bench/cost.py [--calls N] [--rounds R] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import functools
import gc
import itertools
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import openai
from opentelemetry import trace

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor, semconv
from openai_sentinel._cost_metrics import CostMetrics
from openai_sentinel._sums import key_of
from openai_sentinel.analyzers.cost import PriceBook
from openai_sentinel.analyzers.repeats import RepeatTracker, request_fingerprint
from openai_sentinel.config import Settings
from openai_sentinel.emit import Telemetry
from openai_sentinel.exchange import Exchange

# openai 3.x sends its requests with httpx2, 1.x and 2.x with httpx (as tests/support does)
if int(openai.__version__.split(".", 1)[0]) >= 3:
    import httpx2 as http
else:  # pragma: no cover - depends on the installed client
    import httpx as http  # type: ignore[no-redef,import-not-found,unused-ignore]

BASE_URL = "https://api.openai.test/v1"
SCOPE = semconv.INSTRUMENTATION_SCOPE
REQUEST_MODEL = "gpt-4o-mini"
PRICED_MODEL = "gpt-4o-mini-2024-07-18"
"""A snapshot ``genai-prices`` prices with plain per-million-token rates."""
UNPRICED_MODEL = "gpt-4o-mock-2024-07-18"
"""Same length, unknown to ``genai-prices`` (checked at run time)."""
KIND = "chat "
"""What the wrapper fingerprints a chat completion as: operation and API type."""
TIERED_MODEL = "gpt-5.4"
"""Priced by ``genai-prices`` with tiers by context length (above 272k input tokens)."""

TARGET_DIFFERENCE_US = 5.0
"""Target: priced - unpriced instrumentation, per non-streaming call, in µs."""

# -- payloads ------------------------------------------------------------------------------

USAGE: dict[str, Any] = {
    "prompt_tokens": 1536,
    "completion_tokens": 212,
    "total_tokens": 1748,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}

SYSTEM_PROMPT = (
    "You are the support assistant of Northwind Outfitters, an online shop for hiking and "
    "camping gear. Answer in the customer's language, in at most three short paragraphs. "
    "Quote order numbers exactly as given. Never promise refunds or delivery dates: say "
    "that a colleague will confirm them. If the question is not about an order, a product "
    "or a return, say politely that you can only help with those."
)
FIRST_QUESTION = (
    "Hello, I ordered a two-person tent (the Ridgeline 2, green) and a pair of trekking "
    "poles on the 3rd. The poles arrived yesterday but the tent did not, and the tracking "
    "page has said 'label created' for five days now. Is the tent still in stock?"
)
FIRST_ANSWER = (
    "Thank you for your message! I can see that the Ridgeline 2 in green was shipped "
    "separately from a second warehouse. A colleague will check with the carrier and "
    "confirm the delivery date with you by email."
)
FOLLOW_UP = (
    "Thanks. Could you also tell me whether the tent's footprint is included, or whether "
    "I should order it separately before my trip? Reference {counter:08d}, order NW-{order}."
)
DOCUMENT_LINE = (
    "Section {n}: the Ridgeline 2 weighs 1.9 kg packed, pitches in about four minutes with "
    "two crossing aluminium poles, and has two doors with vestibules of 0.8 m² each. "
)

ANSWER = (
    "The footprint is not included with the Ridgeline 2: it is sold separately (item "
    "RL2-FP). If you order it today it should travel with the tent, but a colleague will "
    "confirm the delivery date with you."
)

try:  # ``python -m bench.cost`` from the project root
    from bench._environment import machine
    from bench.overhead import (
        Block,
        Sdk,
        _fmt,
        _is_wrapped,
        _quartiles,
        _version,
        make_sdk,
    )
except ImportError:  # ``python bench/cost.py``
    from _environment import machine  # type: ignore[no-redef]
    from overhead import (  # type: ignore[no-redef]
        Block,
        Sdk,
        _fmt,
        _is_wrapped,
        _quartiles,
        _version,
        make_sdk,
    )


def prompt_messages(counter: int, size: int = 0) -> list[dict[str, str]]:
    """Four messages, ~1 KB of text; the last carries ``counter`` (and, when ``size`` is
    larger, a pasted document that brings the text to about ``size`` characters)."""
    follow_up = FOLLOW_UP.format(counter=counter, order=4_000_000 + counter % 1000)
    base = len(SYSTEM_PROMPT) + len(FIRST_QUESTION) + len(FIRST_ANSWER) + len(follow_up)
    if size > base:
        lines: list[str] = []
        room = size - base
        for n in itertools.count(1):
            line = DOCUMENT_LINE.format(n=n)
            if room < len(line):
                break
            lines.append(line)
            room -= len(line)
        follow_up = "".join(lines) + follow_up
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": FIRST_QUESTION},
        {"role": "assistant", "content": FIRST_ANSWER},
        {"role": "user", "content": follow_up},
    ]


def request(counter: int) -> dict[str, Any]:
    """The keyword arguments of one ``create()`` call."""
    return {
        "model": REQUEST_MODEL,
        "messages": prompt_messages(counter),
        "temperature": 0.2,
        "max_completion_tokens": 400,
    }


def completion_body(model: str) -> bytes:
    """A ``chat.completion`` body with usage (cached tokens included), as the API sends it."""
    body = {
        "id": "chatcmpl-AbC123cost",
        "object": "chat.completion",
        "created": 1731368630,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": ANSWER,
                    "refusal": None,
                    "annotations": [],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_0ba0d124f1",
    }
    return json.dumps(body, separators=(",", ":")).encode()


def make_client(body: bytes) -> openai.OpenAI:
    """A real ``OpenAI`` client whose transport answers every request with ``body``."""
    headers = {"content-type": "application/json", "x-request-id": "req_bench"}

    def handler(request: Any) -> Any:
        return http.Response(200, headers=headers, content=body)

    return openai.OpenAI(
        api_key="sk-bench",
        base_url=BASE_URL,
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(handler)),
    )


# -- OpenTelemetry SDK ---------------------------------------------------------------------


# -- 1. end to end -------------------------------------------------------------------------


@dataclass
class Variant:
    """One way of running the client; ``settings`` is ``None`` for the bare client."""

    name: str
    label: str
    client: openai.OpenAI
    settings: dict[str, Any] | None
    repeated: bool
    """Every call sends the same request (else every call a new one)."""
    present: tuple[str, ...] = ()
    """Span attributes the variant's spans must carry (checked on its first block)."""
    absent: tuple[str, ...] = ()
    """Span attributes they must not carry."""
    span_attributes: int | None = None


class PromptNumbers:
    """The source of distinct prompts: one number per request, never reused."""

    def __init__(self) -> None:
        self.next = 0

    def take(self, n: int) -> range:
        start = self.next
        self.next += n
        return range(start, start + n)


def make_variants(priced: openai.OpenAI, unpriced: openai.OpenAI) -> list[Variant]:
    """The variants of the end-to-end scenario, ``bare`` first."""
    off = {"repeat_window_seconds": 0}
    on = {"repeat_window_seconds": 3600.0}  # the default, explicit against the environment
    cost = semconv.SENTINEL_COST_USD
    repeat = semconv.SENTINEL_REQUEST_REPEAT
    unpriced_mark = semconv.SENTINEL_COST_UNPRICED
    return [
        Variant("bare", "bare client", priced, None, repeated=False),
        Variant(
            "unpriced",
            "unpriced, repeats off",
            unpriced,
            off,
            repeated=False,
            present=(unpriced_mark,),
            absent=(cost, repeat),
        ),
        Variant(
            "priced-norepeat",
            "priced, repeats off",
            priced,
            off,
            repeated=False,
            present=(cost,),
            absent=(unpriced_mark, repeat),
        ),
        Variant(
            "priced",
            "priced, new requests",
            priced,
            on,
            repeated=False,
            present=(cost,),
            absent=(unpriced_mark, repeat),
        ),
        Variant(
            "priced-repeat",
            "priced, repeated requests",
            priced,
            on,
            repeated=True,
            present=(cost, repeat),
            absent=(unpriced_mark,),
        ),
    ]


def run_block(
    variant: Variant,
    n: int,
    sdk: Sdk,
    instrumentor: OpenAISentinelInstrumentor,
    counter: PromptNumbers,
    *,
    check: bool,
) -> Block:
    """One untimed warm-up call, then ``n`` timed calls, the variant installed and the
    garbage collector off; instrumentation changes happen outside the timed region."""
    numbers = [0] * (n + 1) if variant.repeated else list(counter.take(n + 1))
    requests = [request(number) for number in numbers]
    completions = variant.client.chat.completions
    before = sdk.exporter.counts[SCOPE]
    if variant.settings is None:
        if _is_wrapped():
            raise RuntimeError("Completions.create is still wrapped in the bare variant")
    else:
        instrumentor.instrument(
            tracer_provider=sdk.tracer_provider,
            meter_provider=sdk.meter_provider,
            **variant.settings,
        )
        if not _is_wrapped():
            raise RuntimeError("OpenAISentinelInstrumentor did not wrap Completions.create")
    wall = [0] * n
    cpu = [0] * n
    try:
        # the new Telemetry's price book resolves the model, the table sees the request
        completions.create(**requests[0])
        gc.collect()
        gc.disable()
        perf_counter_ns = time.perf_counter_ns
        thread_time_ns = time.thread_time_ns
        for i in range(n):
            kwargs = requests[i + 1]
            cpu_start = thread_time_ns()
            start = perf_counter_ns()
            completions.create(**kwargs)
            wall[i] = perf_counter_ns() - start
            cpu[i] = thread_time_ns() - cpu_start
    finally:
        gc.enable()
        if variant.settings is not None:
            instrumentor.uninstrument()
    made = sdk.exporter.counts[SCOPE] - before
    expected = 0 if variant.settings is None else n + 1
    if made != expected:
        raise RuntimeError(f"{variant.name}: {made} spans for {n + 1} calls, expected {expected}")
    if check and variant.settings is not None:
        attributes = sdk.exporter.last[SCOPE].attributes or {}
        missing = [key for key in variant.present if key not in attributes]
        extra = [key for key in variant.absent if key in attributes]
        if missing or extra:
            raise RuntimeError(f"{variant.name}: span lacks {missing}, has {extra}")
        variant.span_attributes = len(attributes)
    return Block(wall, cpu)


@dataclass
class Figure:
    """One clock's view of a variant: median over rounds of the block medians (µs)."""

    per_call_us: float
    overhead_us: float | None = None
    """Median over rounds of (variant - bare), paired within each round."""
    q1_us: float | None = None
    q3_us: float | None = None


@dataclass
class Difference:
    """``minuend - subtrahend`` per round, median over rounds [quartiles], both clocks."""

    name: str
    label: str
    minuend: str
    subtrahend: str
    wall_us: float
    wall_q1_us: float
    wall_q3_us: float
    cpu_us: float
    cpu_q1_us: float
    cpu_q3_us: float


def _per_round(rounds: list[dict[str, Block]], name: str, clock: str) -> list[float]:
    return [statistics.median(getattr(r[name], clock)) / 1e3 for r in rounds]


def _paired(rounds: list[dict[str, Block]], a: str, b: str, clock: str) -> list[float]:
    return [
        x - y
        for x, y in zip(_per_round(rounds, a, clock), _per_round(rounds, b, clock), strict=True)
    ]


def summarise(
    rounds: list[dict[str, Block]], variants: list[Variant]
) -> dict[str, dict[str, Figure]]:
    """Per variant and clock: per-call median and overhead over bare."""
    result: dict[str, dict[str, Figure]] = {}
    for variant in variants:
        figures: dict[str, Figure] = {}
        for clock in ("wall", "cpu"):
            key = f"{clock}_ns"
            figure = Figure(statistics.median(_per_round(rounds, variant.name, key)))
            if variant.name != "bare":
                diffs = _paired(rounds, variant.name, "bare", key)
                figure.overhead_us = statistics.median(diffs)
                figure.q1_us, figure.q3_us = _quartiles(diffs)
            figures[clock] = figure
        result[variant.name] = figures
    return result


DIFFERENCES = (
    ("pricing", "pricing + cost attributes and points", "priced-norepeat", "unpriced"),
    ("fingerprint", "fingerprint + table (new request)", "priced", "priced-norepeat"),
    ("repeat", "a repeat's attributes and points", "priced-repeat", "priced"),
    ("total", "priced - unpriced (the target)", "priced", "unpriced"),
    ("total-repeat", "priced repeated - unpriced", "priced-repeat", "unpriced"),
)


def differences(rounds: list[dict[str, Block]]) -> dict[str, Difference]:
    """The differences between instrumented variants, paired within each round."""
    result: dict[str, Difference] = {}
    for name, label, a, b in DIFFERENCES:
        wall = _paired(rounds, a, b, "wall_ns")
        cpu = _paired(rounds, a, b, "cpu_ns")
        result[name] = Difference(
            name,
            label,
            a,
            b,
            statistics.median(wall),
            *_quartiles(wall),
            statistics.median(cpu),
            *_quartiles(cpu),
        )
    return result


def run_end_to_end(
    args: argparse.Namespace, sdk: Sdk
) -> tuple[list[Variant], dict[str, dict[str, Figure]], dict[str, Difference], float]:
    """The interleaved rounds; returns the variants, their figures, the differences and
    the seconds spent."""
    if _is_wrapped():
        raise RuntimeError("Completions.create is already wrapped; run in a clean process")
    variants = make_variants(
        make_client(completion_body(PRICED_MODEL)), make_client(completion_body(UNPRICED_MODEL))
    )
    instrumentor = OpenAISentinelInstrumentor()
    counter = PromptNumbers()
    rounds: list[dict[str, Block]] = []
    progress = sys.stderr.isatty()
    total = args.warmup + args.rounds
    started = time.perf_counter()
    for index in range(total):
        shift = index % len(variants)
        order = variants[shift:] + variants[:shift]
        blocks = {
            v.name: run_block(v, args.calls, sdk, instrumentor, counter, check=index == 0)
            for v in order
        }
        if index >= args.warmup:
            rounds.append(blocks)
        if index == 0:
            gc.collect()
            gc.freeze()  # long-lived objects out of the collector's way: cheap collects
        if progress:
            so_far = time.perf_counter() - started
            print(f"\r  round {index + 1}/{total} ({so_far:.0f} s)", end="", file=sys.stderr)
    if progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    elapsed = time.perf_counter() - started
    return variants, summarise(rounds, variants), differences(rounds), elapsed


# -- 2. the analyzers alone ----------------------------------------------------------------


@dataclass
class Micro:
    """µs per call of one function: best and median over repeats, both clocks."""

    name: str
    label: str
    number: int
    """Calls per repeat."""
    cpu_best_us: float
    cpu_median_us: float
    wall_best_us: float
    wall_median_us: float
    detail: str = ""
    cold_cpu_us: float | None = None
    """Median µs right after a bare client call (timer overhead taken off), when measured."""
    cold_wall_us: float | None = None


def _loop(fn: Callable[[], object], number: int) -> tuple[float, float]:
    """Seconds of wall clock and thread CPU time for ``number`` calls of ``fn``."""
    rng = range(number)
    cpu_start = time.thread_time()
    start = time.perf_counter()
    for _ in rng:
        fn()
    return time.perf_counter() - start, time.thread_time() - cpu_start


def micro(name: str, label: str, fn: Callable[[], object], seconds: float, repeats: int) -> Micro:
    """Time ``fn`` like ``timeit``: calibrate calls per repeat to ~``seconds``, then take
    ``repeats`` repeats with the garbage collector off."""
    fn()  # warm
    number = 1
    while True:
        wall, _ = _loop(fn, number)
        if wall >= seconds / 5 or number >= 10_000_000:
            break
        number *= 10 if wall < seconds / 50 else 2
    number = max(1, math.ceil(number * seconds / max(wall, 1e-9)))
    walls: list[float] = []
    cpus: list[float] = []
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeats):
            wall, cpu = _loop(fn, number)
            walls.append(wall / number * 1e6)
            cpus.append(cpu / number * 1e6)
    finally:
        gc.enable()
    return Micro(
        name,
        label,
        number,
        min(cpus),
        statistics.median(cpus),
        min(walls),
        statistics.median(walls),
    )


def _exchange(
    model: str, input_tokens: int, cached: int, fingerprint: int | None = None
) -> Exchange:
    return Exchange(
        "chat",
        "openai",
        request_model=REQUEST_MODEL,
        server_address="api.openai.test",
        server_port=443,
        temperature=0.2,
        max_tokens=400,
        request_fingerprint=fingerprint,
        response_id="chatcmpl-AbC123cost",
        response_model=model,
        finish_reasons=["stop"],
        input_tokens=input_tokens,
        output_tokens=212,
        cache_read_input_tokens=cached,
        response_service_tier="default",
        system_fingerprint="fp_0ba0d124f1",
    )


def _arguments(counter: int, size: int) -> dict[str, Any]:
    """What the chat adapter fingerprints: the request without its model."""
    return {
        "messages": prompt_messages(counter, size),
        "temperature": 0.2,
        "max_completion_tokens": 400,
    }


def _canonical_size(arguments: dict[str, Any]) -> int:
    text = json.dumps([KIND, arguments], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return len(text.encode())


def _fingerprint_next(next_arguments: Callable[[], dict[str, Any]]) -> int | None:
    return request_fingerprint(KIND, next_arguments())


def _digests(count: int) -> list[int]:
    return [int.from_bytes(os.urandom(8), "big", signed=True) for _ in range(count)]


def _cost_line(book: PriceBook, exchange: Exchange) -> str:
    cost = book.cost(exchange)
    if cost is None:
        return "unpriced"
    return f"${cost.total:.6f} (cached part ${cost.cached_input:.6f})"


def cold(fn: Callable[[], object], clobber: Callable[[], object], iterations: int) -> Micro:
    """``fn`` timed alone right after each of ``iterations`` calls of ``clobber`` (a bare
    client call, untimed), which leaves the caches as a real call would: medians of the
    per-call times, timer overhead included (the caller subtracts it)."""
    cpu: list[int] = []
    wall: list[int] = []
    thread_time_ns = time.thread_time_ns
    perf_counter_ns = time.perf_counter_ns
    gc.collect()
    gc.disable()
    try:
        for _ in range(iterations):
            clobber()
            cpu_start = thread_time_ns()
            start = perf_counter_ns()
            fn()
            end = perf_counter_ns()
            cpu_end = thread_time_ns()
            cpu.append(cpu_end - cpu_start)
            wall.append(end - start)
    finally:
        gc.enable()
    return Micro(
        "",
        "",
        iterations,
        min(cpu) / 1e3,
        statistics.median(cpu) / 1e3,
        min(wall) / 1e3,
        statistics.median(wall) / 1e3,
    )


def run_micro(args: argparse.Namespace, sdk: Sdk) -> list[Micro]:
    """The analyzer parts, each alone; some also right after a bare client call."""
    if _is_wrapped():
        raise RuntimeError("Completions.create is still wrapped")
    seconds, repeats = args.micro_seconds, args.micro_repeats
    results: list[Micro] = []
    completions = make_client(completion_body(PRICED_MODEL)).chat.completions
    numbers = itertools.count(10**9)

    def clobber() -> None:
        completions.create(**request(next(numbers)))

    timer = cold(lambda: None, clobber, args.cold_calls)

    def add(
        name: str, label: str, fn: Callable[[], object], detail: str = "", *, after_call: bool
    ) -> None:
        result = micro(name, label, fn, seconds, repeats)
        result.detail = detail
        if after_call:
            measured = cold(fn, clobber, args.cold_calls)
            result.cold_cpu_us = max(measured.cpu_median_us - timer.cpu_median_us, 0.0)
            result.cold_wall_us = max(measured.wall_median_us - timer.wall_median_us, 0.0)
        results.append(result)

    add("noop", "empty call (loop overhead, included below)", lambda: None, after_call=False)

    book = PriceBook()
    book.warm()
    cases = (
        ("cost.plain", f"PriceBook.cost {PRICED_MODEL}, plain rates", PRICED_MODEL, 1536, 1024),
        ("cost.unknown", f"PriceBook.cost {UNPRICED_MODEL}, unknown", UNPRICED_MODEL, 1536, 1024),
        ("cost.tiered", f"PriceBook.cost {TIERED_MODEL}, tiered, 1.5k in", TIERED_MODEL, 1536, 0),
        (
            "cost.tiered-cached",
            f"PriceBook.cost {TIERED_MODEL}, tiered, 1.5k in, 1k cached",
            TIERED_MODEL,
            1536,
            1024,
        ),
        (
            "cost.tiered-long",
            f"PriceBook.cost {TIERED_MODEL}, tiered, 300k in",
            TIERED_MODEL,
            300_000,
            0,
        ),
        (
            "cost.tiered-long-cached",
            f"PriceBook.cost {TIERED_MODEL}, tiered, 300k in, 100k cached",
            TIERED_MODEL,
            300_000,
            100_000,
        ),
    )
    for name, label, model, input_tokens, cached in cases:
        exchange = _exchange(model, input_tokens, cached)
        add(
            name,
            label,
            functools.partial(book.cost, exchange),
            _cost_line(book, exchange),
            after_call=name in ("cost.plain", "cost.unknown"),
        )

    for size, tag in ((0, "1 KB"), (10_000, "10 KB"), (100_000, "100 KB")):
        # distinct requests, as the adapter hands them over (the model left out)
        arguments = [_arguments(counter, size) for counter in range(64)]
        next_arguments = itertools.cycle(arguments).__next__
        add(
            f"fingerprint.{tag.replace(' ', '').lower()}",
            f"request_fingerprint, {tag} prompt",
            functools.partial(_fingerprint_next, next_arguments),
            f"{_canonical_size(arguments[0]):,} bytes of canonical JSON",
            after_call=size == 0,
        )

    capacity = Settings().repeat_table_size
    tracker = RepeatTracker(3600.0, capacity)
    pool = _digests(2 * capacity)  # each comes back after it was evicted: always new
    for digest in pool[:capacity]:
        tracker.observe(digest, REQUEST_MODEL)
    new_digest = itertools.cycle(pool[capacity:] + pool[:capacity]).__next__
    add(
        "observe.new",
        f"RepeatTracker.observe, full ({capacity:,}), new",
        lambda: tracker.observe(new_digest(), REQUEST_MODEL),
        "evicts the oldest entry",
        after_call=True,
    )
    hot = pool[:1000]
    for digest in hot:
        tracker.observe(digest, REQUEST_MODEL)
    hot_digest = itertools.cycle(hot).__next__
    add(
        "observe.repeat",
        f"RepeatTracker.observe, full ({capacity:,}), repeat",
        lambda: tracker.observe(hot_digest(), REQUEST_MODEL),
        f"table holds {len(tracker):,}",
        after_call=False,
    )

    priced = Telemetry(Settings(), sdk.tracer_provider, sdk.meter_provider)
    priced.price_book.warm()
    exchanges = [_exchange(PRICED_MODEL, 1536, 1024, d) for d in _digests(2 * capacity)]
    for exchange in exchanges[:capacity]:
        priced.analyze(exchange)
    new_exchange = itertools.cycle(exchanges[capacity:] + exchanges[:capacity]).__next__
    add(
        "analyze.priced",
        "Telemetry.analyze, priced, new request",
        lambda: priced.analyze(new_exchange()),
        "cost + observe (table full)",
        after_call=True,
    )
    unpriced = Telemetry(Settings(repeat_window_seconds=0), sdk.tracer_provider, sdk.meter_provider)
    unpriced.price_book.warm()
    unknown = _exchange(UNPRICED_MODEL, 1536, 1024)
    add(
        "analyze.unpriced",
        "Telemetry.analyze, unpriced, repeats off",
        lambda: unpriced.analyze(unknown),
        after_call=True,
    )

    # the SDK recording the cost points, in the context of a recording span (exemplars)
    meter = sdk.meter_provider.get_meter("bench.cost_points")
    points = CostMetrics(meter, latest=False)
    exchange = _exchange(PRICED_MODEL, 1536, 1024, 0x5EED)
    priced.analyze(exchange)
    findings = priced.analyze(exchange)  # now a repeat
    cost, repeat = findings.cost, findings.repeat
    assert cost is not None
    assert repeat is not None
    attributes = priced.metric_attributes(exchange)
    span = sdk.tracer_provider.get_tracer("bench.cost_points").start_span("bench")
    context = trace.set_span_in_context(span)
    threshold = Settings().cost_threshold_usd
    add(
        "points.cost",
        "the cost points of a priced call",
        lambda: points.record(cost, attributes, key_of(attributes), context, threshold),
        "3 in-process sums (input, output, cache savings), 1 histogram record",
        after_call=True,
    )
    add(
        "points.repeat",
        "the points of a repeat",
        lambda: points.record_repeat(repeat, cost, key_of(attributes)),
        "2 in-process sums",
        after_call=False,
    )
    span.end()
    return results


# -- 3. import check -----------------------------------------------------------------------

IMPORT_PROBE = """
import json, sys, time
start = time.perf_counter()
import openai_sentinel
imported = time.perf_counter() - start
loaded_by_import = sorted(m for m in sys.modules if m.split(".")[0] == "genai_prices")
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider
tracer_provider, meter_provider = TracerProvider(), MeterProvider()
instrumentor = openai_sentinel.OpenAISentinelInstrumentor()
instrument = []
for _ in range(4):
    start = time.perf_counter()
    instrumentor.instrument(tracer_provider=tracer_provider, meter_provider=meter_provider)
    instrument.append(time.perf_counter() - start)
    instrumentor.uninstrument()
print(json.dumps({
    "import_s": imported,
    "genai_prices_after_import": loaded_by_import,
    "genai_prices_after_instrument": "genai_prices" in sys.modules,
    "instrument_s": instrument,
}))
"""

WARM_PROBE = """
import json, time
from openai_sentinel.analyzers.cost import PriceBook
start = time.perf_counter()
import genai_prices
imported = time.perf_counter() - start
warm = []
for _ in range(4):
    book = PriceBook()
    start = time.perf_counter()
    book.warm()
    warm.append(time.perf_counter() - start)
start = time.perf_counter()
book.warm()
again = time.perf_counter() - start
print(json.dumps({"import_genai_prices_s": imported, "warm_s": warm, "warm_same_book_s": again}))
"""


@dataclass
class ImportCheck:
    """Medians over fresh interpreters (ms) and whether the import loaded the price data."""

    runs: int
    genai_prices_after_import: bool
    genai_prices_after_instrument: bool
    import_ms: float
    instrument_first_ms: float
    instrument_later_ms: float
    import_genai_prices_ms: float
    warm_first_ms: float
    """``PriceBook().warm()`` after ``import genai_prices``: loading and indexing the data."""
    warm_later_ms: float
    """``warm()`` of a new ``PriceBook`` (each ``instrument()`` makes one) once loaded."""
    warm_same_book_us: float


def _probe(code: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def run_import_check(runs: int) -> ImportCheck:
    """``runs`` fresh interpreters of each probe."""
    imports = [_probe(IMPORT_PROBE) for _ in range(runs)]
    warms = [_probe(WARM_PROBE) for _ in range(runs)]

    def ms(values: list[float]) -> float:
        return statistics.median(values) * 1e3

    return ImportCheck(
        runs,
        any(run["genai_prices_after_import"] for run in imports),
        all(run["genai_prices_after_instrument"] for run in imports),
        ms([run["import_s"] for run in imports]),
        ms([run["instrument_s"][0] for run in imports]),
        ms([t for run in imports for t in run["instrument_s"][1:]]),
        ms([run["import_genai_prices_s"] for run in warms]),
        ms([run["warm_s"][0] for run in warms]),
        ms([t for run in warms for t in run["warm_s"][1:]]),
        ms([run["warm_same_book_s"] for run in warms]) * 1e3,
    )


# -- report --------------------------------------------------------------------------------


def _spread(q1: float | None, q3: float | None) -> str:
    return "" if q1 is None or q3 is None else f"[{q1:.1f}..{q3:.1f}]"


@dataclass
class Target:
    """One target: the deciding figure against its limit, the other clock alongside."""

    name: str
    limit: float
    value: float
    other: float | None = None
    other_clock: str = ""

    @property
    def verdict(self) -> str:
        return "PASS" if self.value <= self.limit else "MISS"

    def line(self) -> str:
        other = f"   ({self.other_clock}: {self.other:.2f} µs)" if self.other is not None else ""
        return (
            f"  [{self.verdict}] {self.name:<56}{self.value:>8.2f} µs  "
            f"target <= {self.limit:g} µs{other}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def print_end_to_end(
    args: argparse.Namespace,
    variants: list[Variant],
    figures: dict[str, dict[str, Figure]],
    diffs: dict[str, Difference],
) -> None:
    print(
        f"\n1. end to end: non-streaming create(), {args.rounds} rounds x {args.calls} calls "
        "per variant (µs/call)"
    )
    print(
        f"  {'variant':<28}{'attrs':>6}{'wall':>9}{'overhead':>10}{'[q1..q3]':>15}"
        f"{'cpu':>9}{'overhead':>10}{'[q1..q3]':>15}"
    )
    for variant in variants:
        wall, cpu = figures[variant.name]["wall"], figures[variant.name]["cpu"]
        print(
            f"  {variant.label:<28}{_fmt(variant.span_attributes, 6, 0)}"
            f"{_fmt(wall.per_call_us, 9)}{_fmt(wall.overhead_us, 10)}"
            f"{_spread(wall.q1_us, wall.q3_us):>15}"
            f"{_fmt(cpu.per_call_us, 9)}{_fmt(cpu.overhead_us, 10)}"
            f"{_spread(cpu.q1_us, cpu.q3_us):>15}"
        )
    print("\n  differences, paired within each round (µs/call, median [q1..q3]):")
    print(f"  {'':<40}{'wall':>9}{'[q1..q3]':>15}{'cpu':>9}{'[q1..q3]':>15}")
    for d in diffs.values():
        print(
            f"  {d.label:<40}{d.wall_us:>9.2f}{_spread(d.wall_q1_us, d.wall_q3_us):>15}"
            f"{d.cpu_us:>9.2f}{_spread(d.cpu_q1_us, d.cpu_q3_us):>15}"
        )


def print_micro(results: list[Micro], repeats: int, cold_calls: int) -> None:
    print(
        f"\n2. the analyzers alone (µs/call): best and median of {repeats} timeit repeats;"
        f"\n   after call = median of {cold_calls} single timings, each right after a bare"
        "\n   client call (caches as in a real call), timer overhead taken off"
    )
    print(f"  {'':<58}{'cpu best':>9}{'median':>9}{'wall med':>9}{'after call':>11}  notes")
    for m in results:
        print(
            f"  {m.label:<58}{m.cpu_best_us:>9.2f}{m.cpu_median_us:>9.2f}"
            f"{m.wall_median_us:>9.2f}{_fmt(m.cold_cpu_us, 11, 2)}  {m.detail}"
        )


def print_import_check(check: ImportCheck) -> None:
    print(f"\n3. import check (medians over {check.runs} fresh interpreters)")
    print(
        f"  genai_prices in sys.modules after `import openai_sentinel`: "
        f"{check.genai_prices_after_import}   (after instrument(): "
        f"{check.genai_prices_after_instrument})"
    )
    print(f"  import openai_sentinel                    {check.import_ms:>9.1f} ms")
    print(f"  instrument(), first in the process        {check.instrument_first_ms:>9.1f} ms")
    print(f"  instrument(), later (after uninstrument)  {check.instrument_later_ms:>9.1f} ms")
    print("  the price data alone, in other fresh interpreters:")
    print(f"    import genai_prices                     {check.import_genai_prices_ms:>9.1f} ms")
    print(f"    PriceBook().warm(), first (data load)   {check.warm_first_ms:>9.1f} ms")
    print(f"    PriceBook().warm(), new book, later     {check.warm_later_ms:>9.2f} ms")
    print(f"    warm() again, same book (cached)        {check.warm_same_book_us:>9.2f} µs")
    print(
        "  (the rest of the first instrument() is mostly importing the openai modules it"
        "\n  patches, e.g. openai.resources.responses)"
    )


def environment() -> dict[str, Any]:
    """What the figures depend on."""
    return {
        **machine(),
        "openai": openai.__version__,
        "http": f"{http.__name__} {getattr(http, '__version__', '?')}",
        "openai_sentinel": openai_sentinel.__version__,
        "genai_prices": _version("genai-prices"),
        "opentelemetry_sdk": _version("opentelemetry-sdk"),
    }


# -- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; defaults take under a minute on an idle 2-core VM."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=40, help="calls per block")
    parser.add_argument("--rounds", type=int, default=50, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=2, help="discarded rounds first")
    parser.add_argument(
        "--decide-by",
        choices=("cpu", "wall"),
        default="cpu",
        help="clock whose figures decide PASS/MISS (default: thread CPU time)",
    )
    parser.add_argument(
        "--micro-seconds", type=float, default=0.05, help="seconds per micro-benchmark repeat"
    )
    parser.add_argument("--micro-repeats", type=int, default=7, help="micro-benchmark repeats")
    parser.add_argument(
        "--cold-calls",
        type=int,
        default=300,
        help="bare client calls, each followed by one timed call, for the after-a-call column",
    )
    parser.add_argument(
        "--import-runs", type=int, default=3, help="fresh interpreters for the import check"
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    for name in ("calls", "rounds", "micro_repeats", "cold_calls", "import_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.warmup < 0 or args.micro_seconds <= 0:
        parser.error("--warmup must be 0 or more and --micro-seconds positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the three parts and the targets, optionally write JSON."""
    args = parse_args(argv)
    env = environment()
    print(
        f"openai-sentinel {env['openai_sentinel']} pricing and repeat detection: python "
        f"{env['python']}, openai {env['openai']}, genai-prices {env['genai_prices']}, "
        f"opentelemetry-sdk {env['opentelemetry_sdk']}, {env['cpus']} cpus, "
        f"loadavg {env['loadavg']}",
        flush=True,
    )
    started = time.perf_counter()
    check = run_import_check(args.import_runs)  # first: fresh interpreters, idle machine
    sdk = make_sdk()
    variants, figures, diffs, e2e_seconds = run_end_to_end(args, sdk)
    micros = run_micro(args, sdk)
    elapsed = time.perf_counter() - started

    print(
        "\nµs per call: median over rounds of each block's median; overhead = variant - bare,"
        "\npaired within each round, median over rounds [quartiles]; attrs = span attributes"
    )
    print_end_to_end(args, variants, figures, diffs)
    print_micro(micros, args.micro_repeats, args.cold_calls)
    print_import_check(check)

    by = {m.name: m for m in micros}
    total = diffs["total"]
    cpu_first = args.decide_by == "cpu"
    analyzers_cpu = by["fingerprint.1kb"].cpu_median_us + by["analyze.priced"].cpu_median_us
    analyzers_wall = by["fingerprint.1kb"].wall_median_us + by["analyze.priced"].wall_median_us
    targets = [
        Target(
            "priced - unpriced, end to end, per call",
            TARGET_DIFFERENCE_US,
            total.cpu_us if cpu_first else total.wall_us,
            total.wall_us if cpu_first else total.cpu_us,
            "wall" if cpu_first else "cpu",
        ),
        Target(
            "analyzers alone: fingerprint (1 KB) + analyze (priced)",
            TARGET_DIFFERENCE_US,
            analyzers_cpu if cpu_first else analyzers_wall,
            analyzers_wall if cpu_first else analyzers_cpu,
            "wall" if cpu_first else "cpu",
        ),
    ]
    print(f"\ntargets (decided by {args.decide_by} time):")
    for target in targets:
        print(target.line())
    fingerprint, analyze = by["fingerprint.1kb"], by["analyze.priced"]
    if fingerprint.cold_cpu_us is not None and analyze.cold_cpu_us is not None:
        print(
            f"  [info] {'the same, each right after a client call (cpu)':<56}"
            f"{fingerprint.cold_cpu_us + analyze.cold_cpu_us:>8.2f} µs"
        )
    import_ok = not check.genai_prices_after_import
    print(
        f"  [{'PASS' if import_ok else 'MISS'}] import openai_sentinel leaves genai_prices "
        "unimported"
    )
    bare = figures["bare"]
    contention = bare["wall"].per_call_us / bare["cpu"].per_call_us
    if contention > 1.1:
        print(
            f"  note: bare wall/cpu = {contention:.2f}: other processes took the CPU during "
            "the run; wall-clock figures include that, cpu figures do not"
        )
    print(f"\n{elapsed:.1f} s in all, {e2e_seconds:.1f} s of them end to end")

    if args.json:
        document = {
            "environment": env,
            "config": vars(args),
            "elapsed_s": round(elapsed, 2),
            "end_to_end": {
                "variants": {
                    v.name: {
                        "label": v.label,
                        "span_attributes": v.span_attributes,
                        **{clock: asdict(f) for clock, f in figures[v.name].items()},
                    }
                    for v in variants
                },
                "differences": {name: asdict(d) for name, d in diffs.items()},
            },
            "micro": [asdict(m) for m in micros],
            "import_check": asdict(check),
            "targets": [t.as_dict() for t in targets]
            + [
                {
                    "name": "import leaves genai_prices unimported",
                    "verdict": "PASS" if import_ok else "MISS",
                }
            ],
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
