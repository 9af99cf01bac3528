"""Deterministic pseudo-random token logprobs around a configured mean."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._vocabulary import ALL_WORDS, PUNCTUATION

LOGPROB_FLOOR = -9999.0
"""What the OpenAI API reports for a practically impossible token."""
_DECIMALS = 6


@dataclass(frozen=True)
class TokenLogprob:
    """A chosen token, its logprob and the most likely tokens at that position."""

    token: str
    logprob: float
    top_logprobs: tuple[tuple[str, float], ...]

    def as_json(self) -> dict[str, Any]:
        """The OpenAI ``ChatCompletionTokenLogprob`` shape."""
        return {
            "token": self.token,
            "logprob": self.logprob,
            "bytes": list(self.token.encode("utf-8")),
            "top_logprobs": [
                {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}
                for token, logprob in self.top_logprobs
            ],
        }


def sample_token_logprobs(
    tokens: Sequence[str],
    *,
    mean_logprob: float,
    top_count: int,
    chosen_rng: random.Random,
    alternatives_rng: random.Random,
) -> list[TokenLogprob]:
    """Logprobs for ``tokens``; the chosen ones average ``mean_logprob``.

    Chosen logprobs are exponentially distributed below 0 (most tokens confident, a long
    tail of unsure ones). ``top_logprobs`` has ``top_count`` entries, starts with the chosen
    token, is sorted descending and its probabilities sum to at most 1. The chosen values
    only depend on ``chosen_rng``, so they do not change with ``top_count``.
    """
    result: list[TokenLogprob] = []
    for token in tokens:
        logprob = _chosen_logprob(chosen_rng, mean_logprob)
        top = [(token, logprob), *_alternatives(token, logprob, top_count - 1, alternatives_rng)]
        result.append(TokenLogprob(token, logprob, tuple(top[:top_count])))
    return result


def _chosen_logprob(rng: random.Random, mean_logprob: float) -> float:
    if mean_logprob >= 0:
        return 0.0
    sampled = -rng.expovariate(1.0 / -mean_logprob)
    return min(0.0, round(max(sampled, LOGPROB_FLOOR), _DECIMALS))


def _alternatives(
    token: str, logprob: float, count: int, rng: random.Random
) -> list[tuple[str, float]]:
    if count <= 0:
        return []
    prefix = " " if token.startswith(" ") else ""
    pool = [prefix + word for word in ALL_WORDS] + list(PUNCTUATION)
    candidates = [candidate for candidate in rng.sample(pool, count + 1) if candidate != token]
    remaining_mass = max(0.0, 1.0 - math.exp(logprob))
    previous = logprob
    alternatives: list[tuple[str, float]] = []
    for candidate in candidates[:count]:
        share = remaining_mass * rng.uniform(0.3, 0.7)
        value = math.log(share) if share > 0 else LOGPROB_FLOOR
        value = round(max(min(value, previous), LOGPROB_FLOOR), _DECIMALS)
        alternatives.append((candidate, value))
        remaining_mass = max(0.0, remaining_mass - math.exp(value))
        previous = value
    return alternatives
