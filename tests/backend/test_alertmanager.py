"""The shipped Alertmanager routing: valid for ``amtool``, routes each severity to its
receiver, keeps the 15-minute cooldown, and inhibits a warning by its critical."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from ..support.backend_stack import duration_ms
from ..support.backends import ALERTMANAGER_DIR, binary

CONFIG = ALERTMANAGER_DIR / "alertmanager.yml"


def amtool(*arguments: str) -> str:
    result = subprocess.run(
        [binary("amtool"), *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_check_config() -> None:
    output = amtool("check-config", str(CONFIG))
    assert "SUCCESS" in output
    assert "1 inhibit rules" in output


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (["severity=critical", "alertname=SentinelConfidenceDriftCritical"], "oncall-critical"),
        (["severity=warning", "alertname=SentinelConfidenceDrift"], "team-warning"),
        (["severity=warning", "alertname=SentinelCostPerRequestHigh"], "team-warning"),
        (["alertname=SomethingElse"], "default"),
        (["severity=info"], "default"),
    ],
)
def test_routes(labels: list[str], receiver: str) -> None:
    output = amtool("config", "routes", "test", f"--config.file={CONFIG}", *labels)
    assert output.split() == [receiver]


def test_cooldown_and_grouping() -> None:
    route = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["route"]
    fifteen_minutes = 15 * 60 * 1000
    assert duration_ms(route["group_interval"]) == fifteen_minutes
    assert duration_ms(route["repeat_interval"]) >= fifteen_minutes
    assert route["group_by"] == ["sentinel_alert_family", "gen_ai_request_model"]
    for child in route["routes"]:  # no route shortens the cooldown
        for key in ("group_interval", "repeat_interval"):
            assert key not in child or duration_ms(child[key]) >= fifteen_minutes


def test_a_critical_inhibits_the_warning_of_its_family_and_model() -> None:
    (rule,) = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["inhibit_rules"]
    assert rule["source_matchers"] == ['severity="critical"']
    assert rule["target_matchers"] == ['severity="warning"']
    assert set(rule["equal"]) == {"sentinel_alert_family", "gen_ai_request_model"}
