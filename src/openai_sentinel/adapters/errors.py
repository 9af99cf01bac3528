"""``error.type`` and a message for a failed call that carries no request or response text.

Exceptions can quote what the model said: pydantic's validation errors in ``parse()``
include the offending input, and an arbitrary exception may say anything. With
content capture off, a message is kept only where its author is known not to quote
content (the OpenAI client and API, the operating system, the JSON decoder); any other
message is withheld and the exception type stands alone. A pydantic error is summed up
from its details without the input: a location part is kept when it is an index or a
field name of the expected schema (anything else, such as a dict key from the answer,
becomes ``<key>``), and a reason only when pydantic made it from the schema alone
(otherwise just its type is given).
"""

from __future__ import annotations

import json
from typing import Final

from openai import OpenAIError
from pydantic import ValidationError

from .. import semconv
from .._text import encodable
from ..analyzers.redaction import redact

__all__ = ["describe_api_error", "describe_error", "error_type_of"]

MESSAGE_MAX_LENGTH: Final = 1024
"""Characters kept of an error message (before redaction marks)."""

_KEPT_MESSAGES: Final = (OpenAIError, OSError, json.JSONDecodeError)

_SCHEMA_CONTEXT: Final = frozenset(
    {
        "allowed_schemes",
        "class_name",
        "decimal_places",
        "discriminator",
        "expected",
        "expected_tags",
        "ge",
        "gt",
        "le",
        "lt",
        "max_digits",
        "max_length",
        "min_length",
        "multiple_of",
        "pattern",
        "whole_digits",
    }
)
"""Context keys of pydantic errors that come from the schema, never from the input."""


def error_type_of(error: BaseException) -> str:
    """``error.type`` for an exception: its class's qualified name, as contrib reports it."""
    return type(error).__qualname__ or semconv.ERROR_TYPE_OTHER


def _location(parts: tuple[int | str, ...], schema_names: frozenset[str]) -> str:
    kept = (
        str(part) if isinstance(part, int) or part in schema_names else "<key>" for part in parts
    )
    return ".".join(kept) or "<root>"


def _validation_summary(error: ValidationError, schema_names: frozenset[str]) -> str:
    reasons = []
    for detail in error.errors(include_url=False, include_input=False):
        location = _location(detail["loc"], schema_names)
        if detail.get("ctx", {}).keys() <= _SCHEMA_CONTEXT:
            reasons.append(f"{location}: {detail['msg']} [type={detail['type']}]")
        else:
            reasons.append(f"{location}: [type={detail['type']}]")
    return f"{error.error_count()} validation error(s) for {error.title}: {'; '.join(reasons)}"


def _content_free_message(error: BaseException, kind: str, schema_names: frozenset[str]) -> str:
    if isinstance(error, ValidationError):
        return _validation_summary(error, schema_names)
    if isinstance(error, _KEPT_MESSAGES):
        return str(error)
    return f"{kind} (message withheld: content capture is off)"


def describe_error(
    error: BaseException, *, capture_content: bool, schema_names: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """``error.type`` and a redacted, size-limited message for ``error``.

    The message is the exception's own only when ``capture_content`` is on; otherwise
    it is content-free (see the module's description). ``schema_names`` are the field
    names of the schema the answer was validated against.
    """
    kind = error_type_of(error)
    own = str(error) if capture_content else _content_free_message(error, kind, schema_names)
    message = redact(own[:MESSAGE_MAX_LENGTH])
    if len(message) > MESSAGE_MAX_LENGTH:
        message = message[:MESSAGE_MAX_LENGTH]
    return kind, encodable(message or kind)


def describe_api_error(code: str | None, message: str | None) -> tuple[str, str]:
    """``error.type`` and message for an error the API reported in a response body or an
    event (not raised): the API's own code and message, redacted and size-limited."""
    kind = code or semconv.ERROR_TYPE_OTHER
    text = redact((message or kind)[:MESSAGE_MAX_LENGTH])[:MESSAGE_MAX_LENGTH]
    return encodable(kind), encodable(text)
