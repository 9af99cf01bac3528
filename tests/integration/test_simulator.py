"""The simulator driven by the real ``openai`` client over loopback HTTP, strictly validated."""

from __future__ import annotations

import http.client
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel

import openai_sentinel.simulator as simulator_package
from openai_sentinel.simulator import Simulator, SimulatorConfig
from openai_sentinel.simulator.__main__ import main as simulator_main

from ..support.simulated import make_client

MODEL = "gpt-4o-mini"
MESSAGES = [
    {"role": "system", "content": "You are a terse assistant."},
    {"role": "user", "content": "Describe the weather in one paragraph."},
]
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "days", "unit"],
        },
    },
}
CLOCK_TOOL = {"type": "function", "function": {"name": "get_time", "parameters": {}}}


def ask(client: OpenAI, messages=MESSAGES, **params):
    return client.chat.completions.create(model=MODEL, messages=messages, **params)


def stream_chunks(client: OpenAI, messages=MESSAGES, **params):
    return list(
        client.chat.completions.create(model=MODEL, messages=messages, stream=True, **params)
    )


def streamed_text(chunks, index: int = 0) -> str:
    return "".join(
        choice.delta.content or ""
        for chunk in chunks
        for choice in chunk.choices
        if choice.index == index
    )


# --- non-streaming -------------------------------------------------------------------------


def test_chat_completion_has_consistent_usage_and_identity(client: OpenAI) -> None:
    completion = ask(client, logprobs=True)

    usage = completion.usage
    assert usage is not None
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    expected_prompt = sum(4 + math.ceil(len(m["content"]) / 4) for m in MESSAGES) + 3
    assert usage.prompt_tokens == expected_prompt
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert usage.completion_tokens == len(logprobs.content)
    assert "".join(item.token for item in logprobs.content) == completion.choices[0].message.content
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 0
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 0

    assert completion.id.startswith("chatcmpl-") and len(completion.id) == len("chatcmpl-") + 24
    assert completion.model == MODEL
    assert completion.system_fingerprint is not None
    assert completion.system_fingerprint.startswith("fp_sim")
    assert completion.service_tier == "default"
    assert completion.choices[0].finish_reason == "stop"
    assert completion._request_id is not None and completion._request_id.startswith("req_")


def test_min_and_max_completion_tokens_bound_the_length(client: OpenAI) -> None:
    lengths = {
        ask(client, [{"role": "user", "content": f"prompt {i}"}]).usage.completion_tokens
        for i in range(10)
    }
    assert all(8 <= length <= 48 for length in lengths)
    assert len(lengths) > 1


def test_service_tier_is_echoed_unless_auto(client: OpenAI) -> None:
    assert ask(client, service_tier="flex").service_tier == "flex"
    assert ask(client, service_tier="auto").service_tier == "default"


def test_same_request_gives_same_content(client: OpenAI) -> None:
    first = ask(client).choices[0].message.content
    second = ask(client).choices[0].message.content
    assert first == second
    assert first


def test_different_prompt_gives_different_content(client: OpenAI) -> None:
    other = [{"role": "user", "content": "Tell me about rivers."}]
    assert ask(client).choices[0].message.content != ask(client, other).choices[0].message.content


def test_seed_changes_the_content() -> None:
    texts = []
    for seed in (1, 2):
        with Simulator(SimulatorConfig(seed=seed)) as sim, make_client(sim.base_url) as client:
            texts.append(ask(client).choices[0].message.content)
    assert texts[0] != texts[1]


def test_n_gives_several_choices(client: OpenAI) -> None:
    completion = ask(client, n=2)
    assert [choice.index for choice in completion.choices] == [0, 1]
    assert completion.choices[0].message.content != completion.choices[1].message.content

    chunks = stream_chunks(client, n=2, stream_options={"include_usage": True})
    for choice in completion.choices:
        assert streamed_text(chunks, choice.index) == choice.message.content
    assert chunks[-1].usage == completion.usage


def test_max_tokens_truncates_with_finish_reason_length(client: OpenAI) -> None:
    full = ask(client).choices[0].message.content
    for limit in ({"max_tokens": 3}, {"max_completion_tokens": 3}):
        completion = ask(client, **limit)
        assert completion.choices[0].finish_reason == "length"
        assert completion.usage.completion_tokens == 3
        assert full.startswith(completion.choices[0].message.content)


def test_stop_sequence_cuts_the_content(client: OpenAI) -> None:
    full = ask(client).choices[0].message.content
    completion = ask(client, stop=["."])
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.content == full.split(".")[0]


