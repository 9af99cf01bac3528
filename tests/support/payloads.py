"""Realistic Chat Completions payloads for tests, in the wire format of the API."""

from __future__ import annotations

import json
from typing import Any

USAGE = {
    "prompt_tokens": 12,
    "completion_tokens": 5,
    "total_tokens": 17,
    "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 2,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}


def completion(
    content: str = "This is a test.",
    *,
    model: str = "gpt-4o-mini-2024-07-18",
    finish_reason: str = "stop",
    choices: int = 1,
    usage: dict[str, Any] | None = USAGE,
) -> dict[str, Any]:
    """A ``chat.completion`` body."""
    return {
        "id": "chatcmpl-test123",
        "object": "chat.completion",
        "created": 1731368630,
        "model": model,
        "choices": [
            {
                "index": index,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            for index in range(choices)
        ],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": "fp_test42",
    }


def chunk(
    *,
    content: str | None = None,
    role: str | None = None,
    finish_reason: str | None = None,
    index: int = 0,
    usage: dict[str, Any] | None = None,
    no_choices: bool = False,
) -> dict[str, Any]:
    """A ``chat.completion.chunk`` body."""
    delta: dict[str, Any] = {}
    if role is not None:
        delta["role"] = role
    if content is not None:
        delta["content"] = content
    return {
        "id": "chatcmpl-stream1",
        "object": "chat.completion.chunk",
        "created": 1731368630,
        "model": "gpt-4o-mini-2024-07-18",
        "service_tier": "default",
        "system_fingerprint": "fp_test42",
        "choices": []
        if no_choices
        else [{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        "usage": usage,
    }


def stream_chunks(words: list[str], *, include_usage: bool) -> list[dict[str, Any]]:
    """The chunks of a streamed answer: role, one per word, finish, optional usage."""
    chunks = [chunk(role="assistant", content="")]
    chunks += [chunk(content=word) for word in words]
    chunks.append(chunk(finish_reason="stop"))
    if include_usage:
        chunks.append(chunk(usage=USAGE, no_choices=True))
    return chunks


def sse(chunks: list[dict[str, Any]], *, done: bool = True) -> bytes:
    """Chunks framed as server-sent events, as the API sends them."""
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    if done:
        body += "data: [DONE]\n\n"
    return body.encode()
