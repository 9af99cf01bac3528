"""What a span says must be private when capture is off, true to what was sent, and
exportable whatever the server sent."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any, Literal

import pytest
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.semconv.attributes.exception_attributes import EXCEPTION_TYPE
from opentelemetry.trace import StatusCode
from pydantic import BaseModel, Field, ValidationError

from openai_sentinel import semconv

from ..support import payloads
from ..support.http_library import http
from ..support.otlp_receiver import any_value
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, sync_client

MESSAGES = [{"role": "user", "content": "Summarise the intake note."}]

# -- item 10: a failed parse() does not leak the answer through the error ---------------

NAME = "John Doe"
SSN = "078-05-1120"
EMAIL = "john.doe@example.com"
PHONE = "202-555-0143"
PII = (NAME, SSN, EMAIL, PHONE)


class Intake(BaseModel):
    """What the caller expects; the model answers with text where numbers belong."""

    severity: int
    follow_up_days: int


PII_ANSWER = {
    "severity": f"Patient {NAME}, SSN {SSN}",  # short: pydantic quotes inputs in full
    "follow_up_days": f"mail {EMAIL}, tel {PHONE}",
}


def _every_string(span: ReadableSpan) -> list[str]:
    """Every text the span would export: name, status, attributes, event attributes."""
    texts = [span.name, span.status.description or ""]
    attribute_sets = [span.attributes or {}] + [event.attributes or {} for event in span.events]
    for attributes in attribute_sets:
        for value in attributes.values():
            items = value if isinstance(value, (list, tuple)) else (value,)
            texts.extend(item for item in items if isinstance(item, str))
    return texts


def _failed_parse(capture_content: bool, instrument: Any) -> None:
    instrument(capture_content=capture_content)
    api = ScriptedAPI()
    api.body = payloads.completion(content=json.dumps(PII_ANSWER))
    with pytest.raises(ValidationError) as caught:
        sync_client(api).chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=Intake
        )
    assert all(pii in str(caught.value) for pii in PII)  # the caller's error is untouched


def _exception_event(span: ReadableSpan) -> dict[str, Any]:
    (event,) = [event for event in span.events if event.name == "exception"]
    return dict(event.attributes or {})


def test_failed_parse_leaks_no_answer_with_capture_off(telemetry: Telemetry, instrument) -> None:
    _failed_parse(False, instrument)
    span = telemetry.span()
    leaks = [(pii, text) for text in _every_string(span) for pii in PII if pii in text]
    assert leaks == []
    assert span.status.status_code is StatusCode.ERROR
    attributes = span.attributes or {}
    assert attributes[semconv.ERROR_TYPE] == "ValidationError"
    event = _exception_event(span)
    assert str(event[EXCEPTION_TYPE]).endswith("ValidationError")
    # a content-free summary: where validation failed and why, not with what
    message = event[semconv.EXCEPTION_MESSAGE]
    assert message == span.status.description
    assert "severity" in message and "follow_up_days" in message
    assert "int_parsing" in message
    assert "input_value" not in message
    assert message in event[semconv.EXCEPTION_STACKTRACE]
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == "ValidationError"


def test_failed_parse_message_is_redacted_with_capture_on(telemetry: Telemetry, instrument) -> None:
    _failed_parse(True, instrument)
    span = telemetry.span()
    assert all(EMAIL not in text for text in _every_string(span))
    description = span.status.description or ""
    assert NAME in description and SSN in description  # capture on: the message is kept
    assert "[REDACTED:EMAIL_ADDRESS]" in description
    event = _exception_event(span)
    assert event[semconv.EXCEPTION_MESSAGE] == description
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "ValidationError"


class IntakeByPatient(BaseModel):
    """Follow-up days per patient: the keys are the model's text."""

    follow_up_days: dict[str, int]


class Routine(BaseModel):
    kind: Literal["routine"]


class Urgent(BaseModel):
    kind: Literal["urgent"]


class Triage(BaseModel):
    """A tagged union: the tag is the model's text."""

    case: Annotated[Routine | Urgent, Field(discriminator="kind")]


@pytest.mark.parametrize(
    ("response_format", "answer"),
    [
        (IntakeByPatient, {"follow_up_days": {f"Patient {NAME}, SSN {SSN}": "soon"}}),
        (Triage, {"case": {"kind": f"Patient {NAME}, SSN {SSN}"}}),
    ],
    ids=["answer text in a location (dict key)", "answer text in a reason (union tag)"],
)
def test_failed_parse_summary_quotes_no_answer_text(
    telemetry: Telemetry, instrument, response_format: type[BaseModel], answer: dict[str, Any]
) -> None:
    instrument()
    api = ScriptedAPI()
    api.body = payloads.completion(content=json.dumps(answer))
    with pytest.raises(ValidationError):
        sync_client(api).chat.completions.parse(
            model="gpt-4o-mini", messages=MESSAGES, response_format=response_format
        )
    span = telemetry.span()
    leaks = [(pii, text) for text in _every_string(span) for pii in (NAME, SSN) if pii in text]
    assert leaks == []
    assert (span.attributes or {})[semconv.ERROR_TYPE] == "ValidationError"


# -- item 11: extra_body is what was sent -------------------------------------------------


