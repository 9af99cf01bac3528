"""``error.type`` and a message for a failed call that carries no request or response text.

Exceptions can quote what the model said: pydantic's validation errors in ``parse()``
include the offending input, and an arbitrary exception may say anything. With
content capture off, a message is kept only where its author is known not to quote
content (the OpenAI client and API, the operating system, the JSON decoder); pydantic
errors keep their locations and reasons without the input; any other message is
withheld and the exception type stands alone.
"""

from __future__ import annotations

import json
from typing import Final

from openai import OpenAIError
from pydantic import ValidationError

from .. import semconv
from .._text import encodable
from ..analyzers.redaction import redact

__all__ = ["describe_error", "error_type_of"]

MESSAGE_MAX_LENGTH: Final = 1024
"""Characters kept of an error message (before redaction marks)."""

_KEPT_MESSAGES: Final = (OpenAIError, OSError, json.JSONDecodeError)


def error_type_of(error: BaseException) -> str:
    """``error.type`` for an exception: its class's qualified name, as contrib reports it."""
    return type(error).__qualname__ or semconv.ERROR_TYPE_OTHER


def _validation_summary(error: ValidationError) -> str:
    details = error.errors(include_url=False, include_context=False, include_input=False)
    reasons = "; ".join(
        f"{'.'.join(str(part) for part in detail['loc']) or '<root>'}: {detail['msg']}"
        f" [type={detail['type']}]"
        for detail in details
    )
    return f"{error.error_count()} validation error(s) for {error.title}: {reasons}"


def _content_free_message(error: BaseException, kind: str) -> str:
    if isinstance(error, ValidationError):
        return _validation_summary(error)
    if isinstance(error, _KEPT_MESSAGES):
        return str(error)
    return f"{kind} (message withheld: content capture is off)"


def describe_error(error: BaseException, *, capture_content: bool) -> tuple[str, str]:
    """``error.type`` and a redacted, size-limited message for ``error``.

    The message is the exception's own only when ``capture_content`` is on; otherwise
    it is content-free (see the module's description).
    """
    kind = error_type_of(error)
    message = str(error) if capture_content else _content_free_message(error, kind)
    message = redact(message[:MESSAGE_MAX_LENGTH])
    if len(message) > MESSAGE_MAX_LENGTH:
        message = message[:MESSAGE_MAX_LENGTH]
    return kind, encodable(message or kind)
