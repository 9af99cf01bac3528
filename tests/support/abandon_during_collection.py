"""Run as a script: abandoned streams in reference cycles, collected by the garbage
collector while the metrics SDK collects, holding its non-reentrant lock.

Before finalizers were kept away from the SDK, a stream's ``__del__`` recorded its
metrics there and waited forever on that lock. Prints ``finished <spans>`` at the end.
Usage: ``python abandon_during_collection.py ROUNDS``.
"""

from __future__ import annotations

import gc
import json
import sys

import openai
from http_library import http  # run as a script from tests/support
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from openai_sentinel import OpenAISentinelInstrumentor, _abandoned

_CHUNK = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
_STREAMS_PER_COLLECTION = 5


def _body() -> bytes:
    events = [
        {**_CHUNK, "choices": [{"index": 0, "delta": {"content": f"w{i}"}, "finish_reason": None}]}
        for i in range(5)
    ]
    sse = b"".join(b"data: " + json.dumps(event).encode() + b"\n\n" for event in events)
    return sse + b"data: [DONE]\n\n"


def _handler(request: http.Request) -> http.Response:
    return http.Response(200, headers={"content-type": "text/event-stream"}, content=_body())


class _Cycle:
    """Holds a stream in a reference cycle, so only the cyclic collector frees it."""

    me: object
    stream: object


def main(rounds: int) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    OpenAISentinelInstrumentor().instrument(
        tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )
    client = openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.openai.test/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(_handler)),
    )
    for index in range(rounds):
        if index % _STREAMS_PER_COLLECTION == 0:
            gc.disable()  # the cycles pile up until the collection below
        # A model per stream: each abandoned stream records a new attribute set, for
        # which the SDK takes the lock its collection holds.
        stream = client.chat.completions.create(
            model=f"model-{index}", messages=[{"role": "user", "content": "hi"}], stream=True
        )
        next(stream)
        holder = _Cycle()
        holder.me = holder
        holder.stream = stream
        del stream, holder
        if index % _STREAMS_PER_COLLECTION == _STREAMS_PER_COLLECTION - 1:
            # A varying threshold makes the collector run at varying points of the
            # SDK's collection, many of them inside its locked section.
            gc.set_threshold(1 + (index // _STREAMS_PER_COLLECTION * 7) % 1500)
            gc.enable()
            reader.get_metrics_data()
            gc.set_threshold(700)
    gc.collect()
    if not _abandoned.flush(timeout=30):
        raise SystemExit("abandoned streams were not finished")
    print("finished", len(exporter.get_finished_spans()), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]))
