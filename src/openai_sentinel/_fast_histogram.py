"""An SDK histogram's ``record``, with its per-point lookups done once per attribute set.

Every ``Histogram.record`` of ``opentelemetry-sdk`` cleans and copies its attributes,
hashes them into a key and looks the key up in each reader's table, before the
aggregation gets the value: about 20 µs a point in place on a slow machine
(``bench/sdk_floor.py``), most of what a call's five points cost, and most of what a
stream chunk costs (``gen_ai.client.operation.time_per_output_chunk`` takes a point per
chunk). The attribute sets of an instrumentation are few (operations, models, servers,
token types), so :class:`FastHistogram` works out, once per attribute set, which of the
SDK's view matches take the point and under which key, and then hands each value to the
SDK's own ``aggregate`` as ``_ViewInstrumentMatch.consume_measurement`` would, with the
exemplar filter asked as ``SynchronousMeasurementConsumer`` would ask it. The data points
and exemplars are the same (``tests/unit/test_fast_histogram.py`` compares them with
``record``'s under cumulative and delta readers, views, several readers, the cardinality
limit and every exemplar filter) at a fraction of the cost. A stream's chunk gaps go in
batches (:meth:`FastHistogram.record_batch`): one measurement time and no exemplar.

This reaches into the internals of ``opentelemetry-sdk`` (``_ViewInstrumentMatch`` as of
1.45), so it checks what it finds first. Anything it does not recognise (another SDK
layout, a proxy or no-op instrument, attribute values the SDK would clean, a value it
would warn about) goes through ``Histogram.record``, and any failure switches the
histogram to ``Histogram.record`` for good.
"""

from __future__ import annotations

import dataclasses
import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from functools import cache, reduce
from operator import add
from time import time_ns
from typing import Any, Final, NamedTuple

from opentelemetry.context import Context, get_current
from opentelemetry.metrics import Histogram
from opentelemetry.util.types import AttributeValue

__all__ = ["MAX_ATTRIBUTE_SETS", "FastHistogram"]

Attributes = dict[str, AttributeValue]
MAX_ATTRIBUTE_SETS: Final = 2000
"""Attribute sets whose lookups a histogram keeps (the SDK's default cardinality limit);
the lookups of further sets are made again for each of their points."""
_SCALARS: Final = (str, bool, int, float)
_MEASUREMENT_FIELDS: Final = ("value", "time_unix_nano", "instrument", "context", "attributes")
_Plan = tuple[Any, Any, Attributes]
"""A view match of the SDK, the key of the attribute set in it, the attributes it keeps."""
_Key = tuple[tuple[tuple[str, AttributeValue], ...], tuple[type, ...]]
"""An attribute set as a key: its items and the types of its values (``1``, ``1.0`` and
``True`` are equal keys of a dictionary, and different attribute values to the SDK)."""


class _SdkParts(NamedTuple):
    histogram: type
    """The SDK's histogram class."""
    measurement: type
    """The SDK's ``Measurement``."""
    hash_attributes: Callable[[Any], Any]
    """How a view match keys an attribute set."""
    quiet_filters: tuple[type, ...]
    """Exemplar filters that never sample a point recorded outside a sampled span."""
    buckets: type | None
    """The explicit-bucket histogram aggregation, whose fields :func:`_fold` updates."""


@cache
def _sdk_parts() -> _SdkParts | None:
    """The parts of the SDK this module works with; ``None`` when the SDK is absent or
    laid out otherwise. Looked up when the first histogram is made, so that importing
    this module imports no SDK."""
    try:
        from opentelemetry.sdk.metrics import (
            AlwaysOffExemplarFilter,
            TraceBasedExemplarFilter,
        )
        from opentelemetry.sdk.metrics import Histogram as SdkHistogram
        from opentelemetry.sdk.metrics._internal._view_instrument_match import (
            _hash_attributes,
        )
        from opentelemetry.sdk.metrics._internal.measurement import Measurement
    except ImportError:
        return None
    fields = tuple(field.name for field in dataclasses.fields(Measurement))
    if fields != _MEASUREMENT_FIELDS:
        return None
    buckets: type | None
    try:
        from opentelemetry.sdk.metrics._internal.aggregation import (
            _ExplicitBucketHistogramAggregation,
        )
    except ImportError:
        buckets = None
    else:
        buckets = _ExplicitBucketHistogramAggregation
    return _SdkParts(
        SdkHistogram,
        Measurement,
        _hash_attributes,
        (TraceBasedExemplarFilter, AlwaysOffExemplarFilter),
        buckets,
    )


