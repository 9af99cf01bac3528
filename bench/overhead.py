"""Per-call and per-chunk overhead of openai-sentinel, measured side by side in one process.

The real ``openai`` client talks to an ``httpx2.MockTransport`` that returns pre-serialised
bytes, and the real OpenTelemetry SDK records spans (exported to a counting sink) and
metrics (``InMemoryMetricReader``). Variants:

* ``bare``: no instrumentation;
* ``minimal``: a hand-written ``wrapt`` wrapper, one CLIENT span with 12 attributes and
  two histogram points (the yardstick of target 1);
* ``sentinel``: ``OpenAISentinelInstrumentor().instrument(...)`` with default settings;
* ``sentinel+usage`` / ``sentinel+content``: ``stream_usage=True`` / ``capture_content=True``
  (informational).

Each round runs one block of calls per variant, in an order rotated every round, and
installs / uninstalls the instrumentation around each block (outside the timed region).
Overheads are paired per round (variant minus ``bare`` of the same round) and the median
over rounds is reported, which cancels the slow drift of a shared VM.

Run: ``python bench/overhead.py [--calls N] [--chunks N] [--rounds R] [--json PATH]``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx2

try:  # ``python -m bench.overhead`` from the project root
    from bench._environment import machine
    from bench._environment import version as _version
except ImportError:  # ``python bench/overhead.py``
    from _environment import machine  # type: ignore[no-redef]
    from _environment import version as _version  # type: ignore[no-redef]

import openai
import wrapt
from openai.resources.chat.completions import Completions
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor

BASE_URL = "https://api.openai.test/v1"
CHAT_MODULE = "openai.resources.chat.completions"
MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"

TARGET_RATIO = 1.5
"""Target 1: sentinel overhead / minimal-wrapper overhead per non-streaming call."""
TARGET_CHUNK_US = 10.0
"""Target 2: sentinel overhead per stream chunk, in microseconds (issue 12; was 15)."""

DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48]
TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304]

# -- payloads ------------------------------------------------------------------------------

USAGE: dict[str, Any] = {
    "prompt_tokens": 57,
    "completion_tokens": 41,
    "total_tokens": 98,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}

ANSWER = (
    "The Treaty of Westphalia (1648) ended the Thirty Years' War and established the "
    "principle of state sovereignty, which became the foundation of the modern "
    "international order in Europe."
)

MESSAGES: list[dict[str, str]] = [
    {"role": "system", "content": "You are a concise assistant. Answer in one paragraph."},
    {
        "role": "user",
        "content": "Summarise the historical significance of the Treaty of Westphalia "
        "for someone who has never studied European history.",
    },
]

REQUEST: dict[str, Any] = {
    "model": MODEL,
    "messages": MESSAGES,
    "temperature": 0.2,
    "max_completion_tokens": 256,
}


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def completion_body() -> bytes:
    """A ``chat.completion`` body with usage, as the API sends it."""
    return _dumps(
        {
            "id": "chatcmpl-AbC123bench",
            "object": "chat.completion",
            "created": 1731368630,
            "model": RESPONSE_MODEL,
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
    ).encode()


def _chunk(delta: dict[str, Any] | None, finish: str | None = None, usage: Any = None) -> str:
    choices = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
    )
    return _dumps(
        {
            "id": "chatcmpl-AbC123stream",
            "object": "chat.completion.chunk",
            "created": 1731368630,
            "model": RESPONSE_MODEL,
            "service_tier": "default",
            "system_fingerprint": "fp_0ba0d124f1",
            "choices": choices,
            "usage": usage,
        }
    )


def sse_body(content_chunks: int) -> bytes:
    """``content_chunks`` content chunks (the first carries the role), a finish chunk, a
    usage chunk and ``data: [DONE]``, framed as server-sent events."""
    words = ANSWER.split(" ")
    events = [
        _chunk(
            {"role": "assistant", "content": "", "refusal": None}
            if i == 0
            else {"content": " " + words[i % len(words)]}
        )
        for i in range(content_chunks)
    ]
    events.append(_chunk({}, finish="stop"))
    events.append(_chunk(None, usage=USAGE))
    return ("".join(f"data: {e}\n\n" for e in events) + "data: [DONE]\n\n").encode()


def make_client(body: bytes, content_type: str) -> openai.OpenAI:
    """A real ``OpenAI`` client whose transport answers every request with ``body``."""
    headers = {"content-type": content_type, "x-request-id": "req_bench"}

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers=headers, content=body)

    return openai.OpenAI(
        api_key="sk-bench",
        base_url=BASE_URL,
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


# -- OpenTelemetry SDK -------------------------------------------------------------------


class CountingExporter(SpanExporter):
    """Discards spans, counting them (and keeping the last one) per instrumentation scope."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.last: dict[str, ReadableSpan] = {}

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        for span in spans:
            scope = span.instrumentation_scope.name if span.instrumentation_scope else ""
            self.counts[scope] += 1
            self.last[scope] = span
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release."""


@dataclass
class Sdk:
    """The providers every instrumented variant shares."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: CountingExporter
    reader: InMemoryMetricReader


