"""Opt-in content: redacted, size-limited JSON in the GenAI conventions' shape."""

from __future__ import annotations

import json
from typing import Any

from .analyzers.redaction import redact

__all__ = ["serialize_content"]

_TEXT_FIELDS = ("content", "arguments", "response", "uri", "description")
_MARK = "…[truncated]"
_REDACTION_MARGIN = 2048
"""Extra characters redacted past the budget, so a secret cut by truncation is still found."""


class _Budget:
    """Characters of text still allowed in one attribute."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, text: str) -> str:
        text = redact(text[: self.left + _REDACTION_MARGIN])
        if len(text) <= self.left:
            self.left -= len(text)
            return text
        kept = text[: max(self.left, 0)]
        self.left = 0
        return kept + _MARK


def _limit(value: Any, budget: _Budget) -> Any:
    if isinstance(value, dict):
        return {
            key: budget.take(item)
            if key in _TEXT_FIELDS and isinstance(item, str)
            else _limit(item, budget)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_limit(item, budget) for item in value]
    return value


def serialize_content(value: list[Any], max_length: int) -> str:
    """``value`` as compact JSON, text fields redacted and cut to ``max_length`` in total.

    Truncation keeps the JSON structure valid: each text field keeps what is left of
    the budget and is marked when cut; later fields become empty but stay present.
    """
    return json.dumps(_limit(value, _Budget(max_length)), ensure_ascii=False, separators=(",", ":"))