class FastHistogram:
    """Records into ``histogram`` the points its ``record`` would; thread-safe as the
    SDK's aggregations are."""

    __slots__ = ("_histogram", "_parts", "_plans", "fast")

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._parts = _sdk_parts()
        self._plans: dict[_Key, tuple[object, list[_Plan]]] = {}
        self.fast = self._parts is not None and isinstance(histogram, self._parts.histogram)
        """Whether points still go straight to the SDK's aggregations."""

    def record(self, value: float, attributes: Attributes, context: Context | None) -> None:
        """``Histogram.record(value, attributes, context)``; ``attributes`` must not
        change afterwards (an exemplar may keep them)."""
        if self.fast and value >= 0 and math.isfinite(value):  # else record() warns
            try:
                plans = self._plans_for(attributes)
            except Exception:  # an SDK this does not know after all: record() from now on
                self.fast = False
                plans = None
            if plans is not None:
                try:
                    self._aggregate_one(plans, value, attributes, context)
                except Exception:
                    self.fast = False
                    raise
                return
        self._histogram.record(value, attributes, context)

    def record_batch(
        self, values: Sequence[float], attributes: Attributes, context: Context
    ) -> None:
        """Record every value of ``values`` with ``attributes``, in ``context`` (which
        must hold no recording span: these points are not exemplars)."""
        if self.fast and values and min(values) >= 0 and sum(values) < math.inf:
            try:
                plans = self._plans_for(attributes, quiet=True)
            except Exception:
                self.fast = False
                plans = None
            if plans is not None:
                try:
                    self._aggregate_batch(plans, values, context)
                except Exception:
                    self.fast = False
                    raise
                return
        record = self._histogram.record
        for value in values:
            record(value, attributes, context)

    def _plans_for(self, attributes: Attributes, *, quiet: bool = False) -> list[_Plan] | None:
        """Each aggregation's view match, key and attributes for ``attributes``; ``None``
        when the points need ``record`` (attributes it would clean, with ``quiet`` an
        exemplar filter that could sample them)."""
        assert self._parts is not None
        histogram: Any = self._histogram
        if not histogram._is_enabled():
            return []  # a disabled instrument records nothing
        consumer = histogram._measurement_consumer
        if quiet and not isinstance(
            consumer._sdk_config.exemplar_filter, self._parts.quiet_filters
        ):
            return None
        storages = consumer._reader_storages  # replaced, never changed, as readers come and go
        if type(attributes) is not dict:  # None, or a mapping the SDK copies its own way
            return None
        try:
            key: _Key = (tuple(attributes.items()), tuple(map(type, attributes.values())))
            cached = self._plans.get(key)
        except TypeError:  # an unhashable value: record() cleans it
            return None
        if cached is not None and cached[0] is storages:
            return cached[1]
        plans = self._make_plans(attributes, storages)
        if plans is not None and (key in self._plans or len(self._plans) < MAX_ATTRIBUTE_SETS):
            self._plans[key] = (storages, plans)
        return plans

    def _make_plans(self, attributes: Attributes, storages: Any) -> list[_Plan] | None:
        assert self._parts is not None
        hash_attributes = self._parts.hash_attributes
        for name, attribute in attributes.items():
            if not (isinstance(name, str) and name and isinstance(attribute, _SCALARS)):
                return None
        plans: list[_Plan] = []
        for storage in storages.values():
            for match in storage._get_or_init_view_instrument_match(self._histogram):
                keys = match._view._attribute_keys
                kept = (
                    dict(attributes)
                    if keys is None
                    else {key: value for key, value in attributes.items() if key in keys}
                )
                plans.append((match, hash_attributes(kept), kept))
        return plans

    def _aggregate_one(
        self,
        plans: list[_Plan],
        value: float,
        attributes: Attributes,
        context: Context | None,
    ) -> None:
        """Give the value to each planned aggregation, as the SDK's measurement consumer
        and ``_ViewInstrumentMatch.consume_measurement`` would."""
        if not plans:
            return
        assert self._parts is not None
        context = context or get_current()
        now = time_ns()
        # The measurement record() makes, with its attributes cleaned already: they are
        # string keys and scalar values, which cleaning copies as they are.
        measurement = self._parts.measurement(value, now, self._histogram, context, None)
        cleaned = dict(attributes)
        object.__setattr__(measurement, "attributes", cleaned)
        consumer: Any = self._histogram._measurement_consumer  # type: ignore[attr-defined]
        sample = consumer._sdk_config.exemplar_filter.should_sample(value, now, cleaned, context)
        for plan in plans:
            _aggregate(plan, measurement, (value,), sample, None)

    def _aggregate_batch(
        self, plans: list[_Plan], values: Sequence[float], context: Context
    ) -> None:
        """Give every value to each planned aggregation without sampling exemplars."""
        if not plans:
            return
        assert self._parts is not None
        # One measurement for the batch, without attributes (they would be cleaned
        # again, and an aggregation reads them only to sample an exemplar, which these
        # points never are), its value set point by point: an aggregation that samples
        # no exemplar reads the value and keeps nothing of the measurement.
        measurement = self._parts.measurement(0, time_ns(), self._histogram, context, None)
        for plan in plans:
            _aggregate(plan, measurement, values, False, self._parts.buckets)


