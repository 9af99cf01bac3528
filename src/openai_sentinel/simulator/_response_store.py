"""The last responses the simulator created, for ``GET /v1/responses/{id}``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MAX_STORED_RESPONSES = 256


@dataclass(frozen=True)
class StoredResponse:
    """A created response, the events of its stream, and its conversation so far."""

    response: dict[str, Any]
    events: list[dict[str, Any]]
    conversation: list[dict[str, Any]]
    """Input and output of this response and its predecessors, as chat-style messages
    (instructions are not carried over, as with ``previous_response_id``)."""


class ResponseStore:
    """Keeps the last ``capacity`` responses; the oldest is forgotten first."""

    def __init__(self, capacity: int = MAX_STORED_RESPONSES) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, StoredResponse] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, stored: StoredResponse) -> None:
        """Store ``stored`` under its response id."""
        with self._lock:
            self._entries[str(stored.response["id"])] = stored
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)

    def get(self, response_id: str) -> StoredResponse | None:
        """The stored response, or ``None`` if unknown or forgotten."""
        with self._lock:
            return self._entries.get(response_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
