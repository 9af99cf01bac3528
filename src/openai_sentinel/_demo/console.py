"""Compact, one-line-per-item console formats for spans and metrics."""

from __future__ import annotations

from opentelemetry.sdk.metrics.export import HistogramDataPoint, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from .. import semconv

_SHOWN_METRIC_ATTRIBUTES = (
    semconv.GEN_AI_REQUEST_MODEL,
    semconv.GEN_AI_TOKEN_TYPE,
    semconv.ERROR_TYPE,
)


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:7.1f} ms"


def format_span(span: ReadableSpan) -> str:
    """``span  duration  tokens  finish  ttfc  error`` on one line."""
    attributes = span.attributes or {}
    seconds = ((span.end_time or 0) - (span.start_time or 0)) / 1e9
    fields = [f"span {span.name:<24}", _ms(seconds)]
    if attributes.get(semconv.GEN_AI_REQUEST_STREAM):
        fields.append("stream")
    tokens_in = attributes.get(semconv.GEN_AI_USAGE_INPUT_TOKENS)
    tokens_out = attributes.get(semconv.GEN_AI_USAGE_OUTPUT_TOKENS)
    if tokens_in is not None or tokens_out is not None:
        fields.append(f"tokens in={tokens_in} out={tokens_out}")
    finish = attributes.get(semconv.GEN_AI_RESPONSE_FINISH_REASONS)
    if finish:
        fields.append("finish=" + ",".join(str(reason) for reason in finish))  # type: ignore[union-attr]
    first = attributes.get(semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK)
    if isinstance(first, float):
        fields.append("ttfc=" + _ms(first).strip())
    end = attributes.get(semconv.SENTINEL_STREAM_END)
    if end not in (None, "completed"):
        fields.append(f"stream {end}")
    if span.status.status_code is StatusCode.ERROR:
        fields.append(f"ERROR {attributes.get(semconv.ERROR_TYPE)}")
    fields.append(f"trace={span.context.trace_id:032x}"[:14])
    return "  ".join(fields) + "\n"


def format_metrics(data: MetricsData) -> str:
    """One line per histogram data point: name, key attributes, count and sum."""
    lines = []
    for resource_metrics in data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    if not isinstance(point, HistogramDataPoint):
                        continue
                    attributes = point.attributes or {}
                    shown = " ".join(
                        f"{key}={attributes[key]!s}"
                        for key in _SHOWN_METRIC_ATTRIBUTES
                        if key in attributes
                    )
                    lines.append(
                        f"metric {metric.name:<46} {shown:<56} "
                        f"count={point.count:<3} sum={point.sum:.4g} {metric.unit}"
                    )
    return "\n".join(lines) + "\n" if lines else ""
