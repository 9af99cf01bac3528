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
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from .console import format_metrics, format_span

_HOUR_MS = 3_600_000


@dataclass
class DemoProviders:
    """The providers the demo instruments with, and the in-memory copy the summary reads."""

    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    finished: InMemorySpanExporter
    destination: str

    def shutdown(self) -> None:
        """Flush everything (the metric reader exports once, here) and stop."""
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def _otlp_exporters() -> tuple[SpanExporter, MetricExporter, str]:
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"]
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        return GrpcSpanExporter(), GrpcMetricExporter(), f"OTLP/gRPC {endpoint}"
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(), OTLPMetricExporter(), f"OTLP/HTTP {endpoint}"


def make_providers(*, json_output: bool, service_name: str) -> DemoProviders:
    """Console exporters (compact, or the SDK's JSON), or OTLP if the endpoint variable is set."""
    resource = Resource.create({"service.name": service_name})
    finished = InMemorySpanExporter()
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(finished))
    readers: Sequence[MetricReader]
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        span_exporter, metric_exporter, destination = _otlp_exporters()
        tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))
    else:
        destination = "console"
        if json_output:
            span_exporter, metric_exporter = ConsoleSpanExporter(), ConsoleMetricExporter()
        else:
            span_exporter = ConsoleSpanExporter(formatter=format_span)
            metric_exporter = ConsoleMetricExporter(formatter=format_metrics)
        tracer_provider.add_span_processor(SimpleSpanProcessor(span_exporter))
    readers = [PeriodicExportingMetricReader(metric_exporter, export_interval_millis=_HOUR_MS)]
    meter_provider = MeterProvider(metric_readers=readers, resource=resource)
    return DemoProviders(tracer_provider, meter_provider, finished, destination)
