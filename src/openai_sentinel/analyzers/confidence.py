"""How sure the model was of its answer, and what went wrong with it.

From token logprobs, confidence is the geometric mean of the answer's token
probabilities, ``exp(mean logprob)``, in [0, 1]; the least likely token is reported
too. Without logprobs, a heuristic reads what the response says (documented in the
README): how it finished, whether it refused, and hedging phrases in its first
answer. Knows neither the ``openai`` client nor OpenTelemetry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Final

from .. import semconv
from ..exchange import AnswerLogprobs, Exchange

__all__ = [
    "NO_QUALITY_ISSUE",
    "SOURCE_HEURISTIC",
    "SOURCE_LOGPROBS",
    "Confidence",
    "Quality",
    "confidence_of",
    "heuristic_confidence",
    "prepare_heuristic",
    "quality_of",
]

SOURCE_LOGPROBS: Final = semconv.CONFIDENCE_SOURCE_LOGPROBS
SOURCE_HEURISTIC: Final = semconv.CONFIDENCE_SOURCE_HEURISTIC

_FINISHED: Final = 0.9
"""A complete answer (``stop``, ``tool_calls``) that says nothing to doubt."""
_BY_FINISH_REASON: Final = {
    "stop": _FINISHED,
    "tool_calls": _FINISHED,
    "function_call": _FINISHED,
    "length": 0.5,
    "content_filter": 0.2,
}
_REFUSED: Final = 0.3
"""A refusal: the model declined rather than answered."""
_PER_HEDGE: Final = 0.85
"""Each hedging phrase (up to :data:`_MOST_HEDGES`) multiplies the confidence by this."""
_MOST_HEDGES: Final = 4
_HEDGE_PHRASES: Final = (
    r"i think|i believe|i guess|i'?m not (?:sure|certain)|i am not (?:sure|certain)"
    r"|not (?:entirely |completely |totally )?(?:sure|certain)|i (?:don'?t|do not) know"
    r"|(?:might|may|could) (?:be|have)|possibly|perhaps|probably|presumably|it seems"
    r"|it appears|as far as i know|to my knowledge|if i recall|i can'?t (?:be sure|verify)"
    r"|i cannot (?:be sure|verify)|unclear|uncertain"
)
_HEDGES: Final = re.compile(rf"(?=[acimnptu])\b(?:{_HEDGE_PHRASES})\b")
"""English hedging phrases, matched in lower-cased ASCII text: an alternation of
literals, no nested quantifiers, so it runs in time linear in the text. The lookahead on
the phrases' first letters lets ``re`` skip the other positions without trying the
alternation (four times faster than ``re.IGNORECASE`` on the whole pattern)."""
_HEDGES_ANY_CASE: Final = re.compile(_HEDGES.pattern, re.IGNORECASE)
"""The same phrases in a text with other characters than ASCII, as it is: lower-casing
may change its length and word boundaries (``İ`` becomes ``i`` and a combining dot)."""


@cache
def _may_hedge() -> Callable[[str], bool] | None:
    """A Hyperscan pass over a lower-cased ASCII text that is False when :data:`_HEDGES`
    cannot match it: ten times faster than ``re`` on an answer of a few kilobytes, and
    most answers hedge nowhere. ``None`` without Hyperscan (``re`` then searches every
    text)."""
    from .security._engine import ENGINE, Pattern, PatternSet

    if ENGINE != "hyperscan":
        return None
    try:
        hedges = PatternSet([Pattern(rf"\b(?:{_HEDGE_PHRASES})\b", case_sensitive=True)])
    except Exception:  # an engine that refuses it: re alone, as without Hyperscan
        return None
    matching = hedges.matching
    return lambda text: bool(matching(text))


def prepare_heuristic() -> None:
    """Build the heuristic's hedge search now (Hyperscan compiles it, or reads it from
    its cache), not in the first call that needs it."""
    _may_hedge()


@dataclass(frozen=True, slots=True)
class Confidence:
    """The confidence of the first answer, and of each answer when there are several."""

    value: float
    source: str
    min_token: float | None = None
    """Probability of the least likely token (logprobs only)."""
    per_answer: tuple[tuple[int, float, float], ...] = ()
    """``(choice index, confidence, least likely token)`` of every answer that had
    logprobs, when the call asked for several."""


@dataclass(frozen=True, slots=True)
class Quality:
    """What went wrong with an answer, if anything."""

    truncated: bool = False
    """The answer was cut by the token limit (``length``, ``max_output_tokens``)."""
    refused: bool = False
    content_filtered: bool = False

    def __bool__(self) -> bool:
        return self.truncated or self.refused or self.content_filtered


NO_QUALITY_ISSUE: Final = Quality()


def _from_logprobs(answer: AnswerLogprobs) -> tuple[float, float]:
    return math.exp(answer.total / answer.count), math.exp(answer.minimum)


HEDGE_TEXT_LIMIT: Final = 4096
"""Characters at the start of an answer :func:`confidence_of` searches for hedging phrases
(the answer kept for the analyzers is longer, for the security scanner)."""


def heuristic_confidence(
    finish_reason: str | None, *, refused: bool, text: str | None
) -> float | None:
    """The documented stand-in for a confidence without logprobs, or ``None`` for an
    answer that never finished (an error, a stream cut off)."""
    if refused:
        return _REFUSED
    base = _BY_FINISH_REASON.get(finish_reason or "")
    if base is None:
        return None
    hedges = 0
    if text:
        if text.isascii():
            may_hedge = _may_hedge()
            text = text.lower()
            found = _HEDGES.finditer(text) if may_hedge is None or may_hedge(text) else ()
        else:
            found = _HEDGES_ANY_CASE.finditer(text)
        for _ in found:
            hedges += 1
            if hedges == _MOST_HEDGES:
                break
    return base * _PER_HEDGE**hedges


def confidence_of(exchange: Exchange, *, heuristic: bool) -> Confidence | None:
    """The confidence of the exchange's first answer: from logprobs when the response had
    them, else the heuristic when ``heuristic`` is on. ``None`` for a call that failed or
    whose first answer never finished (a stream cut off or closed early): a partial
    answer's confidence says nothing of the answer."""
    reasons = exchange.finish_reasons
    first_reason = reasons[0] if reasons else None
    if exchange.error_type is not None or first_reason in (None, "error"):
        return None
    answers = exchange.answer_logprobs or {}
    several = (exchange.choice_count or 1) > 1 or len(answers) > 1
    per_answer = (
        tuple((index, *_from_logprobs(answer)) for index, answer in answers.items())
        if several
        else ()
    )
    first = answers.get(0)
    if first is not None:
        value, min_token = _from_logprobs(first)
        return Confidence(value, SOURCE_LOGPROBS, min_token, per_answer)
    if not heuristic:
        return None
    text = exchange.answer_text
    guess = heuristic_confidence(
        first_reason, refused=exchange.refused, text=text[:HEDGE_TEXT_LIMIT] if text else text
    )
    return None if guess is None else Confidence(guess, SOURCE_HEURISTIC, None, per_answer)


def quality_of(exchange: Exchange) -> Quality:
    """Truncation, refusal and content-filter stops of any answer of the exchange."""
    reasons = exchange.finish_reasons or ()
    return Quality(
        truncated="length" in reasons,
        refused=exchange.refused,
        content_filtered="content_filter" in reasons,
    )
