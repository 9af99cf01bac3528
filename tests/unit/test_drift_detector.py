"""ConfidenceDriftDetector on seeded synthetic streams: silence when nothing changes, an
alarm when the level drops (or, for truncation, rises), re-baselining, bad input."""

from __future__ import annotations

import functools
import json
import math
import subprocess
import sys
import textwrap
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openai_sentinel.drift import ConfidenceDriftDetector

Draw = Callable[[], float]


def beta_stream(seed: int, mean: float = 0.85, concentration: float = 18.0) -> Iterator[float]:
    """Endless Beta-distributed confidences around ``mean``."""
    import random

    rng = random.Random(seed)
    while True:
        yield rng.betavariate(mean * concentration, (1 - mean) * concentration)


def beta_draw(seed: int) -> Callable[[float], float]:
    """A function drawing one confidence around the given mean (Beta, concentration 18)."""
    import random

    rng = random.Random(seed)
    return lambda mean: rng.betavariate(mean * 18.0, (1 - mean) * 18.0)


def feed(detector: ConfidenceDriftDetector, values: Iterator[float], count: int) -> list[int]:
    """Indexes (0-based, among these ``count`` values) of the updates that returned True."""
    return [i for i in range(count) if detector.update(next(values))]


def test_defaults_construct_without_arguments() -> None:
    detector = ConfidenceDriftDetector()
    assert detector.severity == "ok"
    assert detector.count == 0
    assert detector.baseline is None
    assert detector.drop is None


def test_warmup_gives_the_baseline_and_no_alarm() -> None:
    detector = ConfidenceDriftDetector(warmup=500)
    values = beta_stream(1)
    assert feed(detector, values, 499) == []
    assert detector.baseline is None and detector.drop is None
    feed(detector, values, 1)
    assert detector.baseline == pytest.approx(0.85, abs=0.02)
    assert detector.drop is not None and abs(detector.drop) < 0.05


def test_no_alarm_before_the_warmup_ends() -> None:
    draw = beta_draw(2)
    detector = ConfidenceDriftDetector(warmup=1_000)
    assert not any(detector.update(draw(0.85)) for _ in range(500))
    assert not any(detector.update(draw(0.30)) for _ in range(500))
    assert detector.severity == "ok"


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_silent_on_a_stationary_stream(seed: int) -> None:
    detector = ConfidenceDriftDetector()
    assert feed(detector, beta_stream(seed), 50_000) == []
    assert detector.severity == "ok"
    assert detector.count == 50_000
    assert detector.baseline == pytest.approx(0.85, abs=0.01)


def test_silent_on_a_slowly_moving_stream_with_bursts() -> None:
    """A daily cycle of +-1%, and a burst of 30 bad answers every 5,000: no alarm."""
    draw = beta_draw(21)
    detector = ConfidenceDriftDetector()
    alarms = []
    for i in range(60_000):
        level = 0.85 * (1 + 0.01 * math.sin(2 * math.pi * i / 30_000))
        value = draw(0.5) if i % 5_000 >= 4_970 else draw(level)
        if detector.update(value):
            alarms.append(i)
    assert alarms == []


@pytest.mark.parametrize("seed", [31, 32, 33, 34])
def test_alarm_on_an_abrupt_8_percent_drop(seed: int) -> None:
    draw = beta_draw(seed)
    detector = ConfidenceDriftDetector()
    assert not any(detector.update(draw(0.85)) for _ in range(5_000))
    delay = next(i for i in range(1, 2_000) if detector.update(draw(0.85 * 0.92)))
    assert delay <= 400
    assert detector.severity == "warning"  # 8% is less than critical_drop (10%)
    assert detector.drop is not None and 0.0 < detector.drop < 0.15


def test_abrupt_large_drop_becomes_critical() -> None:
    draw = beta_draw(41)
    detector = ConfidenceDriftDetector()
    for _ in range(5_000):
        detector.update(draw(0.85))
    states = []
    for _ in range(1_000):
        if detector.update(draw(0.85 * 0.75)):
            states.append(detector.severity)
    assert states[-1] == "critical"
    assert len(states) <= 2  # ok -> critical, or ok -> warning -> critical


