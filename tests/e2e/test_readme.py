"""The README's claims, checked: its "by hand" program runs as pasted, and retries are one span."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from openai_sentinel import OpenAISentinelInstrumentor, semconv
from openai_sentinel.simulator import Simulator

from ..support.telemetry import Telemetry

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
PROSE = " ".join(README.split())


def _by_hand_program() -> str:
    """The first ```python block after the line that starts with "By hand"."""
    start = re.search(r"^By hand", README, re.MULTILINE)
    assert start is not None, "the README has no 'By hand' section"
    block = re.compile(r"^```python\n(.*?)^```$", re.MULTILINE | re.DOTALL).search(
        README, start.end()
    )
    assert block is not None, "no python block after 'By hand'"
    return block.group(1)


def _json_documents(text: str) -> list[Any]:
    """Every JSON object printed at the start of a line (the console exporters' output)."""
    decoder = json.JSONDecoder()
    documents = []
    for match in re.finditer(r"^\{", text, re.MULTILINE):
        try:
            document, _ = decoder.raw_decode(text, match.start())
        except ValueError:
            continue
        documents.append(document)
    return documents


def test_by_hand_program_runs_as_pasted(tmp_path: Path) -> None:
    program = tmp_path / "by_hand.py"
    program.write_text(_by_hand_program())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    completed = subprocess.run(
        [sys.executable, str(program)],
        env={**env, "OTEL_SERVICE_NAME": "readme-by-hand"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "answer: " in completed.stdout and "streamed: " in completed.stdout
    documents = _json_documents(completed.stdout)
    spans = [doc for doc in documents if str(doc.get("name", "")).startswith("chat ")]
    assert [span["name"] for span in spans] == ["chat gpt-4o-mini"] * 2
    plain, streamed = (span["attributes"] for span in spans)
    assert semconv.GEN_AI_REQUEST_STREAM not in plain
    assert streamed[semconv.GEN_AI_REQUEST_STREAM] is True
    for attributes in (plain, streamed):  # stream_usage=True gives the stream its usage too
        assert attributes[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] > 0
        assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ["stop"]
    assert {span["resource"]["attributes"]["service.name"] for span in spans} == {"readme-by-hand"}
    metric_names = {
        metric["name"]
        for doc in documents
        for resource in doc.get("resource_metrics", ())
        for scope in resource["scope_metrics"]
        for metric in scope["metrics"]
    }
    assert semconv.METRIC_OPERATION_DURATION in metric_names
    assert semconv.METRIC_TOKEN_USAGE in metric_names


@pytest.fixture
def simulator() -> Iterator[Simulator]:
    with Simulator() as running:
        yield running


def _ask(client: openai.OpenAI, **extra: Any) -> Any:
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], **extra
    )


def _retry_counts(simulator: Simulator) -> list[str]:
    return [request.headers["x-stainless-retry-count"] for request in simulator.requests]


def test_a_call_retried_after_429s_is_one_ordinary_span(
    simulator: Simulator, telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor
) -> None:
    simulator.fail_next(429, count=2, retry_after=0.05)
    with openai.OpenAI(base_url=simulator.base_url, api_key="sk-sim", max_retries=2) as client:
        assert _ask(client).choices[0].message.content
    assert _retry_counts(simulator) == ["0", "1", "2"]
    span = telemetry.span()
    assert span.status.status_code is StatusCode.UNSET
    assert semconv.ERROR_TYPE not in (span.attributes or {})
    assert not span.events


def test_a_stream_retried_after_a_429_is_one_span(
    simulator: Simulator, telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor
) -> None:
    simulator.fail_next(429, count=1, retry_after=0.05)
    with openai.OpenAI(base_url=simulator.base_url, api_key="sk-sim", max_retries=1) as client:
        for _ in _ask(client, stream=True):
            pass
    assert _retry_counts(simulator) == ["0", "1"]
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.SENTINEL_STREAM_END] == "completed"
    assert isinstance(attributes[semconv.GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK], float)


def test_a_call_whose_retries_all_fail_is_one_span_with_the_last_error(
    simulator: Simulator, telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor
) -> None:
    simulator.fail_next(429, count=3, retry_after=0.05)
    with (
        openai.OpenAI(base_url=simulator.base_url, api_key="sk-sim", max_retries=2) as client,
        pytest.raises(openai.RateLimitError),
    ):
        _ask(client)
    assert _retry_counts(simulator) == ["0", "1", "2"]
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "RateLimitError"
    assert [event.name for event in span.events] == ["exception"]


def test_readme_documents_retries_and_what_is_not_traced() -> None:
    assert "call, including the `openai` client's own retries" in PROSE
    traced = PROSE.split("## What is instrumented")[1].split("Not traced:")[0]
    for call in (
        "responses.create",
        "responses.retrieve",
        "completions.create",
        "embeddings.create",
        "images.generate",
        "audio.transcriptions.create",
        "audio.speech.create",
        "moderations.create",
    ):
        assert call in traced, call
    not_traced = PROSE.split("Not traced:")[1].split("\n\n")[0]
    for api in ("realtime", "responses.connect", "files", "batches"):
        assert api in not_traced
