"""The metric instruments of one conventions version, and what one call records in them.

Two sets: the GenAI conventions v1.41 (the default), and the conventions' latest
experimental metrics, chosen with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``
as the conventions' transition plan asks.
"""

from __future__ import annotations

from typing import Final, Protocol

from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Histogram, Meter
from opentelemetry.trace import INVALID_SPAN, set_span_in_context
from opentelemetry.util.types import AttributeValue

from . import semconv
from .analyzers.cost import Cost
from .analyzers.repeats import Repeat
from .exchange import Exchange

__all__ = ["CostMetrics", "LatestMetrics", "MetricSet", "StableMetrics"]

Attributes = dict[str, AttributeValue]

NO_EXEMPLAR_CONTEXT: Final = set_span_in_context(INVALID_SPAN)
"""A context without a recording span: points recorded in it carry no exemplar."""


def _histogram(meter: Meter, name: str, unit: str, buckets: tuple[float, ...]) -> Histogram:
    return meter.create_histogram(
        name,
        unit=unit,
        description=semconv.METRIC_DESCRIPTIONS[name],
        explicit_bucket_boundaries_advisory=list(buckets),
    )


def _counter(meter: Meter, name: str) -> Counter:
    return meter.create_counter(name, unit="{token}", description=semconv.METRIC_DESCRIPTIONS[name])


def _usd_counter(meter: Meter, name: str) -> Counter:
    return meter.create_counter(name, unit="USD", description=semconv.METRIC_DESCRIPTIONS[name])


def _request_counter(meter: Meter, name: str) -> Counter:
    return meter.create_counter(
        name, unit="{request}", description=semconv.METRIC_DESCRIPTIONS[name]
    )


class MetricSet(Protocol):
    """Records one call's points, and its streams' chunk gaps."""

    def record_call(
        self, exchange: Exchange, attributes: Attributes, duration: float, context: Context | None
    ) -> None:
        """Duration, tokens and (for streams) time to first chunk of a finished call."""

    def record_chunk_gaps(self, attributes: Attributes, gaps: list[float]) -> None:
        """Time between consecutive chunks, recorded without exemplars (one per chunk)."""


class _Timings:
    """The duration and chunk-timing histograms both sets have, under their own names."""

    __slots__ = ("_chunk_gap", "_duration", "_first_chunk")

    def __init__(self, meter: Meter, duration: str, first_chunk: str, chunk_gap: str) -> None:
        self._duration = _histogram(meter, duration, "s", semconv.DURATION_BUCKETS)
        self._first_chunk = _histogram(meter, first_chunk, "s", semconv.DURATION_BUCKETS)
        self._chunk_gap = _histogram(meter, chunk_gap, "s", semconv.DURATION_BUCKETS)

    def _record_timings(
        self, exchange: Exchange, attributes: Attributes, duration: float, context: Context | None
    ) -> None:
        self._duration.record(duration, attributes, context)
        if exchange.time_to_first_chunk is not None:
            self._first_chunk.record(exchange.time_to_first_chunk, attributes, context)

    def record_chunk_gaps(self, attributes: Attributes, gaps: list[float]) -> None:
        record = self._chunk_gap.record
        for gap in gaps:
            record(gap, attributes, NO_EXEMPLAR_CONTEXT)


class StableMetrics(_Timings):
    """GenAI conventions v1.41: four histograms."""

    __slots__ = ("_tokens",)

    def __init__(self, meter: Meter) -> None:
        super().__init__(
            meter,
            semconv.METRIC_OPERATION_DURATION,
            semconv.METRIC_TIME_TO_FIRST_CHUNK,
            semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
        )
        self._tokens = _histogram(
            meter, semconv.METRIC_TOKEN_USAGE, "{token}", semconv.TOKEN_BUCKETS
        )

    def record_call(
        self, exchange: Exchange, attributes: Attributes, duration: float, context: Context | None
    ) -> None:
        self._record_timings(exchange, attributes, duration, context)
        if exchange.input_tokens is not None:
            self._tokens.record(
                exchange.input_tokens,
                {**attributes, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_INPUT},
                context,
            )
        if exchange.output_tokens is not None:
            self._tokens.record(
                exchange.output_tokens,
                {**attributes, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_OUTPUT},
                context,
            )


