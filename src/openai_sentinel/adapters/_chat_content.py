"""Chat Completions messages in the GenAI conventions' JSON shape (opt-in content only)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..exchange import Message, MessagePart
from ._common import as_str, field


def _content_parts(content: Any) -> list[MessagePart]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[MessagePart] = []
    if isinstance(content, (list, tuple)):  # never consume a one-shot iterable
        for item in content:
            kind = as_str(field(item, "type"))
            if kind == "text":
                parts.append({"type": "text", "content": as_str(field(item, "text")) or ""})
            elif kind == "refusal":
                parts.append({"type": "text", "content": as_str(field(item, "refusal")) or ""})
            elif kind == "image_url":
                url = as_str(field(field(item, "image_url"), "url")) or ""
                if url.startswith("data:"):  # never the bytes of an image
                    parts.append({"type": "generic", "generic_type": kind})
                else:
                    parts.append({"type": "uri", "modality": "image", "uri": url})
            elif kind is not None:
                parts.append({"type": "generic", "generic_type": kind})
    return parts


def _tool_call_parts(tool_calls: Any) -> list[MessagePart]:
    parts: list[MessagePart] = []
    for call in tool_calls or ():
        function = field(call, "function") or field(call, "custom")
        arguments = field(function, "arguments")
        if arguments is None:
            arguments = field(function, "input")
        parts.append(
            {
                "type": "tool_call",
                "id": as_str(field(call, "id")),
                "name": as_str(field(function, "name")),
                "arguments": arguments if isinstance(arguments, str) else None,
            }
        )
    return parts


def input_messages(messages: Any) -> list[Message]:
    """The request's messages, every role included, as the conventions record them."""
    result: list[Message] = []
    for message in messages or ():
        role = as_str(field(message, "role")) or "user"
        content = field(message, "content")
        if role == "tool":
            parts: list[MessagePart] = [
                {
                    "type": "tool_call_response",
                    "id": as_str(field(message, "tool_call_id")),
                    "response": content
                    if isinstance(content, str)
                    else " ".join(p.get("content", "") for p in _content_parts(content)),
                }
            ]
        else:
            parts = _content_parts(content) + _tool_call_parts(field(message, "tool_calls"))
        result.append({"role": role, "parts": parts})
    return result


def tool_definitions(tools: Any) -> list[dict[str, Any]]:
    """Names, types and descriptions of the request's tools (no parameter schemas)."""
    definitions: list[dict[str, Any]] = []
    if not isinstance(tools, Iterable):
        return definitions
    for tool in tools:
        kind = as_str(field(tool, "type")) or "function"
        spec = field(tool, kind) or field(tool, "function")
        definition: dict[str, Any] = {"type": kind, "name": as_str(field(spec, "name"))}
        description = as_str(field(spec, "description"))
        if description:
            definition["description"] = description
        definitions.append(definition)
    return definitions


def output_message(
    role: str | None, content: str | None, refusal: str | None, tool_calls: Any, finish: str
) -> Message:
    """One choice as an output message."""
    parts: list[MessagePart] = []
    if content:
        parts.append({"type": "text", "content": content})
    if refusal:
        parts.append({"type": "text", "content": refusal})
    parts.extend(_tool_call_parts(tool_calls))
    return {"role": role or "assistant", "parts": parts, "finish_reason": finish}
