"""The drift monitor on its own: one detector per (signal, model, operation), fed seeded
synthetic calls with an explicit clock (``now=``), and the state changes it reports.

The detectors' tuning may still move a little, so the tests use drifts well past what
they must catch (15% and more) and assert with margins (within a few hundred calls),
never on the exact call an alarm comes at. Every stream comes from a seeded
``random.Random``, so a run is the same every time.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field

import pytest

from openai_sentinel.analyzers.drift_monitor import (
    SIGNAL_CONFIDENCE,
    SIGNAL_OUTPUT_LENGTH,
    SIGNAL_TRUNCATION,
    DriftChange,
    DriftMonitor,
    SeriesState,
)

CHAT = "chat"
MODEL = "gpt-4o-mini"
OTHER_MODEL = "gpt-4o"
WARMUP = 1000
"""Calls a detector learns its baseline from (the default ``warmup``)."""
PAST_WARMUP = 1500
"""Calls fed before a drift starts: the warm-up with a margin."""
TRUNCATION_PAST_WARMUP = 3500
"""The same for the truncation rate, whose detector warms up on 3000 calls (a 0/1 stream
needs more)."""
CONFIDENCE = 0.86
CONFIDENCE_SD = 0.06
TOKENS = 300.0
TOKENS_SD = 60.0
TRUNCATION_RATE = 0.03
SEVERITIES = ("ok", "warning", "critical")


@dataclass
class Calls:
    """Synthetic finished calls for one monitor: a seeded generator, a call counter and
    every reported change with the (0-based) call that caused it."""

    monitor: DriftMonitor
    seed: int = 1
    count: int = 0
    changes: list[tuple[int, DriftChange]] = field(default_factory=list)
    held_back: list[tuple[int, DriftChange]] = field(default_factory=list)
    """Changes the cooldown held back (``reported=False``): still state changes."""

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def feed(
        self,
        calls: int,
        *,
        model: str = MODEL,
        operation: str = CHAT,
        confidence: float | None = CONFIDENCE,
        tokens: float | None = TOKENS,
        truncation: float | None = TRUNCATION_RATE,
        now: float = 0.0,
    ) -> list[tuple[int, DriftChange]]:
        """``calls`` calls whose signals scatter around the given levels (``None``: the
        signal is not known for these calls); the changes they caused."""
        rng = self.rng
        found: list[tuple[int, DriftChange]] = []
        for _ in range(calls):
            value = None
            if confidence is not None:
                value = min(1.0, max(0.0, rng.gauss(confidence, CONFIDENCE_SD)))
            length = None if tokens is None else max(1, round(rng.gauss(tokens, TOKENS_SD)))
            truncated = None if truncation is None else rng.random() < truncation
            for change in self.monitor.observe(
                model,
                operation,
                confidence=value,
                output_tokens=length,
                truncated=truncated,
                now=now,
            ):
                if change.reported:
                    found.append((self.count, change))
                else:
                    self.held_back.append((self.count, change))
            self.count += 1
        self.changes.extend(found)
        return found


def severities(changes: Sequence[tuple[int, DriftChange]]) -> list[str]:
    return [change.severity for _, change in changes]


def states_by_key(monitor: DriftMonitor) -> dict[tuple[str, str, str], SeriesState]:
    states = monitor.states()
    keyed = {(state.signal, state.model, state.operation): state for state in states}
    assert len(keyed) == len(states), "a series is listed twice"
    return keyed


def assert_consistent(changes: Sequence[tuple[int, DriftChange]]) -> None:
    """Every change leaves the severity the previous one reached, and changes something."""
    reached: dict[tuple[str, str, str], str] = {}
    for _, change in changes:
        key = (change.signal, change.model, change.operation)
        assert change.previous == reached.get(key, "ok"), change
        assert change.severity != change.previous, change
        assert change.severity in SEVERITIES, change
        reached[key] = change.severity


# -- no drift ---------------------------------------------------------------------------


def test_a_stable_series_raises_nothing() -> None:
    calls = Calls(DriftMonitor(cooldown=0.0), seed=3)
    changes = calls.feed(20_000)
    assert changes == []
    states = states_by_key(calls.monitor)
    assert set(states) == {
        (SIGNAL_CONFIDENCE, MODEL, CHAT),
        (SIGNAL_OUTPUT_LENGTH, MODEL, CHAT),
        (SIGNAL_TRUNCATION, MODEL, CHAT),
    }
    for state in states.values():
        assert state.severity == "ok"
        assert state.drop is not None  # past the warm-up: the series was really watched
    assert abs(states[SIGNAL_CONFIDENCE, MODEL, CHAT].drop or 0.0) < 0.03
    assert abs(states[SIGNAL_OUTPUT_LENGTH, MODEL, CHAT].drop or 0.0) < 0.05


def test_nothing_is_judged_during_the_warm_up_even_a_collapse() -> None:
    calls = Calls(DriftMonitor(cooldown=0.0))
    calls.feed(WARMUP // 2)
    changes = calls.feed(WARMUP // 3, confidence=0.3, tokens=30.0, truncation=0.9)
    assert changes == []
    assert all(state.drop is None for state in calls.monitor.states())


def test_a_narrow_confidence_distribution_ends_its_warm_up() -> None:
    """Confidences as the simulator's answers give them: exp of the mean of 24 to 48
    token logprobs, exponential with mean -0.15 (about 0.86, spread about 0.025)."""
    monitor = DriftMonitor(cooldown=0.0)
    rng = random.Random(1)
    for _ in range(PAST_WARMUP):
        count = rng.randint(24, 48)
        mean_logprob = -math.fsum(rng.expovariate(1 / 0.15) for _ in range(count)) / count
        monitor.observe(
            MODEL, CHAT, confidence=math.exp(mean_logprob), output_tokens=None, truncated=None
        )
    (state,) = monitor.states()
    assert state.severity == "ok"
    assert state.drop is not None and abs(state.drop) < 0.02


# -- drifts, one signal at a time -------------------------------------------------------


def test_an_abrupt_confidence_drop_is_reported_on_the_confidence_signal_only() -> None:
    calls = Calls(DriftMonitor(cooldown=900.0))
    assert calls.feed(PAST_WARMUP) == []
    changes = calls.feed(600, confidence=CONFIDENCE * 0.85)
    assert changes, "a 15% drop of confidence went unnoticed for 600 calls"
    assert {change.signal for _, change in changes} == {SIGNAL_CONFIDENCE}
    assert {(change.model, change.operation) for _, change in changes} == {(MODEL, CHAT)}
    assert_consistent(changes)
    first_call, first = changes[0]
    assert first.previous == "ok"
    assert first.severity in {"warning", "critical"}
    assert PAST_WARMUP <= first_call < PAST_WARMUP + 300
    # 15% is past the critical drop (10%): it ends critical, and stays so (no re-baseline yet)
    assert severities(changes)[-1] == "critical"
    assert all(change.severity != "ok" for _, change in changes)
    for _, change in changes:
        assert change.baseline == pytest.approx(CONFIDENCE, abs=0.02)
        assert change.drop is not None and change.drop > 0.0
    state = states_by_key(calls.monitor)[SIGNAL_CONFIDENCE, MODEL, CHAT]
    assert state.severity == "critical"
    assert state.drop is not None and state.drop > 0.0


def test_a_critical_change_reports_a_drop_near_the_real_one() -> None:
    calls = Calls(DriftMonitor(cooldown=900.0))
    calls.feed(PAST_WARMUP)
    changes = calls.feed(600, confidence=CONFIDENCE * 0.85)
    critical = [change for _, change in changes if change.severity == "critical"]
    assert critical
    assert critical[0].drop is not None and critical[0].drop >= 0.05


def test_a_drop_of_output_length_is_reported_on_its_own_signal() -> None:
    calls = Calls(DriftMonitor(cooldown=900.0))
    assert calls.feed(PAST_WARMUP) == []
    changes = calls.feed(800, tokens=TOKENS * 0.8)
    assert changes, "a 20% drop of output length went unnoticed for 800 calls"
    assert {change.signal for _, change in changes} == {SIGNAL_OUTPUT_LENGTH}
    assert_consistent(changes)
    first_call, first = changes[0]
    assert (first.previous, first.model, first.operation) == ("ok", MODEL, CHAT)
    assert first_call < PAST_WARMUP + 500
    assert "critical" in severities(changes)
    assert first.baseline == pytest.approx(TOKENS, rel=0.05)
    states = states_by_key(calls.monitor)
    assert states[SIGNAL_OUTPUT_LENGTH, MODEL, CHAT].severity == "critical"
    assert states[SIGNAL_CONFIDENCE, MODEL, CHAT].severity == "ok"
    assert states[SIGNAL_TRUNCATION, MODEL, CHAT].severity == "ok"


def test_a_rise_of_the_truncation_rate_is_reported_on_its_own_signal() -> None:
    calls = Calls(DriftMonitor(cooldown=900.0))
    assert calls.feed(TRUNCATION_PAST_WARMUP, truncation=0.05) == []
    changes = calls.feed(3000, truncation=0.2)
    assert changes, "truncations going from 5% to 20% of the answers went unnoticed"
    assert {change.signal for _, change in changes} == {SIGNAL_TRUNCATION}
    assert_consistent(changes)
    first_call, first = changes[0]
    assert (first.previous, first.model, first.operation) == ("ok", MODEL, CHAT)
    assert first.severity in {"warning", "critical"}
    assert first_call >= TRUNCATION_PAST_WARMUP
    assert first.baseline == pytest.approx(0.05, abs=0.03)
    if len(changes) > 1 and changes[-1][1].severity == "ok":
        # re-baselined on the new level
        assert (changes[-1][1].baseline or 0.0) > 0.1
    states = states_by_key(calls.monitor)
    assert states[SIGNAL_TRUNCATION, MODEL, CHAT].severity == severities(changes)[-1]
    assert states[SIGNAL_CONFIDENCE, MODEL, CHAT].severity == "ok"
    assert states[SIGNAL_OUTPUT_LENGTH, MODEL, CHAT].severity == "ok"


def test_a_rising_truncation_rate_reports_a_positive_drop() -> None:
    calls = Calls(DriftMonitor(cooldown=900.0))
    calls.feed(TRUNCATION_PAST_WARMUP, truncation=0.05)
    changes = calls.feed(3000, truncation=0.2)
    alarms = [change for _, change in changes if change.severity != "ok"]
    assert alarms
    assert all(change.drop is not None and change.drop > 0.0 for change in alarms)
    state = states_by_key(calls.monitor)[SIGNAL_TRUNCATION, MODEL, CHAT]
    assert state.drop is not None and state.drop > 0.0


def test_a_doubled_truncation_rate_is_detected_within_5000_calls() -> None:
    detected = 0
    for seed in range(4):
        calls = Calls(DriftMonitor(cooldown=0.0), seed=seed)
        calls.feed(TRUNCATION_PAST_WARMUP, confidence=None, tokens=None, truncation=0.05)
        if calls.feed(5000, confidence=None, tokens=None, truncation=0.10):
            detected += 1
    assert detected >= 3, f"detected in {detected} of 4 streams"


# -- reports: cooldown, independence ----------------------------------------------------


@pytest.mark.parametrize("cooldown", [0.0, 600.0])
def test_the_cooldown_holds_back_the_same_news_and_only_within_its_time(cooldown: float) -> None:
    calls = Calls(DriftMonitor(cooldown=cooldown))
    calls.feed(PAST_WARMUP, tokens=None, truncation=None)
    # at t=0: a drop, then the detector re-baselines on the new level and is back to ok
    first = calls.feed(1600, confidence=0.73, tokens=None, truncation=None)
    assert severities(first)[-1] == "ok"
    assert "critical" in severities(first)
    # at t=100: the same news again (critical, then ok), within the cooldown
    second = calls.feed(1600, confidence=0.62, tokens=None, truncation=None, now=100.0)
    state = states_by_key(calls.monitor)[SIGNAL_CONFIDENCE, MODEL, CHAT]
    assert state.severity == "ok"  # what the gauges show does not depend on the cooldown
    # at t=700: once more, now past the cooldown of the first reports
    third = calls.feed(400, confidence=0.53, tokens=None, truncation=None, now=700.0)
    assert_consistent(first)
    if cooldown:
        # only a severity the first drop did not report (it may skip warning) gets through
        assert not set(severities(second)) & set(severities(first))
        assert set(severities(second)) <= {"warning"}
    else:
        assert "critical" in severities(second)
        assert severities(second)[-1] == "ok"
        assert_consistent(calls.changes)
    assert "critical" in severities(third)
    assert {change.previous for _, change in third} <= {"ok", "warning"}
    state = states_by_key(calls.monitor)[SIGNAL_CONFIDENCE, MODEL, CHAT]
    assert state.severity == "critical"
    if cooldown:  # what was held back was still a change of state, marked so
        assert calls.held_back
        assert all(not change.reported for _, change in calls.held_back)


def test_two_signals_reaching_the_same_severity_are_both_reported() -> None:
    """The cooldown is per signal: a confidence warning does not hide a truncation one."""
    calls = Calls(DriftMonitor(cooldown=900.0))
    calls.feed(TRUNCATION_PAST_WARMUP, truncation=0.05)
    changes = calls.feed(4000, confidence=0.70, truncation=0.25)
    alarmed = {change.signal for _, change in changes if change.severity != "ok"}
    assert {SIGNAL_CONFIDENCE, SIGNAL_TRUNCATION} <= alarmed


def test_the_cooldown_is_per_severity() -> None:
    """Back to ok is news of its own, reported even right after the alarm was."""
    calls = Calls(DriftMonitor(cooldown=10_000.0))
    calls.feed(PAST_WARMUP, tokens=None, truncation=None)
    changes = calls.feed(1600, confidence=0.73, tokens=None, truncation=None)
    assert "critical" in severities(changes)
    assert severities(changes)[-1] == "ok"
    assert severities(changes).count("ok") == 1


def test_models_and_operations_are_watched_and_reported_independently() -> None:
    calls = Calls(DriftMonitor(cooldown=900.0))
    series = [(MODEL, CHAT), (MODEL, "text_completion"), (OTHER_MODEL, CHAT)]
    for _ in range(PAST_WARMUP // 100):
        for model, operation in series:
            assert calls.feed(100, model=model, operation=operation, truncation=None) == []
    drifting: list[tuple[int, DriftChange]] = []
    for _ in range(4):
        drifting += calls.feed(100, model=MODEL, confidence=0.73, truncation=None)
        assert calls.feed(100, model=MODEL, operation="text_completion", truncation=None) == []
        assert calls.feed(100, model=OTHER_MODEL, truncation=None) == []
    assert "critical" in severities(drifting)
    assert {(c.model, c.operation, c.signal) for _, c in drifting} == {
        (MODEL, CHAT, SIGNAL_CONFIDENCE)
    }
    # the same severity for another model at the same time is news of its own
    other = calls.feed(400, model=OTHER_MODEL, confidence=0.73, truncation=None)
    assert "critical" in severities(other)
    assert {change.model for _, change in other} == {OTHER_MODEL}
    assert_consistent(calls.changes)
    states = states_by_key(calls.monitor)
    assert states[SIGNAL_CONFIDENCE, MODEL, CHAT].severity == "critical"
    assert states[SIGNAL_CONFIDENCE, MODEL, "text_completion"].severity == "ok"
    assert states[SIGNAL_CONFIDENCE, OTHER_MODEL, CHAT].severity == "critical"
    assert all(
        state.severity == "ok" for key, state in states.items() if key[0] == SIGNAL_OUTPUT_LENGTH
    )


# -- states for the gauges --------------------------------------------------------------


def test_states_list_every_series_with_its_severity_and_drop() -> None:
    monitor = DriftMonitor(cooldown=900.0)
    assert monitor.states() == []
    calls = Calls(monitor)
    calls.feed(10, truncation=None)
    calls.feed(10, model=OTHER_MODEL, operation="responses", truncation=0.0)
    assert set(states_by_key(monitor)) == {
        (SIGNAL_CONFIDENCE, MODEL, CHAT),
        (SIGNAL_OUTPUT_LENGTH, MODEL, CHAT),
        (SIGNAL_CONFIDENCE, OTHER_MODEL, "responses"),
        (SIGNAL_OUTPUT_LENGTH, OTHER_MODEL, "responses"),
        (SIGNAL_TRUNCATION, OTHER_MODEL, "responses"),
    }
    for state in monitor.states():
        assert (state.severity, state.drop) == ("ok", None)  # warming up
    calls.feed(PAST_WARMUP, truncation=None)
    calls.feed(PAST_WARMUP, model=OTHER_MODEL, operation="responses", truncation=0.0)
    states = states_by_key(monitor)
    assert len(states) == 5
    for (signal, _, _), state in states.items():
        assert state.severity == "ok"
        if signal == SIGNAL_TRUNCATION:
            assert state.drop is None  # never truncated: nothing varies, no baseline yet
        else:
            assert isinstance(state.drop, float) and abs(state.drop) < 0.05
    calls.feed(400, confidence=0.6, truncation=None)
    state = states_by_key(monitor)[SIGNAL_CONFIDENCE, MODEL, CHAT]
    assert state.severity == "critical"
    assert state.drop is not None and state.drop > 0.05
    assert states_by_key(monitor)[SIGNAL_CONFIDENCE, OTHER_MODEL, "responses"].severity == "ok"


def test_at_most_256_series_are_watched() -> None:
    monitor = DriftMonitor(cooldown=0.0)
    calls = Calls(monitor)
    for index in range(256):
        calls.feed(1, model=f"model-{index}", tokens=None, truncation=None)
    assert len(monitor.states()) == 256
    # one series more: not watched, even when it drifts past its warm-up
    assert calls.feed(PAST_WARMUP, model="model-256", tokens=None, truncation=None) == []
    assert calls.feed(600, model="model-256", confidence=0.6, tokens=None, truncation=None) == []
    # nor is a new signal of a watched model
    assert calls.feed(10, model="model-0", confidence=None, truncation=None) == []
    states = states_by_key(monitor)
    assert len(states) == 256
    assert all(model != "model-256" for _, model, _ in states)
    assert (SIGNAL_OUTPUT_LENGTH, "model-0", CHAT) not in states
    # the watched ones still are
    calls.feed(PAST_WARMUP, model="model-0", tokens=None, truncation=None)
    changes = calls.feed(600, model="model-0", confidence=0.6, tokens=None, truncation=None)
    assert "critical" in severities(changes)
    assert len(monitor.states()) == 256


def test_unknown_signals_are_skipped() -> None:
    monitor = DriftMonitor(cooldown=0.0)
    calls = Calls(monitor)
    assert calls.feed(2000, confidence=None, tokens=None, truncation=None) == []
    assert monitor.states() == []
    # confidence known for every other call only: that series is still warming up when
    # the output length, known for every call, is past it
    for _ in range(PAST_WARMUP // 2):
        calls.feed(1, truncation=None)
        calls.feed(1, confidence=None, truncation=None)
    states = states_by_key(monitor)
    assert set(states) == {(SIGNAL_CONFIDENCE, MODEL, CHAT), (SIGNAL_OUTPUT_LENGTH, MODEL, CHAT)}
    assert states[SIGNAL_CONFIDENCE, MODEL, CHAT].drop is None
    assert states[SIGNAL_OUTPUT_LENGTH, MODEL, CHAT].drop is not None
    # a collapse on the calls without a confidence changes nothing for confidence
    calls.feed(600, confidence=None, tokens=None, truncation=None)
    assert monitor.observe(MODEL, CHAT, confidence=None, output_tokens=None, truncated=None) == []
    assert states_by_key(monitor)[SIGNAL_CONFIDENCE, MODEL, CHAT].drop is None


def test_several_signals_drifting_at_once_are_each_reported_in_order() -> None:
    calls = Calls(DriftMonitor(cooldown=0.0))
    calls.feed(PAST_WARMUP, truncation=None)
    changes = calls.feed(800, confidence=0.5, tokens=100.0, truncation=None)
    assert {change.signal for _, change in changes} == {SIGNAL_CONFIDENCE, SIGNAL_OUTPUT_LENGTH}
    order = {SIGNAL_CONFIDENCE: 0, SIGNAL_OUTPUT_LENGTH: 1, SIGNAL_TRUNCATION: 2}
    for (call, change), (next_call, next_change) in itertools.pairwise(changes):
        assert call <= next_call
        if call == next_call:
            assert order[change.signal] < order[next_change.signal]
    assert_consistent(changes)
