"""Realistic payloads of the OpenAI APIs other than Chat Completions, in their wire format.

Responses (objects and stream events), legacy completions, embeddings, images, audio
and moderations, shaped like what the API sends (field for field as in recordings and
the API reference), so that they pass the client's ``_strict_response_validation`` on
openai 1.x, 2.x and 3.x wherever the client's models describe the API correctly.
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Sequence
from typing import Any

RESPONSE_ID = "resp_0f4faba17dcd0f1e0069e2f3e4907881909179832ba1237025"
MESSAGE_ID = "msg_0f4faba17dcd0f1e0069e2f3e7b2b88190bff23981628ac362"
REASONING_ID = "rs_0f4faba17dcd0f1e0069e2f3e5a1c08190a8b1a6a1f0b2c3d4"
FUNCTION_CALL_ID = "fc_0f4faba17dcd0f1e0069e2f3e6c3d48190e1f2a3b4c5d6e7f8"
CALL_ID = "call_Qb7XnWkrGm1vY2uT0aPzL9sE"
RESPONSES_MODEL = "gpt-4o-mini-2024-07-18"
CREATED = 1776481253


# -- Responses -------------------------------------------------------------------------


def response_usage(
    input_tokens: int = 22,
    output_tokens: int = 6,
    *,
    cached: int = 0,
    cache_write: int | None = 0,
    reasoning: int = 0,
) -> dict[str, Any]:
    """A ``ResponseUsage``; ``cache_write=None`` leaves ``cache_write_tokens`` out, as
    servers did before it existed."""
    input_details: dict[str, Any] = {"cached_tokens": cached}
    if cache_write is not None:
        input_details["cache_write_tokens"] = cache_write
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": input_details,
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input_tokens + output_tokens,
    }


def output_message(text: str, *, item_id: str = MESSAGE_ID, status: str = "completed") -> dict:
    """A ``message`` output item with one ``output_text`` part."""
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
        "role": "assistant",
    }


def function_call(name: str, arguments: str, *, call_id: str = CALL_ID) -> dict[str, Any]:
    """A ``function_call`` output item."""
    return {
        "id": FUNCTION_CALL_ID,
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": call_id,
        "name": name,
    }


def reasoning_item(summary: str) -> dict[str, Any]:
    """A ``reasoning`` output item with one summary part."""
    return {
        "id": REASONING_ID,
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": summary}],
    }


def function_tool(name: str, description: str) -> dict[str, Any]:
    """A function tool, as the request sends it and the response echoes it."""
    return {
        "type": "function",
        "name": name,
        "description": description,
        "parameters": {
            "type": "object",
            "properties": {"location": {"type": "string"}},
            "required": ["location"],
            "additionalProperties": False,
        },
        "strict": True,
    }


def response(
    *,
    output: Sequence[dict[str, Any]] = (),
    usage: dict[str, Any] | None = None,
    status: str = "completed",
    response_id: str = RESPONSE_ID,
    model: str = RESPONSES_MODEL,
    instructions: str | None = None,
    incomplete_reason: str | None = None,
    error: dict[str, Any] | None = None,
    service_tier: str | None = "default",
    previous_response_id: str | None = None,
    conversation_id: str | None = None,
    reasoning_effort: str | None = None,
    text_format: dict[str, Any] | None = None,
    max_output_tokens: int | None = None,
    temperature: float = 1.0,
    top_p: float = 1.0,
    background: bool = False,
    tools: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A ``response`` object, with every field the API sends."""
    done = status in ("completed", "incomplete", "failed", "cancelled")
    body: dict[str, Any] = {
        "id": response_id,
        "object": "response",
        "created_at": CREATED,
        "status": status,
        "background": background,
        "billing": {"payer": "developer"},
        "completed_at": CREATED + 4 if status == "completed" else None,
        "error": error,
        "frequency_penalty": 0.0,
        "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
        "instructions": instructions,
        "max_output_tokens": max_output_tokens,
        "max_tool_calls": None,
        "model": model,
        "output": list(output),
        "parallel_tool_calls": True,
        "presence_penalty": 0.0,
        "previous_response_id": previous_response_id,
        "prompt_cache_key": None,
        "prompt_cache_retention": "in_memory",
        "reasoning": {"effort": reasoning_effort, "summary": None},
        "safety_identifier": None,
        "service_tier": service_tier,
        "store": True,
        "temperature": temperature,
        "text": {"format": text_format or {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": list(tools),
        "top_logprobs": 0,
        "top_p": top_p,
        "truncation": "disabled",
        "usage": (usage if usage is not None else response_usage()) if done else None,
        "user": None,
        "metadata": {},
    }
    if conversation_id is not None:
        body["conversation"] = {"id": conversation_id}
    return body


def response_error(code: str = "server_error", message: str = "The server had an error.") -> dict:
    """The ``error`` object of a failed response."""
    return {"code": code, "message": message}


def _in_progress(final: dict[str, Any]) -> dict[str, Any]:
    return {
        **final,
        "status": "in_progress",
        "completed_at": None,
        "error": None,
        "incomplete_details": None,
        "output": [],
        "usage": None,
    }


def response_events(
    final: dict[str, Any],
    words: Sequence[str],
    *,
    terminal: str | None = None,
) -> list[dict[str, Any]]:
    """The events of a streamed response that answers ``words``, ending with ``final``.

    ``terminal`` is the last event's type (by default from ``final["status"]``:
    ``response.completed``, ``response.incomplete`` or ``response.failed``).
    """
    if terminal is None:
        terminal = {"incomplete": "response.incomplete", "failed": "response.failed"}.get(
            final["status"], "response.completed"
        )
    text = "".join(words)
    started = _in_progress(final)
    item_open = {**output_message("", status="in_progress"), "content": []}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {"type": "response.output_item.added", "item": item_open, "output_index": 0},
        {
            "type": "response.content_part.added",
            "content_index": 0,
            "item_id": MESSAGE_ID,
            "output_index": 0,
            "part": part,
        },
    ]
    events += [
        {
            "type": "response.output_text.delta",
            "content_index": 0,
            "delta": word,
            "item_id": MESSAGE_ID,
            "logprobs": [],
            "obfuscation": "NxNZCm3X6XN4",
            "output_index": 0,
        }
        for word in words
    ]
    events += [
        {
            "type": "response.output_text.done",
            "content_index": 0,
            "item_id": MESSAGE_ID,
            "logprobs": [],
            "output_index": 0,
            "text": text,
        },
        {
            "type": "response.content_part.done",
            "content_index": 0,
            "item_id": MESSAGE_ID,
            "output_index": 0,
            "part": {**part, "text": text},
        },
        {"type": "response.output_item.done", "item": output_message(text), "output_index": 0},
        {"type": terminal, "response": final},
    ]
    return numbered(events)


def numbered(events: Sequence[dict[str, Any]], start: int = 0) -> list[dict[str, Any]]:
    """``events`` with their ``sequence_number`` set in order from ``start``."""
    return [{**event, "sequence_number": start + n} for n, event in enumerate(events)]


def error_event(code: str | None, message: str, sequence_number: int) -> dict[str, Any]:
    """The ``error`` event of a Responses stream (yielded by the client, not raised)."""
    return {
        "type": "error",
        "code": code,
        "message": message,
        "param": None,
        "sequence_number": sequence_number,
    }


def event_stream(events: Sequence[dict[str, Any]]) -> bytes:
    """Events framed as the Responses (and images, audio) APIs send them: an ``event:``
    line naming the type, a ``data:`` line, and no ``[DONE]``."""
    return "".join(
        f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
        for event in events
    ).encode()


def data_stream(chunks: Sequence[dict[str, Any]]) -> bytes:
    """Chunks framed as Completions send them: ``data:`` lines and a final ``[DONE]``."""
    body = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks)
    return (body + "data: [DONE]\n\n").encode()


