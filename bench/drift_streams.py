"""Seeded synthetic request streams for the drift benchmark (``bench/drift.py``).

One stream is one model's per-request values in arrival order: a confidence in [0, 1] (the
geometric-mean token probability of an answer) or a 0/1 truncation flag. Every stream is
built from the same parts, all drawn from a ``numpy`` generator seeded by the scenario's
name and the stream's index, so a stream is the same on every run and for every detector:

* **level**: the mean of the stream, ``base * (1 + seasonal + wander) * (1 - drop)``:

  * ``base``: the model's usual mean confidence, uniform in [0.80, 0.90] (truncation
    rate: uniform in [0.02, 0.05]);
  * ``seasonal``: a daily cycle, ``SEASONAL_AMPLITUDE * sin(2 pi t / period + phase)``, with
    a period uniform in [20,000, 100,000] requests (a day of traffic) and amplitude 1%
    (relative: 0.85 moves between 0.8415 and 0.8585);
  * ``wander``: slow, bounded, unexplained movement: an Ornstein-Uhlenbeck process with
    stationary standard deviation 0.6% and correlation time 30,000 requests, clipped to
    +-1.5%. Seasonal and wander together move the mean by up to +-2.5% (typically +-1%);
    that is the "no drift" the detectors must stay silent on;
  * ``drop``: 0 on a stationary stream; the relative drop of a drift scenario, either at
    once at the change point or linearly over a ramp.

* **shape** of the values around the level:

  * ``beta``: Beta distributed with concentration (a + b) uniform in [10, 25], so the
    standard deviation is 0.07 to 0.11 around 0.85, with the long tail toward low
    confidence that real answers show;
  * ``bimodal``: a mixture of confident answers (Beta around ``base`` + 0.05 to 0.09,
    at most 0.97, concentration 40) and hesitant ones (Beta around 0.45 to 0.65,
    concentration 12); the level moves through the share of hesitant answers (about 20%),
    which is how a model that meets harder questions, or a worse model, loses confidence;
  * ``bernoulli``: 0/1 truncation flags (``finish_reason == "length"``) with probability
    the level.

* **bursts**: a Poisson process, one burst per 5,000 requests on average, of 5 to 40
  consecutive requests (uniform) whose confidence is Beta around 0.40 to 0.65 (one client
  sending prompts the model is bad at, a tool loop) or, for truncation flags, truncated with
  probability 0.5. Bursts are short incidents, not drift: a detector should not alarm on
  them.

A multi-model stream interleaves three models (traffic shares 60%, 30%, 10%), each with
its own parameters; the level and the bursts run on the shared clock (requests of all
models), and each model's detector sees only its own requests.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "BURST_EVERY",
    "BURST_LENGTH",
    "SEASONAL_AMPLITUDE",
    "WANDER_CAP",
    "WANDER_SD",
    "Change",
    "ModelStream",
    "StreamSpec",
    "generate",
]

SEASONAL_AMPLITUDE = 0.01
"""Relative amplitude of the daily cycle of the mean."""
SEASONAL_PERIOD = (20_000, 100_000)
"""Range of the cycle's period, in requests (shared clock)."""
WANDER_SD = 0.006
"""Stationary standard deviation of the relative wander of the mean."""
WANDER_TAU = 30_000
"""Correlation time of the wander, in requests."""
WANDER_CAP = 0.015
"""The wander is clipped to +- this."""
BURST_EVERY = 5_000
"""Mean number of requests between two bursts."""
BURST_LENGTH = (5, 40)
"""Range of a burst's length, in requests."""
BURST_MEAN = (0.40, 0.65)
"""Range of the mean confidence of a burst's requests."""
BURST_TRUNCATION = 0.5
"""Probability that a request of a burst is truncated (truncation streams)."""

_WANDER_STEP = 100
"""The wander is drawn every this many requests and interpolated between."""
MODEL_SHARES = (0.6, 0.3, 0.1)


@dataclass(frozen=True)
class Change:
    """A drift: the level falls (or, for truncation flags, rises) by ``size`` (relative) from
    request ``start`` on, at once (``ramp == 0``) or linearly over ``ramp`` requests."""

    start: int
    size: float
    ramp: int = 0


@dataclass(frozen=True)
class StreamSpec:
    """What to generate: ``shape`` is ``beta``, ``bimodal``, ``mixed`` (beta for even
    stream indexes, bimodal for odd ones) or ``bernoulli``; ``models`` > 1 interleaves
    that many models (``MODEL_SHARES``) and applies the change to one of them."""

    shape: str
    length: int
    change: Change | None = None
    models: int = 1
    bursts: bool = True
    nuisance: bool = True
    drifting: int = 0
    """The model that drifts, when ``models`` > 1."""


@dataclass
class ModelStream:
    """One model's requests: ``values`` in arrival order, ``change_at`` the index (in this
    model's own requests) where the change starts, ``None`` when this model does not
    drift."""

    values: list[float]
    change_at: int | None = None
    ramp: int = 0
    label: str = ""
    meta: dict[str, float] = field(default_factory=dict)


