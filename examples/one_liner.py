"""One line instruments the OpenAI client: ``openai_sentinel.instrument()``.

A few lines of OpenTelemetry SDK set-up print every span as it ends and the metrics when
the program exits; swap the console exporters for OTLP ones (``to_collector.py``) to send
them to a backend::

    pip install "openai-sentinel[sdk]" openai
    OTEL_SERVICE_NAME=my-app python examples/one_liner.py

With ``OPENAI_API_KEY`` set it calls the real API; without it, the embedded simulator.
"""

from __future__ import annotations

import openai
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import openai_sentinel
from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

# The SDK: spans to the console as they end, metrics at shutdown (service.name comes
# from OTEL_SERVICE_NAME).
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
trace.set_tracer_provider(tracer_provider)
meter_provider = MeterProvider([PeriodicExportingMetricReader(ConsoleMetricExporter())])
metrics.set_meter_provider(meter_provider)

openai_sentinel.instrument()  # the one line; settings are keywords: capture_content=True, ...


def main() -> None:
    with openai_target() as target, openai.OpenAI(**target) as client:
        completion = client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "Say this is a test"}],
        )
        print("answer:", completion.choices[0].message.content)
    meter_provider.shutdown()  # exports (prints) the metrics


if __name__ == "__main__":
    main()
