"""One chat call and one streamed call through the real ``openai`` client.

Run it zero-code, so that ``opentelemetry-instrument`` loads openai-sentinel::

    opentelemetry-instrument --traces_exporter console --metrics_exporter console \\
        python examples/chat.py

With neither ``OPENAI_API_KEY`` nor ``OPENAI_BASE_URL`` set it starts the embedded
simulator (no API key needed); set them to talk to a real endpoint.
"""

from __future__ import annotations

import os

import openai

from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

MODEL = os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini")


def main() -> None:
    with openai_target() as target, openai.OpenAI(**target) as client:
        completion = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Say this is a test"}],
        )
        print("answer:", completion.choices[0].message.content)
        stream = client.chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "Count to five"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        print("streamed:", text)


if __name__ == "__main__":
    main()