# -- legacy completions ------------------------------------------------------------------

COMPLETIONS_MODEL = "gpt-3.5-turbo-instruct:20230824-v2"
COMPLETION_USAGE = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}


def text_completion(
    texts: Sequence[str] = ("\n\nThis is indeed a test",),
    *,
    finish_reason: str = "stop",
    usage: dict[str, Any] | None = COMPLETION_USAGE,
) -> dict[str, Any]:
    """A ``text_completion`` object, one choice per text."""
    return {
        "id": "cmpl-AbCdEf0123456789GhIjKlMnOp",
        "object": "text_completion",
        "created": 1731368630,
        "model": COMPLETIONS_MODEL,
        "choices": [
            {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}
            for index, text in enumerate(texts)
        ],
        "usage": usage,
    }


def text_completion_chunks(
    words: Sequence[str], *, include_usage: bool, finish_reason: str = "stop"
) -> list[dict[str, Any]]:
    """The chunks of a streamed legacy completion: one per word (the last carries the
    finish reason), then the usage-only chunk ``include_usage`` asks for."""
    base = {
        "id": "cmpl-StReAm0123456789GhIjKlMnOp",
        "object": "text_completion",
        "created": 1731368630,
        "model": COMPLETIONS_MODEL,
    }
    chunks = [
        {
            **base,
            "choices": [
                {
                    "text": word,
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": finish_reason if n == len(words) - 1 else None,
                }
            ],
        }
        for n, word in enumerate(words)
    ]
    if include_usage:
        chunks = [{**chunk, "usage": None} for chunk in chunks]
        chunks.append({**base, "choices": [], "usage": COMPLETION_USAGE})
    return chunks


# -- embeddings -------------------------------------------------------------------------

EMBEDDINGS_MODEL = "text-embedding-3-small"


