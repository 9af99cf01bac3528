"""The one-sided CUSUM test of :mod:`.drift`: bounded scores of how bad a value is
against a baseline, and the exponentially tilted alternative that makes one threshold
mean the same false-alarm rate whatever the shape of the baseline (Beta, bimodal, 0/1).
Plain Python, constant memory; knows neither the ``openai`` client nor OpenTelemetry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

__all__ = ["CLIP", "DEAD_ZONE", "LIMIT", "MAX_THETA", "CusumTest", "score", "tilt"]

CLIP: Final = 1.0
"""Scores are clipped at this many standard deviations: a value far off counts no more
than one just beyond."""
DEAD_ZONE: Final = 0.4
"""Values within this many standard deviations of the median score 0: in a bimodal
stream the spread inside the main mode is noise, what moves is the share of the other."""
_NEWTON_STEPS: Final = 8
LIMIT: Final = 1e150
"""Values are clipped to +-this whatever the range, so that no square overflows."""
MAX_THETA: Final = 40.0 / (CLIP - DEAD_ZONE)
"""Tilts stop here (a likelihood ratio of e**40 for one value): ``exp`` stays finite."""


def score(r: float) -> float:
    """How bad a value ``r`` standard deviations on the bad side of the median is."""
    if r > DEAD_ZONE:
        return (r if r < CLIP else CLIP) - DEAD_ZONE
    if r < -DEAD_ZONE:
        return (r if r > -CLIP else -CLIP) + DEAD_ZONE
    return 0.0


class CusumTest:
    """One one-sided CUSUM of tilted log-likelihood ratios, with its own baseline."""

    __slots__ = (
        "confirm",
        "freeze",
        "gain",
        "held",
        "inv_sd",
        "k",
        "mean",
        "min_drop",
        "moment",
        "offset",
        "pending",
        "run_n",
        "run_sum",
        "shift",
        "stat",
        "theta",
        "threshold",
        "var",
    )

    def __init__(
        self, shift: float, threshold: float, adapt: int, confirm: int, min_drop: float
    ) -> None:
        self.shift = shift
        self.threshold = threshold
        self.freeze = threshold / 2
        self.gain = 1.0 / adapt
        self.confirm = confirm
        self.min_drop = min_drop
        self.clear()
        self.mean = self.var = self.inv_sd = self.offset = self.theta = self.k = 0.0
        self.moment = 1.0

    def clear(self) -> None:
        self.stat = self.held = self.run_sum = 0.0
        self.pending = self.run_n = 0

    def fit(
        self,
        values: Sequence[float],
        scores: list[float],
        *,
        mean: float,
        var: float,
        median: float,
        sign: float,
    ) -> None:
        """Baseline from the warm-up ``values``; ``theta`` such that the exponentially
        tilted baseline has a mean ``shift`` (relative) lower, ``sign`` -1: higher."""
        self.mean = mean
        self.var = var
        self.inv_sd = 1.0 / math.sqrt(var)
        self.offset = median - mean
        target = self.shift * max(abs(mean), math.sqrt(var) * 0.01)
        theta = tilt(values, scores, mean, sign, target)
        self.theta = theta
        self.moment = math.fsum(math.exp(theta * s) for s in scores) / len(scores)
        self.k = math.log(self.moment)
        self.clear()

    def track(self, x: float, tilt: float) -> None:
        """Follow slow movement of the level (exponential forgetting); ``tilt`` is
        ``theta`` times the score of ``x``."""
        gain = self.gain
        dev = x - self.mean
        self.mean += gain * dev
        self.var += gain * (dev * dev - self.var)
        if self.var > 0.0:
            self.inv_sd = 1.0 / math.sqrt(self.var)
        grown = gain * (math.exp(tilt) - self.moment)
        self.k += grown / self.moment  # log(moment) to first order in the gain
        self.moment += grown


def tilt(
    values: Sequence[float], scores: list[float], mean: float, sign: float, target: float
) -> float:
    """The tilt ``theta`` whose tilted mean of ``values`` is ``target`` away from ``mean``
    on the bad side (Newton's method from the first-order guess, kept in a bracket)."""
    n = len(scores)
    cov = math.fsum((x - mean) * s for x, s in zip(values, scores, strict=True)) / n
    if cov * sign >= 0.0:  # scores do not move with the values: no tilt helps
        return 0.0
    theta = min(target / abs(cov), MAX_THETA)
    low, high = 0.0, math.inf
    for _ in range(_NEWTON_STEPS):
        w_sum = wx = ws = wxs = 0.0
        for x, s in zip(values, scores, strict=True):
            w = math.exp(theta * s)
            w_sum += w
            wx += w * x
            ws += w * s
            wxs += w * x * s
        tilted = wx / w_sum
        moved = sign * (mean - tilted)
        slope = abs(wxs / w_sum - tilted * ws / w_sum)  # d(tilted mean)/d(theta)
        if moved < target:
            low = theta
        else:
            high = theta
        if abs(moved - target) <= 1e-3 * target or slope <= 0.0:
            break
        if theta >= MAX_THETA and moved < target:
            break  # a drop this large is beyond what tilting the baseline can reach
        step = theta + (target - moved) / slope
        theta = step if low < step < high else (low + high) / 2 if high < math.inf else 2 * theta
        theta = min(theta, MAX_THETA)
    return theta
