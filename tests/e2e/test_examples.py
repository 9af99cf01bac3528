"""Every script in ``examples/`` runs as a user would run it, against the embedded simulator.

Each runs in a subprocess from the repository's root, without ``OPENAI_*`` and ``OTEL_*``
variables (so the example starts the simulator itself), and the test checks what it
printed or the telemetry it sent.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from genai_prices import Usage, calc_price

from openai_sentinel import semconv
from openai_sentinel.adapters.fallback import FALLBACK_MESSAGE

from ..support.otlp_receiver import OTLPReceiver

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")
MODEL = "gpt-4o-mini"
SPAN = f"chat {MODEL}"
_PAIR = re.compile(r"([\w.]+)=(.*?)(?=\s[\w.]+=|$)")


def _run(command: list[str], *, timeout: float = 60, **extra_env: str) -> str:
    """Run ``command`` from the repository's root in a clean environment; its stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
    return completed.stdout


def run_example(name: str, **extra_env: str) -> str:
    return _run([sys.executable, f"examples/{name}.py"], **extra_env)


def console_objects(output: str) -> list[dict[str, Any]]:
    """The JSON documents the SDK's console exporters printed (each starts a line)."""
    decoder = json.JSONDecoder()
    found = []
    for start in re.finditer(r"^\{", output, re.MULTILINE):
        try:
            document, _ = decoder.raw_decode(output, start.start())
        except ValueError:
            continue
        found.append(document)
    return found


def console_spans(output: str) -> list[dict[str, Any]]:
    return [doc for doc in console_objects(output) if "context" in doc and "name" in doc]


def console_metrics(output: str) -> dict[str, list[dict[str, Any]]]:
    """Data points by metric name, from the instrumentation's scope."""
    points: dict[str, list[dict[str, Any]]] = {}
    for document in console_objects(output):
        for resource_metrics in document.get("resource_metrics", ()):
            for scope_metrics in resource_metrics["scope_metrics"]:
                if scope_metrics["scope"]["name"] != semconv.INSTRUMENTATION_SCOPE:
                    continue
                for metric in scope_metrics["metrics"]:
                    points.setdefault(metric["name"], []).extend(metric["data"]["data_points"])
    return points


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def span_lines(output: str) -> list[tuple[str, dict[str, Any]]]:
    """The ``span NAME: key=value ...`` lines the examples' one-line formatter printed."""
    found = []
    for line in output.splitlines():
        if line.startswith("span "):
            name, _, rest = line.removeprefix("span ").partition(": ")
            found.append((name, {key: _value(value) for key, value in _PAIR.findall(rest)}))
    return found


