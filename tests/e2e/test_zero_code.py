"""Zero-code: ``opentelemetry-instrument python examples/chat.py`` exports over OTLP/HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from openai_sentinel import semconv
from openai_sentinel.simulator import Simulator

from ..support.otlp_receiver import OTLPReceiver

ROOT = Path(__file__).resolve().parents[2]
INSTRUMENT = Path(sys.executable).with_name("opentelemetry-instrument")


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


def _run_example(simulator: Simulator, receiver: OTLPReceiver, **extra_env: str) -> str:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))},
        "OPENAI_BASE_URL": simulator.base_url,
        "OPENAI_API_KEY": "sk-simulator",
        "OTEL_SERVICE_NAME": "zero-code-example",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        **extra_env,
    }
    completed = subprocess.run(
        [str(INSTRUMENT), sys.executable, str(ROOT / "examples" / "chat.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_chat_spans_and_metrics_arrive_over_otlp(simulator: Simulator) -> None:
    with OTLPReceiver() as receiver:
        output = _run_example(simulator, receiver)
    assert "answer:" in output and "streamed:" in output
    chat_spans = [span for span in receiver.spans if span["name"] == "chat gpt-4o-mini"]
    assert len(chat_spans) == 2
    plain, streamed = chat_spans
    assert plain["scope"] == semconv.INSTRUMENTATION_SCOPE
    assert plain["resource"]["service.name"] == "zero-code-example"
    assert plain["kind"] == 3  # SPAN_KIND_CLIENT
    attributes = plain["attributes"]
    assert attributes[semconv.GEN_AI_OPERATION_NAME] == "chat"
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "openai"
    assert attributes[semconv.SERVER_ADDRESS] == "127.0.0.1"
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("stop",)
    assert attributes[semconv.GEN_AI_USAGE_INPUT_TOKENS] > 0
    assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert streamed["attributes"][semconv.GEN_AI_REQUEST_STREAM] is True
    assert streamed["attributes"][semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
    assert streamed["attributes"][semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] > 0
    durations = receiver.metrics[semconv.METRIC_OPERATION_DURATION]
    assert sum(point["count"] for point in durations) == 2
    assert durations[0]["unit"] == "s"
    token_types = {
        point["attributes"][semconv.GEN_AI_TOKEN_TYPE]
        for point in receiver.metrics[semconv.METRIC_TOKEN_USAGE]
    }
    assert token_types == {"input", "output"}
    assert semconv.METRIC_TIME_TO_FIRST_CHUNK in receiver.metrics


def test_disabled_by_its_own_entry_point_name(simulator: Simulator) -> None:
    with OTLPReceiver() as receiver:
        _run_example(simulator, receiver, OTEL_PYTHON_DISABLED_INSTRUMENTATIONS="openai_sentinel")
    assert not [span for span in receiver.spans if span["name"].startswith("chat")]


def test_content_capture_through_the_environment(simulator: Simulator) -> None:
    with OTLPReceiver() as receiver:
        _run_example(simulator, receiver, OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT="true")
    span = next(span for span in receiver.spans if span["name"].startswith("chat"))
    assert "Say this is a test" in span["attributes"][semconv.GEN_AI_INPUT_MESSAGES]
