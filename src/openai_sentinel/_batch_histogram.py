"""Many points of one attribute set into an SDK histogram at once: the chunk-gap metric.

``gen_ai.client.operation.time_per_output_chunk`` takes a point per chunk. Through
``Histogram.record`` every point cleans and hashes its attributes again and asks the
exemplar filter about itself: about 20 µs a chunk in place on a slow machine
(``bench/sdk_floor.py``), more than all the rest of what a chunk costs. The points of a
stream share their attributes and carry no exemplar, so :class:`BatchRecorder` finds the
SDK's aggregation for the attribute set once per batch and gives it the values through
the SDK's own ``aggregate``: the same data points (``tests/unit/test_batch_histogram.py``
compares them with ``record``'s under cumulative and delta readers, views, several
readers and the cardinality limit), at a tenth of the cost.

This reaches into the internals of ``opentelemetry-sdk`` (``_ViewInstrumentMatch`` as of
1.45), so it checks what it finds first. Anything it does not recognise (another SDK
layout, a proxy or no-op instrument, an exemplar filter that could sample these points,
attribute values that need cleaning) sends the batch through ``Histogram.record``, and
any failure switches the recorder to ``Histogram.record`` for good.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from functools import cache
from time import time_ns
from typing import Any, Final

from opentelemetry.context import Context
from opentelemetry.metrics import Histogram
from opentelemetry.util.types import AttributeValue

__all__ = ["BatchRecorder"]

Attributes = dict[str, AttributeValue]
_SCALARS: Final = (str, bool, int, float)
_MEASUREMENT_FIELDS: Final = ("value", "time_unix_nano", "instrument", "context", "attributes")
_Plan = tuple[Any, Any, Attributes]
"""A view match of the SDK, the key of the attribute set in it, the attributes it keeps."""


_Parts = tuple[type, type, Callable[[Any], Any], tuple[type, ...]]


@cache
def _sdk_parts() -> _Parts | None:
    """The SDK's histogram and measurement classes, its attribute hash and the exemplar
    filters that never sample a point recorded outside a sampled span; ``None`` when the
    SDK is absent or laid out otherwise. Looked up when the first recorder is made, so
    that importing this module imports no SDK."""
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
    return (
        SdkHistogram,
        Measurement,
        _hash_attributes,
        (
            TraceBasedExemplarFilter,
            AlwaysOffExemplarFilter,
        ),
    )


class BatchRecorder:
    """Records batches of points of one attribute set, without exemplars, into
    ``histogram``; thread-safe as the SDK's aggregations are."""

    __slots__ = ("_histogram", "_parts", "fast")

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._parts = _sdk_parts()
        self.fast = self._parts is not None and isinstance(histogram, self._parts[0])
        """Whether batches still go straight to the SDK's aggregations."""

    def record(self, values: Sequence[float], attributes: Attributes, context: Context) -> None:
        """Record every value of ``values`` with ``attributes``, in ``context`` (which must
        hold no recording span: these points are not exemplars)."""
        if self.fast:
            try:
                plans = self._plan(values, attributes)
            except Exception:  # an SDK this does not know after all: record() from now on
                self.fast = False
                plans = None
            if plans is not None:
                try:
                    self._aggregate(plans, values, context)
                except Exception:
                    self.fast = False
                    raise
                return
        record = self._histogram.record
        for value in values:
            record(value, attributes, context)

    def _plan(self, values: Sequence[float], attributes: Attributes) -> list[_Plan] | None:
        """Each aggregation's view match, key and attributes for ``attributes``; ``None``
        when the batch needs ``record`` (a value it would warn about, attributes it would
        clean, an exemplar filter that could sample the points)."""
        assert self._parts is not None
        _, _, hash_attributes, quiet_filters = self._parts
        histogram: Any = self._histogram
        if not histogram._is_enabled():
            return []  # a disabled instrument records nothing
        consumer = histogram._measurement_consumer
        if not isinstance(consumer._sdk_config.exemplar_filter, quiet_filters):
            return None
        if values and (min(values) < 0 or not math.isfinite(math.fsum(values))):
            return None  # a NaN, an infinity or a negative value: record() warns of each
        for attribute in attributes.values():
            if not isinstance(attribute, _SCALARS):
                return None
        plans: list[_Plan] = []
        for storage in consumer._reader_storages.values():
            for match in storage._get_or_init_view_instrument_match(histogram):
                keys = match._view._attribute_keys
                kept = (
                    dict(attributes)
                    if keys is None
                    else {key: value for key, value in attributes.items() if key in keys}
                )
                plans.append((match, hash_attributes(kept), kept))
        return plans

    def _aggregate(self, plans: list[_Plan], values: Sequence[float], context: Context) -> None:
        """Give every value to each planned aggregation, as ``_ViewInstrumentMatch``'s
        ``consume_measurement`` would, without sampling exemplars."""
        if not plans:
            return
        assert self._parts is not None
        measurement = self._parts[1]
        # One measurement per point, without attributes: they would be cleaned again,
        # and an aggregation reads them only to sample an exemplar, which these points
        # never are.
        now = time_ns()
        points = [measurement(value, now, self._histogram, context, None) for value in values]
        for match, key, kept in plans:
            if match._reset_on_collect:  # a delta reader: collect() may swap the table
                with match._lock:
                    aggregate = match._get_or_create_aggregation(key, kept).aggregate
                    for point in points:
                        aggregate(point, False)
                continue
            aggregation = match._attributes_aggregation.get(key)
            if aggregation is None:
                with match._lock:
                    aggregation = match._get_or_create_aggregation(key, kept)
            aggregate = aggregation.aggregate
            for point in points:
                aggregate(point, False)
