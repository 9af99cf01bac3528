"""Behaviour settings of the simulator."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LogprobDrift:
    """The model's confidence moving over time: after ``start`` requests (counted per
    model), the mean logprob goes linearly, over ``duration`` more requests, from the
    configured ``mean_logprob`` to ``mean_logprob`` here (at once with ``duration=0``),
    and stays there. Only the ``models`` named drift; every model when empty."""

    start: int
    mean_logprob: float
    duration: int = 0
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _require_int("start", self.start, minimum=0)
        _require_int("duration", self.duration, minimum=0)
        if not _is_finite_number(self.mean_logprob) or self.mean_logprob > 0:
            raise ValueError(
                f"mean_logprob must be a finite number <= 0, got {self.mean_logprob!r}"
            )
        if not isinstance(self.models, tuple) or not all(
            isinstance(model, str) for model in self.models
        ):
            raise ValueError(f"models must be a tuple of model names, got {self.models!r}")

    def mean_at(self, model: str, request: int, base: float) -> float:
        """The mean logprob of ``model``'s ``request``-th request (from 0)."""
        if (self.models and model not in self.models) or request < self.start:
            return base
        if self.duration == 0 or request >= self.start + self.duration:
            return self.mean_logprob
        progress = (request - self.start) / self.duration
        return base + (self.mean_logprob - base) * progress


@dataclass(frozen=True)
class SimulatorConfig:
    """How the simulated model behaves: latency, output length, confidence and failures."""

    time_to_first_token: float = 0.0
    """Seconds before the first stream chunk, or before a non-streamed response."""
    inter_token_delay: float = 0.0
    """Seconds between stream chunks; for non-streamed responses, added per token."""
    min_completion_tokens: int = 8
    max_completion_tokens: int = 48
    """The generated length is chosen deterministically from the prompt in [min, max]."""
    mean_logprob: float = -0.2
    """Average logprob of the chosen tokens (<= 0); lower means less confident."""
    logprob_drift: LogprobDrift | None = None
    """How ``mean_logprob`` moves over time, per model (see :class:`LogprobDrift`)."""
    error_rate: float = 0.0
    """Probability (0..1) that a request fails with an injected 500."""
    seed: int = 0

    def __post_init__(self) -> None:
        _require_non_negative("time_to_first_token", self.time_to_first_token)
        _require_non_negative("inter_token_delay", self.inter_token_delay)
        _require_int("min_completion_tokens", self.min_completion_tokens, minimum=1)
        _require_int("max_completion_tokens", self.max_completion_tokens, minimum=1)
        _require_int("seed", self.seed, minimum=None)
        if self.max_completion_tokens < self.min_completion_tokens:
            raise ValueError(
                "max_completion_tokens must be >= min_completion_tokens, "
                f"got {self.max_completion_tokens} < {self.min_completion_tokens}"
            )
        if not _is_finite_number(self.mean_logprob) or self.mean_logprob > 0:
            raise ValueError(
                f"mean_logprob must be a finite number <= 0, got {self.mean_logprob!r}"
            )
        if self.logprob_drift is not None and not isinstance(self.logprob_drift, LogprobDrift):
            raise ValueError(f"logprob_drift must be a LogprobDrift, got {self.logprob_drift!r}")
        if not _is_finite_number(self.error_rate) or not 0 <= self.error_rate <= 1:
            raise ValueError(f"error_rate must be a number in [0, 1], got {self.error_rate!r}")

    def with_changes(self, **changes: Any) -> SimulatorConfig:
        """Return a copy with some fields replaced (validated like the constructor)."""
        known = {field.name for field in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown SimulatorConfig field(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)


def _is_finite_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _require_non_negative(name: str, value: float) -> None:
    if not _is_finite_number(value) or value < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")


def _require_int(name: str, value: object, *, minimum: int | None) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