def make_sdk() -> Sdk:
    """Real SDK providers: synchronous span export to a counting sink, in-memory metrics."""
    exporter = CountingExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    return Sdk(tracer_provider, MeterProvider(metric_readers=[reader]), exporter, reader)


def metric_points(reader: InMemoryMetricReader, scope: str) -> int:
    """Histogram points recorded so far (counts summed) under instrumentation ``scope``."""
    data = reader.get_metrics_data()
    total = 0
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            if scope_metrics.scope.name != scope:
                continue
            for metric in scope_metrics.metrics:
                total += sum(getattr(p, "count", 0) for p in metric.data.data_points)
    return total


# -- the hand-written minimal wrapper -------------------------------------------------------

MINIMAL_SCOPE = "bench.minimal"


class MinimalWrapper:
    """What a careful hand-written wrapper costs: one CLIENT span made current during the
    call, 12 attributes (7 request, 5 response), two histogram points (duration, tokens).

    Streams are wrapped in :class:`MinimalStream`, which ends the span when exhausted.
    """

    def __init__(self, sdk: Sdk, *, points_in_span: bool = True) -> None:
        self.points_in_span = points_in_span
        self.tracer = sdk.tracer_provider.get_tracer(MINIMAL_SCOPE)
        meter = sdk.meter_provider.get_meter(MINIMAL_SCOPE)
        self.duration = meter.create_histogram(
            "gen_ai.client.operation.duration",
            unit="s",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self.tokens = meter.create_histogram(
            "gen_ai.client.token.usage",
            unit="{token}",
            explicit_bucket_boundaries_advisory=TOKEN_BUCKETS,
        )

    def __call__(
        self,
        wrapped: Callable[..., Any],
        instance: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        model = kwargs.get("model")
        url = instance._client.base_url
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "server.address": url.host,
            "server.port": url.port or 443,
        }
        temperature = kwargs.get("temperature")
        if isinstance(temperature, (int, float)):
            attributes["gen_ai.request.temperature"] = temperature
        max_tokens = self.max_tokens(kwargs)
        if isinstance(max_tokens, int):
            attributes["gen_ai.request.max_tokens"] = max_tokens
        metric_attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": model,
            "server.address": attributes["server.address"],
            "server.port": attributes["server.port"],
        }
        start = time.perf_counter()
        span = self.tracer.start_span(f"chat {model}", kind=SpanKind.CLIENT, attributes=attributes)
        span_context = trace.set_span_in_context(span)
        token = otel_context.attach(span_context)
        try:
            result = wrapped(*args, **kwargs)
        except BaseException as error:
            span.set_status(Status(StatusCode.ERROR, str(error)))
            span.end()
            raise
        finally:
            otel_context.detach(token)
        if kwargs.get("stream") is True:
            return MinimalStream(result, self, span, span_context, start, metric_attributes)
        self.finish(span, span_context, start, metric_attributes, *self.outcome(result))
        return result

    @staticmethod
    def max_tokens(kwargs: dict[str, Any]) -> Any:
        """The request's token limit."""
        return kwargs.get("max_completion_tokens") or kwargs.get("max_tokens")

    @staticmethod
    def outcome(result: Any) -> tuple[Any, Any, list[str], Any]:
        """Response id, model, finish reasons and usage (``prompt_tokens``,
        ``completion_tokens``) of a non-streamed result."""
        reasons = [choice.finish_reason for choice in result.choices]
        return result.id, result.model, reasons, result.usage

    def finish(
        self,
        span: Any,
        span_context: Context,
        start: float,
        metric_attributes: dict[str, Any],
        response_id: str | None,
        response_model: str | None,
        finish_reasons: list[str],
        usage: Any,
    ) -> None:
        """Set the 5 response attributes, record duration and tokens, end the span.

        With ``points_in_span`` the points are recorded in the span's context, as they
        would be inside ``with tracer.start_as_current_span(...)``: the SDK's default
        trace-based exemplar filter then offers them to its exemplar reservoir.
        """
        point_context = span_context if self.points_in_span else None
        span.set_attributes(
            {
                "gen_ai.response.id": response_id or "",
                "gen_ai.response.model": response_model or "",
                "gen_ai.response.finish_reasons": finish_reasons,
                "gen_ai.usage.input_tokens": usage.prompt_tokens if usage else 0,
                "gen_ai.usage.output_tokens": usage.completion_tokens if usage else 0,
            }
        )
        metric_attributes["gen_ai.response.model"] = response_model or ""
        self.duration.record(time.perf_counter() - start, metric_attributes, point_context)
        if usage is not None:
            self.tokens.record(
                usage.completion_tokens,
                {**metric_attributes, "gen_ai.token.type": "output"},
                point_context,
            )
        span.end()