def test_warning_before_critical_on_a_gradual_drop() -> None:
    """A 20% drop spread over 10,000 requests: warning first, critical later."""
    draw = beta_draw(51)
    detector = ConfidenceDriftDetector()
    for _ in range(5_000):
        detector.update(draw(0.85))
    rises = []
    for i in range(10_000):
        if detector.update(draw(0.85 * (1 - 0.20 * i / 10_000))):
            rises.append((i, detector.severity))
    assert rises, "the drift was not detected"
    assert rises[0][1] == "warning"
    assert "critical" in [severity for _, severity in rises]
    first_critical = next(i for i, severity in rises if severity == "critical")
    assert rises[0][0] < first_critical


def test_rebaselines_after_an_alarm_and_stays_silent_at_the_new_level() -> None:
    draw = beta_draw(61)
    detector = ConfidenceDriftDetector()
    for _ in range(5_000):
        detector.update(draw(0.85))
    old_baseline = detector.baseline
    seen = [detector.update(draw(0.75)) for _ in range(2_000)]
    assert any(seen)
    assert detector.severity == "ok"  # back to ok after the hold, on the new level
    assert old_baseline is not None and detector.baseline is not None
    assert detector.baseline == pytest.approx(0.75, abs=0.015)
    returned_ok = []
    for _ in range(30_000):
        before = detector.severity
        assert not detector.update(draw(0.75))
        returned_ok.append(before != detector.severity)
    assert not any(returned_ok)
    assert detector.severity == "ok"


def test_return_to_ok_is_reported_as_false() -> None:
    draw = beta_draw(62)
    detector = ConfidenceDriftDetector(rebaseline=1_000)
    for _ in range(3_000):
        detector.update(draw(0.85))
    transitions = []
    for _ in range(3_000):
        before = detector.severity
        rose = detector.update(draw(0.70))
        if detector.severity != before:
            transitions.append((before, detector.severity, rose))
    assert transitions[0][0] == "ok" and transitions[0][2] is True
    back = [t for t in transitions if t[1] == "ok"]
    assert back and all(rose is False for _, _, rose in back)


@pytest.mark.parametrize(
    "bad",
    [
        math.nan,
        math.inf,
        -math.inf,
        None,
        "0.5x",
        object(),
        complex(1, 1),
        10**400,
        [0.5],
    ],
)
def test_bad_values_are_ignored_without_raising(bad: object) -> None:
    detector = ConfidenceDriftDetector(warmup=100)
    values = beta_stream(71)
    feed(detector, values, 150)
    count = detector.count
    assert detector.update(bad) is False  # type: ignore[arg-type]
    assert detector.count == count
    feed(detector, values, 10)
    assert detector.count == count + 10


def test_extreme_settings_do_not_raise() -> None:
    """Drops beyond what the baseline can be tilted to, on 0/1 and on continuous values."""
    import random

    rng = random.Random(73)
    for direction in ("decrease", "increase"):
        detector = ConfidenceDriftDetector(
            direction=direction, small_drop=0.9, large_drop=50.0, warmup=100
        )
        for i in range(5_000):
            detector.update(float(rng.random() < 0.02) if i % 2 else rng.random())
        assert detector.baseline is not None


def test_garbage_never_raises() -> None:
    import random

    rng = random.Random(74)
    pool = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, 0.0, -0.0, 1, True, "1"]
    for low, high in ((0.0, 1.0), (0.0, math.inf), (-math.inf, math.inf)):
        detector = ConfidenceDriftDetector(low=low, high=high, warmup=64)
        for i in range(3_000):
            value = rng.choice(pool) if i % 3 else rng.uniform(-1e300, 1e300)
            assert detector.update(value) in (True, False)  # type: ignore[arg-type]


def test_out_of_range_values_are_clipped() -> None:
    detector = ConfidenceDriftDetector(warmup=100)
    for value in [-3.0, 7.0, 1e300, -1e300] * 25:
        assert detector.update(value) is False
    assert detector.count == 100
    assert detector.baseline == pytest.approx(0.5)  # half 0.0, half 1.0


def test_constant_values_keep_warming_up() -> None:
    detector = ConfidenceDriftDetector(warmup=100)
    for _ in range(1_000):
        assert detector.update(0.9) is False
    assert detector.baseline is None
    feed(detector, beta_stream(72), 100)
    assert detector.baseline is not None


