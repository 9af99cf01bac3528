"""The real OpenTelemetry SDK with in-memory exporters, and readers for what it holds."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Telemetry:
    """Providers to instrument with, and what they recorded."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    spans_exporter: InMemorySpanExporter
    metric_reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.spans_exporter.get_finished_spans())

    def span(self) -> ReadableSpan:
        spans = self.spans()
        assert len(spans) == 1, f"expected one span, got {[s.name for s in spans]}"
        return spans[0]

    def points(self, metric_name: str) -> list[HistogramDataPoint]:
        data = self.metric_reader.get_metrics_data()
        found: list[HistogramDataPoint] = []
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == metric_name:
                        found.extend(metric.data.data_points)  # type: ignore[arg-type]
        return found

    def metric(self, metric_name: str) -> Any:
        data = self.metric_reader.get_metrics_data()
        for resource_metrics in data.resource_metrics if data else ():
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == metric_name:
                        return metric
        return None


def make_telemetry() -> Telemetry:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    return Telemetry(tracer_provider, meter_provider, exporter, reader)


def by_token_type(points: list[HistogramDataPoint]) -> Iterator[tuple[str, HistogramDataPoint]]:
    for point in points:
        yield str(point.attributes["gen_ai.token.type"]), point


def collect_garbage() -> None:
    """Collect garbage, then wait until the abandoned calls it noted are finished."""
    from openai_sentinel import _abandoned

    gc.collect()
    assert _abandoned.flush(timeout=10), "abandoned calls were not finished in time"
