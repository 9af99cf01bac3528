"""``BatchRecorder`` records exactly what ``Histogram.record`` would, point by point.

Two meter providers are built alike; the same batches go into one through
``BatchRecorder`` and into the other through ``record``, one value at a time, with
collections in between. Their data points must be equal (timestamps and exemplars
aside) under cumulative and delta readers, two readers at once, views that keep some
attributes, change the aggregation or drop the instrument, a cardinality limit that
overflows, and an exemplar filter that samples every point (where the batches must go
through ``record``). With the SDK layout ``BatchRecorder`` was written for (1.45 and
later), the default setup must take the fast path: the test notices when an SDK upgrade
turns it off. With an older SDK only the equality is checked.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import math
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
from opentelemetry.trace import INVALID_SPAN, set_span_in_context

from openai_sentinel._batch_histogram import BatchRecorder

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
"""The SDK layout ``BatchRecorder`` knows: it must take the fast path there."""


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


def _points(reader: InMemoryMetricReader) -> list[tuple[Any, ...]]:
    """The reader's histogram points, without timestamps and exemplars, in a fixed order."""
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
                    exemplars = len(getattr(point, "exemplars", ()) or ())
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


def _run(
    setup_name: str, values: list[float], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[list[tuple[Any, ...]]], list[list[tuple[Any, ...]]], int]:
    batched_provider, batched_readers = _provider(SETUPS[setup_name]())
    single_provider, single_readers = _provider(SETUPS[setup_name]())
    batched_histogram = _histogram(batched_provider)
    single_histogram = _histogram(single_provider)
    counted = Counted(batched_histogram, monkeypatch)
    recorder = BatchRecorder(batched_histogram)
    batched: list[list[tuple[Any, ...]]] = []
    single: list[list[tuple[Any, ...]]] = []
    context: Context = NO_EXEMPLAR
    for number, (batch, attributes) in enumerate(_batches(values)):
        recorder.record(batch, attributes, context)
        for value in batch:
            single_histogram.record(value, attributes, context)
        if number % 3 == 2:  # collect now and then: delta readers start over
            batched.extend(_points(reader) for reader in batched_readers)
            single.extend(_points(reader) for reader in single_readers)
    batched.extend(_points(reader) for reader in batched_readers)
    single.extend(_points(reader) for reader in single_readers)
    batched_provider.shutdown()
    single_provider.shutdown()
    assert recorder.fast or not EXPECT_FAST, "the recorder fell back to record() for good"
    return batched, single, counted.calls


VALUES = st.lists(
    st.floats(min_value=0, max_value=100, allow_nan=False)
    | st.sampled_from([0.0, *BUCKETS, 5e-324, 1e9]),
    min_size=1,
    max_size=60,
)


@pytest.mark.parametrize("setup_name", list(SETUPS))
@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # a context per example
)
@given(values=VALUES)
def test_batches_make_the_points_record_makes(
    setup_name: str, values: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as patch:
        batched, single, record_calls = _run(setup_name, values, patch)
    assert batched == single
    if setup_name in SAMPLES_EVERY_POINT:
        assert record_calls == len(values), "batches that could be sampled go through record()"
    elif EXPECT_FAST:
        assert record_calls == 0, "this SDK's layout is not recognised: the fast path is off"


def test_a_value_record_would_warn_about_sends_the_batch_through_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    provider, (reader,) = _provider(SETUPS["cumulative"]())
    histogram = _histogram(provider)
    counted = Counted(histogram, monkeypatch)
    BatchRecorder(histogram).record([0.5, math.nan, -1.0, 0.25], ATTRIBUTE_SETS[0], NO_EXEMPLAR)
    assert counted.calls == 4  # record() warns about and drops the NaN and the -1
    ((_, fields, _),) = _points(reader)
    assert "'count', 2" in fields


def test_an_instrument_that_is_not_the_sdks_is_recorded_through_its_own_record() -> None:
    class Recording(Histogram):  # an API histogram of some other SDK
        def __init__(self) -> None:
            super().__init__("h")
            self.values: list[float] = []

        def record(self, amount: float, attributes: Any = None, context: Any = None) -> None:
            self.values.append(amount)

    histogram = Recording()
    recorder = BatchRecorder(histogram)
    recorder.record([0.1, 0.2], ATTRIBUTE_SETS[0], NO_EXEMPLAR)
    assert not recorder.fast
    assert histogram.values == [0.1, 0.2]
