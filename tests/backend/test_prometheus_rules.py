"""The Prometheus rules (``collector-config/prometheus/rules/``): valid for ``promtool check
rules``, unit-tested by ``promtool test rules`` (every alert is shown to fire, to stay silent
and to resolve), named by convention, reading only the series our exporter produces, and
each alert linked to its runbook (``docs/runbooks/``)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.backends import ROOT, RULES_DIR, RUNBOOKS_DIR, binary
from tests.support.promql import metric_names

RECORDING_FILE = RULES_DIR / "sentinel-recording.rules.yml"
ALERT_FILE = RULES_DIR / "sentinel-alerts.rules.yml"
RULE_FILES = (RECORDING_FILE, ALERT_FILE)
TEST_FILES = sorted(RULES_DIR.glob("*.test.yml"))
RUNBOOK_URL = "https://github.com/openai-sentinel/openai-sentinel/blob/main/docs/runbooks/{}.md"
PROMTOOL_TIMEOUT = 300

HISTOGRAMS = (
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "gen_ai_client_operation_time_per_output_chunk_seconds",
    "gen_ai_client_token_usage",
    "sentinel_request_cost_USD",
    "sentinel_confidence",
)
COUNTERS_AND_GAUGES = (
    "sentinel_cost_USD_total",
    "sentinel_request_cost_over_threshold_total",
    "sentinel_cost_cache_savings_USD_total",
    "sentinel_request_repeats_total",
    "sentinel_request_repeat_cost_USD_total",
    "sentinel_request_repeat_model_switches_total",
    "sentinel_response_truncations_total",
    "sentinel_response_refusals_total",
    "sentinel_response_content_filtered_total",
    "sentinel_drift_alarms_total",
    "sentinel_security_events_total",
    "sentinel_drift_percent",
    "sentinel_drift_severity",
)
OUR_SERIES = frozenset(
    {f"{name}{suffix}" for name in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    | set(COUNTERS_AND_GAUGES)
)
RECORDING_NAME = re.compile(r"(?:ai|model|sentinel):[A-Za-z0-9_]+:[a-z0-9_]+")
SEVERITIES = frozenset({"warning", "critical"})
ALERTS_WITHOUT_FOR = frozenset({"SentinelPIILeak"})  # a leak is reported at once
DURATION = re.compile(r"(\d+)([smh])")
COMMENT = re.compile(r"#[^\n]*")  # a PromQL comment, as the runbooks' queries start with


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _rules(path: Path) -> list[dict[str, Any]]:
    return [rule for group in _load(path)["groups"] for rule in group["rules"]]


def _alerts() -> dict[str, dict[str, Any]]:
    alerts = {rule["alert"]: rule for rule in _rules(ALERT_FILE) if "alert" in rule}
    assert len(alerts) == len(_rules(ALERT_FILE)), "the alert file holds only distinct alerts"
    return alerts


def _recorded() -> set[str]:
    return {rule["record"] for path in RULE_FILES for rule in _rules(path) if "record" in rule}


def _minutes(duration: str) -> float:
    match = DURATION.fullmatch(duration)
    assert match, f"unexpected duration {duration!r}"
    return int(match.group(1)) * {"s": 1 / 60, "m": 1, "h": 60}[match.group(2)]


def _promtool(*arguments: str) -> str:
    command = [binary("promtool"), *arguments]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT,
        check=False,
        cwd=ROOT,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{output}"
    return output


def test_promtool_check_rules() -> None:
    output = _promtool("check", "rules", *(str(path) for path in RULE_FILES))
    for path in RULE_FILES:
        assert f"SUCCESS: {len(_rules(path))} rules found" in output, output


def test_there_are_unit_tests_for_recording_and_alerting_rules() -> None:
    names = {path.name for path in TEST_FILES}
    assert {"sentinel-recording.test.yml", "sentinel-alerts.test.yml"} <= names
    for path in TEST_FILES:
        for rule_file in _load(path)["rule_files"]:
            assert (path.parent / rule_file).is_file(), f"{path.name}: no {rule_file}"


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda path: path.name)
def test_promtool_test_rules(test_file: Path) -> None:
    output = _promtool("test", "rules", str(test_file))
    assert "SUCCESS" in output and "FAILED" not in output, output


def test_recording_rule_names_follow_level_metric_operations() -> None:
    names = [rule["record"] for rule in _rules(RECORDING_FILE)]
    assert len(names) >= 20
    assert len(names) == len(set(names)), "a recording rule is defined twice"
    wrong = [name for name in names if not RECORDING_NAME.fullmatch(name)]
    assert not wrong, wrong
    assert not [rule for rule in _rules(ALERT_FILE) if "record" in rule]


def test_the_budget_is_a_constant_users_edit() -> None:
    (budget,) = [r for r in _rules(RECORDING_FILE) if r["record"] == "sentinel:budget_usd:monthly"]
    assert re.fullmatch(r"vector\(\d+(\.\d+)?\)", budget["expr"].strip()), budget["expr"]


def test_baselines_exclude_the_recent_window() -> None:
    baselines = [rule for rule in _rules(RECORDING_FILE) if "offset1h" in rule["record"]]
    assert len(baselines) >= 4
    for rule in baselines:
        ranges = re.findall(r"\[(\w+)\](\s*offset\s+\w+)?", rule["expr"])
        assert ranges, rule["record"]
        assert all(
            window == "1d" and offset.split() == ["offset", "1h"] for window, offset in ranges
        )


def test_expressions_read_only_our_series_and_recorded_rules() -> None:
    recorded = _recorded()
    read: set[str] = set()
    for path in RULE_FILES:
        for rule in _rules(path):
            names = metric_names(str(rule["expr"]))
            unknown = names - OUR_SERIES - recorded
            assert not unknown, f"{rule.get('record') or rule.get('alert')} reads {unknown}"
            read |= names
    # the check saw real names: raw series and recording rules alike
    assert {
        "gen_ai_client_operation_duration_seconds_bucket",
        "sentinel_security_events_total",
        "model:gen_ai_requests:rate5m",
    } <= read
    assert read & OUR_SERIES and read & recorded


def test_unit_test_inputs_use_the_exporter_names() -> None:
    inputs = [
        series["series"]
        for path in TEST_FILES
        for test in _load(path)["tests"]
        for series in test.get("input_series", [])
    ]
    assert len(inputs) > 50
    names = {text.split("{", 1)[0] for text in inputs}
    assert names <= OUR_SERIES, sorted(names - OUR_SERIES)


@pytest.mark.parametrize("name", sorted(_alerts()))
def test_alert_labels_and_annotations(name: str) -> None:
    rule = _alerts()[name]
    labels, annotations = rule["labels"], rule["annotations"]
    assert labels["severity"] in SEVERITIES
    assert labels["sentinel_alert_family"]
    assert annotations["summary"].strip()
    assert "$value" in annotations["description"]
    if "gen_ai_request_model" in rule["expr"] or "model:" in rule["expr"]:
        assert "$labels.gen_ai_request_model" in annotations["description"]
    assert annotations["runbook_url"] == RUNBOOK_URL.format(name)
    assert (RUNBOOKS_DIR / f"{name}.md").is_file()
    if name in ALERTS_WITHOUT_FOR:
        assert "for" not in rule
    else:
        assert 2 <= _minutes(rule["for"]) <= 15, rule["for"]


def _alert_checks() -> list[tuple[str, bool]]:
    """(alert name, whether it is expected to fire) for every alert_rule_test entry."""
    return [
        (check["alertname"], bool(check.get("exp_alerts")))
        for path in TEST_FILES
        for test in _load(path)["tests"]
        for check in test.get("alert_rule_test", [])
    ]


def test_unit_tests_name_only_real_alerts() -> None:
    """A misspelt alert name would pass an ``exp_alerts: []`` check for nothing."""
    named = {name for name, _ in _alert_checks()}
    assert named <= set(_alerts()), sorted(named - set(_alerts()))


@pytest.mark.parametrize("name", sorted(_alerts()))
def test_every_alert_is_unit_tested_firing_and_silent(name: str) -> None:
    checks = [fires for alert, fires in _alert_checks() if alert == name]
    assert True in checks, f"no unit test shows {name} firing"
    assert False in checks, f"no unit test shows {name} silent or resolved"


def test_every_runbook_belongs_to_an_alert_and_is_listed() -> None:
    runbooks = {path.stem for path in RUNBOOKS_DIR.glob("*.md") if path.name != "README.md"}
    assert runbooks == set(_alerts())
    index = (RUNBOOKS_DIR / "README.md").read_text(encoding="utf-8")
    missing = [name for name in sorted(runbooks) if f"({name}.md)" not in index]
    assert not missing, missing


@pytest.mark.parametrize("name", sorted(_alerts()))
def test_runbook_queries_start_with_security(name: str) -> None:
    text = (RUNBOOKS_DIR / f"{name}.md").read_text(encoding="utf-8")
    assert 40 <= len(text.splitlines()) <= 90
    blocks = re.findall(r"```promql\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 4
    assert "sentinel_security_events_total" in blocks[0]
    read = {metric for block in blocks for metric in metric_names(COMMENT.sub("", block))}
    assert read and read <= OUR_SERIES | _recorded(), sorted(read - OUR_SERIES - _recorded())