class MinimalStream:
    """A plain iterator proxy: reads id/model/finish reason/usage off the chunks, ends the
    span once the stream is exhausted."""

    __slots__ = (
        "_attributes",
        "_context",
        "_finish_reason",
        "_model",
        "_response_id",
        "_span",
        "_start",
        "_stream",
        "_usage",
        "_wrapper",
    )

    def __init__(
        self,
        stream: Any,
        wrapper: MinimalWrapper,
        span: Any,
        span_context: Context,
        start: float,
        attributes: dict[str, Any],
    ) -> None:
        self._stream = stream
        self._wrapper = wrapper
        self._span = span
        self._context = span_context
        self._start = start
        self._attributes = attributes
        self._response_id: str | None = None
        self._model: str | None = None
        self._finish_reason: str | None = None
        self._usage: Any = None

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        try:
            chunk = self._stream.__next__()
        except StopIteration:
            self._wrapper.finish(
                self._span,
                self._context,
                self._start,
                self._attributes,
                self._response_id,
                self._model,
                [self._finish_reason or "error"],
                self._usage,
            )
            raise
        if self._response_id is None:
            self._response_id = chunk.id
            self._model = chunk.model
        if chunk.usage is not None:
            self._usage = chunk.usage
        choices = chunk.choices
        if choices and choices[0].finish_reason is not None:
            self._finish_reason = choices[0].finish_reason
        return chunk


# -- variants ------------------------------------------------------------------------------


@dataclass
class Variant:
    """One way of running the client; ``install`` / ``uninstall`` bracket each block."""

    name: str
    label: str
    scope: str | None
    install: Callable[[], None]
    uninstall: Callable[[], None]
    span_attributes: int | None = None
    """Attributes on the variant's span (seen on its first block)."""
    points_per_call: float | None = None
    """Histogram points recorded per call (seen on its first block)."""


def _is_wrapped() -> bool:
    return isinstance(Completions.__dict__["create"], wrapt.FunctionWrapper)


_ANALYSES_OFF: dict[str, dict[str, Any]] = {
    "security": {"security_scanning": False},
    "confidence": {"confidence_heuristic": False},
    "drift": {"drift_detection": False},
    "repeats": {"repeat_window_seconds": 0},
}
FEATURES: dict[str, dict[str, Any]] = {
    **_ANALYSES_OFF,
    "all four": {key: value for off in _ANALYSES_OFF.values() for key, value in off.items()},
}
"""With ``--features``: each analysis turned off (and all four at once), so that what each
costs per call shows as the paired difference from the default settings."""


def feature_variant(feature: str) -> str:
    """The name of the variant that runs without ``feature``."""
    return "without " + feature


