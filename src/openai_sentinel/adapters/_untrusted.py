"""The untrusted text of a request (what users and tools wrote), and its redaction.

The security scanner reads what the application does not control: user messages and
tool results (chat), user input items and function-call outputs (Responses), prompts
(legacy completions) and embedding inputs. System and developer messages, the
application's own, are left alone: they are not attacks, and scanning them would
flag every call of an application whose prompt says "never reveal these instructions".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

from ._common import field

__all__ = [
    "SCAN_LIMIT",
    "chat_texts",
    "input_texts",
    "redact_chat",
    "redact_inputs",
    "redact_responses_input",
    "responses_texts",
]

SCAN_LIMIT: Final = 65_536
"""Characters of a request's untrusted text the scanner reads (scans are linear; this
bounds their cost on huge prompts)."""

_UNTRUSTED_ROLES: Final = frozenset({"user", "tool", "function"})
_TEXT_PARTS: Final = frozenset({"text", "input_text"})
_RESPONSE_OUTPUT_ITEMS: Final = frozenset({"function_call_output", "custom_tool_call_output"})

Replace = Callable[[str], str]


def _is(value: object, names: frozenset[str]) -> bool:
    """``value`` is one of ``names`` (whatever a malformed request puts there)."""
    return isinstance(value, str) and value in names


def _part_texts(content: Any) -> Iterator[str]:
    if isinstance(content, str):
        yield content
    elif isinstance(content, (list, tuple)):
        for part in content:
            if _is(field(part, "type"), _TEXT_PARTS):
                text = field(part, "text")
                if isinstance(text, str):
                    yield text


def chat_texts(messages: Any) -> Iterator[str]:
    """The texts of the user and tool messages of a chat request."""
    if not isinstance(messages, (list, tuple)):
        return
    for message in messages:
        if _is(field(message, "role"), _UNTRUSTED_ROLES):
            yield from _part_texts(field(message, "content"))


def responses_texts(value: Any) -> Iterator[str]:
    """The texts of a Responses ``input``: a string, user messages, tool outputs."""
    if isinstance(value, str):
        yield value
        return
    if not isinstance(value, (list, tuple)):
        return
    for item in value:
        kind = field(item, "type")
        if _is(kind, _RESPONSE_OUTPUT_ITEMS):
            yield from _part_texts(field(item, "output"))
        elif (kind is None or kind == "message") and _is(field(item, "role"), _UNTRUSTED_ROLES):
            yield from _part_texts(field(item, "content"))


def input_texts(value: Any) -> Iterator[str]:
    """The texts of a legacy ``prompt`` or an embeddings ``input`` (tokens are skipped)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, str):
                yield item


def joined(texts: Iterator[str]) -> str | None:
    """The texts one per line, at most :data:`SCAN_LIMIT` characters; ``None`` for none."""
    kept: list[str] = []
    size = 0
    for text in texts:
        if not text:
            continue
        kept.append(text[: SCAN_LIMIT - size])
        size += len(kept[-1]) + 1
        if size >= SCAN_LIMIT:
            break
    return "\n".join(kept) if kept else None


def _redact_parts(content: Any, replace: Replace) -> Any:
    """``content`` with its text redacted: a new object when something changed."""
    if isinstance(content, str):
        return replace(content)
    if not isinstance(content, (list, tuple)):
        return content
    parts: list[Any] = []
    changed = False
    for part in content:
        kept = part
        if isinstance(part, Mapping) and _is(part.get("type"), _TEXT_PARTS):
            text = part.get("text")
            if isinstance(text, str):
                redacted = replace(text)
                if redacted != text:
                    kept = {**part, "text": redacted}
                    changed = True
        parts.append(kept)
    return parts if changed else content


def _redact_items(
    items: Any, replace: Replace, keys: Callable[[Mapping[str, Any]], tuple[str, ...]]
) -> Any:
    if not isinstance(items, (list, tuple)):
        return items
    result: list[Any] = []
    changed = False
    for item in items:
        kept = item
        if isinstance(item, Mapping):
            for key in keys(item):
                value = item.get(key)
                redacted = _redact_parts(value, replace)
                if redacted is not value and redacted != value:
                    kept = {**kept, key: redacted}
                    changed = True
        result.append(kept)
    return result if changed else items


def _chat_keys(message: Mapping[str, Any]) -> tuple[str, ...]:
    return ("content",) if _is(message.get("role"), _UNTRUSTED_ROLES) else ()


def _responses_keys(item: Mapping[str, Any]) -> tuple[str, ...]:
    kind = item.get("type")
    if _is(kind, _RESPONSE_OUTPUT_ITEMS):
        return ("output",)
    if (kind is None or kind == "message") and _is(item.get("role"), _UNTRUSTED_ROLES):
        return ("content",)
    return ()


def redact_chat(kwargs: Mapping[str, Any], replace: Replace) -> dict[str, Any] | None:
    """``kwargs`` whose user and tool messages are redacted (new dicts, the caller's are
    untouched), or ``None`` when nothing changed."""
    messages = kwargs.get("messages")
    redacted = _redact_items(messages, replace, _chat_keys)
    return None if redacted is messages else {**kwargs, "messages": redacted}


def redact_responses_input(kwargs: Mapping[str, Any], replace: Replace) -> dict[str, Any] | None:
    """``kwargs`` with a redacted Responses ``input``, or ``None`` when nothing changed."""
    value = kwargs.get("input")
    if isinstance(value, str):
        redacted: Any = replace(value)
        return None if redacted == value else {**kwargs, "input": redacted}
    redacted = _redact_items(value, replace, _responses_keys)
    return None if redacted is value else {**kwargs, "input": redacted}


def redact_inputs(kwargs: Mapping[str, Any], name: str, replace: Replace) -> dict[str, Any] | None:
    """``kwargs`` with the prompt or input strings under ``name`` redacted, or ``None``."""
    value = kwargs.get(name)
    if isinstance(value, str):
        redacted = replace(value)
        return None if redacted == value else {**kwargs, name: redacted}
    if isinstance(value, (list, tuple)) and any(isinstance(item, str) for item in value):
        items = [replace(item) if isinstance(item, str) else item for item in value]
        return None if items == list(value) else {**kwargs, name: items}
    return None