def test_logprobs_are_negative_and_sorted(client: OpenAI) -> None:
    completion = ask(client, logprobs=True, top_logprobs=5)
    content = completion.choices[0].logprobs.content
    assert len(content) == completion.usage.completion_tokens
    for item in content:
        assert item.logprob <= 0
        assert item.bytes == list(item.token.encode())
        tops = [top.logprob for top in item.top_logprobs]
        assert len(tops) == 5
        assert tops == sorted(tops, reverse=True)
        assert item.top_logprobs[0].token == item.token
        assert tops[0] == item.logprob
        assert sum(math.exp(value) for value in tops) <= 1 + 1e-6


def test_tool_choice_required_returns_a_tool_call(client: OpenAI) -> None:
    completion = ask(client, tools=[WEATHER_TOOL, CLOCK_TOOL], tool_choice="required")
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_")
    assert call.function.name == "get_weather"
    arguments = json.loads(call.function.arguments)
    assert set(arguments) == {"city", "days", "unit"}
    assert 1 <= arguments["days"] <= 7
    assert arguments["unit"] in {"celsius", "fahrenheit"}


def test_named_tool_choice_and_streamed_tool_call(client: OpenAI) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    completion = ask(client, tools=[WEATHER_TOOL, CLOCK_TOOL], tool_choice=named)
    assert completion.choices[0].message.tool_calls[0].function.name == "get_time"
    assert json.loads(completion.choices[0].message.tool_calls[0].function.arguments) == {}

    with client.chat.completions.stream(
        model=MODEL, messages=MESSAGES, tools=[WEATHER_TOOL], tool_choice="required"
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"
    streamed_call = final.choices[0].message.tool_calls[0]
    assert set(json.loads(streamed_call.function.arguments)) == {"city", "days", "unit"}


def test_tool_choice_auto_answers_with_text(client: OpenAI) -> None:
    completion = ask(client, tools=[WEATHER_TOOL], tool_choice="auto")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].message.content


def test_json_response_formats_return_json_objects(client: OpenAI) -> None:
    completion = ask(client, response_format={"type": "json_object"})
    assert isinstance(json.loads(completion.choices[0].message.content), dict)

    class Forecast(BaseModel):
        city: str
        temperature: float
        sunny: bool
        tags: list[str]

    parsed = client.chat.completions.parse(model=MODEL, messages=MESSAGES, response_format=Forecast)
    assert isinstance(parsed.choices[0].message.parsed, Forecast)


def test_models_are_listed(client: OpenAI) -> None:
    models = client.models.list().data
    assert MODEL in [model.id for model in models]


# --- streaming ------------------------------------------------------------------------------


