"""Opt-in content: redaction and size limits that keep the JSON valid."""

from __future__ import annotations

import json

from openai_sentinel.analyzers.redaction import redact
from openai_sentinel.content import serialize_content


def test_secrets_and_emails_are_masked() -> None:
    text = (
        "key sk-proj-abcdefghijklmnop1234 and Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig "
        "aws AKIAIOSFODNN7EXAMPLE mail jane.doe+x@mail.example.co.uk ok"
    )
    assert redact(text) == (
        "key [REDACTED:api_key] and [REDACTED:bearer_token] "
        "aws [REDACTED:aws_access_key] mail [REDACTED:email] ok"
    )


def test_ordinary_text_is_untouched() -> None:
    text = "Ask the sk- team about task-force plans at 5pm, user@ nothing."
    assert redact(text) == text


def test_truncation_keeps_json_valid_and_bounded() -> None:
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "a" * 300}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "b" * 300}]},
    ]
    serialized = serialize_content(messages, 100)
    decoded = json.loads(serialized)
    first = decoded[0]["parts"][0]["content"]
    second = decoded[1]["parts"][0]["content"]
    assert first.startswith("a" * 100) and first.endswith("[truncated]")
    assert second == "…[truncated]"
    assert len(serialized) < 250


def test_short_content_is_kept_whole() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "héllo"}]}]
    assert json.loads(serialize_content(messages, 100)) == messages