@pytest.mark.timeout(90)
def test_zero_code_with_opentelemetry_instrument() -> None:
    output = _run(
        [
            str(INSTRUMENT),
            "--traces_exporter",
            "console",
            "--metrics_exporter",
            "none",
            "--logs_exporter",
            "none",
            sys.executable,
            "examples/zero_code.py",
        ],
        OTEL_SERVICE_NAME="zero-code-example",
        OPENAI_SENTINEL_STREAM_USAGE="true",  # a setting from the environment
    )
    assert re.search(r"^answer: \S", output, re.MULTILINE)
    assert re.search(r"^streamed: \S", output, re.MULTILINE)
    chat = [span for span in console_spans(output) if span["name"].startswith("chat")]
    assert [span["name"] for span in chat] == [SPAN, SPAN]
    plain, streamed = (span["attributes"] for span in chat)
    for span in chat:
        assert span["resource"]["attributes"]["service.name"] == "zero-code-example"
        assert span["kind"] == "SpanKind.CLIENT"
        assert span["attributes"][semconv.GEN_AI_REQUEST_MODEL] == MODEL
        assert span["attributes"][semconv.GEN_AI_OPERATION_NAME] == "chat"
        assert span["attributes"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert plain[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert streamed[semconv.GEN_AI_REQUEST_STREAM] is True
    assert streamed[semconv.SENTINEL_STREAM_USAGE_INJECTED] is True


@pytest.mark.timeout(90)
def test_one_liner_prints_spans_and_metrics() -> None:
    output = run_example("one_liner", OTEL_SERVICE_NAME="one-liner-example")
    assert re.search(r"^answer: \S", output, re.MULTILINE)
    [span] = console_spans(output)
    assert span["name"] == SPAN
    assert span["resource"]["attributes"]["service.name"] == "one-liner-example"
    attributes = span["attributes"]
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == MODEL
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert attributes[semconv.SENTINEL_COST_USD] > 0
    points = console_metrics(output)
    [duration] = points[semconv.METRIC_OPERATION_DURATION]
    assert duration["count"] == 1
    assert duration["attributes"][semconv.GEN_AI_REQUEST_MODEL] == MODEL
    usage = {
        point["attributes"][semconv.GEN_AI_TOKEN_TYPE]: point["sum"]
        for point in points[semconv.METRIC_TOKEN_USAGE]
    }
    assert usage == {
        "input": attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS],
        "output": attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
    }


@pytest.mark.timeout(90)
def test_streaming_sync_and_async() -> None:
    output = run_example("streaming")
    (sync_name, sync_span), (async_name, async_span) = span_lines(output)
    assert sync_name == async_name == SPAN
    for span in (sync_span, async_span):
        assert span[semconv.GEN_AI_REQUEST_STREAM] is True
        assert span["sentinel.stream.end"] == "completed"
        assert span[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
        assert span[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    # the caller asked for usage: it saw the usage chunk, with the span's token counts
    usage = re.search(r"^sync usage chunk: (\d+) (\d+)$", output, re.MULTILINE)
    assert usage is not None
    assert (int(usage[1]), int(usage[2])) == (
        sync_span[semconv.GEN_AI_USAGE_INPUT_TOKENS],
        sync_span[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
    )
    assert semconv.SENTINEL_STREAM_USAGE_INJECTED not in sync_span
    # stream_usage asked for it: counted on the span, hidden from the caller
    assert async_span[semconv.SENTINEL_STREAM_USAGE_INJECTED] is True
    assert "async chunks without choices: 0" in output
    assert re.search(r"^async streamed: \S", output, re.MULTILINE)


@pytest.mark.timeout(90)
def test_responses_api_plain_chained_and_streamed() -> None:
    output = run_example("responses_api")
    spans = span_lines(output)
    assert [name for name, _ in spans] == [SPAN] * 3
    first, follow_up, streamed = (attributes for _, attributes in spans)
    for span in (first, follow_up, streamed):
        assert span["openai.api.type"] == "responses"
        assert span[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
        assert span[semconv.SENTINEL_COST_USD] > 0
    response_id = re.search(r"^response id: (\S+)$", output, re.MULTILINE)
    assert response_id is not None
    assert first[semconv.GEN_AI_RESPONSE_ID] == response_id[1]
    assert follow_up["gen_ai.request.previous_response.id"] == response_id[1]
    assert semconv.GEN_AI_REQUEST_STREAM not in first
    assert streamed[semconv.GEN_AI_REQUEST_STREAM] is True
    usage = re.search(r"^streamed: completed \((\d+) in, (\d+) out\)$", output, re.MULTILINE)
    assert usage is not None
    assert (int(usage[1]), int(usage[2])) == (
        streamed[semconv.GEN_AI_USAGE_INPUT_TOKENS],
        streamed[semconv.GEN_AI_USAGE_OUTPUT_TOKENS],
    )


# Drives examples/fastapi_enrichment.py's app with FastAPI's TestClient, telemetry kept in
# memory, and prints what was recorded as one JSON document.
_FASTAPI_DRIVER = """
import json
import sys

sys.path.insert(0, "examples")

from fastapi.testclient import TestClient
from opentelemetry import _logs, metrics, trace
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import fastapi_enrichment as example
import openai_sentinel

spans = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
trace.set_tracer_provider(tracer_provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider([reader]))
logs = InMemoryLogRecordExporter()
logger_provider = LoggerProvider()
logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
_logs.set_logger_provider(logger_provider)
openai_sentinel.instrument(metric_attributes=example.METRIC_ATTRIBUTES)

with TestClient(example.app) as client:
    chat = client.post(
        "/chat",
        json={"message": "Where is my order?", "conversation_id": "conv-42"},
        headers={"x-user-tier": "pro"},
    )
    summary = client.post(
        "/summarize", json={"text": "Spans, metrics and logs."}, headers={"x-user-tier": "free"}
    )
    feedback = client.post(
        "/feedback", json={"response_id": chat.json()["response_id"], "thumbs_up": True}
    )

durations = [
    dict(point.attributes)
    for resource_metrics in reader.get_metrics_data().resource_metrics
    for scope_metrics in resource_metrics.scope_metrics
    for metric in scope_metrics.metrics
    if metric.name == "gen_ai.client.operation.duration"
    for point in metric.data.data_points
]
records = [getattr(data, "log_record", data) for data in logs.get_finished_logs()]
print(json.dumps({
    "status": [chat.status_code, summary.status_code, feedback.status_code],
    "chat": chat.json(),
    "feedback": feedback.json(),
    "spans": [
        {
            "name": span.name,
            "trace_id": span.context.trace_id,
            "attributes": dict(span.attributes),
        }
        for span in spans.get_finished_spans()
    ],
    "duration_points": durations,
    "events": [
        {
            "name": record.event_name,
            "trace_id": record.trace_id,
            "attributes": dict(record.attributes or {}),
        }
        for record in records
    ],
}))
"""


@pytest.mark.timeout(90)
def test_fastapi_enrichment_puts_business_context_on_spans() -> None:
    output = _run([sys.executable, "-c", _FASTAPI_DRIVER])
    recorded = json.loads(output.splitlines()[-1])
    assert recorded["status"] == [200, 200, 200]
    chat_span, summary_span = (span for span in recorded["spans"] if span["name"] == SPAN)
    chat = chat_span["attributes"]
    assert chat["user_tier"] == "pro"
    assert chat["feature"] == "chat"
    assert chat[semconv.GEN_AI_CONVERSATION_ID] == "conv-42"
    assert chat[semconv.GEN_AI_RESPONSE_ID] == recorded["chat"]["response_id"]
    # the decorator's value merged with the endpoint's block
    summary = summary_span["attributes"]
    assert (summary["user_tier"], summary["feature"]) == ("free", "summarize")
    assert semconv.GEN_AI_CONVERSATION_ID not in summary
    # metric points carry the metric_attributes keys, never the conversation id
    tiers = {(p.get("user_tier"), p.get("feature")) for p in recorded["duration_points"]}
    assert tiers == {("pro", "chat"), ("free", "summarize")}
    assert all(semconv.GEN_AI_CONVERSATION_ID not in p for p in recorded["duration_points"])
    # the thumbs-up is an evaluation event in the trace of the call it judges
    assert recorded["feedback"] == {"recorded": True, "call_found": True}
    [event] = [e for e in recorded["events"] if e["name"] == semconv.EVENT_EVALUATION_RESULT]
    assert event["trace_id"] == chat_span["trace_id"]
    assert event["attributes"][semconv.GEN_AI_EVALUATION_NAME] == "user_feedback"
    assert event["attributes"][semconv.GEN_AI_EVALUATION_SCORE_VALUE] == 1.0
    assert event["attributes"][semconv.GEN_AI_EVALUATION_SCORE_LABEL] == "thumbs_up"


@pytest.mark.timeout(90)
def test_security_block_refuses_the_injection_attempt() -> None:
    output = run_example("security_block")
    spans = span_lines(output)
    assert [name for name, _ in spans] == [SPAN] * 3
    ordinary, fallback, raised = (attributes for _, attributes in spans)
    # the ordinary prompt went through: answered, billed, not blocked
    assert "sentinel.security.blocked" not in ordinary
    assert ordinary[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert ordinary[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert ordinary[semconv.SENTINEL_COST_USD] > 0
    assert re.search(r"-> \[stop\] \S", output)
    # the injection attempt was never sent: a fallback answer, no usage, no cost
    for blocked in (fallback, raised):
        assert blocked[semconv.SENTINEL_SECURITY_BLOCKED] is True
        assert blocked["sentinel.security.action"] == "blocked"
        assert "prompt_injection" in blocked["sentinel.security.categories"]
        assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in blocked
        assert semconv.SENTINEL_COST_USD not in blocked
    assert fallback[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("content_filter",)
    assert f"-> [content_filter] {FALLBACK_MESSAGE}" in output
    # without the fallback, PromptBlocked is raised and carries the scan
    assert "PromptBlocked: openai-sentinel blocked the request (" in output
    categories = re.search(r"injection score ([\d.]+), categories (\(.*\))$", output, re.MULTILINE)
    assert categories is not None
    assert float(categories[1]) >= 0.5
    assert "prompt_injection" in ast.literal_eval(categories[2])


@pytest.mark.timeout(90)
def test_cost_overrides_price_from_the_prices_file() -> None:
    prices = yaml.safe_load((ROOT / "examples" / "prices.yaml").read_text(encoding="utf-8"))
    output = run_example("cost_overrides")
    spans = dict(span_lines(output))
    private = spans["chat acme-private-llm"]
    rates = prices["models"]["acme-private-llm"]
    expected = (
        private["input_tokens"] * rates["input_mtok"]
        + private["output_tokens"] * rates["output_mtok"]
    ) / 1_000_000
    assert private["input_tokens"] > 0 and private["output_tokens"] > 0
    assert private[semconv.SENTINEL_COST_USD] == pytest.approx(expected, rel=1e-5)
    assert private["source"] == "prices file prices.yaml"
    discounted = spans[SPAN]
    listed = calc_price(
        Usage(input_tokens=discounted["input_tokens"], output_tokens=discounted["output_tokens"]),
        model_ref=MODEL,
        provider_id="openai",
    )
    expected = float(listed.total_price) * (1 - prices["models"][MODEL]["discount"])
    assert discounted[semconv.SENTINEL_COST_USD] == pytest.approx(expected, rel=1e-5)
    assert discounted["source"].endswith("discount from prices file prices.yaml")
    assert f"acme-private-llm: {private['input_tokens']} in" in output


@pytest.mark.timeout(90)
def test_to_collector_exports_spans_and_metrics_over_otlp() -> None:
    with OTLPReceiver() as receiver:
        output = run_example(
            "to_collector",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_SERVICE_NAME="to-collector-example",
        )
    assert f"flushed the spans and metrics to {receiver.endpoint}" in output
    chat = [span for span in receiver.spans if span["name"] == SPAN]
    assert len(chat) == 3
    for span in chat:
        assert span["scope"] == semconv.INSTRUMENTATION_SCOPE
        assert span["resource"]["service.name"] == "to-collector-example"
        assert span["attributes"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert chat[-1]["attributes"][semconv.GEN_AI_REQUEST_STREAM] is True
    durations = receiver.metrics[semconv.METRIC_OPERATION_DURATION]
    assert sum(point["count"] for point in durations) == 3
    token_types = {
        point["attributes"][semconv.GEN_AI_TOKEN_TYPE]
        for point in receiver.metrics[semconv.METRIC_TOKEN_USAGE]
    }
    assert token_types == {"input", "output"}


@pytest.mark.timeout(90)
def test_chat_example_runs_on_the_simulator() -> None:
    output = run_example("chat")
    assert re.search(r"^answer: \S", output, re.MULTILINE)
    assert re.search(r"^streamed: \S", output, re.MULTILINE)
