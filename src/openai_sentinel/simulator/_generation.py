"""Deterministic text: seeded random sources, prose tokens and token counting."""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from itertools import cycle
from typing import Any

from ._vocabulary import CLAUSE_BREAK, DANGLING, NOUNS, PUNCTUATION, SENTENCE_END, SENTENCE_PATTERN

# One token per word (with its leading space) or per punctuation mark.
_TOKEN_PATTERN = re.compile(r"\s*\w+|\s*[^\w\s]|\s+")
_MIN_SENTENCE_TOKENS = 6
_MAX_SENTENCE_TOKENS = 14
_SHORTEST_TAIL = 4
_SENTENCE_ATTEMPTS = 20


def seeded_random(*parts: object) -> random.Random:
    """A random source fully determined by ``parts`` (stable across processes)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode("utf-8")).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def prompt_fingerprint(messages: Sequence[Mapping[str, Any]]) -> str:
    """A stable hash of the request messages."""
    canonical = json.dumps(messages, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def split_into_tokens(text: str) -> list[str]:
    """Split text into tokens whose concatenation is exactly ``text``."""
    return _TOKEN_PATTERN.findall(text)


def generate_prose(rng: random.Random, token_count: int) -> list[str]:
    """Exactly ``token_count`` tokens of sentences that end with a full stop."""
    if token_count <= 1:
        return [rng.choice(NOUNS).capitalize()][:token_count]
    tokens: list[str] = []
    remaining = token_count
    while remaining > 0:
        length = rng.randint(_MIN_SENTENCE_TOKENS, _MAX_SENTENCE_TOKENS)
        if remaining - length < _SHORTEST_TAIL:
            length = remaining
        words = [*sentence_words(rng, length - 1), SENTENCE_END]
        tokens.extend(_as_tokens(words, at_text_start=not tokens))
        remaining -= length
    return tokens


def generate_phrase(rng: random.Random, word_count: int) -> str:
    """A few words without punctuation, for short string values."""
    return " ".join(word for word in sentence_words(rng, word_count) if word != CLAUSE_BREAK)


def sentence_words(rng: random.Random, count: int) -> list[str]:
    """``count`` words and commas following the sentence pattern, not ending mid-phrase."""
    for _ in range(_SENTENCE_ATTEMPTS):
        words = _pattern_words(rng, count)
        if not words or words[-1] not in DANGLING:
            return words
    words[-1] = rng.choice(NOUNS)
    return words


def _pattern_words(rng: random.Random, count: int) -> list[str]:
    words: list[str] = []
    pattern: Iterator[tuple[tuple[str, ...], float]] = cycle(SENTENCE_PATTERN)
    while len(words) < count:
        word_class, probability = next(pattern)
        if probability < 1.0 and rng.random() >= probability:
            continue
        words.append(rng.choice(word_class))
    return words


def _as_tokens(words: Sequence[str], *, at_text_start: bool) -> list[str]:
    tokens: list[str] = []
    for position, word in enumerate(words):
        if word in PUNCTUATION:
            tokens.append(word)
        elif position == 0:
            tokens.append(word.capitalize() if at_text_start else " " + word.capitalize())
        else:
            tokens.append(" " + word)
    return tokens


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a chat message: string content or the text of its content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and isinstance(part.get("text"), str)
        )
    return ""


def count_prompt_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    """Approximate prompt tokens: 4 per message plus 1 per 4 characters, plus 3 priming."""
    return sum(4 + math.ceil(len(message_text(message)) / 4) for message in messages) + 3


def count_text_tokens(text: str) -> int:
    """Approximate tokens of a bare text (a prompt or an embedding input): 1 per 4 characters."""
    return max(1, math.ceil(len(text) / 4))


def cut_at_stop(tokens: Sequence[str], stops: Sequence[str]) -> list[str]:
    """Drop everything from the earliest stop sequence on (the stop itself included)."""
    text = "".join(tokens)
    positions = [text.find(stop) for stop in stops if stop and stop in text]
    if not positions:
        return list(tokens)
    cut = min(positions)
    kept: list[str] = []
    consumed = 0
    for token in tokens:
        if consumed + len(token) > cut:
            if cut > consumed:
                kept.append(token[: cut - consumed])
            break
        kept.append(token)
        consumed += len(token)
    return kept
