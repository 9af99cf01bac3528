"""SDK providers for the demo: console output by default, OTLP when an endpoint is set."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .console import format_metrics, format_span
from .delivery import DeliveryLedger, RecordingMetricExporter, RecordingSpanExporter

_HOUR_MS = 3_600_000
_EXPORT_TIMEOUT_S = 2.0
"""Seconds an OTLP export may take, retries included, unless OTEL_EXPORTER_OTLP_*TIMEOUT says."""


@dataclass
class DemoProviders:
    """The providers the demo instruments with, and the in-memory copy the summary reads."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    finished: InMemorySpanExporter
    destination: str
    ledger: DeliveryLedger | None = None

    def shutdown(self) -> None:
        """Flush everything (the metric reader exports once, here) and stop."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()

    def export_problem(self) -> str | None:
        """After :meth:`shutdown`: what the OTLP exporters failed to deliver, if anything."""
        return self.ledger.problem(self.destination) if self.ledger else None


def _timeout(signal_variable: str) -> float | None:
    """The demo's short export timeout, or None to let the exporter read the environment."""
    if os.environ.get(signal_variable) or os.environ.get("OTEL_EXPORTER_OTLP_TIMEOUT"):
        return None
    return _EXPORT_TIMEOUT_S


def _otlp_exporters() -> tuple[SpanExporter, MetricExporter, str]:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    spans_timeout = _timeout("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
    metrics_timeout = _timeout("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return (
            GrpcSpanExporter(timeout=spans_timeout),
            GrpcMetricExporter(timeout=metrics_timeout),
            f"OTLP/gRPC {endpoint}",
        )
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return (
        OTLPSpanExporter(timeout=spans_timeout),
        OTLPMetricExporter(timeout=metrics_timeout),
        f"OTLP/HTTP {endpoint}",
    )


def make_providers(
    *,
    json_output: bool,
    service_name: str,
    console_spans: bool = True,
    console_metrics: bool = True,
    extra_readers: Sequence[MetricReader] = (),
) -> DemoProviders:
    """Console exporters (compact, or the SDK's JSON), or OTLP if the endpoint variable is set.
    ``console_spans=False`` prints no span (thousands of calls), only the metrics;
    ``console_metrics=False`` not them either. ``extra_readers`` read the metrics too
    (a Prometheus endpoint).

    OTLP exports get a short timeout (retries included) and are counted, so that
    :meth:`DemoProviders.export_problem` can tell when the endpoint took nothing.
    """
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the demo's own name
    resource = Resource.create({"service.name": service_name}).merge(
        OTELResourceDetector().detect()
    )
    finished = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(finished))
    span_exporter: SpanExporter
    metric_exporter: MetricExporter
    ledger = None
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        ledger = DeliveryLedger()
        otlp_spans, otlp_metrics, destination = _otlp_exporters()
        span_exporter = RecordingSpanExporter(otlp_spans, ledger)
        metric_exporter = RecordingMetricExporter(otlp_metrics, ledger)
        tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    else:
        destination = "console"
        if json_output:
            span_exporter, metric_exporter = ConsoleSpanExporter(), ConsoleMetricExporter()
        else:
            span_exporter = ConsoleSpanExporter(formatter=format_span)
            metric_exporter = ConsoleMetricExporter(formatter=format_metrics)
        if console_spans:
            tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    readers: list[MetricReader] = list(extra_readers)
    if ledger is not None or console_metrics:
        readers.append(
            PeriodicExportingMetricReader(metric_exporter, export_interval_millis=_HOUR_MS)
        )
    meter_provider = MeterProvider(metric_readers=readers, resource=resource)
    return DemoProviders(tracer_provider, meter_provider, finished, destination, ledger)