def float32_base64(vector: Sequence[float]) -> str:
    """A vector as the API's ``base64`` encoding: little-endian float32, base64."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def embeddings(
    vectors: Sequence[Sequence[float]],
    *,
    encoding: str = "float",
    prompt_tokens: int = 8,
    model: str = EMBEDDINGS_MODEL,
) -> dict[str, Any]:
    """A ``list`` of ``embedding`` objects, as floats or base64."""
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": float32_base64(vector) if encoding == "base64" else list(vector),
            }
            for index, vector in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


# -- images -----------------------------------------------------------------------------

IMAGE_USAGE = {
    "input_tokens": 50,
    "input_tokens_details": {"image_tokens": 40, "text_tokens": 10},
    "output_tokens": 272,
    "total_tokens": 322,
}


def images(
    b64_images: Sequence[str] = (),
    *,
    urls: Sequence[str] = (),
    usage: dict[str, Any] | None = IMAGE_USAGE,
) -> dict[str, Any]:
    """An ``ImagesResponse``: ``b64_json`` images (gpt-image-1) or URLs (dall-e)."""
    body: dict[str, Any] = {
        "created": CREATED,
        "data": [{"b64_json": b64} for b64 in b64_images] + [{"url": url} for url in urls],
    }
    if usage is not None:
        body |= {
            "background": "opaque",
            "output_format": "png",
            "quality": "low",
            "size": "1024x1024",
            "usage": usage,
        }
    return body


def image_events(prefix: str, partials: Sequence[str], final: str) -> list[dict[str, Any]]:
    """An image stream: ``{prefix}.partial_image`` events, then ``{prefix}.completed``
    (``prefix`` is ``image_generation`` or ``image_edit``)."""
    common = {
        "background": "opaque",
        "created_at": CREATED,
        "output_format": "png",
        "quality": "low",
        "size": "1024x1024",
    }
    events: list[dict[str, Any]] = [
        {**common, "type": f"{prefix}.partial_image", "b64_json": b64, "partial_image_index": n}
        for n, b64 in enumerate(partials)
    ]
    events.append(
        {**common, "type": f"{prefix}.completed", "b64_json": final, "usage": IMAGE_USAGE}
    )
    return events


# -- audio ------------------------------------------------------------------------------

TRANSCRIPTION_USAGE = {
    "type": "tokens",
    "input_tokens": 14,
    "input_token_details": {"text_tokens": 0, "audio_tokens": 14},
    "output_tokens": 45,
    "total_tokens": 59,
}


def transcription(text: str, *, usage: dict[str, Any] | None = TRANSCRIPTION_USAGE) -> dict:
    """A ``Transcription`` (``json`` response format)."""
    body: dict[str, Any] = {"text": text}
    if usage is not None:
        body["usage"] = usage
    return body


def transcription_events(words: Sequence[str]) -> list[dict[str, Any]]:
    """A streamed transcription: ``transcript.text.delta`` per word, then ``…done``."""
    events: list[dict[str, Any]] = [
        {"type": "transcript.text.delta", "delta": word, "logprobs": None} for word in words
    ]
    events.append(
        {
            "type": "transcript.text.done",
            "text": "".join(words),
            "logprobs": None,
            "usage": TRANSCRIPTION_USAGE,
        }
    )
    return events


def translation(text: str) -> dict[str, Any]:
    """A ``Translation`` (``json`` response format)."""
    return {"text": text}


# -- moderations ------------------------------------------------------------------------

_MODERATION_CATEGORIES = (
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/instructions",
    "self-harm/intent",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
)
_TEXT_ONLY = frozenset(
    {"harassment", "harassment/threatening", "hate", "hate/threatening", "illicit"}
    | {"illicit/violent", "sexual/minors"}
)


def moderation(results: int = 1, *, flagged: bool = False) -> dict[str, Any]:
    """A ``ModerationCreateResponse`` (``omni-moderation-latest``)."""
    result = {
        "flagged": flagged,
        "categories": dict.fromkeys(_MODERATION_CATEGORIES, False) | {"violence": flagged},
        "category_scores": dict.fromkeys(_MODERATION_CATEGORIES, 1.2e-06)
        | {"violence": 0.91 if flagged else 0.0004},
        "category_applied_input_types": {
            name: ["text"] if name in _TEXT_ONLY else ["text", "image"]
            for name in _MODERATION_CATEGORIES
        },
    }
    return {
        "id": "modr-4c1e2b7a9f0d3e6c8b5a",
        "model": "omni-moderation-latest",
        "results": [result] * results,
    }


# -- errors -----------------------------------------------------------------------------

ERRORS_BY_STATUS = {
    400: ("invalid_request_error", "invalid_value", "Invalid value for 'model'."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
}


def api_error(status: int) -> dict[str, Any]:
    """The error body the API answers ``status`` with."""
    kind, code, message = ERRORS_BY_STATUS[status]
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}
