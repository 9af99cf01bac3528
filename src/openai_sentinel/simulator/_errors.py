"""Errors the simulator answers with, in the OpenAI error shape."""

from __future__ import annotations

import enum
from typing import Any

MIN_ERROR_STATUS = 400
MAX_ERROR_STATUS = 599

_DEFAULT_MESSAGES = {
    400: "Invalid request.",
    401: "Incorrect API key provided.",
    403: "You are not allowed to sample from this model.",
    404: "The requested resource does not exist.",
    409: "The request conflicts with another request.",
    429: "Rate limit reached for requests (simulated). Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
    503: "The engine is currently overloaded, please try again later.",
}

_TYPES_AND_CODES: dict[int, tuple[str, str | None]] = {
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "unknown_url"),
    429: ("rate_limit_exceeded", "rate_limit_exceeded"),
    503: ("server_error", "overloaded"),
}


class _Default(enum.Enum):
    CODE = enum.auto()


DEFAULT_CODE = _Default.CODE
"""Use the usual ``code`` for the status (``None`` means no code at all)."""


class SimulatedError(Exception):
    """An error response: HTTP status, OpenAI error fields and an optional retry-after."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        *,
        param: str | None = None,
        code: str | _Default | None = DEFAULT_CODE,
        retry_after: float | None = None,
    ) -> None:
        error_type, default_code = _type_and_code(status)
        self.status = status
        self.message = message or _DEFAULT_MESSAGES.get(status, f"Simulated error {status}.")
        self.error_type = error_type
        self.code = default_code if code is _Default.CODE else code
        self.param = param
        self.retry_after = retry_after
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"message", "type", "param", "code"}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


def invalid_request(message: str, *, param: str | None = None) -> SimulatedError:
    """A 400 ``invalid_request_error``."""
    return SimulatedError(400, message, param=param)


def not_found(message: str, *, code: str | None = None, param: str | None = None) -> SimulatedError:
    """A 404 ``invalid_request_error`` about a missing object (not an unknown URL)."""
    return SimulatedError(404, message, code=code, param=param)


def format_retry_after(seconds: float) -> str:
    """Render seconds as a ``retry-after`` value: ``2`` rather than ``2.0``."""
    return str(int(seconds)) if float(seconds).is_integer() else f"{seconds:g}"


def _type_and_code(status: int) -> tuple[str, str | None]:
    if status in _TYPES_AND_CODES:
        return _TYPES_AND_CODES[status]
    if status >= 500:
        return "server_error", None
    return "invalid_request_error", None
