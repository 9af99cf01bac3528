"""Drift detection through the real client and the real SDK: the detectors of each model
watch the calls as they finish, and a state change becomes a ``sentinel.drift`` span
event, a record on the ``openai_sentinel.drift`` logger, a call of ``on_drift``, an
alarm counted, and the drift gauges say where every series stands at each collection.

One scenario runs on the embedded simulator, over loopback: two models interleaved, one
of which slides from a mean token logprob of -0.15 to -0.35 (a confidence of 0.86 to
0.70) after its warm-up (``LogprobDrift``). It is run once for the module (a few thousand
calls), and the tests read what it left. The others answer from a ``MockTransport`` with
token logprobs drawn from a seeded ``random.Random``, which costs half as much per call.

The detectors need about a thousand calls per series to learn a baseline, and their
tuning may still move a little: the drifts are large and alarms are asserted with margins,
never at an exact call. Names are spelled out as documented, not imported from
``openai_sentinel.semconv``.
"""

from __future__ import annotations

import json
import logging
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam
from opentelemetry.sdk.metrics.export import MetricsData
from opentelemetry.sdk.trace import ReadableSpan

from openai_sentinel import OpenAISentinelInstrumentor, _errors
from openai_sentinel.analyzers.drift_monitor import DriftChange
from openai_sentinel.simulator import LogprobDrift, Simulator, SimulatorConfig

from ..support.http_library import http
from ..support.simulated import make_client
from ..support.telemetry import Telemetry, make_telemetry
from ..support.transport import ScriptedAPI, sync_client

Instrument = Callable[..., OpenAISentinelInstrumentor]

DRIFT_EVENT = "sentinel.drift"
SIGNAL = "sentinel.drift.signal"
SEVERITY = "sentinel.drift.severity"
PREVIOUS = "sentinel.drift.previous_severity"
DROP = "sentinel.drift.drop"
BASELINE = "sentinel.drift.baseline"
REQUEST_MODEL = "gen_ai.request.model"
OPERATION = "gen_ai.operation.name"
CONFIDENCE_SOURCE = "sentinel.confidence.source"
DRIFT_GAUGE = "sentinel.drift"
SEVERITY_GAUGE = "sentinel.drift.severity"
ALARMS = "sentinel.drift.alarms"
CONFIDENCE_METRIC = "sentinel.confidence"
DRIFT_LOGGER = "openai_sentinel.drift"
SENTINEL_LOGGER = "openai_sentinel"
SEVERITY_LEVEL = {"ok": 0, "warning": 1, "critical": 2}

CHAT = "chat"
DRIFTING = "gpt-4o-mini"
STEADY = "gpt-4o"
MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "Summarize the report in two sentences."}
]
WARMUP = 1000
"""Calls a detector learns its baseline from (the default ``warmup``)."""
BASE_LOGPROB = -0.15
"""Mean token logprob before a drift: a confidence of about 0.86."""
DRIFTED_LOGPROB = -0.35
"""After: about 0.70, 18% lower."""
SLIDE_START = 1050
"""The drifting model's own calls before its slide starts (past the warm-up)."""
SLIDE_CALLS = 400
MOST_CALLS_PER_MODEL = 2400
"""The simulator scenario stops a little after the critical alarm, or here."""
AFTER_CRITICAL = 100
"""Calls per model made after the critical alarm, before stopping."""
SNAPSHOT_WARMING = 500
SNAPSHOT_WARMED = 1040
SignalKey = tuple[str, str, str]
"""(model, operation, signal) of a watched series."""


# -- what was received, recorded and collected -------------------------------------------


@dataclass
class Received:
    """An ``on_drift`` callback: every change it got, with the (0-based) call that caused
    it, which the test keeps in ``calls``."""

    calls: int = 0
    changes: list[tuple[int, DriftChange]] = field(default_factory=list)

    def __call__(self, change: DriftChange) -> None:
        self.changes.append((self.calls - 1, change))

    def severities(self, model: str | None = None) -> list[str]:
        return [c.severity for _, c in self.changes if model is None or c.model == model]


