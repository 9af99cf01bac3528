"""The simulator's embeddings API (``POST /v1/embeddings``), driven by the real ``openai``
client over loopback HTTP (strictly validated except for base64, see ``lenient_client``)."""

from __future__ import annotations

import base64
import math
import struct
import time

import openai
import pytest
from openai import AsyncOpenAI, OpenAI

from openai_sentinel.simulator import Simulator

pytestmark = pytest.mark.timeout(60)

EMBEDDING_MODEL = "text-embedding-3-small"
TEXTS = ["The food was delicious.", "The weather is mild today."]


def norm(vector: list[float]) -> float:
    return math.sqrt(math.fsum(value * value for value in vector))


def test_float_embeddings_are_deterministic_unit_vectors(client: OpenAI) -> None:
    result = client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS, encoding_format="float")

    assert result.object == "list"
    assert result.model == EMBEDDING_MODEL
    assert [item.index for item in result.data] == [0, 1]
    for item in result.data:
        assert item.object == "embedding"
        assert len(item.embedding) == 1536
        assert norm(item.embedding) == pytest.approx(1.0, abs=1e-5)
    assert result.data[0].embedding != result.data[1].embedding
    expected_tokens = sum(math.ceil(len(text) / 4) for text in TEXTS)
    assert result.usage.prompt_tokens == result.usage.total_tokens == expected_tokens

    again = client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS[0], encoding_format="float")
    assert again.data[0].embedding == result.data[0].embedding


def test_embedding_sizes_follow_the_model_and_dimensions(client: OpenAI) -> None:
    def embed(model: str, **params) -> list[float]:
        return (
            client.embeddings.create(model=model, input=TEXTS[0], encoding_format="float", **params)
            .data[0]
            .embedding
        )

    large = embed("text-embedding-3-large")
    assert len(large) == 3072
    assert len(embed("text-embedding-ada-002")) == 1536

    short = embed("text-embedding-3-large", dimensions=256)
    assert len(short) == 256
    assert norm(short) == pytest.approx(1.0, abs=1e-5)
    prefix_norm = norm(large[:256])
    assert short == pytest.approx([value / prefix_norm for value in large[:256]], abs=1e-6)

    with pytest.raises(openai.BadRequestError) as caught:
        embed("text-embedding-ada-002", dimensions=256)
    assert caught.value.param == "dimensions"
    with pytest.raises(openai.BadRequestError):
        embed(EMBEDDING_MODEL, dimensions=4096)


def test_token_array_inputs(client: OpenAI) -> None:
    several = client.embeddings.create(
        model=EMBEDDING_MODEL, input=[[1, 2, 3], [4, 5]], encoding_format="float"
    )
    assert len(several.data) == 2
    assert several.usage.prompt_tokens == 5
    single = client.embeddings.create(
        model=EMBEDDING_MODEL, input=[1, 2, 3], encoding_format="float"
    )
    assert len(single.data) == 1
    assert single.data[0].embedding == several.data[0].embedding


def test_base64_embeddings_decode_to_the_float_ones(
    simulator: Simulator, client: OpenAI, lenient_client: OpenAI
) -> None:
    floats = client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS, encoding_format="float")

    simulator.clear_requests()
    decoded = lenient_client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS)
    assert simulator.requests[-1].json["encoding_format"] == "base64"  # the client's default
    assert [item.embedding for item in decoded.data] == [item.embedding for item in floats.data]
    for item in decoded.data:
        assert len(item.embedding) == 1536
        assert norm(item.embedding) == pytest.approx(1.0, abs=1e-5)

    raw = lenient_client.embeddings.create(
        model=EMBEDDING_MODEL, input=TEXTS[0], encoding_format="base64", dimensions=64
    )
    encoded = raw.data[0].embedding
    assert isinstance(encoded, str)
    values = struct.unpack("<64f", base64.b64decode(encoded))
    assert norm(list(values)) == pytest.approx(1.0, abs=1e-5)


def test_embedding_errors_use_the_openai_shape(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.embeddings.create(model="text-embedding-4", input="x", encoding_format="float")
    assert caught.value.code == "model_not_found"
    assert caught.value.type == "invalid_request_error"
    assert "text-embedding-4" in caught.value.message

    for bad_input in ("", [], [""], [[]]):
        with pytest.raises(openai.BadRequestError) as bad:
            client.embeddings.create(
                model=EMBEDDING_MODEL, input=bad_input, encoding_format="float"
            )
        assert bad.value.param == "input"


def test_failures_and_latency_apply(simulator: Simulator, client: OpenAI) -> None:
    simulator.fail_next(429, retry_after=2)
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model=EMBEDDING_MODEL, input="x", encoding_format="float")
    assert caught.value.response.headers["retry-after"] == "2"

    # A lower bound only: a sleep never ends early, so it holds however slow the machine.
    started = time.perf_counter()
    client.embeddings.create(
        model=EMBEDDING_MODEL,
        input="hello",
        encoding_format="float",
        extra_headers={"x-simulator-latency-ms": "200"},
    )
    assert time.perf_counter() - started >= 0.2


async def test_async_embeddings(client: OpenAI, aclient: AsyncOpenAI) -> None:
    expected = client.embeddings.create(model=EMBEDDING_MODEL, input=TEXTS, encoding_format="float")
    result = await aclient.embeddings.create(
        model=EMBEDDING_MODEL, input=TEXTS, encoding_format="float"
    )
    assert result.data == expected.data
