"""``openai-sentinel demo``: console output by default, OTLP when an endpoint is set."""

from __future__ import annotations

import re

import pytest

from openai_sentinel import semconv

from ..support.demo import closed_port, run_demo
from ..support.otlp_receiver import OTLPReceiver


def test_demo_prints_spans_metrics_and_summary() -> None:
    completed = run_demo("--calls", "9")
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
    cost = re.search(r"^cost: \$(\d+\.\d+) for (\d+) priced calls", summary, re.MULTILINE)
    assert cost is not None and float(cost.group(1)) > 0 and int(cost.group(2)) >= 7
    rate = re.search(r"repeat rate (\d+)% \((\d+) of 9 calls", summary)
    assert rate is not None and int(rate.group(2)) >= 1
    # the rate-limited call, retried on the expensive model, is a repeat whose model changed
    assert "repeats sent to another model: gpt-4o-mini -> gpt-4o x" in summary
    assert not any(line.lstrip().startswith(("in:", "out:")) for line in out.splitlines())


def test_a_stream_closed_early_explains_its_finish_reason() -> None:
    completed = run_demo("--calls", "5")
    assert completed.returncode == 0, completed.stderr
    [line] = [line for line in completed.stdout.splitlines() if "finish=error" in line]
    assert "closed early by the caller" in line
    assert "ERROR" not in line


def test_captured_content_is_shown_redacted_and_abbreviated() -> None:
    completed = run_demo("--calls", "5", "--capture-content")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    inputs = [line.strip() for line in lines if line.startswith("    in: ")]
    outputs = [line.strip() for line in lines if line.startswith("    out: ")]
    spans = [line for line in lines if line.startswith("span chat ")]
    assert len(inputs) == len(spans) == 5
    assert outputs and all(line.startswith("out: assistant: ") for line in outputs)
    assert any("user: Summarize" in line and "[REDACTED:EMAIL_ADDRESS]" in line for line in inputs)
    assert "@example.com" not in completed.stdout
    assert all(len(line) <= 160 for line in inputs + outputs)


def test_the_injection_attempt_is_flagged_and_pii_counted() -> None:
    completed = run_demo("--calls", "6")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    flagged = [line for line in lines if "SECURITY" in line and "prompt_injection" in line]
    assert flagged and all("observed (injection score" in line for line in flagged)
    assert all("finish=stop" in line for line in flagged)  # observe: the call went through
    summary = completed.stdout[completed.stdout.index("summary") :]
    attempts = re.search(
        r"security: (\d+) prompt-injection attempt\(s\) flagged \((\d+) observed\)", summary
    )
    assert attempts is not None and int(attempts.group(1)) == len(flagged)
    assert re.search(r"(\d+) call\(s\) with PII or secrets", summary)


def test_block_answers_the_injection_attempt_with_a_fallback() -> None:
    completed = run_demo("--calls", "6", "--block", "--capture-content")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    blocked = [line for line in lines if "SECURITY" in line and " blocked " in line]
    assert blocked and all("finish=content_filter" in line for line in blocked)
    assert all("tokens in=" not in line for line in blocked)  # never sent, never billed
    assert "2 blocked" in completed.stdout or "1 blocked" in completed.stdout
    assert "@example.com" not in completed.stdout


def test_service_name_comes_from_otel_service_name() -> None:
    completed = run_demo("--calls", "5", "--json", OTEL_SERVICE_NAME="my-service")
    assert completed.returncode == 0, completed.stderr
    assert '"service.name": "my-service"' in completed.stdout
    assert "openai-sentinel-demo" not in completed.stdout


def test_demo_exports_over_otlp_when_endpoint_is_set() -> None:
    with OTLPReceiver() as receiver:
        completed = run_demo(
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


@pytest.mark.parametrize("protocol", ["http/protobuf", "grpc"])
def test_an_unreachable_otlp_endpoint_is_reported_and_fails_therun_demo(protocol: str) -> None:
    completed = run_demo(
        "--calls",
        "5",
        timeout=60,  # the exporters give up after their 2 s export timeout
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{closed_port()}",
        OTEL_EXPORTER_OTLP_PROTOCOL=protocol,
    )
    assert completed.returncode == 1
    assert "summary" in completed.stdout
    [message] = [line for line in completed.stderr.splitlines() if "openai-sentinel demo:" in line]
    assert "nothing was exported" in message
    assert "did not accept 5 spans and" in message


def test_live_mode_needs_an_api_key() -> None:
    completed = run_demo("--live")
    assert completed.returncode == 2
    assert "OPENAI_API_KEY" in completed.stdout
