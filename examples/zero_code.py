"""Zero code: an ordinary OpenAI program, traced by ``opentelemetry-instrument``.

There is no OpenTelemetry code below. ``opentelemetry-instrument`` (from the
``opentelemetry-distro`` package) sets up the SDK from the command line and the
environment, then loads every installed instrumentor; openai-sentinel registers one
under the name ``openai_sentinel``::

    pip install "openai-sentinel[sdk]" openai
    OTEL_SERVICE_NAME=my-app opentelemetry-instrument \\
        --traces_exporter console --metrics_exporter console --logs_exporter none \\
        python examples/zero_code.py

Settings come from the environment (see "Settings" in the README), for example
``OPENAI_SENTINEL_STREAM_USAGE=true`` for exact token counts of streams, or
``OPENAI_SENTINEL_CAPTURE_CONTENT=true`` to record the (redacted) messages.
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=openai_sentinel`` turns it off.

To send to a collector instead of the console (see ``to_collector.py``)::

    OTEL_SERVICE_NAME=my-app OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 \\
        OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf opentelemetry-instrument \\
        python examples/zero_code.py

With ``OPENAI_API_KEY`` set it calls the real API; without it, the embedded simulator.
"""

from __future__ import annotations

import openai

from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

MODEL = "gpt-4o-mini"


def main() -> None:
    with openai_target() as target, openai.OpenAI(**target) as client:
        completion = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Name three primary colours."}],
        )
        print("answer:", completion.choices[0].message.content)

        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Write a haiku about tracing."}],
            stream=True,
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        print("streamed:", text)


if __name__ == "__main__":
    main()
