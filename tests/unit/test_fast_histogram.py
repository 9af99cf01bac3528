"""``FastHistogram`` records exactly what ``Histogram.record`` would, point by point.

Two meter providers are built alike; the same points go into one through
``FastHistogram`` and into the other through the SDK's ``record``, with collections in
between. Their data points must be equal (timestamps aside) under cumulative and delta
readers, two readers at once, views that keep some attributes, change the aggregation or
drop the instrument, a cardinality limit that overflows, and an exemplar filter that
samples every point. Single points are recorded in and out of sampled spans, and their
exemplars must be equal too (value, filtered attributes, span and trace); batches carry
no exemplar, and with a filter that could sample them they must go through ``record``.
With the SDK layout ``FastHistogram`` was written for (1.45 and later), the default
setup must take the fast path: the test notices when an SDK upgrade turns it off. With
an older SDK only the equality is checked.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import math
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.context import Context
from opentelemetry.metrics import Histogram
from opentelemetry.sdk.metrics import AlwaysOnExemplarFilter, MeterProvider
from opentelemetry.sdk.metrics import Histogram as SdkHistogram
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import (
    DropAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.trace import (
    INVALID_SPAN,
    NonRecordingSpan,
    SpanContext,
    TraceFlags,
    set_span_in_context,
)

from openai_sentinel._fast_histogram import MAX_ATTRIBUTE_SETS, FastHistogram

pytestmark = pytest.mark.timeout(120)

NO_EXEMPLAR = set_span_in_context(INVALID_SPAN)
BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28]
ATTRIBUTE_SETS: list[dict[str, Any]] = [
    {"gen_ai.operation.name": "chat", "gen_ai.request.model": "a", "server.port": 443},
    {"gen_ai.operation.name": "chat", "gen_ai.request.model": "b", "server.port": 443},
    {"gen_ai.operation.name": "text_completion", "gen_ai.request.model": "a"},
]
DELTA = {SdkHistogram: AggregationTemporality.DELTA}
CARDINALITY = "cardinality_limits" in inspect.signature(InMemoryMetricReader).parameters
SDK_VERSION = importlib.metadata.version("opentelemetry-sdk").split(".")
EXPECT_FAST = (int(SDK_VERSION[0]), int(SDK_VERSION[1])) >= (1, 45)
"""The SDK layout ``FastHistogram`` knows: it must take the fast path there."""


def _reader(**options: Any) -> InMemoryMetricReader:
    return InMemoryMetricReader(**options)


SETUPS: dict[str, Callable[[], dict[str, Any]]] = {
    "cumulative": lambda: {"readers": [_reader()]},
    "delta": lambda: {"readers": [_reader(preferred_temporality=DELTA)]},
    "two readers": lambda: {"readers": [_reader(), _reader(preferred_temporality=DELTA)]},
    "view keeps one attribute": lambda: {
        "readers": [_reader()],
        "views": [View(instrument_name="h", attribute_keys={"gen_ai.request.model"})],
    },
    "exponential histogram": lambda: {
        "readers": [_reader(preferred_temporality=DELTA)],
        "views": [View(instrument_name="h", aggregation=ExponentialBucketHistogramAggregation())],
    },
    "dropped": lambda: {
        "readers": [_reader()],
        "views": [View(instrument_name="h", aggregation=DropAggregation())],
    },
    "always-on exemplars": lambda: {
        "readers": [_reader()],
        "exemplar_filter": AlwaysOnExemplarFilter(),
    },
}
if CARDINALITY:
    SETUPS["cardinality limit"] = lambda: {
        "readers": [
            _reader(cardinality_limits={SdkHistogram: 2}),
            _reader(preferred_temporality=DELTA, cardinality_limits={SdkHistogram: 2}),
        ]
    }
SAMPLES_EVERY_POINT = {"always-on exemplars"}


def _provider(setup: dict[str, Any]) -> tuple[MeterProvider, list[InMemoryMetricReader]]:
    readers = setup["readers"]
    options = {key: value for key, value in setup.items() if key != "readers"}
    return MeterProvider(metric_readers=readers, **options), readers


def _histogram(provider: MeterProvider) -> Histogram:
    meter = provider.get_meter("test")
    return meter.create_histogram("h", unit="s", explicit_bucket_boundaries_advisory=BUCKETS)


def _exemplars(point: Any) -> list[tuple[Any, ...]]:
    return sorted(
        (
            exemplar.value,
            sorted(dict(exemplar.filtered_attributes or {}).items()),
            exemplar.span_id,
            exemplar.trace_id,
        )
        for exemplar in getattr(point, "exemplars", ()) or ()
    )


def _points(reader: InMemoryMetricReader) -> list[tuple[Any, ...]]:
    """The reader's histogram points and their exemplars, without timestamps, in a fixed
    order."""
    data = reader.get_metrics_data()
    points: list[tuple[Any, ...]] = []
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:  # type: ignore[union-attr]
                    fields = {
                        key: value
                        for key, value in vars(point).items()
                        if "time" not in key and key != "exemplars"
                    }
                    fields["attributes"] = sorted(dict(point.attributes or {}).items())
                    exemplars = repr(_exemplars(point))
                    points.append((metric.name, repr(sorted(fields.items())), exemplars))
    return sorted(points)


class Counted:
    """Counts the calls of an SDK histogram's ``record`` (the SDK's, not ours)."""

    def __init__(self, histogram: Histogram, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = histogram.record

        def record(*args: Any, **kwargs: Any) -> None:
            self.calls += 1
            original(*args, **kwargs)

        monkeypatch.setattr(histogram, "record", record)


def _batches(values: list[float]) -> Iterator[tuple[list[float], dict[str, Any]]]:
    for index in range(0, len(values), 7):
        yield values[index : index + 7], ATTRIBUTE_SETS[(index // 7) % len(ATTRIBUTE_SETS)]


def _span_context(number: int) -> Context:
    """A context with a sampled span, an unsampled one or none, in turn."""
    if number % 3 == 2:
        return Context()
    flags = TraceFlags(TraceFlags.SAMPLED if number % 3 == 0 else TraceFlags.DEFAULT)
    span = SpanContext(trace_id=1000 + number, span_id=2000 + number, is_remote=False)
    return set_span_in_context(
        NonRecordingSpan(
            SpanContext(span.trace_id, span.span_id, is_remote=False, trace_flags=flags)
        )
    )


class _Calls:
    calls = 0


Recorder = Callable[[Histogram, list[float], dict[str, Any], int], None]


def _run(
    setup_name: str,
    values: list[float],
    record_fast: Recorder,
    record_sdk: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    aggregates: _Calls | None = None,
) -> tuple[list[list[tuple[Any, ...]]], list[list[tuple[Any, ...]]], int, bool]:
    """The points of ``values`` recorded one way and the other; the calls of the SDK's
    ``record`` the fast way made; whether it was still on. ``aggregates``, counting, is
    left with the count of the fast way."""
    results: list[list[list[tuple[Any, ...]]]] = []
    calls = 0
    fast = True
    for record in (record_fast, record_sdk):
        random.seed(7)  # the same draws for reservoirs that sample at random
        provider, readers = _provider(SETUPS[setup_name]())
        histogram = _histogram(provider)
        counted = Counted(histogram, monkeypatch)
        collected: list[list[tuple[Any, ...]]] = []
        for number, (batch, attributes) in enumerate(_batches(values)):
            record(histogram, batch, attributes, number)
            if number % 3 == 2:  # collect now and then: delta readers start over
                collected.extend(_points(reader) for reader in readers)
        collected.extend(_points(reader) for reader in readers)
        provider.shutdown()
        results.append(collected)
        if record is record_fast:
            calls = counted.calls
            fast = histogram._fast_histogram.fast
            fast_aggregates = aggregates.calls if aggregates else 0
    if aggregates:
        aggregates.calls = fast_aggregates
    return results[0], results[1], calls, fast


def _fast(histogram: Histogram) -> FastHistogram:
    """The histogram's :class:`FastHistogram`, made once and kept on it."""
    made = histogram.__dict__.get("_fast_histogram")
    if made is None:
        made = histogram.__dict__["_fast_histogram"] = FastHistogram(histogram)
    return made


