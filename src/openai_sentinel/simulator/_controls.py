"""Per-request control headers: ``x-simulator-error``, ``-retry-after``, ``-latency-ms``,
``-stream-error-after``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from ._errors import MAX_ERROR_STATUS, MIN_ERROR_STATUS, SimulatedError, invalid_request

ERROR_HEADER = "x-simulator-error"
RETRY_AFTER_HEADER = "x-simulator-retry-after"
LATENCY_HEADER = "x-simulator-latency-ms"
STREAM_ERROR_HEADER = "x-simulator-stream-error-after"
_MAX_STREAM_ERROR_AFTER = 2**31 - 1


@dataclass(frozen=True)
class RequestControls:
    """Behaviour a client asked for on one request."""

    error_status: int | None = None
    retry_after: float | None = None
    latency: float | None = None
    """Seconds; replaces ``time_to_first_token`` for this request."""
    stream_error_after: int | None = None
    """A streamed answer fails after this many output tokens (or at its end if shorter)."""

    def requested_error(self) -> SimulatedError | None:
        """The error this request asked for, if any."""
        if self.error_status is None:
            return None
        return SimulatedError(self.error_status, retry_after=self.retry_after)


def parse_controls(headers: Mapping[str, str]) -> RequestControls:
    """Read the control headers (lower-case names); raise a 400 ``SimulatedError`` if invalid."""
    error_status = _parse_error_status(headers.get(ERROR_HEADER))
    retry_after = _parse_non_negative(headers.get(RETRY_AFTER_HEADER), RETRY_AFTER_HEADER)
    latency_ms = _parse_non_negative(headers.get(LATENCY_HEADER), LATENCY_HEADER)
    latency = None if latency_ms is None else latency_ms / 1000.0
    return RequestControls(
        error_status=error_status,
        retry_after=retry_after,
        latency=latency,
        stream_error_after=_parse_token_count(headers.get(STREAM_ERROR_HEADER)),
    )


def _parse_error_status(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        status = int(raw.strip())
    except ValueError:
        status = 0
    if not MIN_ERROR_STATUS <= status <= MAX_ERROR_STATUS:
        raise invalid_request(
            f"Invalid {ERROR_HEADER} header {raw!r}: expected an HTTP error status "
            f"between {MIN_ERROR_STATUS} and {MAX_ERROR_STATUS}."
        )
    return status


def _parse_non_negative(raw: str | None, header: str) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise invalid_request(f"Invalid {header} header {raw!r}: expected a finite number >= 0.")
    return value


def _parse_token_count(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        count = int(raw.strip())
    except ValueError:
        count = -1
    if not 0 <= count <= _MAX_STREAM_ERROR_AFTER:
        raise invalid_request(
            f"Invalid {STREAM_ERROR_HEADER} header {raw!r}: expected a whole number of tokens >= 0."
        )
    return count
