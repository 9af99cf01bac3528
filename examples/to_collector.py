"""Spans and metrics over OTLP/HTTP to an OpenTelemetry Collector (or any OTLP backend).

    pip install "openai-sentinel[sdk]" openai
    OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 OTEL_SERVICE_NAME=my-app \\
        python examples/to_collector.py

The exporters read the standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT`` (default
``http://localhost:4318``; ``/v1/traces`` and ``/v1/metrics`` are appended),
``OTEL_EXPORTER_OTLP_HEADERS`` for an API key, ``OTEL_EXPORTER_OTLP_TIMEOUT``. For
OTLP/gRPC (port 4317), import the same two classes from
``opentelemetry.exporter.otlp.proto.grpc`` instead.

``collector-config/`` in this repository has the collector to run next to the
application (``otelcol/agent.yaml``: receives OTLP on 4317 and 4318, drops captured
content, masks secrets) and a gateway, Prometheus rules, alerts and a Grafana dashboard;
``docker compose up`` there starts the whole stack (see ``collector-config/README.md``).
Zero code, the same is ``opentelemetry-instrument python app.py`` with those variables and
``OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf``.

With ``OPENAI_API_KEY`` set it calls the real API; without it, the embedded simulator.
"""

from __future__ import annotations

import os

import openai
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

import openai_sentinel
from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

resource = Resource.create(
    {"service.name": os.environ.get("OTEL_SERVICE_NAME", "openai-sentinel-example")}
)
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(tracer_provider)
meter_provider = MeterProvider(
    [PeriodicExportingMetricReader(OTLPMetricExporter(), export_interval_millis=10_000)],
    resource=resource,
)
metrics.set_meter_provider(meter_provider)

openai_sentinel.instrument(stream_usage=True)


def main() -> None:
    with openai_target() as target, openai.OpenAI(**target) as client:
        for question in ("What is OTLP?", "What does a collector do?"):
            completion = client.chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": question}]
            )
            print(f"{question} -> {completion.choices[0].message.content}")
        stream = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Count to five"}],
            stream=True,
        )
        print("streamed:", "".join(c.choices[0].delta.content or "" for c in stream if c.choices))
    # A short-lived program must flush before it exits; a server does it at shutdown.
    tracer_provider.shutdown()
    meter_provider.shutdown()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318")
    print(f"flushed the spans and metrics to {endpoint} (a failed export is logged)")


if __name__ == "__main__":
    main()