def _batch_fast(histogram: Histogram, batch: list[float], attributes: Any, number: int) -> None:
    _fast(histogram).record_batch(batch, attributes, NO_EXEMPLAR)


def _batch_sdk(histogram: Histogram, batch: list[float], attributes: Any, number: int) -> None:
    for value in batch:
        histogram.record(value, attributes, NO_EXEMPLAR)


def _one_fast(histogram: Histogram, batch: list[float], attributes: Any, number: int) -> None:
    fast = _fast(histogram)
    for offset, value in enumerate(batch):
        fast.record(value, dict(attributes), _span_context(number + offset))


def _one_sdk(histogram: Histogram, batch: list[float], attributes: Any, number: int) -> None:
    for offset, value in enumerate(batch):
        histogram.record(value, dict(attributes), _span_context(number + offset))


VALUES = st.lists(
    st.floats(min_value=0, max_value=100, allow_nan=False)
    | st.sampled_from([0.0, *BUCKETS, 5e-324, 1e9])
    | st.integers(min_value=0, max_value=10**6),
    min_size=1,
    max_size=60,
)
EXAMPLES = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # a context per example
)


BUCKET_SETUPS = set(SETUPS) - {"exponential histogram", "dropped", *SAMPLES_EVERY_POINT}
"""Setups whose points go to explicit-bucket aggregations, which take a batch at once."""


