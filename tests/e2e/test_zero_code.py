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


# A program that makes one chat call, says whether openai's method is wrapped, and makes
# a span of its own with the global tracer (so it is exported only if auto-instrumentation
# configured the exporters).
_APP = """
import os

import openai
import wrapt
from openai.resources.chat.completions import Completions
from opentelemetry import trace

client = openai.OpenAI(base_url=os.environ["APP_BASE_URL"], api_key="sk-simulator")
completion = client.chat.completions.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Say this is a test"}]
)
print("answer:", completion.choices[0].message.content)
print("wrapped:", isinstance(vars(Completions)["create"], wrapt.FunctionWrapper))
with trace.get_tracer("zero-code-app").start_as_current_span("app work"):
    pass
"""

# An installed distribution with an ``opentelemetry_post_instrument`` entry point: the
# auto-instrumentation runs it after every instrumentor has been loaded, so it runs only
# if the loading got past openai-sentinel.
_PROBE_MODULE = """
def loaded():
    print("post-instrument hook ran", flush=True)
"""
_PROBE_ENTRY_POINTS = """
[opentelemetry_post_instrument]
sentinel_probe = sentinel_probe:loaded
"""


def _run_app(
    simulator: Simulator, receiver: OTLPReceiver, directory: Path, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    (directory / "app.py").write_text(_APP, encoding="utf-8")
    (directory / "sentinel_probe.py").write_text(_PROBE_MODULE, encoding="utf-8")
    dist_info = directory / "sentinel_probe-0.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: sentinel-probe\nVersion: 0.0\n", encoding="utf-8"
    )
    (dist_info / "entry_points.txt").write_text(_PROBE_ENTRY_POINTS, encoding="utf-8")
    python_path = os.pathsep.join(filter(None, [str(directory), os.environ.get("PYTHONPATH")]))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))},
        "PYTHONPATH": python_path,
        "APP_BASE_URL": simulator.base_url,
        "OTEL_SERVICE_NAME": "zero-code-app",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        **extra_env,
    }
    return subprocess.run(
        [str(INSTRUMENT), sys.executable, str(directory / "app.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=directory,
    )


def test_the_probe_sees_a_complete_auto_instrumentation(
    simulator: Simulator, tmp_path: Path
) -> None:
    """The control for the test below: with good settings, openai is wrapped and traced."""
    with OTLPReceiver() as receiver:
        completed = _run_app(simulator, receiver, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "post-instrument hook ran" in completed.stdout
    assert "wrapped: True" in completed.stdout
    names = [span["name"] for span in receiver.spans]
    assert "app work" in names and "chat gpt-4o-mini" in names


@pytest.mark.parametrize(
    ("variable", "value", "accepted"),
    [
        ("OPENAI_SENTINEL_CAPTURE_CONTENT", "perhaps", "true/false"),
        ("OPENAI_SENTINEL_CONTENT_MAX_LENGTH", "abc", "an integer from 1"),
    ],
)
def test_bad_setting_in_the_environment_does_not_abort_auto_instrumentation(
    simulator: Simulator, tmp_path: Path, variable: str, value: str, accepted: str
) -> None:
    with OTLPReceiver() as receiver:
        completed = _run_app(simulator, receiver, tmp_path, **{variable: value})
    assert completed.returncode == 0, completed.stderr
    assert "Failed to auto initialize" not in completed.stderr
    assert "post-instrument hook ran" in completed.stdout, completed.stderr
    naming = [line for line in completed.stderr.splitlines() if variable in line]
    assert len(naming) == 1, completed.stderr
    assert repr(value) in naming[0]
    assert "accepted values" in naming[0] and accepted in naming[0]
    assert "Traceback" not in completed.stderr
    # openai is left uninstrumented and the application runs as it would without us
    assert "answer:" in completed.stdout
    assert "wrapped: False" in completed.stdout
    names = [span["name"] for span in receiver.spans]
    assert "app work" in names  # the exporters were configured
    assert not [name for name in names if name.startswith("chat")]
