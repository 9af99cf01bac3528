"""Exporter wrappers that count what the OTLP exporters delivered and what they lost.

The SDK logs a failed export and carries on; the demo wraps its OTLP exporters in these
to tell the user, at the end, that the telemetry never reached the endpoint.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.metrics.export import MetricExporter, MetricExportResult, MetricsData
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult


class DeliveryLedger:
    """Items (``spans``, ``metric points``) delivered and lost, per signal; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.delivered: Counter[str] = Counter()
        self.lost: Counter[str] = Counter()

    def record(self, signal: str, items: int, delivered: bool) -> None:
        """Count ``items`` of ``signal`` as delivered or lost."""
        with self._lock:
            (self.delivered if delivered else self.lost)[signal] += items

    def problem(self, destination: str) -> str | None:
        """A sentence for the user when anything was lost, else None."""
        with self._lock:
            if not self.lost:
                return None
            lost = " and ".join(
                f"{count} {signal}" for signal, count in sorted(self.lost.items(), reverse=True)
            )
            opening = (
                "some telemetry was not exported" if self.delivered else "nothing was exported"
            )
        return (
            f"{opening}: {destination} did not accept {lost}. "
            "Is a collector listening there? Check OTEL_EXPORTER_OTLP_ENDPOINT."
        )


class RecordingSpanExporter(SpanExporter):
    """Delegates to ``inner`` and records each batch's outcome in ``ledger``."""

    def __init__(self, inner: SpanExporter, ledger: DeliveryLedger) -> None:
        self._inner = inner
        self._ledger = ledger

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        delivered = False
        try:
            result = self._inner.export(spans)
            delivered = result is SpanExportResult.SUCCESS
            return result
        finally:
            self._ledger.record("spans", len(spans), delivered)

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def _count_points(data: MetricsData) -> int:
    return sum(
        len(metric.data.data_points)
        for resource_metrics in data.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    )


class RecordingMetricExporter(MetricExporter):
    """Delegates to ``inner`` (keeping its temporality and aggregation) and records outcomes."""

    def __init__(self, inner: MetricExporter, ledger: DeliveryLedger) -> None:
        super().__init__(
            preferred_temporality=inner._preferred_temporality,
            preferred_aggregation=inner._preferred_aggregation,
        )
        self._inner = inner
        self._ledger = ledger

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        delivered = False
        try:
            result = self._inner.export(metrics_data, timeout_millis=timeout_millis, **kwargs)
            delivered = result is MetricExportResult.SUCCESS
            return result
        finally:
            self._ledger.record("metric points", _count_points(metrics_data), delivered)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._inner.shutdown(timeout_millis=timeout_millis, **kwargs)
