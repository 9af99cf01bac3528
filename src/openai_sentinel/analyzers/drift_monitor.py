"""Drift watched per model and operation: one detector per signal (answer confidence,
output length, truncation rate), state changes reported once per cooldown.

Knows neither the ``openai`` client nor OpenTelemetry: the emitter turns the changes
into span events, log records and metric points, and calls the user's callback.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .. import semconv
from .drift import OK, ConfidenceDriftDetector

__all__ = [
    "SIGNAL_CONFIDENCE",
    "SIGNAL_OUTPUT_LENGTH",
    "SIGNAL_TRUNCATION",
    "DriftChange",
    "DriftMonitor",
    "SeriesState",
]

SIGNAL_CONFIDENCE: Final = semconv.DRIFT_SIGNAL_CONFIDENCE
SIGNAL_OUTPUT_LENGTH: Final = semconv.DRIFT_SIGNAL_OUTPUT_LENGTH
SIGNAL_TRUNCATION: Final = semconv.DRIFT_SIGNAL_TRUNCATION
MAX_SERIES: Final = 256
"""Series (signal, model, operation) watched at most; later ones are not watched."""

DetectorFactory = Callable[[str], ConfidenceDriftDetector]


def default_detector(signal: str) -> ConfidenceDriftDetector:
    """The tuned detector for ``signal``: confidence (in [0, 1]) and output length (in
    tokens, unbounded) alarm when they drop, the truncation rate (0 or 1 per call) when
    it rises."""
    if signal == SIGNAL_TRUNCATION:
        return ConfidenceDriftDetector(
            direction="increase",
            small_drop=0.3,
            large_drop=0.8,
            min_drop=0.2,
            critical_drop=1.0,
            warmup=3000,
        )
    if signal == SIGNAL_OUTPUT_LENGTH:
        return ConfidenceDriftDetector(high=math.inf)
    return ConfidenceDriftDetector()


@dataclass(frozen=True, slots=True)
class DriftChange:
    """A series changed severity (``ok`` → ``warning`` → ``critical`` → ``ok``)."""

    signal: str
    model: str
    operation: str
    previous: str
    severity: str
    drop: float | None
    """How much worse the current level is than the baseline, relative: 0.08 is 8% lower
    confidence or output length, or an 8% higher truncation rate."""
    baseline: float | None
    reported: bool = True
    """False when the cooldown holds the news back: the change still counts as an alarm
    (and the gauges show it), but makes no span event, log record or callback."""


@dataclass(frozen=True, slots=True)
class SeriesState:
    """Where one series stands, for the gauges."""

    signal: str
    model: str
    operation: str
    severity: str
    drop: float | None


class _Series:
    __slots__ = ("detector", "rising", "severity")

    def __init__(self, detector: ConfidenceDriftDetector, *, rising: bool) -> None:
        self.detector = detector
        self.severity = OK
        self.rising = rising
        """A rise is worse (the truncation rate): the detector's drop is negated."""

    def worse(self) -> float | None:
        """How much worse than the baseline, relative: positive on the watched side."""
        drop = self.detector.drop
        if drop is None:
            return None
        return -drop if self.rising else drop


class DriftMonitor:
    """Feeds each finished call's signals to its series' detectors; thread-safe."""

    __slots__ = ("_cooldown", "_factory", "_last_reported", "_lock", "_series")

    def __init__(self, cooldown: float, factory: DetectorFactory = default_detector) -> None:
        self._cooldown = cooldown
        self._factory = factory
        self._series: dict[tuple[str, str, str], _Series] = {}
        self._last_reported: dict[tuple[str, str, str, str], float] = {}
        """(signal, model, operation, severity) -> when a change to it was last reported."""
        self._lock = threading.Lock()

    def _update(
        self, signal: str, model: str, operation: str, value: float, now: float
    ) -> DriftChange | None:
        key = (signal, model, operation)
        series = self._series.get(key)
        if series is None:
            if len(self._series) >= MAX_SERIES:
                return None
            series = self._series[key] = _Series(
                self._factory(signal), rising=signal == SIGNAL_TRUNCATION
            )
        detector = series.detector
        detector.update(value)
        severity = detector.severity
        previous = series.severity
        if severity == previous:
            return None
        series.severity = severity
        news = (signal, model, operation, severity)
        last = self._last_reported.get(news)
        held_back = last is not None and now - last < self._cooldown
        if not held_back:
            self._last_reported[news] = now
        return DriftChange(
            signal,
            model,
            operation,
            previous,
            severity,
            series.worse(),
            detector.baseline,
            reported=not held_back,
        )

    def observe(
        self,
        model: str,
        operation: str,
        *,
        confidence: float | None,
        output_tokens: int | None,
        truncated: bool | None,
        now: float | None = None,
    ) -> list[DriftChange]:
        """One finished call's signals (``None``: not known for this call); the state
        changes they caused, those the cooldown holds back marked ``reported=False``."""
        now = time.monotonic() if now is None else now
        changes: list[DriftChange] = []
        with self._lock:
            if confidence is not None:
                change = self._update(SIGNAL_CONFIDENCE, model, operation, confidence, now)
                if change is not None:
                    changes.append(change)
            if output_tokens is not None:
                length = float(output_tokens)
                change = self._update(SIGNAL_OUTPUT_LENGTH, model, operation, length, now)
                if change is not None:
                    changes.append(change)
            if truncated is not None:
                rate = 1.0 if truncated else 0.0
                change = self._update(SIGNAL_TRUNCATION, model, operation, rate, now)
                if change is not None:
                    changes.append(change)
        return changes

    def states(self) -> list[SeriesState]:
        """Every watched series' severity and drop (for the gauges)."""
        with self._lock:
            return [
                SeriesState(signal, model, operation, series.severity, series.worse())
                for (signal, model, operation), series in self._series.items()
            ]