def _count_bucket_aggregates(monkeypatch: pytest.MonkeyPatch) -> _Calls:
    """Counts the points the SDK's explicit-bucket ``aggregate`` takes (the SDK's
    method, not ours); the fast way makes no call when it folds a batch in at once."""
    from opentelemetry.sdk.metrics._internal.aggregation import (
        _ExplicitBucketHistogramAggregation as Buckets,
    )

    counter = _Calls()
    original = Buckets.aggregate

    def aggregate(self: Any, measurement: Any, should_sample_exemplar: bool = True) -> None:
        counter.calls += 1
        original(self, measurement, should_sample_exemplar)

    monkeypatch.setattr(Buckets, "aggregate", aggregate)
    return counter


@pytest.mark.parametrize("setup_name", list(SETUPS))
@EXAMPLES
@given(values=VALUES)
def test_batches_make_the_points_record_makes(
    setup_name: str, values: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        folded = _count_bucket_aggregates(patch)
        batched, single, record_calls, fast = _run(
            setup_name, values, _batch_fast, _batch_sdk, patch, folded
        )
    assert batched == single
    if EXPECT_FAST and setup_name in BUCKET_SETUPS:
        assert folded.calls == 0, "explicit-bucket batches are not folded in at once"
    assert fast or not EXPECT_FAST, "the histogram fell back to record() for good"
    if setup_name in SAMPLES_EVERY_POINT:
        assert record_calls == len(values), "batches that could be sampled go through record()"
    elif EXPECT_FAST:
        assert record_calls == 0, "this SDK's layout is not recognised: the fast path is off"


@pytest.mark.parametrize("setup_name", list(SETUPS))
@EXAMPLES
@given(values=VALUES)
def test_single_points_make_the_points_and_exemplars_record_makes(
    setup_name: str, values: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        fast_points, sdk_points, record_calls, fast = _run(
            setup_name, values, _one_fast, _one_sdk, patch
        )
    assert fast_points == sdk_points
    assert fast or not EXPECT_FAST, "the histogram fell back to record() for good"
    if EXPECT_FAST:
        assert record_calls == 0, "this SDK's layout is not recognised: the fast path is off"


def test_exemplars_are_compared() -> None:
    """The comparison above sees exemplars: a sampled span's point has one, with the
    span's ids; points outside a sampled span have none."""
    provider, (reader,) = _provider(SETUPS["cumulative"]())
    fast = FastHistogram(_histogram(provider))
    fast.record(0.015, dict(ATTRIBUTE_SETS[0]), _span_context(0))
    fast.record(0.5, dict(ATTRIBUTE_SETS[0]), _span_context(1))
    ((_, _, exemplars),) = _points(reader)
    assert exemplars == repr([(0.015, [], 2000, 1000)])


def test_a_value_record_would_warn_about_goes_through_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider, (reader,) = _provider(SETUPS["cumulative"]())
    histogram = _histogram(provider)
    counted = Counted(histogram, monkeypatch)
    fast = FastHistogram(histogram)
    fast.record_batch([0.5, math.nan, -1.0, 0.25], ATTRIBUTE_SETS[0], NO_EXEMPLAR)
    assert counted.calls == 4  # record() warns about and drops the NaN and the -1
    for value in (math.inf, -2.0, 0.75):
        fast.record(value, ATTRIBUTE_SETS[0], NO_EXEMPLAR)
    assert counted.calls == 6  # the infinity and the -2; 0.75 is plain
    ((_, fields, _),) = _points(reader)
    assert "'count', 3" in fields
    assert fast.fast


def test_attributes_the_sdk_would_clean_go_through_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider, _ = _provider(SETUPS["cumulative"]())
    histogram = _histogram(provider)
    counted = Counted(histogram, monkeypatch)
    fast = FastHistogram(histogram)
    fast.record(0.5, {"tags": ["a", "b"]}, None)  # unhashable: cleaned into a tuple
    fast.record(0.5, {"": "empty key"}, None)  # dropped by the SDK
    fast.record(0.5, {"weird": object()}, None)  # turned into a string
    fast.record(0.5, None, None)  # no attributes: the SDK's own default
    assert counted.calls == 4
    assert fast.fast


def test_equal_values_of_other_types_are_other_attribute_sets() -> None:
    """``1``, ``1.0`` and ``True`` are one dictionary key and three attribute values."""
    provider, (reader,) = _provider(SETUPS["cumulative"]())
    fast = FastHistogram(_histogram(provider))
    for value in (1, 1.0, True):
        fast.record(0.5, {"a": value}, None)
    attributes = [fields for _, fields, _ in _points(reader)]
    assert len(attributes) == 3
    assert any("('a', True)" in fields for fields in attributes)
    assert any("('a', 1.0)" in fields for fields in attributes)


def test_the_lookups_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_ATTRIBUTE_SETS`` sets, a point's lookups are made for it and dropped."""
    provider, (reader,) = _provider(SETUPS["cumulative"]())
    histogram = _histogram(provider)
    counted = Counted(histogram, monkeypatch)
    fast = FastHistogram(histogram)
    for number in range(MAX_ATTRIBUTE_SETS + 5):
        fast.record(0.5, {"n": number}, None)
    assert len(fast._plans) == MAX_ATTRIBUTE_SETS
    fast.record(0.5, {"n": MAX_ATTRIBUTE_SETS + 1}, None)
    assert counted.calls == 0 or not EXPECT_FAST
    total = sum(int(fields.split("'count', ")[1].split(")")[0]) for _, fields, _ in _points(reader))
    assert total == MAX_ATTRIBUTE_SETS + 6


def test_a_reader_added_later_gets_the_points(monkeypatch: pytest.MonkeyPatch) -> None:
    first = _reader()
    provider = MeterProvider(metric_readers=[first])
    fast = FastHistogram(_histogram(provider))
    fast.record(0.5, ATTRIBUTE_SETS[0], None)
    second = _reader()
    if not hasattr(provider, "add_metric_reader"):
        pytest.skip("this SDK cannot add a reader to a running provider")
    provider.add_metric_reader(second)
    fast.record(0.25, ATTRIBUTE_SETS[0], None)
    ((_, fields, _),) = _points(second)
    assert "'count', 1" in fields
    ((_, fields, _),) = _points(first)
    assert "'count', 2" in fields


def test_an_instrument_that_is_not_the_sdks_is_recorded_through_its_own_record() -> None:
    class Recording(Histogram):  # an API histogram of some other SDK
        def __init__(self) -> None:
            super().__init__("h")
            self.values: list[float] = []

        def record(self, amount: float, attributes: Any = None, context: Any = None) -> None:
            self.values.append(amount)

    histogram = Recording()
    fast = FastHistogram(histogram)
    fast.record_batch([0.1, 0.2], ATTRIBUTE_SETS[0], NO_EXEMPLAR)
    fast.record(0.3, ATTRIBUTE_SETS[0], None)
    assert not fast.fast
    assert histogram.values == [0.1, 0.2, 0.3]
