"""Prompt and completion text: off by default; when on, redacted and size-limited."""

from __future__ import annotations

import json

import pytest

from openai_sentinel import semconv

from ..support import payloads
from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, sync_client

CONVERSATION = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "My key is sk-abcdefghijklmnopqrstuv, call me at a@b.example"},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "lookup", "arguments": '{"q": "x"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "42"},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "and now?"},
            {"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
        ],
    },
]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup",
            "description": "Look it up",
            "parameters": {"type": "object"},
        },
    }
]
CONTENT_KEYS = (
    semconv.GEN_AI_INPUT_MESSAGES,
    semconv.GEN_AI_OUTPUT_MESSAGES,
    semconv.GEN_AI_TOOL_DEFINITIONS,
)


def _call(**kwargs: object) -> None:
    sync_client(ScriptedAPI()).chat.completions.create(
        model="gpt-4o-mini", messages=CONVERSATION, tools=TOOLS, **kwargs
    )


def test_nothing_is_captured_by_default(telemetry: Telemetry, instrumented) -> None:
    _call()
    attributes = telemetry.span().attributes or {}
    assert not set(CONTENT_KEYS) & set(attributes)
    recorded = json.dumps(dict(attributes))
    assert "terse" not in recorded and "lookup" not in recorded


def test_capture_via_genai_environment_variable(
    telemetry: Telemetry, instrument, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    instrument()
    _call()
    attributes = telemetry.span().attributes or {}
    assert set(CONTENT_KEYS) <= set(attributes)


def test_captured_content_follows_the_conventions_shape(telemetry: Telemetry, instrument) -> None:
    instrument(capture_content=True)
    _call()
    attributes = telemetry.span().attributes or {}
    inputs = json.loads(attributes[semconv.GEN_AI_INPUT_MESSAGES])  # type: ignore[arg-type]
    assert inputs == [
        {"role": "system", "parts": [{"type": "text", "content": "You are terse."}]},
        {
            "role": "user",
            "parts": [
                {
                    "type": "text",
                    "content": "My key is [REDACTED:API_KEY], call me at [REDACTED:EMAIL_ADDRESS]",
                }
            ],
        },
        {
            "role": "assistant",
            "parts": [
                {"type": "tool_call", "id": "call_1", "name": "lookup", "arguments": '{"q": "x"}'}
            ],
        },
        {
            "role": "tool",
            "parts": [{"type": "tool_call_response", "id": "call_1", "response": "42"}],
        },
        {
            "role": "user",
            "parts": [
                {"type": "text", "content": "and now?"},
                {"type": "uri", "modality": "image", "uri": "https://x.test/a.png"},
            ],
        },
    ]
    # Chat system messages are part of the history: the conventions record them in
    # gen_ai.input.messages, not (again) in gen_ai.system_instructions.
    assert semconv.GEN_AI_SYSTEM_INSTRUCTIONS not in attributes
    assert json.loads(attributes[semconv.GEN_AI_TOOL_DEFINITIONS]) == [  # type: ignore[arg-type]
        {"type": "function", "name": "lookup", "description": "Look it up"}
    ]
    assert json.loads(attributes[semconv.GEN_AI_OUTPUT_MESSAGES]) == [  # type: ignore[arg-type]
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "This is a test."}],
            "finish_reason": "stop",
        }
    ]


def test_content_is_size_limited(telemetry: Telemetry, instrument) -> None:
    instrument(capture_content=True, content_max_length=50)
    api = ScriptedAPI()
    api.body = payloads.completion(content="word " * 1000)
    sync_client(api).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "x" * 10_000}]
    )
    attributes = telemetry.span().attributes or {}
    for key in (semconv.GEN_AI_INPUT_MESSAGES, semconv.GEN_AI_OUTPUT_MESSAGES):
        value = attributes[key]
        assert isinstance(value, str) and len(value) < 200
        assert json.loads(value)[0]["parts"][0]["content"].endswith("[truncated]")