def _rng(scenario: str, index: int) -> np.random.Generator:
    digest = hashlib.blake2b(f"{scenario}/{index}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def _wander(rng: np.random.Generator, length: int) -> np.ndarray:
    """Ornstein-Uhlenbeck process, stationary sd WANDER_SD, correlation time WANDER_TAU,
    drawn every _WANDER_STEP requests, linearly interpolated, clipped to WANDER_CAP."""
    steps = length // _WANDER_STEP + 2
    decay = math.exp(-_WANDER_STEP / WANDER_TAU)
    noise = rng.normal(0.0, WANDER_SD * math.sqrt(1 - decay * decay), steps)
    coarse = np.empty(steps)
    coarse[0] = rng.normal(0.0, WANDER_SD)
    for i in range(1, steps):  # a few thousand steps at most
        coarse[i] = coarse[i - 1] * decay + noise[i]
    fine = np.interp(np.arange(length) / _WANDER_STEP, np.arange(steps), coarse)
    return np.clip(fine, -WANDER_CAP, WANDER_CAP)


def _nuisance(rng: np.random.Generator, length: int) -> np.ndarray:
    """Relative movement of the mean on a stationary stream: seasonal cycle + wander."""
    period = rng.uniform(*SEASONAL_PERIOD)
    phase = rng.uniform(0, 2 * math.pi)
    t = np.arange(length)
    return SEASONAL_AMPLITUDE * np.sin(2 * math.pi * t / period + phase) + _wander(rng, length)


def _change_profile(length: int, change: Change | None) -> np.ndarray:
    """Fraction of the change in effect at each request (0 before, 1 after the ramp)."""
    profile = np.zeros(length)
    if change is None:
        return profile
    t = np.arange(length)
    if change.ramp <= 0:
        profile[t >= change.start] = 1.0
    else:
        profile = np.clip((t - change.start + 1) / change.ramp, 0.0, 1.0)
    return profile


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float) -> np.ndarray:
    mean = np.clip(mean, 0.01, 0.99)
    return rng.beta(mean * concentration, (1 - mean) * concentration)


def _bursts(rng: np.random.Generator, length: int) -> np.ndarray:
    """Boolean mask of the requests inside a burst, and their burst mean (NaN outside)."""
    means = np.full(length, np.nan)
    t = int(rng.exponential(BURST_EVERY))
    while t < length:
        size = int(rng.integers(BURST_LENGTH[0], BURST_LENGTH[1] + 1))
        means[t : t + size] = rng.uniform(*BURST_MEAN)
        t += size + int(rng.exponential(BURST_EVERY))
    return means


def _one_model(
    rng: np.random.Generator, shape: str, length: int, change: Change | None, spec: StreamSpec
) -> tuple[np.ndarray, dict[str, float]]:
    """Values of one model on the shared clock (``length`` requests)."""
    nuisance = _nuisance(rng, length) if spec.nuisance else np.zeros(length)
    profile = _change_profile(length, change)
    size = 0.0 if change is None else change.size
    burst_means = _bursts(rng, length) if spec.bursts else np.full(length, np.nan)
    in_burst = ~np.isnan(burst_means)
    meta: dict[str, float] = {}
    if shape == "bernoulli":
        base = rng.uniform(0.02, 0.05)
        p = base * (1 + nuisance) * (1 + size * profile)
        p = np.where(in_burst, BURST_TRUNCATION, p)
        values = (rng.random(length) < p).astype(float)
        meta["base"] = base
        return values, meta
    base = rng.uniform(0.80, 0.90)
    level = base * (1 + nuisance) * (1 - size * profile)
    if shape == "beta":
        concentration = rng.uniform(10, 25)
        values = _beta(rng, level, concentration)
        meta["concentration"] = concentration
    elif shape == "bimodal":
        high = min(0.97, base + rng.uniform(0.05, 0.09))
        low = rng.uniform(0.45, 0.65)
        hesitant = np.clip((high - level) / (high - low), 0.0, 1.0)
        pick_low = rng.random(length) < hesitant
        values = np.where(
            pick_low,
            _beta(rng, np.full(length, low), 12.0),
            _beta(rng, np.full(length, high), 40.0),
        )
        meta.update(high=high, low=low)
    else:
        raise ValueError(f"unknown shape {shape!r}")
    if in_burst.any():
        values = np.where(in_burst, _beta(rng, np.nan_to_num(burst_means, nan=0.5), 10.0), values)
    meta["base"] = base
    return values, meta


def generate(scenario: str, index: int, spec: StreamSpec) -> list[ModelStream]:
    """The ``index``-th stream of ``scenario``: one :class:`ModelStream` per model."""
    rng = _rng(scenario, index)
    shape = spec.shape
    if shape == "mixed":
        shape = "beta" if index % 2 == 0 else "bimodal"
    if spec.models <= 1:
        values, meta = _one_model(rng, shape, spec.length, spec.change, spec)
        change = spec.change
        return [
            ModelStream(
                values.tolist(),
                None if change is None else change.start,
                0 if change is None else change.ramp,
                shape,
                meta,
            )
        ]
    shares = np.array(MODEL_SHARES[: spec.models])
    owner = rng.choice(spec.models, size=spec.length, p=shares / shares.sum())
    drifting = spec.drifting if spec.change is not None else -1
    streams = []
    for model in range(spec.models):
        model_shape = shape if spec.shape != "mixed" else ("beta", "bimodal")[model % 2]
        change = spec.change if model == drifting else None
        values, meta = _one_model(rng, model_shape, spec.length, change, spec)
        mine = owner == model
        change_at = None
        if change is not None:
            change_at = int(np.count_nonzero(mine[: change.start]))
        streams.append(
            ModelStream(
                values[mine].tolist(),
                change_at,
                0 if change is None else change.ramp,
                f"{model_shape}/model{model}",
                meta,
            )
        )
    return streams
