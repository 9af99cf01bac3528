"""Opt-in content: redacted, size-limited JSON in the GenAI conventions' shape."""

from __future__ import annotations

import json
from typing import Any

from ._text import encodable
from .analyzers.redaction import redact

__all__ = ["serialize_content", "text_buffer_limit"]

_TEXT_FIELDS = frozenset({"content", "arguments", "response", "uri", "description"})
_MARK = "…[truncated]"
_MARK_PART = {"type": "text", "content": _MARK}
_REDACTION_MARGIN = 2048
"""Extra characters redacted past the budget, so a secret cut by truncation is still found."""


def text_buffer_limit(max_length: int) -> int:
    """Characters of text worth buffering for an attribute of ``max_length``: the limit,
    the margin redaction looks past it, and one more to show that text was cut."""
    return max_length + _REDACTION_MARGIN + 1


def _json_length(text: str) -> int:
    """Characters ``text`` takes once JSON-escaped, quotes excluded."""
    return len(json.dumps(text, ensure_ascii=False)) - 2


class _Budget:
    """Characters still allowed in one attribute, text and JSON structure alike."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, text: str) -> str:
        text = redact(text[: max(self.left, 0) + _REDACTION_MARGIN])
        cost = _json_length(text)
        if cost <= self.left:
            self.left -= cost
            return text
        kept = text[: max(self.left, 0)]
        while kept and _json_length(kept) > self.left:  # escapes take more than one character
            kept = kept[: len(kept) - max(1, (_json_length(kept) - self.left) // 2)]
        self.left = 0
        return kept + _MARK

    def charge_structure(self, item: dict[str, Any]) -> None:
        """Pay for an object's keys and short non-text values, so that many small parts
        cannot grow the attribute past its limit either."""
        cost = 2
        for key, value in item.items():
            cost += len(key) + 4
            if isinstance(value, str) and key not in _TEXT_FIELDS:
                cost += _json_length(value)
        self.left -= cost


def _ends_with_mark(items: list[Any]) -> bool:
    last = items[-1] if items else None
    if isinstance(last, dict):
        parts = last.get("parts")
        if isinstance(parts, list):
            return _ends_with_mark(parts)
        return any(isinstance(v, str) and v.endswith(_MARK) for v in last.values())
    return False


def _mark_dropped(kept: list[Any]) -> None:
    """Show that items were left out: a mark part at the end of the last kept parts."""
    if _ends_with_mark(kept):
        return
    last = kept[-1] if kept else None
    if isinstance(last, dict) and isinstance(last.get("parts"), list):
        last["parts"].append(dict(_MARK_PART))
    else:
        kept.append(dict(_MARK_PART))


def _limit(value: Any, budget: _Budget) -> Any:
    if isinstance(value, dict):
        budget.charge_structure(value)
        return {
            key: budget.take(item)
            if key in _TEXT_FIELDS and isinstance(item, str)
            else _limit(item, budget)
            for key, item in value.items()
        }
    if isinstance(value, list):
        kept: list[Any] = []
        for item in value:
            if budget.left <= 0:
                _mark_dropped(kept)
                break
            kept.append(_limit(item, budget))
        return kept
    return value


def serialize_content(value: list[Any], max_length: int) -> str:
    """``value`` as compact JSON, text redacted, kept to about ``max_length`` characters.

    Truncation keeps the JSON valid and in the conventions' shape: text is cut and
    marked ``…[truncated]`` where the budget runs out, and the messages or parts past it
    are left out, with a ``…[truncated]`` text part in their place.
    """
    limited = _limit(value, _Budget(max_length))
    return encodable(json.dumps(limited, ensure_ascii=False, separators=(",", ":")))