def test_truncation_rate_rise_on_0_1_values() -> None:
    """Truncation flags (0/1): silent at 3%, an alarm when the rate doubles."""
    import random

    rng = random.Random(81)
    detector = ConfidenceDriftDetector(
        direction="increase",
        small_drop=0.3,
        large_drop=0.8,
        min_drop=0.2,
        critical_drop=1.0,
        warmup=3_000,
    )
    assert not any(detector.update(float(rng.random() < 0.03)) for _ in range(60_000))
    delay = next((i for i in range(1, 5_001) if detector.update(float(rng.random() < 0.06))), None)
    assert delay is not None and delay <= 5_000
    assert detector.drop is not None and detector.drop < 0  # a rise shows as a negative drop


def test_decrease_detector_ignores_a_rise() -> None:
    draw = beta_draw(82)
    detector = ConfidenceDriftDetector()
    for _ in range(3_000):
        detector.update(draw(0.80))
    assert not any(detector.update(draw(0.90)) for _ in range(10_000))


def test_output_length_with_an_unbounded_range() -> None:
    """Token counts (log-normal around 300): silent, then a 20% shorter output alarms."""
    import random

    rng = random.Random(91)
    detector = ConfidenceDriftDetector(high=math.inf)
    assert not any(detector.update(rng.lognormvariate(math.log(300), 0.5)) for _ in range(30_000))
    assert detector.baseline is not None and 250 < detector.baseline < 400
    shorter = (detector.update(rng.lognormvariate(math.log(240), 0.5)) for _ in range(2_000))
    assert any(shorter)


def _deep_size(detector: ConfidenceDriftDetector) -> int:
    """Bytes of the detector and of everything it holds (slots, their slots, arrays);
    shared objects (interned numbers) count once."""
    seen: set[int] = set()
    stack: list[object] = [detector]
    total = 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, type):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        for cls in type(obj).__mro__:
            for slot in getattr(cls, "__slots__", ()):
                if hasattr(obj, slot):
                    stack.append(getattr(obj, slot))
        if isinstance(obj, (tuple, list)):
            stack.extend(obj)
    return total


def test_memory_stays_constant() -> None:
    draw = beta_draw(101)
    # 200,000 values with drops, rises and re-baselines on the way, drawn beforehand
    values = [draw(0.85 if (i // 40_000) % 2 == 0 else 0.70) for i in range(200_000)]
    detector = ConfidenceDriftDetector()
    for x in values[:2_000]:
        detector.update(x)
    size = _deep_size(detector)
    for x in values[:150_000]:
        detector.update(x)
    assert abs(_deep_size(detector) - size) < 512  # numbers change size a little, no more
    tracemalloc.start()  # the last 50,000 traced (tracing makes updates several times slower)
    try:
        start, _ = tracemalloc.get_traced_memory()
        for x in values[150_000:]:
            detector.update(x)
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 4_096
    assert abs(_deep_size(detector) - size) < 512


def test_reset_starts_a_new_warmup() -> None:
    detector = ConfidenceDriftDetector(warmup=100)
    feed(detector, beta_stream(111), 500)
    detector.reset()
    assert detector.count == 0
    assert detector.baseline is None
    assert detector.severity == "ok"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"direction": "down"},
        {"warmup": 5},
        {"small_drop": 0.0},
        {"fast_threshold": -1.0},
        {"low": 1.0, "high": 0.0},
        {"min_drop": -0.1},
    ],
)
def test_invalid_settings_raise(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ConfidenceDriftDetector(**kwargs)  # type: ignore[arg-type]


_AFTER_PACKAGE = textwrap.dedent(
    """
    import json, sys
    import openai_sentinel
    before = set(sys.modules)
    from openai_sentinel.drift import ConfidenceDriftDetector
    ConfidenceDriftDetector().update(0.5)
    print(json.dumps({"added": sorted(set(sys.modules) - before)}))
    """
)
_ALONE = textwrap.dedent(
    """
    import json, sys
    from openai_sentinel.drift import ConfidenceDriftDetector
    ConfidenceDriftDetector().update(0.5)
    print(json.dumps(sorted({m.split(".")[0] for m in sys.modules} & {"openai", "opentelemetry"})))
    """
)


@functools.cache
def _run(code: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(done.stdout)


def test_drift_module_imports_only_the_standard_library() -> None:
    """What ``openai_sentinel.drift`` imports beyond the package itself: stdlib only."""
    added = _run(_AFTER_PACKAGE)["added"]
    foreign = [
        m
        for m in added
        if not m.startswith("openai_sentinel.") and m.split(".")[0] not in sys.stdlib_module_names
    ]
    assert foreign == []


def test_importing_openai_sentinel_drift_loads_no_openai_or_opentelemetry() -> None:
    assert _run(_ALONE) == []
