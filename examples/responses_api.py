"""The Responses API (``client.responses.create``), plain, chained and streamed.

    pip install "openai-sentinel[sdk]" openai
    python examples/responses_api.py

Each call is a ``chat {model}`` span with ``openai.api.type=responses``. A response's
``status`` gives the finish reason (``completed`` is ``stop``), ``previous_response_id``
becomes ``gen_ai.request.previous_response.id``, and a stream's usage comes from its
terminal ``response.completed`` event, so streams are always counted and priced.

With ``OPENAI_API_KEY`` set it calls the real API; without it, the embedded simulator.
"""

from __future__ import annotations

import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import openai_sentinel
from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

MODEL = "gpt-4o-mini"
SHOWN = (
    "openai.api.type",
    "gen_ai.request.stream",
    "gen_ai.request.previous_response.id",
    "gen_ai.response.id",
    "gen_ai.response.finish_reasons",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "sentinel.cost.usd",
)


def one_line(span: ReadableSpan) -> str:
    """A span as one line of the attributes this example is about."""
    attributes = span.attributes or {}
    shown = " ".join(f"{key}={attributes[key]}" for key in SHOWN if key in attributes)
    return f"span {span.name}: {shown}\n"


tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
trace.set_tracer_provider(tracer_provider)

openai_sentinel.instrument()


def main() -> None:
    with openai_target() as target, openai.OpenAI(**target) as client:
        response = client.responses.create(
            model=MODEL,
            instructions="Answer in one sentence.",
            input="What is distributed tracing?",
        )
        print("answer:", response.output_text)
        print("response id:", response.id)

        follow_up = client.responses.create(
            model=MODEL,
            previous_response_id=response.id,  # continues the conversation
            input="And what is a span?",
        )
        print("follow-up:", follow_up.output_text)

        stream = client.responses.create(model=MODEL, input="Count to five", stream=True)
        with stream:  # ends the span even if the loop is left early
            for event in stream:
                if event.type == "response.output_text.delta":
                    print(event.delta, end="", flush=True)
                elif event.type == "response.completed":
                    usage = event.response.usage
                    tokens = f"{usage.input_tokens} in, {usage.output_tokens} out" if usage else ""
                    print(f"\nstreamed: {event.response.status} ({tokens})")


if __name__ == "__main__":
    main()