def test_stream_without_usage_matches_non_streamed_content(client: OpenAI) -> None:
    completion = ask(client)
    chunks = stream_chunks(client)

    assert all(chunk.usage is None for chunk in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert streamed_text(chunks) == completion.choices[0].message.content
    content_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(content_chunks) == completion.usage.completion_tokens
    assert len({chunk.id for chunk in chunks}) == 1


def test_stream_with_include_usage_ends_with_a_usage_chunk(client: OpenAI) -> None:
    completion = ask(client)
    chunks = stream_chunks(client, stream_options={"include_usage": True})

    usage_chunk = chunks[-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage == completion.usage
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert streamed_text(chunks) == completion.choices[0].message.content


def test_streamed_logprobs_match_the_non_streamed_ones(client: OpenAI) -> None:
    completion = ask(client, logprobs=True, top_logprobs=3)
    chunks = stream_chunks(
        client, logprobs=True, top_logprobs=3, stream_options={"include_usage": True}
    )
    streamed = [
        item
        for chunk in chunks
        for choice in chunk.choices
        if choice.logprobs is not None
        for item in choice.logprobs.content
    ]
    assert len(streamed) == chunks[-1].usage.completion_tokens
    assert streamed == completion.choices[0].logprobs.content
    assert all(len(item.top_logprobs) == 3 for item in streamed)


def test_streaming_is_incremental() -> None:
    config = SimulatorConfig(
        inter_token_delay=0.05, min_completion_tokens=6, max_completion_tokens=6
    )
    with Simulator(config) as sim, make_client(sim.base_url) as client:
        started = time.perf_counter()
        arrivals = [
            time.perf_counter() - started
            for chunk in client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
            if chunk.choices and chunk.choices[0].delta.content
        ]
    assert len(arrivals) == 6
    assert arrivals == sorted(arrivals)
    assert arrivals[0] < arrivals[-1] / 2


async def test_async_streaming(simulator: Simulator, client: OpenAI) -> None:
    expected = ask(client)
    async with AsyncOpenAI(
        base_url=simulator.base_url,
        api_key="sk-sim",
        max_retries=0,
        _strict_response_validation=True,
    ) as async_client:
        stream = await async_client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = [chunk async for chunk in stream]
        completion = await async_client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert streamed_text(chunks) == expected.choices[0].message.content
    assert chunks[-1].usage == expected.usage
    assert completion.choices[0].message.content == expected.choices[0].message.content


# --- errors and fault injection -------------------------------------------------------------


def test_fail_next_rate_limits_with_retry_after(simulator: Simulator, client: OpenAI) -> None:
    simulator.fail_next(429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client)
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"
    assert caught.value.type == "rate_limit_exceeded"
    assert caught.value.request_id.startswith("req_")
    assert ask(client).choices[0].message.content  # only the next request failed


def test_client_retry_succeeds_after_a_queued_failure(simulator: Simulator) -> None:
    # retry-after of 0 makes the client fall back to ~0.5 s backoff; 0.01 s is honoured as is.
    simulator.fail_next(429, count=1, retry_after=0.01)
    simulator.clear_requests()
    with make_client(simulator.base_url, max_retries=1) as retrying_client:
        assert ask(retrying_client).choices[0].message.content
    retry_counts = [r.headers["x-stainless-retry-count"] for r in simulator.requests]
    assert retry_counts == ["0", "1"]


def test_error_header_gives_a_server_error(client: OpenAI) -> None:
    with pytest.raises(openai.InternalServerError) as caught:
        ask(client, extra_headers={"x-simulator-error": "500"})
    assert caught.value.status_code == 500
    assert caught.value.type == "server_error"
    assert "retry-after" not in caught.value.response.headers


def test_error_and_retry_after_headers_give_a_rate_limit(client: OpenAI) -> None:
    headers = {"x-simulator-error": "429", "x-simulator-retry-after": "3"}
    with pytest.raises(openai.RateLimitError) as caught:
        ask(client, extra_headers=headers)
    assert caught.value.response.headers["retry-after"] == "3"


@pytest.mark.parametrize(
    "headers",
    [
        {"x-simulator-error": "teapot"},
        {"x-simulator-error": "200"},
        {"x-simulator-retry-after": "-1"},
        {"x-simulator-latency-ms": "soon"},
    ],
)
def test_invalid_control_headers_are_bad_requests(client: OpenAI, headers) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, extra_headers=headers)
    assert caught.value.type == "invalid_request_error"


def test_latency_header_delays_the_response(client: OpenAI) -> None:
    started = time.perf_counter()
    ask(client, extra_headers={"x-simulator-latency-ms": "300"})
    assert time.perf_counter() - started >= 0.3  # a lower bound: sleeps never end early


def test_invalid_parameters_are_bad_requests(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, logprobs=True, top_logprobs=21)
    assert caught.value.param == "top_logprobs"
    with pytest.raises(openai.BadRequestError):
        ask(client, messages=[])


def test_unknown_path_is_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.moderations.create(input="hello")
    assert caught.value.code == "unknown_url"
    assert caught.value.request_id.startswith("req_")


def raw_request(base_url: str, method: str, path: str, body: bytes | None = None):
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        connection.close()


def test_malformed_json_and_unknown_routes_use_the_openai_error_shape(
    simulator: Simulator,
) -> None:
    status, headers, body = raw_request(
        simulator.base_url, "POST", "/v1/chat/completions", b"{not json"
    )
    assert status == 400
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert headers["x-request-id"].startswith("req_")

    status, _, body = raw_request(simulator.base_url, "DELETE", "/v1/chat/completions")
    assert status == 404
    assert body["error"]["type"] == "invalid_request_error"


def test_error_rate_one_fails_every_request() -> None:
    with Simulator(SimulatorConfig(error_rate=1.0)) as sim, make_client(sim.base_url) as client:
        for _ in range(3):
            with pytest.raises(openai.InternalServerError):
                ask(client)
        sim.configure(error_rate=0.0)
        assert ask(client).choices[0].message.content


# --- runtime control, recording, lifecycle --------------------------------------------------


def test_configure_changes_the_mean_logprob() -> None:
    def mean_logprob(client: OpenAI) -> float:
        values = [
            item.logprob
            for i in range(5)
            for item in ask(client, [{"role": "user", "content": f"q{i}"}], logprobs=True)
            .choices[0]
            .logprobs.content
        ]
        return sum(values) / len(values)

    with Simulator() as sim, make_client(sim.base_url) as client:
        confident = mean_logprob(client)
        sim.configure(mean_logprob=-1.5)
        unsure = mean_logprob(client)
        assert sim.config.mean_logprob == -1.5
    assert -0.4 < confident <= 0
    assert -2.5 < unsure < -0.9
    assert unsure < confident - 0.5


def test_configure_rejects_bad_values(simulator: Simulator) -> None:
    with pytest.raises(ValueError, match="mean_logprob"):
        simulator.configure(mean_logprob=0.5)
    with pytest.raises(TypeError, match="no_such_field"):
        simulator.configure(no_such_field=1)
    with pytest.raises(ValueError, match="max_completion_tokens"):
        SimulatorConfig(min_completion_tokens=10, max_completion_tokens=5)
    with pytest.raises(ValueError, match="error_rate"):
        SimulatorConfig(error_rate=1.5)
    with pytest.raises(ValueError, match="status"):
        simulator.fail_next(200)


def test_requests_are_recorded_without_credentials(simulator: Simulator, client: OpenAI) -> None:
    simulator.clear_requests()
    ask(client, extra_headers={"X-Custom-Header": "yes"})
    (recorded,) = simulator.requests
    assert recorded.method == "POST"
    assert recorded.path == "/v1/chat/completions"
    assert recorded.json["messages"] == MESSAGES
    assert "authorization" not in recorded.headers
    assert recorded.headers["x-custom-header"] == "yes"
    assert all(name == name.lower() for name in recorded.headers)
    assert "sk-sim" not in repr(recorded)


def test_concurrent_requests_from_threads(simulator: Simulator, client: OpenAI) -> None:
    prompts = [[{"role": "user", "content": f"question number {i}"}] for i in range(8)]
    expected = [ask(client, prompt).choices[0].message.content for prompt in prompts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda p: ask(client, p).choices[0].message.content, prompts))
    assert results == expected


