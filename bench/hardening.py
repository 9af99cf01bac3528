"""Hostile streams, bare client against openai-sentinel: time, memory and outcome.

Three cases from the hardening issue, each run in a fresh subprocess so that peak RSS
belongs to that case alone:

- ``huge-index``: one streamed chunk whose choice ``index`` is 10**8.
- ``usage-run``: ``stream_usage`` on, and a stream of 1,000 usage-only chunks before
  the content (recursion depth, and how many usage chunks reach the caller).
- ``capture``: 200 MB of streamed text with content capture on and off (peak RSS).

Usage: ``.venv/bin/python bench/hardening.py [--megabytes 200]``. It prints one line per
case and variant; nothing here is asserted (the tests check behaviour, not time).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import openai

_BASE = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1, "model": "m"}
_USAGE = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}


def _event(choices: list[dict[str, Any]], usage: dict[str, Any] | None = None) -> bytes:
    return b"data: " + json.dumps({**_BASE, "choices": choices, "usage": usage}).encode() + b"\n\n"


def _choice(content: str | None, index: Any = 0, finish: str | None = None) -> dict[str, Any]:
    return {"index": index, "delta": {"content": content}, "finish_reason": finish}


def _huge_index() -> Iterator[bytes]:
    yield _event([_choice("hi", index=10**8, finish="stop")])
    yield _event([], _USAGE)
    yield b"data: [DONE]\n\n"


def _usage_run(count: int = 1_000) -> Iterator[bytes]:
    for _ in range(count):
        yield _event([], _USAGE)
    yield _event([_choice("hi", finish="stop")])
    yield _event([], _USAGE)
    yield b"data: [DONE]\n\n"


def _big_text(megabytes: int) -> Iterator[bytes]:
    piece = "x" * 65_536
    for _ in range(megabytes * 16):
        yield _event([_choice(piece)])
    yield _event([_choice(None, finish="stop")])
    yield b"data: [DONE]\n\n"


def _client(body: Iterator[bytes]) -> openai.OpenAI:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=body)

    return openai.OpenAI(
        api_key="sk-bench",
        base_url="https://api.openai.test/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(handler)),
    )


def _instrument(settings: dict[str, Any]) -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from openai_sentinel import OpenAISentinelInstrumentor

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    OpenAISentinelInstrumentor().instrument(
        tracer_provider=tracer_provider, meter_provider=meter_provider, **settings
    )


def _run_case(case: str, variant: str, megabytes: int) -> dict[str, Any]:
    """One case in this process; returns what happened."""
    if variant != "bare":
        settings: dict[str, Any] = {"stream_usage": True} if case == "usage-run" else {}
        if variant == "capture":
            settings["capture_content"] = True
        _instrument(settings)
    body = {
        "huge-index": _huge_index,
        "usage-run": _usage_run,
        "capture": lambda: _big_text(megabytes),
    }[case]()
    client = _client(body)
    started = time.perf_counter()
    received = usage_only = 0
    outcome = "ok"
    try:
        stream = client.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        for chunk in stream:
            received += 1
            usage_only += not chunk.choices
    except RecursionError:
        outcome = "RecursionError"
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "case": case,
        "variant": variant,
        "outcome": outcome,
        "seconds": round(elapsed, 3),
        "peak_rss_mb": round(peak_mb, 1),
        "chunks": received,
        "usage_only_chunks_seen": usage_only,
    }


_VARIANTS = {
    "huge-index": ("bare", "sentinel"),
    "usage-run": ("bare", "sentinel"),
    "capture": ("bare", "sentinel", "capture"),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=int, default=200, help="text streamed in 'capture'")
    parser.add_argument("--one", nargs=2, metavar=("CASE", "VARIANT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_run_case(args.one[0], args.one[1], args.megabytes)))
        return 0
    for case, variants in _VARIANTS.items():
        for variant in variants:
            command = [sys.executable, __file__, "--megabytes", str(args.megabytes)]
            done = subprocess.run(
                [*command, "--one", case, variant], capture_output=True, text=True, check=False
            )
            line = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else done.stderr
            print(line[-400:], flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
