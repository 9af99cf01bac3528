"""``openai-sentinel demo``: console output by default, OTLP when an endpoint is set."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from openai_sentinel import semconv

from ..support.otlp_receiver import OTLPReceiver


def _demo(*args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "openai_sentinel.cli", "demo", *args],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_prints_spans_metrics_and_summary() -> None:
    completed = _demo("--calls", "9")
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    span_lines = [line for line in out.splitlines() if line.startswith("span chat ")]
    assert len(span_lines) == 9
    assert any("ERROR RateLimitError" in line for line in span_lines)
    assert any("stream" in line and "ttfc=" in line for line in span_lines)
    assert "metric gen_ai.client.operation.duration" in out
    assert "metric gen_ai.client.token.usage" in out
    summary = out[out.index("summary") :]
    total = re.search(r"^all\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", summary, re.MULTILINE)
    assert total is not None
    calls, streams, errors, tokens_in, tokens_out = map(int, total.groups())
    assert (calls, errors) == (9, 1)
    assert streams >= 2 and tokens_in > 0 and tokens_out > 0
    assert "errors: RateLimitError x1" in summary


def test_demo_exports_over_otlp_when_endpoint_is_set() -> None:
    with OTLPReceiver() as receiver:
        completed = _demo(
            "--calls",
            "6",
            OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        )
    assert completed.returncode == 0, completed.stderr
    assert "telemetry goes to: OTLP/HTTP" in completed.stdout
    chat = [span for span in receiver.spans if span["name"].startswith("chat ")]
    assert len(chat) == 6
    assert all(span["resource"]["service.name"] == "openai-sentinel-demo" for span in chat)
    assert semconv.METRIC_OPERATION_DURATION in receiver.metrics


def test_live_mode_needs_an_api_key() -> None:
    completed = _demo("--live")
    assert completed.returncode == 2
    assert "OPENAI_API_KEY" in completed.stdout
