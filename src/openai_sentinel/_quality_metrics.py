"""The instruments of answer quality: confidence, truncations, refusals, content-filter
stops, and the drift gauges and alarms."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Final

from opentelemetry.context import Context
from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._sums import AttributeKey, InProcessSum
from .analyzers import Findings
from .analyzers.drift_monitor import OK, DriftChange, SeriesState

__all__ = ["QualityMetrics"]

Attributes = dict[str, AttributeValue]

SEVERITY_LEVELS: Final = {"ok": 0, "warning": 1, "critical": 2}


def _series_attributes(state: SeriesState | DriftChange) -> Attributes:
    return {
        semconv.GEN_AI_REQUEST_MODEL: state.model,
        semconv.GEN_AI_OPERATION_NAME: state.operation,
        semconv.SENTINEL_DRIFT_SIGNAL: state.signal,
    }


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
        describe = semconv.METRIC_DESCRIPTIONS
        self._confidence = meter.create_histogram(
            semconv.METRIC_CONFIDENCE,
            unit="1",
            description=describe[semconv.METRIC_CONFIDENCE],
            explicit_bucket_boundaries_advisory=list(semconv.CONFIDENCE_BUCKETS),
        )
        self._truncations = InProcessSum(meter, semconv.METRIC_TRUNCATIONS, "{response}")
        self._refusals = InProcessSum(meter, semconv.METRIC_REFUSALS, "{response}")
        self._content_filtered = InProcessSum(meter, semconv.METRIC_CONTENT_FILTERED, "{response}")
        self._alarms = InProcessSum(meter, semconv.METRIC_DRIFT_ALARMS, "{alarm}")

        def drops(options: CallbackOptions) -> Iterable[Observation]:
            if not active():
                return []
            return [
                Observation(round(state.drop * 100.0, 4), _series_attributes(state))
                for state in states()
                if state.drop is not None
            ]

        def severities(options: CallbackOptions) -> Iterable[Observation]:
            if not active():
                return []
            return [
                Observation(SEVERITY_LEVELS.get(state.severity, 0), _series_attributes(state))
                for state in states()
            ]

        meter.create_observable_gauge(
            semconv.METRIC_DRIFT,
            callbacks=[drops],
            unit="%",
            description=describe[semconv.METRIC_DRIFT],
        )
        meter.create_observable_gauge(
            semconv.METRIC_DRIFT_SEVERITY,
            callbacks=[severities],
            unit="{severity}",
            description=describe[semconv.METRIC_DRIFT_SEVERITY],
        )

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
