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
        "key [REDACTED:OPENAI_API_KEY] and [REDACTED:BEARER_TOKEN] "
        "aws [REDACTED:AWS_ACCESS_KEY] mail [REDACTED:EMAIL_ADDRESS] ok"
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
    assert len(decoded) == 1  # the message past the budget is left out
    first = decoded[0]["parts"][0]["content"]
    assert first.startswith("a" * 40) and first.endswith("a…[truncated]")
    assert len(serialized) <= 100 + len("…[truncated]") + 10


def test_short_content_is_kept_whole() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "héllo"}]}]
    assert json.loads(serialize_content(messages, 100)) == messages


def test_many_small_messages_cannot_grow_past_the_limit() -> None:
    messages = [{"role": "user", "parts": [{"type": "text", "content": "hi"}]}] * 5000
    serialized = serialize_content(messages, 100)
    assert len(serialized) < 300
    assert 0 < len(json.loads(serialized)) < 10


def test_a_secret_cut_by_truncation_is_still_redacted() -> None:
    text = "x" * 90 + " sk-abcdefghijklmnopqrstuvwxyz0123456789"
    parts = json.loads(serialize_content([{"type": "text", "content": text}], 100))
    assert "sk-abc" not in parts[0]["content"]


def test_dropped_items_leave_a_mark_and_no_empty_parts() -> None:
    for limit in (5, 20, 88, 300):
        messages = [{"role": "user", "parts": [{"type": "text", "content": "hello"}]}] * 200
        decoded = json.loads(serialize_content(messages, limit))
        assert decoded, limit
        assert all(message["parts"] for message in decoded), limit
        assert decoded[-1]["parts"][-1]["content"].endswith("…[truncated]"), limit


def test_escaped_characters_count_against_the_limit() -> None:
    for text in ("\x01" * 5000, "\n" * 5000, '"' * 5000):
        serialized = serialize_content([{"type": "text", "content": text}], 4096)
        assert len(serialized) <= 4096 + 64
        json.loads(serialized)