def _aggregate(
    plan: _Plan, measurement: Any, values: Sequence[float], sample: bool, buckets: type | None
) -> None:
    """Give ``values`` to the aggregation of the ``plan``'s key in its view match, found
    (or made, with the attributes it keeps) as ``_ViewInstrumentMatch.consume_measurement``
    finds it, each as ``measurement`` with its value set to it; or, to an aggregation of
    the class ``buckets`` (points that are not sampled), all at once."""
    match, key, kept = plan
    if match._reset_on_collect:  # a delta reader: collect() may swap the table
        with match._lock:
            _give(_aggregation_locked(match, key, kept), measurement, values, sample, buckets)
        return
    aggregation = match._attributes_aggregation.get(key)
    if aggregation is None:
        with match._lock:
            aggregation = _aggregation_locked(match, key, kept)
    _give(aggregation, measurement, values, sample, buckets)


def _give(
    aggregation: Any, measurement: Any, values: Sequence[float], sample: bool, buckets: type | None
) -> None:
    if type(aggregation) is buckets and _fold(aggregation, values):
        return
    aggregate = aggregation.aggregate
    set_value = object.__setattr__
    for value in values:
        set_value(measurement, "value", value)
        aggregate(measurement, sample)


def _fold(aggregation: Any, values: Sequence[float]) -> bool:
    """What the explicit-bucket aggregation's ``aggregate`` does for each of ``values``
    (none sampled as an exemplar), under its lock taken once: the sum added to in the
    same order, the minimum, the maximum, the bucket counts. False, with nothing
    changed, when the aggregation is not laid out as expected.

    The values are sorted once (in C) and each bucket counted with one bisection of
    them, so a batch costs a dozen bisections rather than one per value: half the time
    of a loop over 256 gaps. ``aggregate`` puts a value in the first bucket whose upper
    boundary is not below it (``bisect_left`` of the boundaries), so bucket ``i`` holds
    the values up to ``boundaries[i]`` and above ``boundaries[i - 1]``."""
    try:
        lock = aggregation._lock
        boundaries = aggregation._boundaries
        record_min_max = aggregation._record_min_max
        aggregation._sum, aggregation._min, aggregation._max, aggregation._value  # noqa: B018
    except AttributeError:
        return False
    ordered = sorted(values)  # stable: of equal values, the first given stays first
    with lock:
        counts = aggregation._value
        if counts is None:
            counts = aggregation._value = aggregation._get_empty_bucket_counts()
        below = 0
        for bucket, boundary in enumerate(boundaries):
            up_to = bisect_right(ordered, boundary, below)
            counts[bucket] += up_to - below
            below = up_to
        counts[len(boundaries)] += len(ordered) - below
        aggregation._sum = reduce(add, values, aggregation._sum)  # in order, as aggregate adds
        if record_min_max:  # min() and max() keep the first of equal values, as aggregate's
            aggregation._min = min(aggregation._min, ordered[0])
            aggregation._max = max(aggregation._max, *ordered)
    return True


def _aggregation_locked(match: Any, key: Any, kept: Attributes) -> Any:
    """``match``'s aggregation for ``key``, made if missing; ``match._lock`` held."""
    aggregation = match._attributes_aggregation.get(key)
    if aggregation is None:  # a copy: the SDK keeps the attributes of an aggregation
        aggregation = match._get_or_create_aggregation(key, dict(kept))
    return aggregation
