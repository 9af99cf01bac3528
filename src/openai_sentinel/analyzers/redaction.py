"""Redaction of secrets and contact details in text that is about to leave the process.

Every pattern is a run of bounded character classes with no nested ambiguous
repetition, so matching is linear in the length of the text.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["redact"]

_PATTERNS: Final = (
    ("api_key", r"\b(?:sk|rk|pk)-[A-Za-z0-9_-]{16,256}"),
    ("bearer_token", r"\b[Bb]earer[ \t]+[A-Za-z0-9._~+/=-]{16,2048}"),
    ("aws_access_key", r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    ("email", r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}\b"),
)
_COMBINED: Final = re.compile("|".join(f"(?P<{name}>{body})" for name, body in _PATTERNS))


def _replacement(match: re.Match[str]) -> str:
    return f"[REDACTED:{match.lastgroup}]"


def redact(text: str) -> str:
    """``text`` with API keys, bearer tokens, cloud access keys and e-mail addresses masked."""
    return _COMBINED.sub(_replacement, text)