class LatestMetrics(_Timings):
    """The conventions' latest experimental metrics: ``gen_ai.client.inference.*``.

    Token counters carry ``gen_ai.token.modality``; the API gives no per-modality
    breakdown of these totals, so it is ``unknown``, as the conventions ask. Input and
    output counters get a point for every call, 0 when no usage was reported.
    """

    __slots__ = (
        "_cache_read",
        "_cache_write",
        "_input",
        "_operation_input",
        "_operation_output",
        "_output",
        "_reasoning",
    )

    def __init__(self, meter: Meter) -> None:
        super().__init__(
            meter,
            semconv.METRIC_INFERENCE_DURATION,
            semconv.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK,
            semconv.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK,
        )
        self._input = _counter(meter, semconv.METRIC_INFERENCE_USAGE_INPUT_TOKENS)
        self._output = _counter(meter, semconv.METRIC_INFERENCE_USAGE_OUTPUT_TOKENS)
        self._cache_read = _counter(meter, semconv.METRIC_INFERENCE_USAGE_CACHE_READ_TOKENS)
        self._cache_write = _counter(meter, semconv.METRIC_INFERENCE_USAGE_CACHE_WRITE_TOKENS)
        self._reasoning = _counter(meter, semconv.METRIC_INFERENCE_USAGE_REASONING_TOKENS)
        self._operation_input = _histogram(
            meter, semconv.METRIC_INFERENCE_OPERATION_INPUT_TOKENS, "{token}", semconv.TOKEN_BUCKETS
        )
        self._operation_output = _histogram(
            meter,
            semconv.METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS,
            "{token}",
            semconv.TOKEN_BUCKETS,
        )

    def record_call(
        self, exchange: Exchange, attributes: Attributes, duration: float, context: Context | None
    ) -> None:
        self._record_timings(exchange, attributes, duration, context)
        by_modality = {**attributes, semconv.GEN_AI_TOKEN_MODALITY: semconv.TOKEN_MODALITY_UNKNOWN}
        self._input.add(exchange.input_tokens or 0, by_modality, context)
        self._output.add(exchange.output_tokens or 0, by_modality, context)
        for counter, value in (
            (self._cache_read, exchange.cache_read_input_tokens),
            (self._cache_write, exchange.cache_write_input_tokens),
            (self._reasoning, exchange.reasoning_output_tokens),
        ):
            if value is not None:
                counter.add(value, by_modality, context)
        if exchange.input_tokens is not None:
            self._operation_input.record(exchange.input_tokens, attributes, context)
        if exchange.output_tokens is not None:
            self._operation_output.record(exchange.output_tokens, attributes, context)


class CostMetrics:
    """USD spent (a counter split into input and output), per-request cost, requests over
    the threshold, what the prompt cache saved, and repeated requests. Unit ``USD``:
    Prometheus names keep it, case included (``sentinel_cost_USD_total``,
    ``sentinel_request_cost_USD_bucket``). With the latest conventions requested, the
    proposed ``gen_ai.client.operation.cost`` histogram too."""

    __slots__ = (
        "_cache_savings",
        "_model_switches",
        "_operation_cost",
        "_over_threshold",
        "_per_request",
        "_repeat_cost",
        "_repeats",
        "_spent",
    )

    def __init__(self, meter: Meter, *, latest: bool) -> None:
        self._spent = _usd_counter(meter, semconv.METRIC_COST)
        self._per_request = _histogram(
            meter, semconv.METRIC_REQUEST_COST, "USD", semconv.COST_BUCKETS
        )
        self._operation_cost = (
            _histogram(meter, semconv.METRIC_OPERATION_COST, "USD", semconv.COST_BUCKETS)
            if latest
            else None
        )
        self._over_threshold = _request_counter(meter, semconv.METRIC_COST_OVER_THRESHOLD)
        self._cache_savings = _usd_counter(meter, semconv.METRIC_COST_CACHE_SAVINGS)
        self._repeats = _request_counter(meter, semconv.METRIC_REQUEST_REPEATS)
        self._repeat_cost = _usd_counter(meter, semconv.METRIC_REQUEST_REPEAT_COST)
        self._model_switches = _request_counter(meter, semconv.METRIC_REQUEST_MODEL_SWITCHES)

    def record(
        self, cost: Cost, attributes: Attributes, context: Context | None, threshold: float
    ) -> None:
        """One priced call."""
        self._spent.add(
            cost.input, {**attributes, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_INPUT}, context
        )
        self._spent.add(
            cost.output,
            {**attributes, semconv.GEN_AI_TOKEN_TYPE: semconv.TOKEN_TYPE_OUTPUT},
            context,
        )
        self._per_request.record(cost.total, attributes, context)
        if self._operation_cost is not None:
            self._operation_cost.record(cost.total, attributes, context)
        if cost.total > threshold:
            self._over_threshold.add(1, attributes, context)
        if cost.cache_savings > 0:
            self._cache_savings.add(cost.cache_savings, attributes, context)

    def record_repeat(
        self,
        repeat: Repeat,
        cost: Cost | None,
        attributes: Attributes,
        context: Context | None,
    ) -> None:
        """One repeated request, with what it cost when it was priced."""
        self._repeats.add(1, attributes, context)
        if cost is not None:
            self._repeat_cost.add(cost.total, attributes, context)
        if repeat.model_changed:
            first = {
                **attributes,
                semconv.SENTINEL_REQUEST_REPEAT_FIRST_MODEL: repeat.first_model or "",
            }
            self._model_switches.add(1, first, context)
