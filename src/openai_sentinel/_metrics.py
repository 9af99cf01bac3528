"""The metric instruments of one conventions version, and what one call records in them.

Two sets: the GenAI conventions v1.41 (the default), and the conventions' latest
experimental metrics, chosen with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``
as the conventions' transition plan asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol

from opentelemetry.context import Context
from opentelemetry.metrics import Counter, Meter
from opentelemetry.trace import INVALID_SPAN, set_span_in_context
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._fast_histogram import FastHistogram
from .exchange import Exchange

__all__ = ["LatestMetrics", "MetricSet", "StableMetrics", "histogram"]

Attributes = dict[str, AttributeValue]

NO_EXEMPLAR_CONTEXT: Final = set_span_in_context(INVALID_SPAN)
"""A context without a recording span: points recorded in it carry no exemplar."""


def histogram(meter: Meter, name: str, unit: str, buckets: tuple[float, ...]) -> FastHistogram:
    """A histogram with advisory bucket boundaries and its description from semconv."""
    return FastHistogram(
        meter.create_histogram(
            name,
            unit=unit,
            description=semconv.METRIC_DESCRIPTIONS[name],
            explicit_bucket_boundaries_advisory=list(buckets),
        )
    )


def _counter(meter: Meter, name: str) -> Counter:
    return meter.create_counter(name, unit="{token}", description=semconv.METRIC_DESCRIPTIONS[name])


class MetricSet(Protocol):
    """Records one call's points, and its streams' chunk gaps."""

    def record_call(
        self, exchange: Exchange, attributes: Attributes, duration: float, context: Context | None
    ) -> None:
        """Duration, tokens and (for streams) time to first chunk of a finished call."""

    def record_chunk_gaps(self, attributes: Attributes, gaps: Sequence[float]) -> None:
        """Time between consecutive chunks, recorded without exemplars (one per chunk)."""


class _Timings:
    """The duration and chunk-timing histograms both sets have, under their own names."""

    __slots__ = ("_chunk_gaps", "_duration", "_first_chunk")

    def __init__(self, meter: Meter, duration: str, first_chunk: str, chunk_gap: str) -> None:
        self._duration = histogram(meter, duration, "s", semconv.DURATION_BUCKETS)
        self._first_chunk = histogram(meter, first_chunk, "s", semconv.DURATION_BUCKETS)
        self._chunk_gaps = histogram(meter, chunk_gap, "s", semconv.DURATION_BUCKETS)

    def _record_timings(
        self, exchange: Exchange, attributes: Attributes, duration: float, context: Context | None
    ) -> None:
        self._duration.record(duration, attributes, context)
        if exchange.time_to_first_chunk is not None:
            self._first_chunk.record(exchange.time_to_first_chunk, attributes, context)

    def record_chunk_gaps(self, attributes: Attributes, gaps: Sequence[float]) -> None:
        self._chunk_gaps.record_batch(gaps, attributes, NO_EXEMPLAR_CONTEXT)


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
        self._tokens = histogram(
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
        self._operation_input = histogram(
            meter, semconv.METRIC_INFERENCE_OPERATION_INPUT_TOKENS, "{token}", semconv.TOKEN_BUCKETS
        )
        self._operation_output = histogram(
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