class Records(logging.Handler):
    """Keeps the records of a logger, for the module-wide scenario (``caplog`` is per
    test)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def metric_points(data: MetricsData | None, name: str) -> list[Any]:
    found: list[Any] = []
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name:
                    found.extend(metric.data.data_points)
    return found


def metric_unit(data: MetricsData | None, name: str) -> str | None:
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name == name:
                    return str(metric.unit)
    return None


def by_series(points: Sequence[Any]) -> dict[SignalKey, float]:
    """Gauge values by (model, operation, signal); each series once."""
    keyed: dict[SignalKey, float] = {}
    for point in points:
        attributes = dict(point.attributes)
        assert set(attributes) == {REQUEST_MODEL, OPERATION, SIGNAL}, attributes
        key = (attributes[REQUEST_MODEL], attributes[OPERATION], attributes[SIGNAL])
        assert key not in keyed, f"{key} reported twice"
        keyed[key] = point.value
    return keyed


def alarm_counts(points: Sequence[Any]) -> dict[tuple[str, str, str, str], int]:
    """The alarm counter by (model, operation, signal, severity)."""
    counts: dict[tuple[str, str, str, str], int] = {}
    for point in points:
        attributes = dict(point.attributes)
        assert set(attributes) == {REQUEST_MODEL, OPERATION, SIGNAL, SEVERITY}, attributes
        key = (
            attributes[REQUEST_MODEL],
            attributes[OPERATION],
            attributes[SIGNAL],
            attributes[SEVERITY],
        )
        counts[key] = point.value
    return counts


def expected_alarms(changes: Sequence[tuple[int, DriftChange]]) -> Counter[Any]:
    return Counter(
        (c.model, c.operation, c.signal, c.severity) for _, c in changes if c.severity != "ok"
    )


def event_attributes(change: DriftChange) -> dict[str, Any]:
    """What the ``sentinel.drift`` event and the log record say of ``change``."""
    attributes: dict[str, Any] = {
        SIGNAL: change.signal,
        SEVERITY: change.severity,
        PREVIOUS: change.previous,
        REQUEST_MODEL: change.model,
        OPERATION: change.operation,
    }
    if change.drop is not None:
        attributes[DROP] = change.drop
    if change.baseline is not None:
        attributes[BASELINE] = change.baseline
    return attributes


def drift_events(span: ReadableSpan) -> list[dict[str, Any]]:
    return [dict(event.attributes or {}) for event in span.events if event.name == DRIFT_EVENT]


def assert_in_order(changes: Sequence[tuple[int, DriftChange]]) -> None:
    """Each change starts from the severity its series last reached, and the calls that
    caused them come in order."""
    reached: dict[SignalKey, str] = {}
    last_call = -1
    for call, change in changes:
        assert isinstance(change, DriftChange)
        assert call >= last_call
        last_call = call
        key = (change.model, change.operation, change.signal)
        assert change.previous == reached.get(key, "ok"), change
        assert change.severity != change.previous
        reached[key] = change.severity


def assert_events_match(spans: Sequence[ReadableSpan], received: Received) -> None:
    """The span of each call that caused a change carries its event, no other span has
    one."""
    expected: dict[int, list[dict[str, Any]]] = {}
    for call, change in received.changes:
        expected.setdefault(call, []).append(event_attributes(change))
    found = {index: drift_events(span) for index, span in enumerate(spans)}
    assert {index: events for index, events in found.items() if events} == expected
    for call in expected:
        span = spans[call]
        (event_time,) = {e.timestamp for e in span.events if e.name == DRIFT_EVENT}
        assert span.start_time is not None and span.end_time is not None
        assert span.start_time <= event_time <= span.end_time


# -- the simulator scenario, once for the module -----------------------------------------


@dataclass
class Sliding:
    """What the simulator scenario left: changes, spans, records and metric snapshots
    (after 500 calls per model, after 1040, at the end, and after uninstrumenting)."""

    received: Received
    spans: list[ReadableSpan]
    records: list[logging.LogRecord]
    snapshots: dict[str, MetricsData | None]
    calls_per_model: int


@pytest.fixture(scope="module")
def sliding() -> Iterator[Sliding]:
    telemetry = make_telemetry()
    received = Received()
    records = Records()
    drift_logger = logging.getLogger(DRIFT_LOGGER)
    level = drift_logger.level
    drift_logger.addHandler(records)
    drift_logger.setLevel(logging.INFO)
    snapshots: dict[str, MetricsData | None] = {}
    config = SimulatorConfig(
        mean_logprob=BASE_LOGPROB,
        min_completion_tokens=24,
        max_completion_tokens=48,
        logprob_drift=LogprobDrift(
            start=SLIDE_START,
            duration=SLIDE_CALLS,
            mean_logprob=DRIFTED_LOGPROB,
            models=(DRIFTING,),
        ),
        seed=5,
    )
    instrumentor = OpenAISentinelInstrumentor()
    per_model = 0
    try:
        with pytest.MonkeyPatch.context() as patch:
            for name in (
                "OPENAI_SENTINEL_DRIFT_DETECTION",
                "OPENAI_SENTINEL_DRIFT_COOLDOWN_SECONDS",
            ):
                patch.delenv(name, raising=False)
            instrumentor.instrument(
                tracer_provider=telemetry.tracer_provider,
                meter_provider=telemetry.meter_provider,
                on_drift=received,
            )
        with Simulator(config) as simulator, make_client(simulator.base_url) as client:
            critical_at = None
            while per_model < MOST_CALLS_PER_MODEL:
                if per_model == SNAPSHOT_WARMING:
                    snapshots["warming"] = telemetry.metric_reader.get_metrics_data()
                if per_model == SNAPSHOT_WARMED:
                    snapshots["warmed"] = telemetry.metric_reader.get_metrics_data()
                # the simulator answers the same request the same way: vary it
                messages: list[ChatCompletionMessageParam] = [
                    {"role": "user", "content": f"Question {per_model}: summarize."}
                ]
                for model in (STEADY, DRIFTING):
                    received.calls += 1
                    client.chat.completions.create(
                        model=model, messages=messages, logprobs=True, max_tokens=64
                    )
                per_model += 1
                if critical_at is None and "critical" in received.severities():
                    critical_at = per_model
                if critical_at is not None and per_model >= critical_at + AFTER_CRITICAL:
                    break
        snapshots["end"] = telemetry.metric_reader.get_metrics_data()
    finally:
        instrumentor.uninstrument()
        drift_logger.removeHandler(records)
        drift_logger.setLevel(level)
    snapshots["uninstrumented"] = telemetry.metric_reader.get_metrics_data()
    yield Sliding(received, telemetry.spans(), records.records, snapshots, per_model)


@pytest.mark.timeout(120)
def test_the_sliding_model_warns_then_goes_critical_and_the_steady_one_stays_quiet(
    sliding: Sliding,
) -> None:
    received = sliding.received
    assert received.severities(STEADY) == []
    drifting = received.severities(DRIFTING)
    assert "warning" in drifting and "critical" in drifting, drifting
    assert drifting.index("warning") < drifting.index("critical")
    assert "ok" not in drifting  # re-baselining takes a thousand calls more
    assert {(c.signal, c.operation) for _, c in received.changes} == {("confidence", CHAT)}
    # nothing before the slide started; critical well before the simulator's cap
    first_call = received.changes[0][0]
    assert first_call >= 2 * SLIDE_START
    assert sliding.calls_per_model < MOST_CALLS_PER_MODEL
    for _, change in received.changes:
        assert change.baseline == pytest.approx(math.exp(BASE_LOGPROB), abs=0.03)
        assert change.drop is not None and change.drop > 0.0


def test_on_drift_receives_each_change_in_order(sliding: Sliding) -> None:
    changes = sliding.received.changes
    assert len(changes) >= 2
    assert_in_order(changes)
    assert changes[0][1].previous == "ok"
    assert changes[-1][1].severity == "critical"


def test_the_span_of_the_call_that_caused_a_change_has_a_drift_event(sliding: Sliding) -> None:
    spans = sliding.spans
    assert len(spans) == 2 * sliding.calls_per_model
    assert_events_match(spans, sliding.received)
    for call, _ in sliding.received.changes:
        attributes = spans[call].attributes or {}
        assert attributes[REQUEST_MODEL] == DRIFTING
        assert attributes[CONFIDENCE_SOURCE] == "logprobs"
    (warning,) = [c for _, c in sliding.received.changes if c.severity == "warning"]
    assert event_attributes(warning) == {
        SIGNAL: "confidence",
        SEVERITY: "warning",
        PREVIOUS: "ok",
        REQUEST_MODEL: DRIFTING,
        OPERATION: CHAT,
        DROP: warning.drop,
        BASELINE: warning.baseline,
    }


def test_the_drift_logger_warns_of_each_alarm(sliding: Sliding) -> None:
    records = sliding.records
    assert len(records) == len(sliding.received.changes)
    for record, (_, change) in zip(records, sliding.received.changes, strict=True):
        assert record.name == DRIFT_LOGGER
        assert record.levelno == logging.WARNING
        message = record.getMessage()
        assert DRIFTING in message
        assert f"{change.previous} -> {change.severity}" in message
        assert record.drift == event_attributes(change)  # type: ignore[attr-defined]


def test_the_gauges_follow_the_state_at_each_collection(sliding: Sliding) -> None:
    snapshots = sliding.snapshots
    series = {
        (model, CHAT, signal)
        for model in (STEADY, DRIFTING)
        for signal in ("confidence", "output_length", "truncation")
    }
    # warming up: every series is listed as ok, none has a drop yet
    warming = snapshots["warming"]
    assert by_series(metric_points(warming, SEVERITY_GAUGE)) == dict.fromkeys(series, 0)
    assert metric_points(warming, DRIFT_GAUGE) == []
    assert metric_points(warming, ALARMS) == []
    # warmed up, before the slide: a drop near 0 for what varies (never truncated: no drop)
    warmed = snapshots["warmed"]
    assert by_series(metric_points(warmed, SEVERITY_GAUGE)) == dict.fromkeys(series, 0)
    drops = by_series(metric_points(warmed, DRIFT_GAUGE))
    assert set(drops) == {key for key in series if key[2] != "truncation"}
    assert all(abs(value) < 2.0 for value in drops.values()), drops
    assert metric_unit(warmed, DRIFT_GAUGE) == "%"
    # at the end: the sliding model's confidence is critical and well below its baseline
    end = snapshots["end"]
    levels = by_series(metric_points(end, SEVERITY_GAUGE))
    assert levels == {**dict.fromkeys(series, 0), (DRIFTING, CHAT, "confidence"): 2}
    drops = by_series(metric_points(end, DRIFT_GAUGE))
    assert abs(drops[STEADY, CHAT, "confidence"]) < 1.0
    assert drops[DRIFTING, CHAT, "confidence"] > 3.0
    assert abs(drops[STEADY, CHAT, "output_length"]) < 5.0
    # alarms counted as reported: one per change to warning or critical
    counted = alarm_counts(metric_points(end, ALARMS))
    assert counted == expected_alarms(sliding.received.changes)
    assert set(counted) == {
        (DRIFTING, CHAT, "confidence", "warning"),
        (DRIFTING, CHAT, "confidence", "critical"),
    }
    # once uninstrumented, the gauges report nothing
    after = snapshots["uninstrumented"]
    assert metric_points(after, SEVERITY_GAUGE) == []
    assert metric_points(after, DRIFT_GAUGE) == []


# -- scripted answers with seeded logprobs -----------------------------------------------


class LogprobAPI:
    """Answers chat requests like the API, 8 to 16 tokens each, with token logprobs drawn
    around ``level`` (a mean logprob) when the request asks for them; ``hedging`` makes
    every answer hedge, which lowers the heuristic confidence."""

    def __init__(self, seed: int = 3) -> None:
        self.rng = random.Random(seed)
        self.level = BASE_LOGPROB
        self.hedging = False
        self.last_content = ""
        self.last_logprobs: list[float] = []

    def __call__(self, request: http.Request) -> http.Response:
        sent = json.loads(request.content or b"{}")
        rng = self.rng
        count = rng.randint(8, 16)
        words = [f" w{rng.randrange(1000)}" for _ in range(count)]
        if self.hedging:
            words[:4] = ["I", " think", " perhaps", " probably"]
        content = "".join(words).strip()
        values = [round(-rng.expovariate(-1.0 / self.level), 6) for _ in words]
        self.last_content, self.last_logprobs = content, values
        logprobs = None
        if sent.get("logprobs"):
            logprobs = {
                "content": [
                    {
                        "token": word,
                        "logprob": value,
                        "bytes": list(word.encode()),
                        "top_logprobs": [],
                    }
                    for word, value in zip(words, values, strict=True)
                ],
                "refusal": None,
            }
        body = {
            "id": "chatcmpl-drift",
            "object": "chat.completion",
            "created": 1731368630,
            "model": sent["model"],
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": logprobs,
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 11, "completion_tokens": count, "total_tokens": 11 + count},
        }
        return http.Response(200, json=body, headers={"x-request-id": "req_drift"})


def drive(
    client: OpenAI, received: Received, calls: int, *, model: str = DRIFTING, logprobs: bool = True
) -> None:
    for _ in range(calls):
        received.calls += 1
        if logprobs:
            client.chat.completions.create(model=model, messages=MESSAGES, logprobs=True)
        else:
            client.chat.completions.create(model=model, messages=MESSAGES)


@pytest.fixture
def api() -> LogprobAPI:
    return LogprobAPI()


@pytest.fixture
def client(api: LogprobAPI) -> Iterator[OpenAI]:
    with sync_client(api) as scripted:
        yield scripted


@pytest.fixture
def fresh_error_log() -> Iterator[None]:
    """Internal errors are logged once per five minutes and place: start from none."""
    _errors._last_logged.clear()
    yield
    _errors._last_logged.clear()


@pytest.mark.timeout(90)
@pytest.mark.parametrize("cooldown", [0.0, None], ids=["no-cooldown", "default-cooldown"])
def test_the_cooldown_holds_back_the_same_news(
    cooldown: float | None,
    telemetry: Telemetry,
    instrument: Instrument,
    api: LogprobAPI,
    client: OpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    received = Received()
    settings: dict[str, Any] = {"on_drift": received}
    if cooldown is not None:
        settings["drift_cooldown_seconds"] = cooldown
    instrument(**settings)
    caplog.set_level(logging.INFO, logger=DRIFT_LOGGER)
    drive(client, received, WARMUP + 100)
    # a drop, then the detector re-baselines on the new level and is back to ok
    api.level = DRIFTED_LOGPROB
    drive(client, received, 1300)
    first = received.severities()
    assert "critical" in first and first[-1] == "ok", first
    # the same news again, a few seconds later
    api.level = -0.6
    drive(client, received, 300)
    everything = received.severities()
    again = everything[len(first) :]
    if cooldown == 0.0:
        assert "critical" in again
    else:  # 900 s by default: only a severity not reported yet gets through
        assert not set(again) & set(first), again
    assert_in_order(received.changes if cooldown == 0.0 else received.changes[: len(first)])
    # events, log records and alarms follow what was reported
    assert_events_match(telemetry.spans(), received)
    records = [r for r in caplog.records if r.name == DRIFT_LOGGER]
    assert [r.levelno for r in records] == [
        logging.INFO if severity == "ok" else logging.WARNING for severity in everything
    ]
    counted = alarm_counts(telemetry.points(ALARMS))
    if cooldown == 0.0:
        assert counted == expected_alarms(received.changes)
    else:  # every alarm counts, held back or not: the second drop's too
        reported = expected_alarms(received.changes)
        assert all(counted[series] > count for series, count in reported.items()), counted
    # the gauge is current either way: critical again
    levels = by_series(telemetry.points(SEVERITY_GAUGE))
    assert levels[DRIFTING, CHAT, "confidence"] == 2


@pytest.mark.timeout(60)
def test_without_drift_detection_there_are_no_events_gauges_or_alarms(
    telemetry: Telemetry,
    instrument: Instrument,
    api: LogprobAPI,
    client: OpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The same stream as the cooldown test, which alarms with detection on."""
    received = Received()
    instrument(drift_detection=False, on_drift=received)
    caplog.set_level(logging.INFO, logger=DRIFT_LOGGER)
    drive(client, received, WARMUP + 100)
    api.level = DRIFTED_LOGPROB
    drive(client, received, 400)
    assert received.changes == []
    spans = telemetry.spans()
    assert len(spans) == WARMUP + 500
    assert all(drift_events(span) == [] for span in spans)
    assert [r for r in caplog.records if r.name == DRIFT_LOGGER] == []
    for name in (DRIFT_GAUGE, SEVERITY_GAUGE, ALARMS):
        assert telemetry.metric(name) is None, name
    # the calls were still analyzed
    (confidences,) = telemetry.points(CONFIDENCE_METRIC)
    assert confidences.count == WARMUP + 500
    assert (confidences.attributes or {})[CONFIDENCE_SOURCE] == "logprobs"


