"""The simulator's legacy completions API (``POST /v1/completions``), driven by the real
``openai`` client over loopback HTTP (strictly validated except for streams, see
``lenient_client``), and the mid-stream failure of ``data:``-only streams."""

from __future__ import annotations

import http.client
import json
import math
from urllib.parse import urlsplit

import openai
import pytest
from openai import OpenAI

from openai_sentinel.simulator import Simulator

from ..support.simulated import make_async_client

pytestmark = pytest.mark.timeout(60)

MODEL = "gpt-4o-mini"
INSTRUCT_MODEL = "gpt-3.5-turbo-instruct"
EMBEDDING_MODEL = "text-embedding-3-small"
PROMPT = "Once upon a time"
CHAT_MESSAGES = [{"role": "user", "content": "Describe the weather in one paragraph."}]
STREAM_ERROR = {"x-simulator-stream-error-after": "3"}


def complete(client: OpenAI, **params):
    return client.completions.create(model=INSTRUCT_MODEL, prompt=PROMPT, **params)


def raw_post(base_url: str, path: str, body: dict) -> tuple[int, dict[str, str], str]:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "POST", path, body=json.dumps(body), headers={"content-type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_text_completion_has_the_api_shape(client: OpenAI) -> None:
    short = complete(client, max_tokens=5)
    assert short.id.startswith("cmpl-")
    assert short.object == "text_completion"
    assert short.model == INSTRUCT_MODEL
    (choice,) = short.choices
    assert choice.index == 0
    assert choice.finish_reason == "length"
    assert choice.logprobs is None
    assert short.usage.completion_tokens == 5
    assert short.usage.prompt_tokens == math.ceil(len(PROMPT) / 4)
    assert short.usage.total_tokens == short.usage.prompt_tokens + 5

    full = complete(client, max_tokens=200)
    assert full.choices[0].finish_reason == "stop"
    assert full.choices[0].text.startswith(choice.text)
    default = complete(client)  # max_tokens defaults to 16, as in the API
    assert default.usage.completion_tokens == min(16, full.usage.completion_tokens)


def test_prompt_lists_n_stop_and_echo(client: OpenAI) -> None:
    prompts = ["Tell me a story.", "Write a haiku."]
    several = client.completions.create(model=INSTRUCT_MODEL, prompt=prompts, n=2, max_tokens=200)
    assert [choice.index for choice in several.choices] == [0, 1, 2, 3]
    assert several.choices[0].text != several.choices[1].text
    alone = client.completions.create(model=INSTRUCT_MODEL, prompt=prompts[1], max_tokens=200)
    assert several.choices[2].text == alone.choices[0].text
    assert several.usage.prompt_tokens == sum(math.ceil(len(p) / 4) for p in prompts)

    full = complete(client, max_tokens=200).choices[0].text
    stopped = complete(client, max_tokens=200, stop=["."])
    assert stopped.choices[0].text == full.split(".")[0]
    assert stopped.choices[0].finish_reason == "stop"

    echoed = complete(client, max_tokens=200, echo=True)
    assert echoed.choices[0].text == PROMPT + full


def test_completion_logprobs(client: OpenAI) -> None:
    completion = complete(client, max_tokens=200, logprobs=3)
    choice = completion.choices[0]
    logprobs = choice.logprobs
    assert "".join(logprobs.tokens) == choice.text
    count = completion.usage.completion_tokens
    assert len(logprobs.token_logprobs) == len(logprobs.top_logprobs) == count
    assert len(logprobs.tokens) == len(logprobs.text_offset) == count
    triples = zip(logprobs.tokens, logprobs.token_logprobs, logprobs.top_logprobs, strict=True)
    for token, logprob, top in triples:
        assert logprob <= 0
        assert len(top) == 3
        assert top[token] == logprob == max(top.values())
    assert logprobs.text_offset[0] == len(PROMPT)
    for position in range(count - 1):
        step = logprobs.text_offset[position + 1] - logprobs.text_offset[position]
        assert step == len(logprobs.tokens[position])

    echoed = complete(client, max_tokens=200, logprobs=1, echo=True)
    echoed_logprobs = echoed.choices[0].logprobs
    assert "".join(echoed_logprobs.tokens) == echoed.choices[0].text == PROMPT + choice.text
    assert echoed_logprobs.text_offset[0] == 0
    assert echoed_logprobs.token_logprobs[-count:] == logprobs.token_logprobs
    assert echoed.usage == completion.usage

    with pytest.raises(openai.BadRequestError) as caught:
        complete(client, logprobs=6)
    assert caught.value.param == "logprobs"


def test_completion_stream_with_usage(simulator: Simulator, lenient_client: OpenAI) -> None:
    expected = complete(lenient_client, max_tokens=200, logprobs=2)
    chunks = list(
        complete(
            lenient_client,
            max_tokens=200,
            logprobs=2,
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert all(chunk.object == "text_completion" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    usage_chunk, body = chunks[-1], chunks[:-1]
    assert usage_chunk.choices == []
    assert usage_chunk.usage == expected.usage
    assert all(chunk.usage is None for chunk in body)
    assert "".join(chunk.choices[0].text for chunk in body) == expected.choices[0].text
    assert [chunk.choices[0].finish_reason for chunk in body] == [None] * (len(body) - 1) + ["stop"]
    streamed = [chunk.choices[0].logprobs for chunk in body if chunk.choices[0].logprobs]
    expected_logprobs = expected.choices[0].logprobs
    assert [token for item in streamed for token in item.tokens] == expected_logprobs.tokens
    assert [value for item in streamed for value in item.token_logprobs] == (
        expected_logprobs.token_logprobs
    )
    assert [offset for item in streamed for offset in item.text_offset] == (
        expected_logprobs.text_offset
    )

    without_usage = list(complete(lenient_client, max_tokens=200, stream=True))
    assert without_usage[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None for chunk in without_usage)

    status, _, body_text = raw_post(
        simulator.base_url,
        "/v1/completions",
        {"model": INSTRUCT_MODEL, "prompt": PROMPT, "stream": True},
    )
    assert status == 200
    assert body_text.endswith("data: [DONE]\n\n")
    assert "event:" not in body_text


async def test_async_completions(client: OpenAI, simulator: Simulator) -> None:
    expected = complete(client, max_tokens=200)
    async with make_async_client(simulator.base_url, strict=False) as aclient:
        result = await aclient.completions.create(
            model=INSTRUCT_MODEL, prompt=PROMPT, max_tokens=200
        )
        stream = await aclient.completions.create(
            model=INSTRUCT_MODEL, prompt=PROMPT, max_tokens=200, stream=True
        )
        chunks = [chunk async for chunk in stream]
    assert result.choices[0].text == expected.choices[0].text
    assert "".join(chunk.choices[0].text for chunk in chunks) == expected.choices[0].text


def test_failures_apply(simulator: Simulator, client: OpenAI) -> None:
    simulator.fail_next(429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as caught:
        complete(client)
    assert caught.value.response.headers["retry-after"] == "2"
    with pytest.raises(openai.InternalServerError):
        complete(client, extra_headers={"x-simulator-error": "503"})


def test_mid_stream_error_in_data_only_streams(client: OpenAI, lenient_client: OpenAI) -> None:
    received: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in client.chat.completions.create(
            model=MODEL, messages=CHAT_MESSAGES, stream=True, extra_headers=STREAM_ERROR
        ):
            received.extend(c.delta.content for c in chunk.choices if c.delta.content)
    assert len(received) == 3
    assert caught.value.type == "server_error"

    texts: list[str] = []
    with pytest.raises(openai.APIError):
        for chunk in lenient_client.completions.create(
            model=INSTRUCT_MODEL, prompt=PROMPT, stream=True, extra_headers=STREAM_ERROR
        ):
            texts.extend(choice.text for choice in chunk.choices)
    assert len(texts) == 3


def test_new_models_are_listed(client: OpenAI) -> None:
    listed = {model.id for model in client.models.list().data}
    assert {EMBEDDING_MODEL, "text-embedding-3-large", INSTRUCT_MODEL} <= listed