def make_variants(
    sdk: Sdk, *, stream: bool, control: bool, features: bool = False
) -> list[Variant]:
    """The variants of one scenario, ``bare`` first (with ``features``, the non-stream
    scenario also gets one variant per entry of :data:`FEATURES`)."""
    minimal = MinimalWrapper(sdk)
    minimal_outside = MinimalWrapper(sdk, points_in_span=False)
    instrumentor = OpenAISentinelInstrumentor()

    def nothing() -> None:
        if _is_wrapped():
            raise RuntimeError("Completions.create is still wrapped in the bare variant")

    def install(wrapper: MinimalWrapper) -> Callable[[], None]:
        return lambda: wrapt.wrap_function_wrapper(CHAT_MODULE, "Completions.create", wrapper)

    def uninstall_minimal() -> None:
        unwrap(Completions, "create")

    def sentinel(**settings: Any) -> Callable[[], None]:
        def install() -> None:
            instrumentor.instrument(
                tracer_provider=sdk.tracer_provider,
                meter_provider=sdk.meter_provider,
                **{"capture_content": False, "stream_usage": False, **settings},
            )
            if not _is_wrapped():
                raise RuntimeError("OpenAISentinelInstrumentor did not wrap Completions.create")

        return install

    scope = "openai_sentinel"
    variants = [
        Variant("bare", "bare client", None, nothing, nothing),
        Variant("minimal", "minimal wrapper", MINIMAL_SCOPE, install(minimal), uninstall_minimal),
        Variant("sentinel", "openai-sentinel", scope, sentinel(), instrumentor.uninstrument),
    ]
    if control:
        variants.insert(1, Variant("bare2", "bare again (A/A noise)", None, nothing, nothing))
    if stream:
        variants.append(
            Variant(
                "sentinel+usage",
                "  stream_usage=True",
                scope,
                sentinel(stream_usage=True),
                instrumentor.uninstrument,
            )
        )
    else:
        variants.insert(
            -1,
            Variant(
                "minimal-outside",
                "  points outside span",
                MINIMAL_SCOPE,
                install(minimal_outside),
                uninstall_minimal,
            ),
        )
    variants.append(
        Variant(
            "sentinel+content",
            "  capture_content=True",
            scope,
            sentinel(capture_content=True),
            instrumentor.uninstrument,
        )
    )
    if features and not stream:
        for feature, settings in FEATURES.items():
            name = feature_variant(feature)
            variants.append(
                Variant(name, "  " + name, scope, sentinel(**settings), instrumentor.uninstrument)
            )
    return variants


# -- measurement ---------------------------------------------------------------------------


@dataclass
class Block:
    """Per-call wall-clock and thread CPU times (ns) of one block of one variant."""

    wall_ns: list[int]
    cpu_ns: list[int]


def run_block(variant: Variant, call: Callable[[], None], n: int, sdk: Sdk) -> Block:
    """``n`` timed calls with the variant installed and the garbage collector off."""
    before = sdk.exporter.counts[variant.scope or ""]
    first = variant.scope is not None and variant.points_per_call is None
    points_before = metric_points(sdk.reader, variant.scope) if first and variant.scope else 0
    variant.install()
    try:
        gc.collect()
        gc.disable()
        wall = [0] * n
        cpu = [0] * n
        perf_counter_ns = time.perf_counter_ns
        thread_time_ns = time.thread_time_ns
        for i in range(n):
            cpu_start = thread_time_ns()
            start = perf_counter_ns()
            call()
            wall[i] = perf_counter_ns() - start
            cpu[i] = thread_time_ns() - cpu_start
    finally:
        gc.enable()
        variant.uninstall()
    made = sdk.exporter.counts[variant.scope or ""] - before
    expected = n if variant.scope else 0
    if made != expected:
        raise RuntimeError(f"{variant.name}: {made} spans for {n} calls, expected {expected}")
    if first and variant.scope:
        variant.span_attributes = len(sdk.exporter.last[variant.scope].attributes or {})
        variant.points_per_call = (metric_points(sdk.reader, variant.scope) - points_before) / n
    return Block(wall, cpu)


