"""The instruments of answer quality: confidence, truncations, refusals, content-filter
stops, and the drift gauges and alarms."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import Final

from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._metrics import histogram
from ._sums import AttributeKey, in_process_sum
from .analyzers import Findings
from .analyzers.drift import OK
from .analyzers.drift_monitor import DriftChange, SeriesState

__all__ = ["QualityMetrics"]

Attributes = dict[str, AttributeValue]

SEVERITY_LEVELS: Final = {semconv.DRIFT_OK: 0, semconv.DRIFT_WARNING: 1, semconv.DRIFT_CRITICAL: 2}


def _series_attributes(state: SeriesState | DriftChange) -> Attributes:
    return {
        semconv.GEN_AI_REQUEST_MODEL: state.model,
        semconv.GEN_AI_OPERATION_NAME: state.operation,
        semconv.SENTINEL_DRIFT_SIGNAL: state.signal,
    }


class _DriftGauges:
    """The two drift gauges of one meter, registered once (an SDK meter ignores the
    callbacks of a second instrument of the same name), reporting the states of the
    instrumentation made last on it while it is active."""

    __slots__ = ("__weakref__", "source")

    def __init__(self, meter: Meter) -> None:
        self.source: tuple[Callable[[], Iterable[SeriesState]], Callable[[], bool]] | None = None
        describe = semconv.METRIC_DESCRIPTIONS
        meter.create_observable_gauge(
            semconv.METRIC_DRIFT,
            callbacks=[self._drops],
            unit="%",
            description=describe[semconv.METRIC_DRIFT],
        )
        meter.create_observable_gauge(
            semconv.METRIC_DRIFT_SEVERITY,
            callbacks=[self._severities],
            unit="{severity}",
            description=describe[semconv.METRIC_DRIFT_SEVERITY],
        )

    def _states(self) -> list[SeriesState]:
        source = self.source
        if source is None or not source[1]():
            return []
        return list(source[0]())

    def _drops(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(round(state.drop * 100.0, 4), _series_attributes(state))
            for state in self._states()
            if state.drop is not None
        ]

    def _severities(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(SEVERITY_LEVELS.get(state.severity, 0), _series_attributes(state))
            for state in self._states()
        ]


_GAUGES: Final[weakref.WeakKeyDictionary[Meter, _DriftGauges]] = weakref.WeakKeyDictionary()
_GAUGES_LOCK: Final = threading.Lock()


def _drift_gauges(meter: Meter) -> _DriftGauges:
    with _GAUGES_LOCK:
        gauges = _GAUGES.get(meter)
        if gauges is None:
            gauges = _GAUGES[meter] = _DriftGauges(meter)
        return gauges


class QualityMetrics:
    """Records one call's confidence and quality signals; reports the drift gauges from
    ``states`` (called at each collection) while ``active`` says so."""

    __slots__ = ("_alarms", "_confidence", "_content_filtered", "_refusals", "_truncations")

    def __init__(
        self,
        meter: Meter,
        states: Callable[[], Iterable[SeriesState]],
        active: Callable[[], bool],
    ) -> None:
        self._confidence = histogram(
            meter, semconv.METRIC_CONFIDENCE, "1", semconv.CONFIDENCE_BUCKETS
        )
        self._truncations = in_process_sum(meter, semconv.METRIC_TRUNCATIONS, "{response}")
        self._refusals = in_process_sum(meter, semconv.METRIC_REFUSALS, "{response}")
        self._content_filtered = in_process_sum(
            meter, semconv.METRIC_CONTENT_FILTERED, "{response}"
        )
        self._alarms = in_process_sum(meter, semconv.METRIC_DRIFT_ALARMS, "{alarm}")

        _drift_gauges(meter).source = (states, active)

    def record(
        self, findings: Findings, attributes: Attributes, key: AttributeKey, context: Context | None
    ) -> None:
        """One call's points; ``key`` is ``attributes`` as a key."""
        confidence, quality, changes = findings.confidence, findings.quality, findings.drift
        if confidence is not None:
            self._confidence.record(
                confidence.value,
                {**attributes, semconv.SENTINEL_CONFIDENCE_SOURCE: confidence.source},
                context,
            )
        if quality:
            if quality.truncated:
                self._truncations.add(1, key)
            if quality.refused:
                self._refusals.add(1, key)
            if quality.content_filtered:
                self._content_filtered.add(1, key)
        for change in changes:
            if change.severity != OK:
                alarm = (
                    *_series_attributes(change).items(),
                    (semconv.SENTINEL_DRIFT_SEVERITY, change.severity),
                )
                self._alarms.add(1, alarm)
