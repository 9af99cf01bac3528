"""Redaction of text that is about to leave the process: the security scanner's PII
and secret rules, so that what is detected is what is redacted.

Every finding becomes a typed placeholder, ``[REDACTED:<ENTITY>]`` (``EMAIL_ADDRESS``,
``CREDIT_CARD``, ``OPENAI_API_KEY``…). The rules are linear in the length of the text.
"""

from __future__ import annotations

__all__ = ["redact"]


def redact(text: str) -> str:
    """``text`` with PII and secrets (e-mail, phone, card, SSN, IBAN, IP, API keys and
    tokens) replaced by typed placeholders."""
    from .security.live import LIVE

    return LIVE.redact(text)