@dataclass
class Scenario:
    """A call to repeat, its variants, and the blocks measured so far."""

    name: str
    call: Callable[[], None]
    per_block: int
    variants: list[Variant]
    rounds: list[dict[str, Block]] = field(default_factory=list)

    def run_round(self, index: int, sdk: Sdk, *, keep: bool) -> None:
        """One block per variant, in an order rotated by ``index``."""
        shift = index % len(self.variants)
        order = self.variants[shift:] + self.variants[:shift]
        blocks = {v.name: run_block(v, self.call, self.per_block, sdk) for v in order}
        if keep:
            self.rounds.append(blocks)


def non_stream_call(client: openai.OpenAI) -> Callable[[], None]:
    """One non-streaming ``chat.completions.create``."""
    completions = client.chat.completions  # the method is looked up per call: it gets wrapped

    def call() -> None:
        completions.create(**REQUEST)

    return call


def stream_call(client: openai.OpenAI) -> Callable[[], None]:
    """One streaming ``chat.completions.create``, consumed to the end."""
    completions = client.chat.completions

    def call() -> None:
        for _ in completions.create(stream=True, **REQUEST):
            pass

    return call


# -- statistics ----------------------------------------------------------------------------


@dataclass
class Figure:
    """One clock's view of a variant: medians over rounds of the block medians (µs)."""

    per_call_us: float
    overhead_us: float | None = None
    """Median over rounds of (variant - bare), paired within each round."""
    q1_us: float | None = None
    q3_us: float | None = None
    rounds_us: list[float] = field(default_factory=list)


def _quartiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q = statistics.quantiles(values, n=4, method="inclusive")
    return q[0], q[2]


def _figure(per_round: list[float], bare: list[float] | None) -> Figure:
    figure = Figure(statistics.median(per_round), rounds_us=[round(v, 2) for v in per_round])
    if bare is not None:
        diffs = [v - b for v, b in zip(per_round, bare, strict=True)]
        figure.overhead_us = statistics.median(diffs)
        figure.q1_us, figure.q3_us = _quartiles(diffs)
    return figure


@dataclass
class Summary:
    """What one variant of one scenario measured, by wall clock and by thread CPU time."""

    name: str
    label: str
    span_attributes: int | None
    points_per_call: float | None
    wall: Figure
    cpu: Figure


def summarise(scenario: Scenario) -> dict[str, Summary]:
    """Per-variant figures over the kept rounds."""

    def per_round(name: str, clock: str) -> list[float]:
        return [statistics.median(getattr(r[name], clock)) / 1e3 for r in scenario.rounds]

    bare_wall, bare_cpu = per_round("bare", "wall_ns"), per_round("bare", "cpu_ns")
    result: dict[str, Summary] = {}
    for variant in scenario.variants:
        is_bare = variant.name == "bare"
        result[variant.name] = Summary(
            variant.name,
            variant.label,
            variant.span_attributes,
            variant.points_per_call,
            _figure(per_round(variant.name, "wall_ns"), None if is_bare else bare_wall),
            _figure(per_round(variant.name, "cpu_ns"), None if is_bare else bare_cpu),
        )
    return result


@dataclass
class FeatureCost:
    """What one analysis adds to a call: the default settings' time minus the time
    without it, paired within each round (thread CPU, µs), median and quartiles."""

    feature: str
    cpu_us: float
    q1_us: float
    q3_us: float


def feature_costs(summaries: dict[str, Summary]) -> list[FeatureCost]:
    """Each measured entry of :data:`FEATURES`: its cost per call."""
    full = summaries["sentinel"].cpu.rounds_us
    costs = []
    for feature in FEATURES:
        without = summaries.get(feature_variant(feature))
        if without is None:
            continue
        diffs = [a - b for a, b in zip(full, without.cpu.rounds_us, strict=True)]
        q1, q3 = _quartiles(diffs)
        costs.append(FeatureCost(feature, statistics.median(diffs), q1, q3))
    return costs


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


# -- report --------------------------------------------------------------------------------


def _fmt(value: float | None, width: int, digits: int = 1) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def _spread(figure: Figure) -> str:
    if figure.q1_us is None or figure.q3_us is None:
        return ""
    return f"[{figure.q1_us:.0f}..{figure.q3_us:.0f}]"


