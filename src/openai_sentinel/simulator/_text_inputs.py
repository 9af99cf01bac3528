"""Prompt-like inputs: a string, a list of strings, a token array or a list of token arrays
(``input`` of embeddings, ``prompt`` of legacy completions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeGuard

from ._errors import SimulatedError, invalid_request
from ._generation import count_text_tokens

_MAX_TOKEN_ID = 2**31 - 1


@dataclass(frozen=True)
class TextInput:
    """One input: its text (token ids are written out as numbers) and its token count."""

    text: str
    tokens: int
    is_token_array: bool = False


def parse_text_inputs(
    raw: object, *, param: str, max_items: int, allow_empty_text: bool
) -> list[TextInput]:
    """Read ``raw``; raise a 400 naming ``param`` when it is none of the accepted shapes."""
    if isinstance(raw, str):
        items: list[object] = [raw]
    elif _is_token_array(raw):
        items = [raw]
    elif isinstance(raw, list) and raw:
        items = raw
    else:
        raise _invalid(param)
    if len(items) > max_items:
        raise invalid_request(
            f"Invalid '{param}': at most {max_items} inputs are allowed, got {len(items)}.",
            param=param,
        )
    inputs: list[TextInput] = []
    for item in items:
        if isinstance(item, str) and (item or allow_empty_text):
            inputs.append(TextInput(item, count_text_tokens(item) if item else 0))
        elif _is_token_array(item):
            inputs.append(TextInput(" ".join(map(str, item)), len(item), is_token_array=True))
        else:
            raise _invalid(param)
    return inputs


def _is_token_array(value: object) -> TypeGuard[list[int]]:
    return (
        isinstance(value, list)
        and bool(value)
        and all(
            isinstance(token, int) and not isinstance(token, bool) and 0 <= token <= _MAX_TOKEN_ID
            for token in value
        )
    )


def _invalid(param: str) -> SimulatedError:
    return invalid_request(
        f"Invalid '{param}': expected a non-empty string, an array of strings, an array of "
        "token ids or an array of token id arrays.",
        param=param,
    )
