"""Counters summed in the process and reported when the metrics are collected.

An SDK ``Counter.add`` cleans and hashes its attributes, updates an aggregation and
offers an exemplar: 10-15 µs on a slow machine, per point. The project's own counters
(cost, repeats, answer quality, drift alarms) are added up here instead, a dictionary
update per call, and reported through an observable counter: the same cumulative sums
and attributes on every exporter, without exemplars (a counter's exemplar is rarely
what links a metric to a trace; the histograms keep theirs).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Final

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.util.types import AttributeValue

from . import semconv

__all__ = ["MAX_SERIES", "AttributeKey", "InProcessSum", "in_process_sum", "key_of"]

AttributeKey = tuple[tuple[str, AttributeValue], ...]
"""A point's attributes as a hashable key, in the order they were built."""
MAX_SERIES: Final = 2000
"""Attribute sets kept per counter; points of further sets are dropped (the attributes
are low-cardinality by design: models, operations, token types, severities)."""


def key_of(attributes: dict[str, AttributeValue]) -> AttributeKey:
    """``attributes`` as a key (values are strings, numbers and booleans)."""
    return tuple(attributes.items())


class InProcessSum:
    """A monotonic sum per attribute set, reported as an observable counter; thread-safe.
    Made through :func:`in_process_sum`, once per meter and name."""

    __slots__ = ("__weakref__", "_lock", "_sums")

    def __init__(self, meter: Meter, name: str, unit: str) -> None:
        self._sums: dict[AttributeKey, float] = {}
        self._lock = threading.Lock()
        meter.create_observable_counter(
            name,
            callbacks=[self._observe],
            unit=unit,
            description=semconv.METRIC_DESCRIPTIONS[name],
        )

    def add(self, amount: float, key: AttributeKey) -> None:
        """Add ``amount`` (0 or more) to the sum of the attribute set ``key``."""
        sums = self._sums
        with self._lock:
            total = sums.get(key)
            if total is not None:
                sums[key] = total + amount
            elif len(sums) < MAX_SERIES:
                sums[key] = amount

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        with self._lock:
            items = list(self._sums.items())
        return [Observation(total, dict(key)) for key, total in items]


_BY_METER: Final[weakref.WeakKeyDictionary[Meter, dict[str, InProcessSum]]] = (
    weakref.WeakKeyDictionary()
)
"""The sums made on each meter. An SDK meter keeps the first observable instrument of a
name and ignores the callbacks of a second one, so an instrumentation made again on the
same meter (``uninstrument()`` then ``instrument()``) goes on adding to the same sums,
which stay monotonic, as a counter must."""
_BY_METER_LOCK: Final = threading.Lock()


def in_process_sum(meter: Meter, name: str, unit: str) -> InProcessSum:
    """The sum ``name`` of ``meter``, made and registered on first use."""
    with _BY_METER_LOCK:
        sums = _BY_METER.setdefault(meter, {})
        found = sums.get(name)
        if found is None:
            found = sums[name] = InProcessSum(meter, name, unit)
        return found
