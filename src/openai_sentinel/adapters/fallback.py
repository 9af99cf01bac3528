"""Safe fallback answers for blocked calls: the type the caller expects, a fixed text,
``finish_reason="content_filter"`` (an ``incomplete`` Responses response)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

__all__ = [
    "FALLBACK_MESSAGE",
    "AsyncFallbackStream",
    "FallbackStream",
    "chat_chunk",
    "chat_completion",
    "completion",
    "response",
]

FALLBACK_MESSAGE: Final = "This request was blocked by the content policy."
CONTENT_FILTER: Final = "content_filter"


def _id(prefix: str) -> str:
    return f"{prefix}-sentinel-{uuid.uuid4().hex[:24]}"


def chat_completion(model: str | None, message: str) -> Any:
    """A ``ChatCompletion`` with one ``content_filter`` choice saying ``message``."""
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(
        {
            "id": _id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model or "unknown",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": CONTENT_FILTER,
                    "logprobs": None,
                    "message": {"role": "assistant", "content": message},
                }
            ],
        }
    )


def chat_chunk(model: str | None, message: str) -> Any:
    """The one ``ChatCompletionChunk`` of a fallback stream."""
    from openai.types.chat import ChatCompletionChunk

    return ChatCompletionChunk.model_validate(
        {
            "id": _id("chatcmpl"),
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model or "unknown",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": CONTENT_FILTER,
                    "delta": {"role": "assistant", "content": message},
                }
            ],
        }
    )


def completion(model: str | None, message: str) -> Any:
    """A legacy ``Completion`` (also the one chunk of a fallback stream)."""
    from openai.types import Completion

    return Completion.model_validate(
        {
            "id": _id("cmpl"),
            "object": "text_completion",
            "created": int(time.time()),
            "model": model or "unknown",
            "choices": [
                {"index": 0, "finish_reason": CONTENT_FILTER, "logprobs": None, "text": message}
            ],
        }
    )


def response(model: str | None, message: str) -> Any:
    """A Responses ``Response``, ``incomplete`` for ``content_filter``, saying ``message``."""
    from openai.types.responses import Response

    return Response.model_validate(
        {
            "id": _id("resp"),
            "object": "response",
            "created_at": time.time(),
            "model": model or "unknown",
            "output": [
                {
                    "id": _id("msg"),
                    "type": "message",
                    "role": "assistant",
                    "status": "incomplete",
                    "content": [{"type": "output_text", "text": message, "annotations": []}],
                }
            ],
            "parallel_tool_calls": False,
            "tool_choice": "auto",
            "tools": [],
            "status": "incomplete",
            "incomplete_details": {"reason": CONTENT_FILTER},
        }
    )


class FallbackStream:
    """Stands in for a client ``Stream``: iterates over the fallback chunks, and can be
    closed and used as a context manager."""

    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = iter(chunks)

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        return next(self._chunks)

    def __enter__(self) -> FallbackStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """End the stream."""
        self._chunks = iter(())


class AsyncFallbackStream:
    """Stands in for a client ``AsyncStream``; see :class:`FallbackStream`."""

    def __init__(self, chunks: list[Any]) -> None:
        self._chunks = iter(chunks)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self

    async def __anext__(self) -> Any:
        try:
            return next(self._chunks)
        except StopIteration:
            raise StopAsyncIteration from None

    async def __aenter__(self) -> AsyncFallbackStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """End the stream."""
        self._chunks = iter(())
