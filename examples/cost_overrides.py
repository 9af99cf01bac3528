"""Your own prices: a private model, a discount, read from ``examples/prices.yaml``.

    pip install "openai-sentinel[sdk]" openai
    python examples/cost_overrides.py

Every call whose usage is reported is priced offline: ``sentinel.cost.usd`` on its span
(with ``sentinel.cost.input_usd``, ``sentinel.cost.output_usd`` and
``sentinel.cost.source``, which names the prices file when it priced the call). The
``prices_file`` setting (or ``OPENAI_SENTINEL_PRICES_FILE``) adds models the package's
``genai-prices`` data lacks and discounts on those it has; it is read once, at
``instrument()``, and a bad file raises ``openai_sentinel.SettingsError`` naming the
entry. ``openai-sentinel price MODEL --input N --output N --prices-file PATH`` prints
the same breakdown from the command line.

With ``OPENAI_API_KEY`` set it calls the real API (where ``acme-private-llm`` does not
exist: put your own model in ``prices.yaml``); without it, the embedded simulator,
which answers to any model name.
"""

from __future__ import annotations

from pathlib import Path

import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import openai_sentinel
from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

PRICES = Path(__file__).with_name("prices.yaml")


def cost_line(span: ReadableSpan) -> str:
    """A span as one line: its token usage and what it cost."""
    attributes = span.attributes or {}
    if "sentinel.cost.usd" not in attributes:
        return f"span {span.name}: not priced\n"
    return (
        f"span {span.name}: "
        f"input_tokens={attributes['gen_ai.usage.input_tokens']} "
        f"output_tokens={attributes['gen_ai.usage.output_tokens']} "
        f"sentinel.cost.usd={attributes['sentinel.cost.usd']:.6g} "
        f"source={attributes['sentinel.cost.source']!r}\n"
    )


tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=cost_line)))
trace.set_tracer_provider(tracer_provider)

openai_sentinel.instrument(prices_file=PRICES)


def main() -> None:
    with openai_target() as target, openai.OpenAI(**target) as client:
        for model in ("acme-private-llm", "gpt-4o-mini"):
            try:
                completion = client.chat.completions.create(
                    model=model,
                    messages=[{"role": "user", "content": "Summarize our refund policy."}],
                )
            except openai.NotFoundError:
                print(f"{model}: no such model on this endpoint")
                continue
            usage = completion.usage
            if usage is not None:
                print(f"{model}: {usage.prompt_tokens} in, {usage.completion_tokens} out")


if __name__ == "__main__":
    main()
