"""Non-streaming chat calls through the real client: span, attributes, metrics, errors."""

from __future__ import annotations

import asyncio
import inspect
import json

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode
from pydantic import BaseModel

from openai_sentinel import semconv

from ..support import payloads
from ..support.findings import pop_and_check_findings
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "Say this is a test"}]


def test_span_carries_request_and_response_attributes(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    result = sync_client(api).chat.completions.create(
        model="gpt-4o-mini",
        messages=MESSAGES,
        temperature=0.3,
        top_p=0.9,
        max_completion_tokens=64,
        frequency_penalty=0.1,
        presence_penalty=0.2,
        stop="END",
        seed=7,
        n=2,
        service_tier="flex",
        response_format={"type": "json_object"},
    )
    span = telemetry.span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert pop_and_check_findings(dict(span.attributes or {})) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.OPENAI_API_TYPE: "chat_completions",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.SERVER_ADDRESS: "api.openai.test",
        semconv.SERVER_PORT: 443,
        semconv.GEN_AI_REQUEST_TEMPERATURE: 0.3,
        semconv.GEN_AI_REQUEST_TOP_P: 0.9,
        semconv.GEN_AI_REQUEST_MAX_TOKENS: 64,
        semconv.GEN_AI_REQUEST_FREQUENCY_PENALTY: 0.1,
        semconv.GEN_AI_REQUEST_PRESENCE_PENALTY: 0.2,
        semconv.GEN_AI_REQUEST_STOP_SEQUENCES: ("END",),
        semconv.GEN_AI_REQUEST_SEED: 7,
        semconv.GEN_AI_REQUEST_CHOICE_COUNT: 2,
        semconv.GEN_AI_OUTPUT_TYPE: "json",
        semconv.OPENAI_REQUEST_SERVICE_TIER: "flex",
        semconv.GEN_AI_RESPONSE_ID: result.id,
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        semconv.GEN_AI_RESPONSE_FINISH_REASONS: ("stop",),
        semconv.GEN_AI_USAGE_INPUT_TOKENS: 12,
        semconv.GEN_AI_USAGE_OUTPUT_TOKENS: 5,
        semconv.GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS: 4,
        semconv.GEN_AI_USAGE_REASONING_OUTPUT_TOKENS: 2,
        semconv.OPENAI_RESPONSE_SERVICE_TIER: "default",
        semconv.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_test42",
    }


def test_absent_parameters_are_not_reported(telemetry: Telemetry, instrumented) -> None:
    sync_client(ScriptedAPI()).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, n=1, service_tier="auto", max_tokens=openai.omit
    )
    attributes = telemetry.span().attributes or {}
    for absent in (
        semconv.GEN_AI_REQUEST_TEMPERATURE,
        semconv.GEN_AI_REQUEST_MAX_TOKENS,
        semconv.GEN_AI_REQUEST_CHOICE_COUNT,
        semconv.GEN_AI_REQUEST_STREAM,
        semconv.OPENAI_REQUEST_SERVICE_TIER,
        semconv.GEN_AI_OUTPUT_TYPE,
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.ERROR_TYPE,
    ):
        assert absent not in attributes


def test_legacy_max_tokens_and_stop_list(telemetry: Telemetry, instrumented) -> None:
    sync_client(ScriptedAPI()).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, max_tokens=10, stop=["a", "b"]
    )
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_REQUEST_MAX_TOKENS] == 10
    assert attributes[semconv.GEN_AI_REQUEST_STOP_SEQUENCES] == ("a", "b")


def test_metrics_have_spec_buckets_and_low_cardinality_attributes(
    telemetry: Telemetry, instrumented
) -> None:
    for _ in range(3):
        sync_client(ScriptedAPI()).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 3
    assert tuple(duration.explicit_bounds) == semconv.DURATION_BUCKETS
    assert dict(duration.attributes) == {
        semconv.GEN_AI_OPERATION_NAME: "chat",
        semconv.GEN_AI_PROVIDER_NAME: "openai",
        semconv.GEN_AI_REQUEST_MODEL: "gpt-4o-mini",
        semconv.SERVER_ADDRESS: "api.openai.test",
        semconv.SERVER_PORT: 443,
        semconv.GEN_AI_RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        semconv.OPENAI_RESPONSE_SERVICE_TIER: "default",
    }
    tokens = {
        point.attributes[semconv.GEN_AI_TOKEN_TYPE]: point
        for point in telemetry.points(semconv.METRIC_TOKEN_USAGE)
    }
    assert tokens["input"].sum == 36 and tokens["input"].count == 3
    assert tokens["output"].sum == 15
    assert tuple(tokens["input"].explicit_bounds) == semconv.TOKEN_BUCKETS
    metric = telemetry.metric(semconv.METRIC_TOKEN_USAGE)
    assert metric.unit == "{token}"
    assert telemetry.metric(semconv.METRIC_OPERATION_DURATION).unit == "s"
    assert not telemetry.points(semconv.METRIC_TIME_TO_FIRST_CHUNK)


