"""A bounded, thread-safe log of the requests the simulator received."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

MAX_RECORDED_REQUESTS = 1000

# Credentials are never kept, whatever the client sends.
_SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "api-key", "x-api-key", "cookie"}
)


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: credentials removed, header names lower-cased."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any
    """The parsed JSON body, or ``None`` when there was no valid JSON body."""


class RequestLog:
    """Keeps the last ``MAX_RECORDED_REQUESTS`` requests."""

    def __init__(self, capacity: int = MAX_RECORDED_REQUESTS) -> None:
        self._entries: deque[RecordedRequest] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def record(
        self, method: str, path: str, headers: Iterable[tuple[str, str]], json_body: Any
    ) -> None:
        """Store a request, dropping credential headers."""
        safe_headers = {
            name.lower(): value for name, value in headers if name.lower() not in _SECRET_HEADERS
        }
        entry = RecordedRequest(method=method, path=path, headers=safe_headers, json=json_body)
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[RecordedRequest]:
        """A copy of the stored requests, oldest first."""
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        """Forget every stored request."""
        with self._lock:
            self._entries.clear()
