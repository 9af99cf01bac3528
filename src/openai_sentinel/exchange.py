"""The neutral record of one model call.

Adapters (which know the OpenAI client) fill an :class:`Exchange`; analyzers read it;
the emitter turns it into OpenTelemetry spans and metrics. Nothing here knows
either library.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .analyzers.security._model import ScanResult

__all__ = ["ANSWER_TEXT_LIMIT", "AnswerLogprobs", "Exchange", "Message", "MessagePart"]

ANSWER_TEXT_LIMIT: Final = 16384
"""Characters of the first answer kept for the analyzers (never recorded as such)."""

MessagePart = dict[str, Any]
"""One part of a message in the GenAI conventions' JSON shape, e.g. ``{"type": "text", ...}``."""
Message = dict[str, Any]
"""One message in the GenAI conventions' JSON shape: ``{"role": ..., "parts": [...]}``."""


class AnswerLogprobs:
    """What the token logprobs of one answer add up to: their count, sum and minimum,
    all a geometric-mean confidence needs; constant size however long the answer."""

    __slots__ = ("count", "minimum", "total")

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.minimum = 0.0

    def add(self, logprob: object) -> None:
        """One token's logprob; anything but a finite number is left out, and a positive
        value (impossible for a probability) counts as 0."""
        if type(logprob) is not float:
            if type(logprob) is not int:
                return
            logprob = float(logprob)
        if not math.isfinite(logprob):
            return
        logprob = min(logprob, 0.0)
        self.count += 1
        self.total += logprob
        self.minimum = min(self.minimum, logprob)

    def add_tokens(self, tokens: Any) -> None:
        """Each of ``tokens``: a logprob itself (legacy completions, ``None`` for an echoed
        first token), or an object or dict with a ``logprob``."""
        if not isinstance(tokens, (list, tuple)):
            return
        add = self.add
        for token in tokens:
            if type(token) is float or token is None:
                add(token)
            elif isinstance(token, dict):
                add(token.get("logprob"))
            else:
                add(getattr(token, "logprob", None))


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
    request_fingerprint: int | None = None
    """A keyed hash of the request without its model, for repeat detection; never text."""
    context_attributes: Mapping[str, Any] | None = None
    """The application's ``openai_sentinel.attributes()`` in force when the call was made."""

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

    # what the analyzers read of the answers (never recorded as such)
    answer_logprobs: dict[int, AnswerLogprobs] | None = None
    """By choice index, in index order, when the response carried token logprobs."""
    refused: bool = False
    """An answer was a refusal (``message.refusal``, a Responses ``refusal`` part)."""
    answer_text: str | None = None
    """The first answer's text, up to :data:`ANSWER_TEXT_LIMIT` characters."""

    # security (the scan of the request is made before it is sent)
    security_input: ScanResult | None = None
    """The scan of what users and tools wrote in the request."""
    security_text: str | None = None
    """The scanned text of the request, kept only when content capture is on (span
    events then quote their matches, redacted)."""
    security_input_action: str | None = None
    """What the input policy did: ``observed``, ``redacted`` or ``blocked``."""
    answer_rewritable: bool = False
    """The answer reaches the caller as a parsed object after the analysis (not a
    stream, not a raw body), so the output policy can still redact it."""

    # streams
    time_to_first_chunk: float | None = None
    chunk_count: int = 0
    stream_end: str | None = None
    usage_injected: bool = False
    logprobs_injected: bool = False
    """openai-sentinel asked for the logprobs (the ``request_logprobs`` setting)."""
    response_unread: bool = False

    # failure
    error_type: str | None = None
    error_message: str | None = None
    """Content-free unless content capture is on; redacted and size-limited either way."""
