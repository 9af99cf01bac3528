"""One chat call and one streamed call through the real ``openai`` client.

Run it zero-code, so that ``opentelemetry-instrument`` loads openai-sentinel::

    opentelemetry-instrument --traces_exporter console --metrics_exporter console \\
        python examples/chat.py

With ``OPENAI_BASE_URL`` unset it starts the embedded simulator (no API key needed);
set ``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` to talk to a real endpoint.
"""

from __future__ import annotations

import os
from contextlib import ExitStack

import openai

MODEL = os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini")


def main() -> None:
    with ExitStack() as stack:
        if not os.environ.get("OPENAI_BASE_URL"):
            from openai_sentinel.simulator import Simulator

            simulator = stack.enter_context(Simulator())
            client = openai.OpenAI(base_url=simulator.base_url, api_key="sk-simulator")
        else:
            client = openai.OpenAI()
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