def test_request_attributes_report_what_extra_body_sent(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    sync_client(api).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=0.9,
        seed=1,
        extra_body={
            "model": "gpt-4o",
            "temperature": 0.2,
            "max_tokens": 7,
            "seed": 42,
            "stop": ["END"],
        },
    )
    sent = api.requests[-1]
    assert sent["model"] == "gpt-4o" and sent["temperature"] == 0.2  # the client merged it
    span = telemetry.span()
    attributes = span.attributes or {}
    assert span.name == f"{semconv.OPERATION_CHAT} {sent['model']}"
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == sent["model"]
    assert attributes[semconv.GEN_AI_REQUEST_TEMPERATURE] == sent["temperature"]
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == sent["max_tokens"]
    assert attributes[semconv.GEN_AI_REQUEST_SEED] == sent["seed"]
    assert attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == tuple(sent["stop"])
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.GEN_AI_REQUEST_MODEL] == sent["model"]


# -- item 12: lone surrogates from the server still export --------------------------------

LONE = "\ud800"
"""Valid in JSON (escaped as ``\\ud800``), not encodable as UTF-8."""
REPLACEMENT = "\ufffd"


def _exported_attributes(spans: list[ReadableSpan]) -> dict[str, Any]:
    """The one span's attributes as the OTLP protobuf encoder sends them, decoded again."""
    wire = encode_spans(spans).SerializeToString()
    request = ExportTraceServiceRequest.FromString(wire)
    (resource_spans,) = request.resource_spans
    (scope_spans,) = resource_spans.scope_spans
    (span,) = scope_spans.spans
    return {item.key: any_value(item.value) for item in span.attributes}


def _exported_duration_attributes(telemetry: Telemetry) -> dict[str, Any]:
    """The duration point's attributes as the OTLP metrics encoder sends them."""
    data = telemetry.metric_reader.get_metrics_data()
    assert data is not None
    request = ExportMetricsServiceRequest.FromString(encode_metrics(data).SerializeToString())
    points = [
        point
        for resource_metrics in request.resource_metrics
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
        if metric.name == semconv.METRIC_OPERATION_DURATION
        for point in metric.histogram.data_points
    ]
    (point,) = points
    return {item.key: any_value(item.value) for item in point.attributes}


def _json_handler(body: dict[str, Any]) -> Any:
    content = json.dumps(body).encode()  # ensure_ascii: the surrogate goes out escaped
    assert b"\\ud800" in content

    def handler(request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "application/json"}, content=content)

    return handler


def _stream_handler(chunks: list[dict[str, Any]]) -> Any:
    content = payloads.sse(chunks)
    assert b"\\ud800" in content

    def handler(request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=content)

    return handler


def _with_surrogates(body: dict[str, Any]) -> dict[str, Any]:
    body.update(
        id=f"chatcmpl-{LONE}",
        model=f"gpt-4o{LONE}",
        system_fingerprint=f"fp_{LONE}",
        service_tier=f"default{LONE}",
    )
    return body


def _assert_exported_with_replacements(
    telemetry: Telemetry, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        exported = _exported_attributes(telemetry.spans())
        metric_attributes = _exported_duration_attributes(telemetry)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("opentelemetry")] == []
    assert metric_attributes[semconv.GEN_AI_RESPONSE_MODEL] == f"gpt-4o{REPLACEMENT}"
    assert metric_attributes[semconv.OPENAI_RESPONSE_SERVICE_TIER] == f"default{REPLACEMENT}"
    assert exported[semconv.GEN_AI_RESPONSE_ID] == f"chatcmpl-{REPLACEMENT}"
    assert exported[semconv.GEN_AI_RESPONSE_MODEL] == f"gpt-4o{REPLACEMENT}"
    assert exported[semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == f"fp_{REPLACEMENT}"
    assert exported[semconv.OPENAI_RESPONSE_SERVICE_TIER] == f"default{REPLACEMENT}"
    assert exported[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == (f"stop{REPLACEMENT}",)
    (message,) = json.loads(exported[semconv.GEN_AI_OUTPUT_MESSAGES])
    assert message["parts"] == [{"type": "text", "content": f"Hello {REPLACEMENT} world"}]
    assert message["finish_reason"] == f"stop{REPLACEMENT}"


def test_lone_surrogates_in_a_response_still_export(
    telemetry: Telemetry, instrument, caplog: pytest.LogCaptureFixture
) -> None:
    instrument(capture_content=True)
    body = _with_surrogates(
        payloads.completion(content=f"Hello {LONE} world", finish_reason=f"stop{LONE}")
    )
    completion = sync_client(_json_handler(body), strict=False).chat.completions.create(
        model="gpt-4o", messages=MESSAGES
    )
    assert completion.choices[0].message.content == f"Hello {LONE} world"  # the caller's own
    _assert_exported_with_replacements(telemetry, caplog)


def test_lone_surrogates_in_a_stream_still_export(
    telemetry: Telemetry, instrument, caplog: pytest.LogCaptureFixture
) -> None:
    instrument(capture_content=True)
    chunks = [
        _with_surrogates(payloads.chunk(role="assistant", content="Hello ")),
        _with_surrogates(payloads.chunk(content=LONE)),
        _with_surrogates(payloads.chunk(content=" world")),
        _with_surrogates(payloads.chunk(finish_reason=f"stop{LONE}")),
    ]
    stream = sync_client(_stream_handler(chunks), strict=False).chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True
    )
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert text == f"Hello {LONE} world"
    _assert_exported_with_replacements(telemetry, caplog)
