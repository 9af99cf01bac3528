"""Opt-in content: redacted, size-limited JSON in the GenAI conventions' shape."""

from __future__ import annotations

import json
from typing import Any

from .analyzers.redaction import redact

__all__ = ["serialize_content"]

_TEXT_FIELDS = frozenset({"content", "arguments", "response", "uri", "description"})
_MARK = "…[truncated]"
_REDACTION_MARGIN = 2048
"""Extra characters redacted past the budget, so a secret cut by truncation is still found."""


class _Budget:
    """Characters still allowed in one attribute, text and JSON structure alike."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, text: str) -> str:
        text = redact(text[: max(self.left, 0) + _REDACTION_MARGIN])
        if len(text) <= self.left:
            self.left -= len(text)
            return text
        kept = text[: max(self.left, 0)]
        self.left = 0
        return kept + _MARK

    def charge_structure(self, item: dict[str, Any]) -> None:
        """Pay for an object's keys and short non-text values, so that many small parts
        cannot grow the attribute past its limit either."""
        cost = 2
        for key, value in item.items():
            cost += len(key) + 4
            if isinstance(value, str) and key not in _TEXT_FIELDS:
                cost += len(value)
        self.left -= cost


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
        kept = []
        for item in value:
            if budget.left <= 0:
                break  # the rest is dropped: the last kept text already ends with the mark
            kept.append(_limit(item, budget))
        return kept
    return value


def serialize_content(value: list[Any], max_length: int) -> str:
    """``value`` as compact JSON, text redacted, about ``max_length`` characters at most.

    Truncation keeps the JSON valid and in the conventions' shape: text is cut and
    marked ``…[truncated]`` where the budget runs out, and later messages or parts are
    left out.
    """
    return json.dumps(_limit(value, _Budget(max_length)), ensure_ascii=False, separators=(",", ":"))