def print_table(title: str, summaries: dict[str, Summary], chunks: int) -> None:
    """One scenario as a table; with ``chunks``, overheads per chunk are added."""
    print(f"\n{title}")
    header = (
        f"  {'variant':<24}{'attrs':>6}{'points':>7}"
        f"{'wall':>10}{'overhead':>10}{'[q1..q3]':>14}"
        f"{'cpu':>10}{'overhead':>10}{'[q1..q3]':>14}"
    )
    if chunks:
        header += f"{'wall/chunk':>11}{'cpu/chunk':>10}"
    print(header)
    for s in summaries.values():
        line = (
            f"  {s.label:<24}{_fmt(s.span_attributes, 6, 0)}{_fmt(s.points_per_call, 7, 0)}"
            f"{_fmt(s.wall.per_call_us, 10)}{_fmt(s.wall.overhead_us, 10)}{_spread(s.wall):>14}"
            f"{_fmt(s.cpu.per_call_us, 10)}{_fmt(s.cpu.overhead_us, 10)}{_spread(s.cpu):>14}"
        )
        if chunks:
            for figure, width in ((s.wall, 11), (s.cpu, 10)):
                per_chunk = None if figure.overhead_us is None else figure.overhead_us / chunks
                line += _fmt(per_chunk, width, 2)
        print(line)


@dataclass
class Target:
    """One target: the deciding figure against its limit, the other clock alongside."""

    name: str
    limit: float
    unit: str
    wall: float | None
    cpu: float | None
    decide_by: str

    @property
    def value(self) -> float | None:
        return self.cpu if self.decide_by == "cpu" else self.wall

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "N/A"
        return "PASS" if self.value <= self.limit else "MISS"

    def line(self) -> str:
        def show(value: float | None) -> str:
            return "n/a" if value is None else f"{value:.2f}{self.unit}"

        other = "wall" if self.decide_by == "cpu" else "cpu"
        other_value = self.wall if self.decide_by == "cpu" else self.cpu
        return (
            f"  [{self.verdict}] {self.name:<46}{show(self.value):>10}  "
            f"target <= {self.limit:g}{self.unit}   ({other}: {show(other_value)})"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "value": self.value, "verdict": self.verdict}


def environment() -> dict[str, Any]:
    """What the figures depend on."""
    return {
        **machine(),
        "openai": openai.__version__,
        "httpx2": getattr(httpx2, "__version__", "?"),
        "openai_sentinel": openai_sentinel.__version__,
        "opentelemetry_sdk": _version("opentelemetry-sdk"),
        "wrapt": _version("wrapt"),
    }


# -- main ----------------------------------------------------------------------------------


