"""Repeated requests: the same prompt sent again within a time window, maybe to another
model (a retry path escalating from a cheap model to an expensive one).

A request is known by a keyed fingerprint of its normalized arguments (the model left
out): BLAKE2b with a secret drawn once per process, so the table holds 16-byte digests,
never text, and a digest says nothing outside the process. The table is bounded in
entries and in time. Knows neither the ``openai`` client nor OpenTelemetry.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Repeat", "RepeatTracker", "request_fingerprint"]

_SECRET: Final = secrets.token_bytes(32)
_DIGEST_SIZE: Final = 16


class _Unreadable(Exception):
    """An argument that cannot be read without consuming it (an iterator, a file)."""


def _describe(value: Any) -> Any:
    """JSON's fallback: a class (``response_format=Answer``) stands for itself by name, a
    pydantic model (a message of an earlier response) for its fields; anything else (an
    iterator the client will consume, a file) cannot be fingerprinted."""
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json", exclude_unset=True)
    if isinstance(value, (bytes, bytearray)):
        return hashlib.blake2b(value, digest_size=_DIGEST_SIZE).hexdigest()
    if isinstance(value, (set, frozenset)):
        return sorted(map(repr, value))
    raise _Unreadable


def request_fingerprint(kind: str, arguments: Mapping[str, Any]) -> bytes | None:
    """A keyed digest of a request of ``kind`` (the operation: the same text embedded and
    then asked about is two requests) with ``arguments`` (already stripped of the model
    and of transport options), or ``None`` when one of them cannot be read without
    consuming it."""
    try:
        canonical = json.dumps(
            [kind, arguments],
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            default=_describe,
        )
    except Exception:  # an iterator, a file, a model that cannot dump itself, a cycle
        return None
    return hashlib.blake2b(
        canonical.encode("utf-8", "surrogatepass"), digest_size=_DIGEST_SIZE, key=_SECRET
    ).digest()


@dataclass(frozen=True, slots=True)
class Repeat:
    """A request seen before within the window."""

    first_model: str | None
    """The model the request was first sent to."""
    model_changed: bool
    """The request went to another model this time."""


class RepeatTracker:
    """Remembers request fingerprints for ``window`` seconds, at most ``capacity`` of them
    (the oldest go first); thread-safe."""

    __slots__ = ("_capacity", "_lock", "_seen", "_window")

    def __init__(self, window: float, capacity: int) -> None:
        if window <= 0 or capacity <= 0:
            raise ValueError("window and capacity must be positive")
        self._window = window
        self._capacity = capacity
        self._seen: OrderedDict[bytes, tuple[float, str | None]] = OrderedDict()
        """fingerprint -> (last seen, first model); least recently seen first."""
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def observe(
        self, fingerprint: bytes, model: str | None, now: float | None = None
    ) -> Repeat | None:
        """Record a request; a :class:`Repeat` if it was seen within the window."""
        now = time.monotonic() if now is None else now
        oldest_kept = now - self._window
        seen = self._seen
        with self._lock:
            previous = seen.pop(fingerprint, None)
            if previous is not None and previous[0] <= oldest_kept:
                previous = None  # seen, but longer ago than the window
            while seen:
                first_key, (last_seen, _) = next(iter(seen.items()))
                if last_seen > oldest_kept and len(seen) < self._capacity:
                    break
                del seen[first_key]
            if previous is None:
                seen[fingerprint] = (now, model)
                return None
            first_model = previous[1]
            seen[fingerprint] = (now, first_model)
        return Repeat(first_model, model_changed=model != first_model)