def test_a_second_stream_is_served_while_the_first_is_open(client: OpenAI) -> None:
    with client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True) as first:
        first_chunks = iter(first)
        opening = next(first_chunks)
        # A server handling one connection at a time would never answer this one.
        second = stream_chunks(client, [{"role": "user", "content": "meanwhile"}])
        rest = list(first_chunks)
    assert second[-1].choices[0].finish_reason == "stop"
    assert streamed_text([opening, *rest]) == ask(client).choices[0].message.content


def test_lifecycle() -> None:
    sim = Simulator()
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    base_url = sim.start()
    assert sim.start() == base_url == sim.base_url
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    with make_client(base_url) as client:
        ask(client)  # leaves a keep-alive connection open; stop() must not hang on it
        sim.stop()
        sim.stop()
        with pytest.raises(RuntimeError):
            _ = sim.base_url
        with pytest.raises(openai.APIConnectionError):
            ask(client)


def test_command_line_serves_until_interrupted() -> None:
    source_root = Path(simulator_package.__file__).resolve().parents[2]
    python_path = [str(source_root), os.environ.get("PYTHONPATH", "")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, python_path))}
    process = subprocess.Popen(
        [sys.executable, "-m", "openai_sentinel.simulator", "--port", "0", "--itl", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        base_url = process.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:")
        with make_client(base_url) as client:
            assert ask(client).choices[0].message.content
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
        assert process.stderr.read() == ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()


def test_main_rejects_invalid_settings(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        simulator_main(["--ttft", "-1"])
    assert caught.value.code == 2
    assert "time_to_first_token" in capsys.readouterr().err


def test_command_line_reports_a_busy_port(simulator: Simulator, capsys) -> None:
    busy_port = urlsplit(simulator.base_url).port
    assert simulator_main(["--port", str(busy_port)]) == 1
    assert "cannot listen" in capsys.readouterr().err


def test_stop_ends_every_server_thread_and_stays_quiet(capfd) -> None:
    config = SimulatorConfig(inter_token_delay=0.01, min_completion_tokens=40)
    sim = Simulator(config)
    port = urlsplit(sim.start()).port
    with make_client(sim.base_url) as idle_client, make_client(sim.base_url) as leaving_client:
        ask(idle_client)  # leaves an idle keep-alive connection
        with leaving_client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True
        ) as stream:
            next(iter(stream))  # then hang up while the server is still streaming
        sim.stop()
    leftover = [t for t in threading.enumerate() if t.name.endswith(f":{port}")]
    assert leftover == []
    assert capfd.readouterr().err == ""
