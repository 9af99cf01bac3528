"""What a wrapped OpenAI method returned: a model, a stream, or a raw-response wrapper."""

from __future__ import annotations

from typing import Any, Final

from openai import AsyncStream, Stream
from openai._legacy_response import LegacyAPIResponse
from openai._response import APIResponse, AsyncAPIResponse
from openai._types import NotGiven, Omit

__all__ = [
    "RAW_RESPONSE_HEADER",
    "is_async_stream",
    "is_omitted",
    "is_raw",
    "is_stream",
    "is_unread",
    "raw_is_stream",
    "raw_json",
    "replace_parsed",
]

RAW_RESPONSE_HEADER: Final = "X-Stainless-Raw-Response"
"""Header the client's ``with_raw_response`` / ``with_streaming_response`` wrappers add."""


def is_stream(result: Any) -> bool:
    """A synchronous ``openai.Stream``."""
    return isinstance(result, Stream)


def is_async_stream(result: Any) -> bool:
    """An ``openai.AsyncStream``."""
    return isinstance(result, AsyncStream)


def is_raw(result: Any) -> bool:
    """A ``with_raw_response`` result whose body was read and can be parsed (and cached)."""
    return isinstance(result, LegacyAPIResponse)


def is_unread(result: Any) -> bool:
    """A ``with_streaming_response`` result whose body must not be read by us."""
    return isinstance(result, (APIResponse, AsyncAPIResponse))


def replace_parsed(raw: Any, parsed: Any) -> None:
    """Make ``raw.parse()`` return ``parsed`` (our stream proxy) from now on."""
    raw._parsed_by_type[raw._cast_to] = parsed


def is_omitted(value: Any) -> bool:
    """The client's ``NOT_GIVEN`` / ``omit`` placeholders for an absent argument."""
    return isinstance(value, (NotGiven, Omit))


def raw_is_stream(raw: Any) -> bool:
    """Whether a ``with_raw_response`` result holds a stream."""
    return bool(getattr(raw, "_stream", False))


def raw_json(raw: Any) -> Any:
    """The JSON body of a non-stream ``with_raw_response`` result, read without parsing it
    into models, so the caller's own ``parse()`` (and its post-parser) stay untouched.

    A body that is not a JSON object gives ``None``: there is nothing to read, and the
    caller's ``parse()`` will say what is wrong with it.
    """
    try:
        body = raw.http_response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
