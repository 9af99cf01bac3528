"""The provider name follows the client's host, and the latest conventions' metric names
replace the v1.41 ones when ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for them."""

from __future__ import annotations

from collections.abc import Callable

import openai
import pytest

from openai_sentinel import semconv

from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("base_url", "provider"),
    [
        ("https://api.openai.com/v1", semconv.PROVIDER_OPENAI),
        ("https://api.groq.com/openai/v1", semconv.PROVIDER_GROQ),
        ("https://api.deepseek.com/v1", semconv.PROVIDER_DEEPSEEK),
        ("https://api.mistral.ai/v1", semconv.PROVIDER_MISTRAL_AI),
        ("https://api.x.ai/v1", semconv.PROVIDER_X_AI),
        ("https://generativelanguage.googleapis.com/v1beta/openai", semconv.PROVIDER_GCP_GEMINI),
        ("https://my-resource.openai.azure.com/openai/v1", semconv.PROVIDER_AZURE_OPENAI),
        ("https://bedrock-runtime.us-east-1.amazonaws.com/openai/v1", semconv.PROVIDER_AWS_BEDROCK),
        ("http://localhost:11434/v1", semconv.PROVIDER_OPENAI),  # Ollama
        ("http://vllm.internal:8000/v1", semconv.PROVIDER_OPENAI),
        ("https://api.groq.com.evil.example/v1", semconv.PROVIDER_OPENAI),  # not a suffix
    ],
)
def test_provider_follows_the_host_and_the_address_is_the_real_one(
    telemetry: Telemetry, instrumented, base_url: str, provider: str
) -> None:
    client = sync_client(ScriptedAPI(), base_url=base_url)
    client.chat.completions.create(model="m", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == provider
    assert attributes[semconv.SERVER_ADDRESS] == http.URL(base_url).host
    (point,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert point.attributes[semconv.GEN_AI_PROVIDER_NAME] == provider


def test_azure_clients_are_azure_whatever_their_host(telemetry: Telemetry, instrumented) -> None:
    api = ScriptedAPI()
    client = openai.AzureOpenAI(
        api_key="sk-test",
        api_version="2024-10-21",
        azure_endpoint="https://gateway.example.com",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(api)),
    )
    client.chat.completions.create(model="my-deployment", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert attributes[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_AZURE_OPENAI
    assert attributes[semconv.GEN_AI_REQUEST_MODEL] == "my-deployment"
    assert attributes[semconv.SERVER_ADDRESS] == "gateway.example.com"


def test_the_address_follows_a_base_url_changed_after_the_client_was_made(
    telemetry: Telemetry, instrumented
) -> None:
    client = sync_client(ScriptedAPI(), base_url="https://api.openai.com/v1")
    client.chat.completions.create(model="m", messages=MESSAGES)
    client.base_url = "https://api.groq.com/openai/v1"
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": "again"}])
    first, second = (span.attributes or {} for span in telemetry.spans())
    assert first[semconv.SERVER_ADDRESS] == "api.openai.com"
    assert second[semconv.SERVER_ADDRESS] == "api.groq.com"
    assert second[semconv.GEN_AI_PROVIDER_NAME] == semconv.PROVIDER_GROQ


def _host_recorder() -> tuple[Callable[[http.Request], http.Response], list[str]]:
    """A scripted API, and the host of each request it was sent, in order."""
    api = ScriptedAPI()
    hosts: list[str] = []

    def handler(request: http.Request) -> http.Response:
        hosts.append(str(request.url.host))
        return api(request)

    return handler, hosts


def test_the_module_level_client_is_read_through_the_module_s_base_url(
    telemetry: Telemetry, instrumented, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler, seen = _host_recorder()
    monkeypatch.setattr(openai, "api_key", "sk-test")
    monkeypatch.setattr(openai, "max_retries", 0)
    monkeypatch.setattr(openai, "http_client", http.Client(transport=http.MockTransport(handler)))
    monkeypatch.setattr(openai, "base_url", "https://api.openai.com/v1")
    monkeypatch.setattr(openai, "_client", None)
    openai.chat.completions.create(model="m", messages=MESSAGES)
    openai.base_url = "http://gateway.internal:4000/v1"  # the module client reads it anew
    openai.chat.completions.create(model="m", messages=[{"role": "user", "content": "again"}])
    first, second = (span.attributes or {} for span in telemetry.spans())
    assert seen == ["api.openai.com", "gateway.internal"]
    assert first[semconv.SERVER_ADDRESS] == "api.openai.com"
    assert second[semconv.SERVER_ADDRESS] == "gateway.internal"
    assert second[semconv.SERVER_PORT] == 4000


class _RoutedClient(openai.OpenAI):
    """A client whose own ``base_url`` property sends every request to a gateway."""

    @property
    def base_url(self) -> http.URL:  # type: ignore[override]
        return http.URL("http://gateway.internal:4000/v1/")

    @base_url.setter
    def base_url(self, url: http.URL | str) -> None:
        self._base_url = http.URL(str(url))


def test_a_client_class_with_its_own_base_url_property_is_read_through_it(
    telemetry: Telemetry, instrumented
) -> None:
    handler, seen = _host_recorder()
    client = _RoutedClient(
        api_key="sk-test",
        base_url="https://api.openai.com/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(handler)),
    )
    client.chat.completions.create(model="m", messages=MESSAGES)
    attributes = telemetry.span().attributes or {}
    assert seen == ["gateway.internal"]
    assert attributes[semconv.SERVER_ADDRESS] == "gateway.internal"
    assert attributes[semconv.SERVER_PORT] == 4000


def _metric_names(telemetry: Telemetry) -> set[str]:
    data = telemetry.metric_reader.get_metrics_data()
    return {
        metric.name
        for resource_metrics in (data.resource_metrics if data else ())
        for scope_metrics in resource_metrics.scope_metrics
        for metric in scope_metrics.metrics
    }


def _one_plain_and_one_streamed_call() -> None:
    client = sync_client(ScriptedAPI())
    client.chat.completions.create(model="m", messages=MESSAGES)
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "another question"}],  # not a repeat
        stream=True,
        stream_options={"include_usage": True},
    )
    list(stream)


COST_METRICS = {
    semconv.METRIC_COST,
    semconv.METRIC_REQUEST_COST,
    semconv.METRIC_COST_CACHE_SAVINGS,
    semconv.METRIC_CONFIDENCE,
    semconv.METRIC_DRIFT_SEVERITY,
}
"""The scripted API answers as ``gpt-4o-mini-2024-07-18``, a priced model, with cached
input tokens, so both calls are priced whatever model the request names; every answer
gets a confidence, and its model's drift state is reported (still warming up, so no
drift percentage yet)."""
V1_41_METRICS = {
    semconv.METRIC_OPERATION_DURATION,
    semconv.METRIC_TOKEN_USAGE,
    semconv.METRIC_TIME_TO_FIRST_CHUNK,
    semconv.METRIC_TIME_PER_OUTPUT_CHUNK,
    *COST_METRICS,
}


def test_v1_41_metrics_by_default(telemetry: Telemetry, instrumented) -> None:
    _one_plain_and_one_streamed_call()
    assert _metric_names(telemetry) == V1_41_METRICS


def test_latest_metric_names_when_opted_in(
    telemetry: Telemetry, instrument, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        semconv.SEMCONV_STABILITY_OPT_IN_ENV, f"http, {semconv.SEMCONV_GENAI_LATEST}"
    )
    instrument()
    _one_plain_and_one_streamed_call()
    assert _metric_names(telemetry) == {
        semconv.METRIC_INFERENCE_DURATION,
        semconv.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK,
        semconv.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK,
        semconv.METRIC_INFERENCE_USAGE_INPUT_TOKENS,
        semconv.METRIC_INFERENCE_USAGE_OUTPUT_TOKENS,
        semconv.METRIC_INFERENCE_USAGE_CACHE_READ_TOKENS,
        semconv.METRIC_INFERENCE_USAGE_REASONING_TOKENS,
        semconv.METRIC_INFERENCE_OPERATION_INPUT_TOKENS,
        semconv.METRIC_INFERENCE_OPERATION_OUTPUT_TOKENS,
        semconv.METRIC_OPERATION_COST,
        *COST_METRICS,
    }
    (inputs,) = telemetry.points(semconv.METRIC_INFERENCE_USAGE_INPUT_TOKENS)
    assert inputs.attributes[semconv.GEN_AI_TOKEN_MODALITY] == semconv.TOKEN_MODALITY_UNKNOWN
    assert inputs.value == 2 * 12  # both calls reported usage (ScriptedAPI: 12 input tokens)
    (durations,) = telemetry.points(semconv.METRIC_INFERENCE_DURATION)
    assert durations.count == 2
    (operation_inputs,) = telemetry.points(semconv.METRIC_INFERENCE_OPERATION_INPUT_TOKENS)
    assert operation_inputs.count == 2 and operation_inputs.sum == 24