def add_round_arguments(parser: argparse.ArgumentParser) -> None:
    """The sizes of the interleaved rounds: calls and streams per block, chunks, rounds."""
    parser.add_argument("--calls", type=int, default=50, help="non-stream calls per block")
    parser.add_argument("--chunks", type=int, default=200, help="content chunks per stream")
    parser.add_argument("--streams", type=int, default=4, help="streams per block")
    parser.add_argument("--rounds", type=int, default=30, help="measured rounds")
    parser.add_argument("--warmup", type=int, default=2, help="discarded rounds first")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line; defaults take about 30 s on an idle 2-core VM."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    add_round_arguments(parser)
    parser.add_argument(
        "--decide-by",
        choices=("cpu", "wall"),
        default="cpu",
        help="clock whose figures decide PASS/MISS (default: thread CPU time)",
    )
    parser.add_argument("--control", action="store_true", help="add an A/A bare variant")
    parser.add_argument("--no-stream", action="store_true", help="skip the stream scenario")
    parser.add_argument(
        "--features",
        action="store_true",
        help="also run without each analysis (security, confidence heuristic, drift, "
        "repeats, then all four) and print what each costs per call",
    )
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = parser.parse_args(argv)
    for name in ("calls", "chunks", "streams", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print the tables and the targets, optionally write JSON."""
    args = parse_args(argv)
    if _is_wrapped():
        raise RuntimeError("Completions.create is already wrapped; run in a clean process")
    sdk = make_sdk()
    scenarios = [
        Scenario(
            "non_stream",
            non_stream_call(make_client(completion_body(), "application/json")),
            args.calls,
            make_variants(sdk, stream=False, control=args.control, features=args.features),
        )
    ]
    chunks = args.chunks + 2  # + the finish chunk and the usage chunk
    if not args.no_stream:
        scenarios.append(
            Scenario(
                "stream",
                stream_call(make_client(sse_body(args.chunks), "text/event-stream")),
                args.streams,
                make_variants(sdk, stream=True, control=args.control),
            )
        )

    env = environment()
    print(
        f"openai-sentinel {env['openai_sentinel']} overhead: python {env['python']}, "
        f"openai {env['openai']}, opentelemetry-sdk {env['opentelemetry_sdk']}, "
        f"{env['cpus']} cpus, loadavg {env['loadavg']}",
        flush=True,
    )
    progress = sys.stderr.isatty()
    started = time.perf_counter()
    total_rounds = args.warmup + args.rounds
    for index in range(total_rounds):
        for scenario in scenarios:
            scenario.run_round(index, sdk, keep=index >= args.warmup)
        if index == 0:
            gc.collect()
            gc.freeze()  # long-lived objects out of the collector's way: cheap collects
        if progress:
            so_far = time.perf_counter() - started
            print(f"\r  round {index + 1}/{total_rounds} ({so_far:.0f} s)", end="", file=sys.stderr)
    if progress:
        print("\r" + " " * 40 + "\r", end="", file=sys.stderr)
    elapsed = time.perf_counter() - started

    results = {s.name: summarise(s) for s in scenarios}
    print(
        "\nµs per call: median over rounds of each block's median; overhead = variant - bare,"
        "\npaired within each round, median over rounds [quartiles]; attrs = span attributes,"
        "\npoints = histogram points per call"
    )
    ns = results["non_stream"]
    print_table(
        f"non-streaming create(): {args.rounds} rounds x {args.calls} calls per variant (µs/call)",
        ns,
        0,
    )
    costs = feature_costs(ns)
    if costs:
        print("\nwhat each analysis costs per call (defaults - without it, paired per round)")
        for cost in costs:
            print(
                f"  {cost.feature:<24}{cost.cpu_us:>10.1f} µs cpu"
                f"{f'[{cost.q1_us:.0f}..{cost.q3_us:.0f}]':>14}"
            )
    targets = [
        Target(
            "T1 non-stream overhead, sentinel / minimal",
            TARGET_RATIO,
            "x",
            _ratio(ns["sentinel"].wall.overhead_us, ns["minimal"].wall.overhead_us),
            _ratio(ns["sentinel"].cpu.overhead_us, ns["minimal"].cpu.overhead_us),
            args.decide_by,
        )
    ]
    if "stream" in results:
        st = results["stream"]
        print_table(
            f"streaming create(), consumed: {args.rounds} rounds x {args.streams} streams "
            f"per variant, {chunks} chunks per stream (µs/stream, then µs/chunk)",
            st,
            chunks,
        )
        sentinel = st["sentinel"]
        targets.append(
            Target(
                "T2 stream overhead per chunk, sentinel",
                TARGET_CHUNK_US,
                " µs",
                None if sentinel.wall.overhead_us is None else sentinel.wall.overhead_us / chunks,
                None if sentinel.cpu.overhead_us is None else sentinel.cpu.overhead_us / chunks,
                args.decide_by,
            )
        )
    contention = max(
        r["bare"].wall.per_call_us / r["bare"].cpu.per_call_us for r in results.values()
    )
    print(f"\ntargets (decided by {args.decide_by} time):")
    for target in targets:
        print(target.line())
    if contention > 1.1:
        print(
            f"  note: bare wall/cpu = {contention:.2f}: other processes took the CPU during "
            "the run; wall-clock figures include that, cpu figures do not"
        )
    print(f"\n{elapsed:.1f} s measuring")

    if args.json:
        document = {
            "environment": env,
            "config": {**vars(args), "chunks_per_stream": chunks},
            "elapsed_s": round(elapsed, 2),
            "results": {
                name: {key: asdict(summary) for key, summary in summaries.items()}
                for name, summaries in results.items()
            },
            "targets": [target.as_dict() for target in targets],
            "feature_costs": [asdict(cost) for cost in costs],
        }
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(document, out, indent=2)
            out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
