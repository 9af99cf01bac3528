"""Streaming, sync and async: one span per stream, ended when the stream is.

    pip install "openai-sentinel[sdk]" openai
    python examples/streaming.py

The span of a stream covers the request and every chunk: it carries the time to the
first chunk, how the stream ended and, when the stream reports its usage, the token
counts and the cost. Chat streams report usage only when asked with
``stream_options={"include_usage": True}``, which adds a last chunk without choices.
The ``stream_usage=True`` setting asks on your behalf and hides that extra chunk, so
streams get exact token counts without code changes.

With ``OPENAI_API_KEY`` set it calls the real API; without it, the embedded simulator.
"""

from __future__ import annotations

import asyncio

import openai
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import openai_sentinel
from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

MODEL = "gpt-4o-mini"
SHOWN = (
    "gen_ai.request.stream",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "gen_ai.response.time_to_first_chunk",
    "sentinel.stream.chunks",
    "sentinel.stream.end",
    "sentinel.stream.usage_injected",
)


def one_line(span: ReadableSpan) -> str:
    """A span as one line of the attributes this example is about."""
    attributes = span.attributes or {}
    shown = " ".join(f"{key}={attributes[key]}" for key in SHOWN if key in attributes)
    return f"span {span.name}: {shown}\n"


tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(formatter=one_line)))
trace.set_tracer_provider(tracer_provider)

openai_sentinel.instrument(stream_usage=True)


def sync_stream(client: openai.OpenAI) -> None:
    """Asking for usage yourself: the caller sees the usage chunk (it has no choices)."""
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count to five"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text: list[str] = []
    for chunk in stream:
        if chunk.choices:
            text.append(chunk.choices[0].delta.content or "")
        if chunk.usage is not None:
            print("sync usage chunk:", chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
    print("sync streamed:", "".join(text))


async def async_stream(client: openai.AsyncOpenAI) -> None:
    """Leaving it to ``stream_usage``: the span gets the usage, the caller no extra chunk."""
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Name the planets"}],
        stream=True,
    )
    text: list[str] = []
    without_choices = 0
    async with stream:  # ends the span even if the loop is left early
        async for chunk in stream:
            if chunk.choices:
                text.append(chunk.choices[0].delta.content or "")
            else:
                without_choices += 1
    print("async streamed:", "".join(text))
    print("async chunks without choices:", without_choices)  # 0: the usage chunk was hidden


async def async_main(target: dict[str, str]) -> None:
    async with openai.AsyncOpenAI(**target) as client:
        await async_stream(client)


def main() -> None:
    with openai_target() as target:
        with openai.OpenAI(**target) as client:
            sync_stream(client)
        asyncio.run(async_main(target))


if __name__ == "__main__":
    main()
