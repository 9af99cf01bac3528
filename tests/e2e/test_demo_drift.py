"""``openai-sentinel demo --drift``: thousands of calls on the embedded simulator, one model
losing confidence; the alarms come as the ``on_drift`` callback receives them, warning
first, then critical, on that model only."""

from __future__ import annotations

import re

import pytest

from ..support.demo import closed_port, run_demo

DRIFTING = "gpt-4o-mini"
STEADY = "gpt-4o"
SEVERITIES = {"ok", "warning", "critical"}
_CHANGE = re.compile(
    r"^\s+call\s+(\d+)\s+(\S+)\s+(\S+)\s+(ok|warning|critical) -> (ok|warning|critical)\s"
)
_MEAN = re.compile(r"^\s+(gpt-4o(?:-mini)?)\s+(\d\.\d+) -> (\d\.\d+) \(([+-]\d+\.\d)%\)\s*$")


@pytest.mark.timeout(240)
def test_the_drift_demo_warns_then_goes_critical_on_the_drifting_model_only() -> None:
    completed = run_demo("--drift", timeout=180)
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    lines = completed.stdout.splitlines()
    # the alarms line: warning before critical for the drifting model, none for the other
    (alarms,) = [line for line in lines if line.startswith("alarms:")]
    found = re.fullmatch(rf"alarms: {DRIFTING}: (.+); {STEADY}: (.+)", alarms)
    assert found is not None, alarms
    drifting = found.group(1).split(" -> ")
    assert set(drifting) <= SEVERITIES, alarms
    assert "warning" in drifting and "critical" in drifting, alarms
    assert drifting.index("warning") < drifting.index("critical"), alarms
    assert found.group(2) == "none", alarms
    # the changes as printed by the callback say the same, in call order
    changes = [match.groups() for line in lines if (match := _CHANGE.match(line))]
    assert [severity for *_, severity in changes] == drifting
    assert {(model, signal) for _, model, signal, _, _ in changes} == {(DRIFTING, "confidence")}
    calls = [int(call) for call, *_ in changes]
    assert calls == sorted(calls) and 0 < calls[0] <= 5000
    assert changes[0][3] == "ok"
    assert all(changes[i][3] == changes[i - 1][4] for i in range(1, len(changes)))
    # first and last 500 calls: the drifting model lost confidence, the steady one did not
    means = {match.group(1): match.groups()[1:] for line in lines if (match := _MEAN.match(line))}
    assert set(means) == {DRIFTING, STEADY}, completed.stdout
    first, last, change = (float(value) for value in means[DRIFTING])
    assert last < first and change <= -8.0
    assert (last - first) / first == pytest.approx(change / 100, abs=0.002)
    first, last, change = (float(value) for value in means[STEADY])
    assert abs(change) < 3.0 and abs(last - first) < 0.03


def test_the_drift_demo_runs_on_the_simulator_only() -> None:
    completed = run_demo(
        "--drift",
        "--live",
        timeout=60,
        OPENAI_API_KEY="sk-never-used",
        OPENAI_BASE_URL=f"http://127.0.0.1:{closed_port()}/v1",
    )
    assert completed.returncode == 2
    assert "--drift runs on the simulator only" in completed.stderr
    assert "drift scenario" not in completed.stdout
    assert "alarms:" not in completed.stdout


def test_the_drift_demo_needs_enough_calls_for_the_warm_up() -> None:
    completed = run_demo("--drift", "--calls", "100", timeout=60)
    assert completed.returncode == 2
    assert "--drift needs --calls" in completed.stderr
