"""Responses API inputs and outputs in the GenAI conventions' JSON shape (opt-in only)."""

from __future__ import annotations

from typing import Any

from ..exchange import Message, MessagePart
from ._common import as_str, field, items

_TEXT_PARTS = frozenset({"input_text", "output_text", "text", "summary_text", "reasoning_text"})


def _parts(content: Any) -> list[MessagePart]:
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[MessagePart] = []
    if not isinstance(content, (list, tuple)):
        return parts
    for part in content:
        kind = as_str(field(part, "type"))
        if kind in _TEXT_PARTS:
            parts.append({"type": "text", "content": as_str(field(part, "text")) or ""})
        elif kind == "refusal":
            parts.append({"type": "text", "content": as_str(field(part, "refusal")) or ""})
        elif kind == "input_image":
            url = as_str(field(part, "image_url"))
            if url and not url.startswith("data:"):  # never the bytes of an image
                parts.append({"type": "uri", "modality": "image", "uri": url})
            else:
                parts.append({"type": "generic", "generic_type": kind})
        elif kind is not None:
            parts.append({"type": "generic", "generic_type": kind})
    return parts


def _item_message(item: Any) -> Message:
    kind = as_str(field(item, "type"))
    if kind in (None, "message"):
        role = as_str(field(item, "role")) or "user"
        return {"role": role, "parts": _parts(field(item, "content"))}
    if kind in ("function_call", "custom_tool_call"):
        arguments = field(item, "arguments")
        if arguments is None:
            arguments = field(item, "input")
        return {
            "role": "assistant",
            "parts": [
                {
                    "type": "tool_call",
                    "id": as_str(field(item, "call_id")),
                    "name": as_str(field(item, "name")),
                    "arguments": arguments if isinstance(arguments, str) else None,
                }
            ],
        }
    if kind in ("function_call_output", "custom_tool_call_output"):
        output = field(item, "output")
        response = (
            output
            if isinstance(output, str)
            else " ".join(str(p.get("content", "")) for p in _parts(output))
        )
        return {
            "role": "tool",
            "parts": [
                {
                    "type": "tool_call_response",
                    "id": as_str(field(item, "call_id")),
                    "response": response,
                }
            ],
        }
    if kind == "reasoning":
        summary = " ".join(
            text for part in items(field(item, "summary")) if (text := as_str(field(part, "text")))
        )
        parts = [{"type": "reasoning", "content": summary}] if summary else []
        return {"role": "assistant", "parts": parts}
    return {"role": "assistant", "parts": [{"type": "generic", "generic_type": kind}]}


def input_messages(value: Any) -> list[Message]:
    """The request's ``input``: a string (one user message) or a list of items."""
    if isinstance(value, str):
        return [{"role": "user", "parts": [{"type": "text", "content": value}]}]
    if isinstance(value, (list, tuple)):
        return [_item_message(item) for item in value]
    return []


def output_messages(output: Any, finish_reason: str | None) -> list[Message]:
    """The response's ``output`` items as one assistant message (the conventions' shape
    for one choice), its parts in order."""
    parts: list[MessagePart] = []
    for item in items(output):
        parts.extend(_item_message(item)["parts"])
    message: Message = {"role": "assistant", "parts": parts}
    if finish_reason is not None:
        message["finish_reason"] = finish_reason
    return [message]


def instructions(value: Any) -> list[MessagePart] | None:
    """``instructions`` as the conventions' system instructions (text parts)."""
    if isinstance(value, str) and value:
        return [{"type": "text", "content": value}]
    return None


def tool_definitions(tools: Any) -> list[dict[str, Any]]:
    """Names, types and descriptions of the request's tools (no parameter schemas)."""
    definitions: list[dict[str, Any]] = []
    for tool in tools if isinstance(tools, (list, tuple)) else ():
        definition: dict[str, Any] = {"type": as_str(field(tool, "type")) or "function"}
        name = as_str(field(tool, "name"))
        if name:
            definition["name"] = name
        description = as_str(field(tool, "description"))
        if description:
            definition["description"] = description
        definitions.append(definition)
    return definitions
