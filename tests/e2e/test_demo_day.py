"""``openai-sentinel demo``'s day of traffic, run as a user would: the cost bug, the
injection wave and the drift alarm show in the summary, and the HTML report holds the
run's data. The full day runs once (at 4x speed); a short day checks the rest."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ..support.demo import run_demo


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_full_day_shows_the_cost_bug_the_injection_wave_and_the_drift_alarm(
    tmp_path: Path,
) -> None:
    report = tmp_path / "day.html"
    completed = run_demo("--speed", "4", "--report", str(report), timeout=230)
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    calls = re.search(r"^(\d+) calls in [\d.]+ s; total cost \$([\d.]+)", out, re.MULTILINE)
    assert calls and int(calls.group(1)) > 3000  # the retried calls have spans of their own
    bug = re.search(r"cost bug: (\d+) rate-limited calls were retried on o1-pro .* (\d+)% of", out)
    assert bug and int(bug.group(1)) > 20 and int(bug.group(2)) > 50
    findings = dict(re.findall(r"(\w+) (\d+)", out.split("security findings: ")[1].split("\n")[0]))
    assert int(findings["prompt_injection"]) >= 10
    assert int(findings["pii"]) >= 10
    alarms = re.findall(r"drift alarm at call (\d+): (\S+) confidence -> (\w+)", out)
    assert ("gpt-4o-mini", "warning") in {(model, severity) for _, model, severity in alarms}
    # the alarm comes with the slang, in the last quarter of the day
    assert min(int(call) for call, _, _ in alarms) > 0.75 * int(calls.group(1))
    assert all(model == "gpt-4o-mini" for _, model, _ in alarms)
    page = report.read_text(encoding="utf-8")
    assert 'class="alarm"' in page and 'data-model="gpt-4o-mini"' in page
    assert "https://" not in page and "http://" not in page.replace("http://www.w3.org", "")


@pytest.mark.timeout(120)
def test_a_short_day_runs_and_says_why_there_is_no_alarm(tmp_path: Path) -> None:
    report = tmp_path / "short.html"
    completed = run_demo("--requests", "60", "--report", str(report))
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    for model in ("gpt-4o-mini", "gpt-4o", "o1-pro"):
        assert re.search(rf"\b{re.escape(model)}\b.*\$", out), model
    assert "no drift alarm: gpt-4o-mini made" in out
    assert f"HTML report: {report.resolve()}" in out
    assert "<svg" in report.read_text(encoding="utf-8")


def test_bad_demo_arguments_are_refused() -> None:
    for arguments in (["--requests", "3"], ["--speed", "0"], ["--budget", "-1"]):
        completed = run_demo(*arguments)
        assert completed.returncode == 2, arguments
        assert "--requests must be at least 10" in completed.stderr


def test_live_needs_an_api_key() -> None:
    completed = run_demo("--live")
    assert completed.returncode == 2
    assert "--live needs OPENAI_API_KEY" in completed.stdout
