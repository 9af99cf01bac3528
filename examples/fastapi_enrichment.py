"""Business context on the spans of a FastAPI app, and user feedback on an answer.

    pip install "openai-sentinel[sdk]" openai fastapi uvicorn
    python examples/fastapi_enrichment.py          # serves on http://127.0.0.1:8000

    curl -s localhost:8000/chat -H 'x-user-tier: pro' -H 'content-type: application/json' \\
        -d '{"message": "Where is my order?", "conversation_id": "conv-42"}'
    curl -s localhost:8000/summarize -H 'content-type: application/json' \\
        -d '{"text": "OpenTelemetry is a set of APIs, SDKs and tools."}'
    curl -s localhost:8000/feedback -H 'content-type: application/json' \\
        -d '{"response_id": "<response_id from /chat>", "thumbs_up": true}'

``openai_sentinel.attributes(...)`` puts what only the application knows (the user's
tier, the feature, the conversation) on the span of every call made inside it, as a
``with`` block or as a decorator (sync or async functions); nested blocks merge.
``conversation_id=`` becomes ``gen_ai.conversation.id``. Spans take any value; metric
points only the keys named in the ``metric_attributes`` setting, which must have few
values (a tier, a feature: never an id, a user or text).

``openai_sentinel.record_evaluation(response_or_its_id, name, score=..., label=...)``
records a ``gen_ai.evaluation.result`` event (an OpenTelemetry log record, so a logger
provider must be set up) in the trace of the call that produced the answer, here when a
user gives it a thumbs up or down.

With ``OPENAI_API_KEY`` set it calls the real API; without it, the embedded simulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import openai
from fastapi import FastAPI, Header
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import ConsoleLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from pydantic import BaseModel

import openai_sentinel
from _target import openai_target  # the simulator, unless OPENAI_API_KEY is set

MODEL = "gpt-4o-mini"
METRIC_ATTRIBUTES = ["user_tier", "feature"]
"""Copied onto metric points too: few values each."""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """One OpenAI client for the application's lifetime."""
    with openai_target() as target:
        async with openai.AsyncOpenAI(**target) as client:
            app.state.client = client
            yield


app = FastAPI(lifespan=lifespan)


class ChatRequest(BaseModel):
    message: str
    conversation_id: str


class ChatReply(BaseModel):
    answer: str
    response_id: str


class SummarizeRequest(BaseModel):
    text: str


class Feedback(BaseModel):
    response_id: str
    thumbs_up: bool


@app.post("/chat")
async def chat(body: ChatRequest, x_user_tier: Annotated[str, Header()] = "free") -> ChatReply:
    client: openai.AsyncOpenAI = app.state.client
    with openai_sentinel.attributes(
        user_tier=x_user_tier, feature="chat", conversation_id=body.conversation_id
    ):
        completion = await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": body.message}]
        )
    answer = completion.choices[0].message.content or ""
    return ChatReply(answer=answer, response_id=completion.id)


@openai_sentinel.attributes(feature="summarize")  # the decorator form, on an async function
async def summarize(client: openai.AsyncOpenAI, text: str) -> str:
    completion = await client.chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Summarize the user's text in one sentence."},
            {"role": "user", "content": text},
        ],
    )
    return completion.choices[0].message.content or ""


@app.post("/summarize")
async def summarize_endpoint(
    body: SummarizeRequest, x_user_tier: Annotated[str, Header()] = "free"
) -> dict[str, str]:
    with openai_sentinel.attributes(user_tier=x_user_tier):  # merged with feature=summarize
        return {"summary": await summarize(app.state.client, body.text)}


@app.post("/feedback")
async def feedback(body: Feedback) -> dict[str, bool]:
    found = openai_sentinel.record_evaluation(
        body.response_id,  # the response object, or its id as here
        "user_feedback",
        score=1.0 if body.thumbs_up else 0.0,
        label="thumbs_up" if body.thumbs_up else "thumbs_down",
    )
    return {"recorded": True, "call_found": found}


def setup_telemetry() -> None:
    """Spans, metrics (every 30 s) and the evaluation events to the console."""
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(tracer_provider)
    reader = PeriodicExportingMetricReader(ConsoleMetricExporter(), export_interval_millis=30_000)
    metrics.set_meter_provider(MeterProvider([reader]))
    logger_provider = LoggerProvider()
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(ConsoleLogRecordExporter()))
    _logs.set_logger_provider(logger_provider)

    openai_sentinel.instrument(metric_attributes=METRIC_ATTRIBUTES)


def main() -> None:
    import uvicorn  # pip install uvicorn

    setup_telemetry()
    uvicorn.run(app, host="127.0.0.1", port=8000)


if __name__ == "__main__":
    main()
