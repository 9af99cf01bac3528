"""Repeated requests: the same prompt sent again within a time window, maybe to another
model (a retry path escalating from a cheap model to an expensive one).

A request is known by a keyed fingerprint of its arguments (the model left out): the
interpreter's SipHash (keyed with its per-process hash secret) over a secret drawn once
per process and the serialized arguments, 64 bits. The table holds those numbers, never
text, and a fingerprint means nothing outside the process (it never leaves it). SipHash
is a keyed hash made for this, and about four times faster than BLAKE2b here.

Plain data (what a request is made of: dicts, lists, strings, numbers) is serialized by
:mod:`marshal`, in C, about a microsecond per kilobyte; arguments holding other objects
(a pydantic message of an earlier response, a ``response_format`` class) go through
canonical JSON instead. Either way the same arguments built the same way give the same
fingerprint; the same content built differently (keys in another order, a tuple for a
list) may not, which only means that repeat goes unnoticed. The table is bounded in
entries and in time. Knows neither the ``openai`` client nor OpenTelemetry.
"""

from __future__ import annotations

import hashlib
import json
import marshal
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

__all__ = ["Repeat", "RepeatTracker", "request_fingerprint"]

_SECRET: Final = secrets.token_bytes(16)
_DIGEST_SIZE: Final = 16
"""Of the digest standing for ``bytes`` arguments in canonical JSON."""
_MARSHAL_VERSION: Final = 2
"""Without back-references, so equal values, shared or not, serialize alike."""


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


_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_describe
)
"""Canonical JSON (sorted keys, no spaces); made once, it keeps no state between calls."""


def request_fingerprint(kind: str, arguments: Mapping[str, Any]) -> int | None:
    """A keyed digest of a request of ``kind`` (the operation: the same text embedded and
    then asked about is two requests) with ``arguments`` (already stripped of the model
    and of transport options), or ``None`` when one of them cannot be read without
    consuming it."""
    try:
        data = _SECRET + b"m" + marshal.dumps(cast(Any, (kind, arguments)), _MARSHAL_VERSION)
    except Exception:  # an object marshal does not know: a model, a class, an iterator
        try:
            text = _ENCODER.encode([kind, arguments])
        except Exception:  # an iterator, a file, a model that cannot dump itself, a cycle
            return None
        data = _SECRET + b"j" + text.encode("utf-8", "surrogatepass")
    return hash(data)


@dataclass(frozen=True, slots=True)
class Repeat:
    """A request seen before within the window."""

    first_model: str | None
    """The model the request was first sent to."""
    model_changed: bool
    """The request went to another model this time."""
    answered_before: bool = True
    """An earlier sighting got an answer (a response cache would have held it); false
    when every earlier one failed: a retry, which no cache would have saved."""


class RepeatTracker:
    """Remembers request fingerprints for ``window`` seconds, at most ``capacity`` of them
    (the oldest go first); thread-safe."""

    __slots__ = ("_capacity", "_lock", "_seen", "_window")

    def __init__(self, window: float, capacity: int) -> None:
        if window <= 0 or capacity <= 0:
            raise ValueError("window and capacity must be positive")
        self._window = window
        self._capacity = capacity
        self._seen: OrderedDict[int, tuple[float, str | None, bool]] = OrderedDict()
        """fingerprint -> (last seen, first model, answered yet); least recently seen
        first."""
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def observe(
        self,
        fingerprint: int,
        model: str | None,
        now: float | None = None,
        *,
        answered: bool = True,
    ) -> Repeat | None:
        """Record a request (``answered``: it got an answer, it did not fail); a
        :class:`Repeat` if it was seen within the window."""
        now = time.monotonic() if now is None else now
        oldest_kept = now - self._window
        seen = self._seen
        with self._lock:
            previous = seen.pop(fingerprint, None)
            if previous is not None and previous[0] <= oldest_kept:
                previous = None  # seen, but longer ago than the window
            while seen:
                first_key, (last_seen, _, _) = next(iter(seen.items()))
                if last_seen > oldest_kept and len(seen) < self._capacity:
                    break
                del seen[first_key]
            if previous is None:
                seen[fingerprint] = (now, model, answered)
                return None
            _, first_model, answered_before = previous
            seen[fingerprint] = (now, first_model, answered_before or answered)
        return Repeat(first_model, model != first_model, answered_before)