def test_response_without_usage_invents_no_tokens(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(usage=None)
    sync_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert semconv.GEN_AI_USAGE_INPUT_TOKENS not in (telemetry.span().attributes or {})
    assert telemetry.points(semconv.METRIC_TOKEN_USAGE) == []
    assert len(telemetry.points(semconv.METRIC_OPERATION_DURATION)) == 1


def test_multiple_choices_report_each_finish_reason(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(choices=2, finish_reason="length")
    sync_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_RESPONSE_FINISH_REASONS] == ("length", "length")


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(404, "NotFoundError"), (429, "RateLimitError"), (500, "InternalServerError")],
)
def test_api_errors_set_status_and_error_type(
    telemetry: Telemetry, instrumented, status: int, error_type: str
) -> None:
    api = ScriptedAPI()
    api.status = status
    with pytest.raises(openai.APIStatusError):
        sync_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})[semconv.ERROR_TYPE] == error_type
    assert [event.name for event in span.events] == ["exception"]
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.attributes[semconv.ERROR_TYPE] == error_type


def test_timeouts_and_connection_errors(telemetry: Telemetry, instrumented) -> None:
    def timeout(request: http.Request) -> http.Response:
        raise http.ReadTimeout("slow", request=request)

    def refused(request: http.Request) -> http.Response:
        raise http.ConnectError("refused", request=request)

    with pytest.raises(openai.APITimeoutError):
        sync_client(timeout).chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.APIConnectionError):
        sync_client(refused).chat.completions.create(model="m", messages=MESSAGES)
    types = [(span.attributes or {})[semconv.ERROR_TYPE] for span in telemetry.spans()]
    assert types == ["APITimeoutError", "APIConnectionError"]


async def test_async_call_and_cancellation(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    result = await async_client(api).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert result.choices[0].message.content == "This is a test."

    release = asyncio.Event()

    async def hang(request: http.Request) -> http.Response:
        await release.wait()
        return http.Response(200, json=payloads.completion())

    task = asyncio.create_task(
        async_client(hang).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    )
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    ok, cancelled = telemetry.spans()
    assert (ok.attributes or {})[semconv.GEN_AI_RESPONSE_ID] == "chatcmpl-test123"
    assert (cancelled.attributes or {})[semconv.ERROR_TYPE] == "CancelledError"
    assert cancelled.status.status_code is StatusCode.ERROR


class Answer(BaseModel):
    answer: str


def test_parse_is_traced_once_with_json_output(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(content=json.dumps({"answer": "yes"}))
    parsed = sync_client(api).chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Answer
    )
    assert parsed.choices[0].message.parsed == Answer(answer="yes")
    span = telemetry.span()
    assert (span.attributes or {})[semconv.GEN_AI_OUTPUT_TYPE] == "json"
    assert (span.attributes or {})[semconv.GEN_AI_USAGE_OUTPUT_TOKENS] == 5


async def test_async_parse(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    api.body = payloads.completion(content=json.dumps({"answer": "no"}))
    parsed = await async_client(api).chat.completions.parse(
        model="gpt-4o-mini", messages=MESSAGES, response_format=Answer
    )
    assert parsed.choices[0].message.parsed == Answer(answer="no")
    assert telemetry.span().name == "chat gpt-4o-mini"


def test_azure_client_reports_azure_provider(telemetry: Telemetry, instrumented) -> None:
    client = openai.AzureOpenAI(
        api_key="k",
        api_version="2024-10-21",
        azure_endpoint="https://myres.openai.azure.com",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(ScriptedAPI())),
    )
    client.chat.completions.create(model="my-deployment", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == "azure.ai.openai"
    assert attributes[semconv.SERVER_ADDRESS] == "myres.openai.azure.com"


def test_custom_port_and_plain_http(telemetry: Telemetry, instrumented) -> None:
    sync_client(ScriptedAPI(), base_url="http://localhost:8080/v1").chat.completions.create(
        model="m", messages=MESSAGES
    )
    sync_client(ScriptedAPI(), base_url="http://localhost/v1").chat.completions.create(
        model="m", messages=MESSAGES
    )
    ports = [(span.attributes or {})[semconv.SERVER_PORT] for span in telemetry.spans()]
    assert ports == [8080, 80]


def test_span_is_current_during_the_http_request(telemetry: Telemetry, instrumented) -> None:
    from opentelemetry import trace

    seen: list[int] = []

    def handler(request: http.Request) -> http.Response:
        seen.append(trace.get_current_span().get_span_context().span_id)
        return http.Response(200, json=payloads.completion())

    sync_client(handler).chat.completions.create(model="m", messages=MESSAGES)
    assert seen == [telemetry.span().context.span_id]
    assert not trace.get_current_span().get_span_context().is_valid


async def test_async_argument_errors_raise_at_call_time_as_without_us(
    telemetry: Telemetry, instrumented
) -> None:
    client = async_client(ScriptedAPI())
    with pytest.raises(TypeError):
        client.chat.completions.create(model="gpt-4o-mini")  # type: ignore[call-overload]
    (failed,) = telemetry.spans()  # an error span, as for the synchronous client
    assert (failed.attributes or {})[semconv.ERROR_TYPE] == "TypeError"
    pending = client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert inspect.iscoroutine(pending)
    assert pending.__qualname__ == "AsyncCompletions.create"
    await pending
    assert len(telemetry.spans()) == 2
