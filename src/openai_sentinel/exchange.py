"""The neutral record of one model call.

Adapters (which know the OpenAI client) fill an :class:`Exchange`; analyzers read it;
the emitter turns it into OpenTelemetry spans and metrics. Nothing here knows
either library.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Exchange", "Message", "MessagePart"]

MessagePart = dict[str, Any]
"""One part of a message in the GenAI conventions' JSON shape, e.g. ``{"type": "text", ...}``."""
Message = dict[str, Any]
"""One message in the GenAI conventions' JSON shape: ``{"role": ..., "parts": [...]}``."""


@dataclass(slots=True)
class Exchange:
    """What was asked of a model and what came back, independent of the provider's types."""

    operation: str
    provider: str
    api_type: str | None = None
    request_model: str | None = None
    server_address: str | None = None
    server_port: int | None = None
    stream: bool = False

    # request parameters that were present
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    stop_sequences: list[str] | None = None
    seed: int | None = None
    choice_count: int | None = None
    output_type: str | None = None
    output_schema_names: frozenset[str] = frozenset()
    """Field names of the schema the answer must match: all an error may quote of it."""
    request_service_tier: str | None = None
    previous_response_id: str | None = None
    conversation_id: str | None = None
    reasoning_level: str | None = None
    encoding_formats: list[str] | None = None
    request_fingerprint: bytes | None = None
    """A keyed digest of the request without its model, for repeat detection; never text."""

    # opt-in content, already in the conventions' shape
    input_messages: list[Message] | None = None
    system_instructions: list[MessagePart] | None = None
    tool_definitions: list[dict[str, Any]] | None = None
    output_messages: list[Message] | None = None

    # response
    response_id: str | None = None
    response_model: str | None = None
    finish_reasons: list[str] | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_write_input_tokens: int | None = None
    reasoning_output_tokens: int | None = None
    embedding_dimensions: int | None = None
    response_service_tier: str | None = None
    system_fingerprint: str | None = None

    # streams
    time_to_first_chunk: float | None = None
    chunk_count: int = 0
    stream_end: str | None = None
    usage_injected: bool = False
    response_unread: bool = False

    # failure
    error_type: str | None = None
    error_message: str | None = None
    """Content-free unless content capture is on; redacted and size-limited either way."""