@pytest.mark.timeout(60)
@pytest.mark.usefixtures("fresh_error_log")
def test_an_on_drift_callback_that_raises_does_not_break_the_call(
    telemetry: Telemetry,
    instrument: Instrument,
    api: LogprobAPI,
    client: OpenAI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    received = Received()

    def explode(change: DriftChange) -> None:
        received(change)
        raise RuntimeError("the user's callback failed")

    instrument(on_drift=explode)
    drive(client, received, WARMUP + 100)
    api.level = DRIFTED_LOGPROB
    caplog.set_level(logging.WARNING)
    completion = None
    for _ in range(600):
        received.calls += 1
        completion = client.chat.completions.create(
            model=DRIFTING, messages=MESSAGES, logprobs=True
        )
        if received.changes:
            break
    assert received.changes, "the drop was not noticed in 600 calls"
    # the call whose callback raised still handed back the whole answer
    assert completion is not None
    assert completion.choices[0].message.content == api.last_content
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert [token.logprob for token in logprobs.content] == api.last_logprobs
    # the failure is reported on the package's logger, the change itself still logged
    failures = [r for r in caplog.records if r.name == SENTINEL_LOGGER]
    assert len(failures) == 1
    assert "on_drift" in failures[0].getMessage()
    assert failures[0].exc_info is not None and failures[0].exc_info[0] is RuntimeError
    drift_records = [r for r in caplog.records if r.name == DRIFT_LOGGER]
    assert [r.levelno for r in drift_records] == [logging.WARNING] * len(received.changes)
    # its span has the event, and later calls are still instrumented
    spans = telemetry.spans()
    assert drift_events(spans[received.changes[0][0]]) != []
    drive(client, received, 5)
    assert len(telemetry.spans()) == received.calls


@pytest.mark.timeout(60)
def test_a_heuristic_confidence_never_feeds_the_confidence_detector(
    telemetry: Telemetry, instrument: Instrument, api: LogprobAPI, client: OpenAI
) -> None:
    received = Received()
    instrument(on_drift=received)
    drive(client, received, WARMUP + 100, logprobs=False)
    # every answer now hedges: the heuristic confidence falls from 0.9 to about 0.55
    api.hedging = True
    drive(client, received, 500, logprobs=False)
    assert received.changes == []
    assert all(drift_events(span) == [] for span in telemetry.spans())
    (confidences,) = telemetry.points(CONFIDENCE_METRIC)
    assert (confidences.attributes or {})[CONFIDENCE_SOURCE] == "heuristic"
    assert confidences.count == WARMUP + 600
    assert confidences.max == pytest.approx(0.9)
    assert confidences.min < 0.6
    # the model's output length and truncation rate are watched, its confidence is not
    levels = by_series(telemetry.points(SEVERITY_GAUGE))
    assert levels == {(DRIFTING, CHAT, "output_length"): 0, (DRIFTING, CHAT, "truncation"): 0}


def test_drift_change_is_importable_where_documented() -> None:
    from openai_sentinel import drift

    assert drift.DriftChange is DriftChange  # type: ignore[attr-defined]


def test_a_series_is_labelled_with_the_model_the_request_named(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    """The API answers with a dated snapshot name; the drift series, like the other metrics'
    ``gen_ai.request.model``, is the model the request named."""
    instrument()
    with sync_client(ScriptedAPI()) as scripted:  # answers as gpt-4o-mini-2024-07-18
        scripted.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    points = metric_points(telemetry.metric_reader.get_metrics_data(), "sentinel.drift.severity")
    assert points
    assert {dict(point.attributes)[REQUEST_MODEL] for point in points} == {"gpt-4o-mini"}


def test_a_second_instrumentation_on_the_same_meter_keeps_reporting(
    telemetry: Telemetry, instrument: Instrument
) -> None:
    """An SDK meter keeps the first observable instrument of a name: after
    ``uninstrument()`` and ``instrument()`` the sums go on (monotonic) and the gauges show
    the new instrumentation's series."""
    instrumentor = instrument()
    with sync_client(ScriptedAPI()) as scripted:
        scripted.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    instrumentor.uninstrument()
    instrument()
    with sync_client(ScriptedAPI()) as scripted:
        scripted.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    data = telemetry.metric_reader.get_metrics_data()
    spent = sum(point.value for point in metric_points(data, "sentinel.cost"))
    first_only = sum(
        point.value
        for point in metric_points(data, "sentinel.cost")
        if dict(point.attributes)[REQUEST_MODEL] == "gpt-4o-mini"
    )
    assert spent > first_only > 0  # the second instrumentation's cost was added
    models = {
        dict(point.attributes)[REQUEST_MODEL]
        for point in metric_points(data, "sentinel.drift.severity")
    }
    assert models == {"gpt-4o"}  # the series of the instrumentation in force
