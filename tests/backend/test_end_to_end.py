"""The backend half, end to end and for real: an instrumented workload (the real
``openai`` client against the simulator, metrics on the OpenTelemetry Prometheus
exporter) scraped by Prometheus 2.42 evaluating our rule files, alerting through
Alertmanager 0.25 with our routing, to a local webhook.

The rules and routing are the shipped files, time-compressed 120x (an hour passes in 30
seconds; see ``tests/support/backend_stack.py``). The simulator's confidence drops for
``gpt-4o-mini`` after a baseline: the drift alert must reach the webhook, and exactly
once within the 15-minute cooldown; ``o1-pro`` costs about $0.03 a call: the
cost-per-request alert must fire for it, and for nothing else.
"""

from __future__ import annotations

import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ..support.backend_stack import (
    SCRAPE_INTERVAL_MS,
    Service,
    Webhook,
    compress_routing,
    compress_rules,
    duration_ms,
    free_port,
    get_json,
    prometheus_config,
    start,
)
from ..support.backends import ALERTMANAGER_DIR, ROOT, RULES_DIR, binary
from ..support.promql import as_prometheus_query, dashboard_exprs, query_blocks

FACTOR = 120
"""Time compression: 15 minutes pass in 7.5 seconds."""
RATE = 20
"""gpt-4o-mini calls a second."""
BASELINE_SECONDS = 45
"""Calls before the confidence drops: more than the compressed hour the baseline is
offset by, so that the baseline holds only calm traffic."""
CHEAP, EXPENSIVE = "gpt-4o-mini", "o1-pro"
COST_ALERT = "SentinelCostPerRequestHigh"
DRIFT_ALERTS = ("SentinelConfidenceDrift", "SentinelConfidenceDriftCritical")
ROUTING = ALERTMANAGER_DIR / "alertmanager.yml"

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


@dataclass
class Stack:
    """The running backends of one scenario."""

    prometheus: Service
    alertmanager: Service
    workload: Service
    webhook: Webhook
    started: float

    def query(self, expr: str) -> list[dict[str, object]]:
        """The instant vector ``expr`` evaluates to now (raises on a PromQL error)."""
        url = f"{self.prometheus.url}/api/v1/query?query={urllib.parse.quote(expr)}"
        answer = get_json(url)
        assert answer["status"] == "success", answer
        result: list[dict[str, object]] = answer["data"]["result"]
        return result


def _cooldown_seconds() -> float:
    route = yaml.safe_load(ROUTING.read_text(encoding="utf-8"))["route"]
    return min(duration_ms(route["group_interval"]), duration_ms(route["repeat_interval"])) / (
        1000 * FACTOR
    )


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    """Workload, Alertmanager and Prometheus on loopback ports, stopped by PID at the end."""
    prometheus_bin, alertmanager_bin = binary("prometheus"), binary("alertmanager")
    services: list[Service] = []
    with tempfile.TemporaryDirectory(prefix="sentinel-e2e-") as folder, Webhook() as webhook:
        directory = Path(folder)
        try:
            app_port = free_port()
            services.append(
                start(
                    "workload",
                    [
                        sys.executable,
                        "-m",
                        "tests.support.workload",
                        "--port",
                        str(app_port),
                        "--rate",
                        str(RATE),
                        "--drift-after",
                        str(RATE * BASELINE_SECONDS),
                    ],
                    f"http://127.0.0.1:{app_port}",
                    "/metrics",
                    directory,
                )
            )
            routing = directory / "alertmanager.yml"
            routing.write_text(
                yaml.safe_dump(compress_routing(ROUTING, FACTOR, webhook.url)), encoding="utf-8"
            )
            am_port = free_port()
            services.append(
                start(
                    "alertmanager",
                    [
                        alertmanager_bin,
                        f"--config.file={routing}",
                        f"--storage.path={directory / 'am-data'}",
                        f"--web.listen-address=127.0.0.1:{am_port}",
                        "--cluster.listen-address=",
                    ],
                    f"http://127.0.0.1:{am_port}",
                    "/-/ready",
                    directory,
                )
            )
            rule_files = []
            for source in sorted(RULES_DIR.glob("*.rules.yml")):
                target = directory / source.name
                target.write_text(yaml.safe_dump(compress_rules(source, FACTOR)), encoding="utf-8")
                rule_files.append(target)
            config = directory / "prometheus.yml"
            config.write_text(
                yaml.safe_dump(
                    prometheus_config(
                        rule_files,
                        f"127.0.0.1:{app_port}",
                        f"127.0.0.1:{am_port}",
                        SCRAPE_INTERVAL_MS,
                    )
                ),
                encoding="utf-8",
            )
            prom_port = free_port()
            services.append(
                start(
                    "prometheus",
                    [
                        prometheus_bin,
                        f"--config.file={config}",
                        f"--storage.tsdb.path={directory / 'prom-data'}",
                        f"--web.listen-address=127.0.0.1:{prom_port}",
                    ],
                    f"http://127.0.0.1:{prom_port}",
                    "/-/ready",
                    directory,
                )
            )
            workload, alertmanager, prometheus = services
            yield Stack(prometheus, alertmanager, workload, webhook, time.monotonic())
        finally:
            for service in reversed(services):
                service.stop()


def _wait_for(stack: Stack, what: str, seconds: float, check: object) -> None:
    """Poll ``check()`` until it is truthy; fail with the services' logs after ``seconds``."""
    assert callable(check)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        for service in (stack.prometheus, stack.alertmanager, stack.workload):
            assert service.process.poll() is None, f"{service.name} died:\n{service.tail()}"
        time.sleep(0.5)
    alerts = get_json(f"{stack.prometheus.url}/api/v1/alerts")["data"]["alerts"]
    pytest.fail(
        f"{what} not seen within {seconds} s.\nPrometheus alerts: {alerts}\n"
        f"webhook: {[n.payload for n in stack.webhook.notifications]}\n"
        f"workload log:\n{stack.workload.tail()}"
    )


def test_drift_alert_reaches_the_webhook_once_within_the_cooldown(stack: Stack) -> None:
    def drift_notifications() -> list[tuple[str, float]]:
        return [
            (name, notification.received)
            for name in DRIFT_ALERTS
            for notification in stack.webhook.firing(name, gen_ai_request_model=CHEAP)
        ]

    _wait_for(stack, "a confidence-drift notification", BASELINE_SECONDS + 120, drift_notifications)
    first = min(received for _, received in drift_notifications())
    # the group may only speak again after the cooldown: watch most of it
    cooldown = _cooldown_seconds()
    time.sleep(max(0.0, first + 0.8 * cooldown - time.monotonic()))
    seen = drift_notifications()
    assert len(seen) == 1, f"expected one drift notification in the cooldown, got {seen}"
    assert not stack.webhook.firing(DRIFT_ALERTS[0], gen_ai_request_model=EXPENSIVE)


def test_cost_alert_fires_for_the_expensive_model_only(stack: Stack) -> None:
    _wait_for(
        stack,
        f"{COST_ALERT} for {EXPENSIVE}",
        120,
        lambda: stack.webhook.firing(COST_ALERT, gen_ai_request_model=EXPENSIVE),
    )
    assert not stack.webhook.firing(COST_ALERT, gen_ai_request_model=CHEAP)
    (notification,) = stack.webhook.firing(COST_ALERT, gen_ai_request_model=EXPENSIVE)[:1]
    (alert,) = [a for a in notification.alerts() if a["labels"]["alertname"] == COST_ALERT]
    assert alert["annotations"]["runbook_url"].endswith(f"docs/runbooks/{COST_ALERT}.md")
    assert (ROOT / "docs" / "runbooks" / f"{COST_ALERT}.md").is_file()


def test_dashboard_and_debugging_queries_run_on_live_series(stack: Stack) -> None:
    """Every dashboard panel query and every documented debugging query is valid PromQL
    for the live Prometheus, and most of them show our workload's data."""
    _wait_for(
        stack,
        "recorded request rates",
        60,
        lambda: stack.query("model:gen_ai_requests:rate5m"),
    )
    exprs = dashboard_exprs() + query_blocks()
    assert len(exprs) > 10
    empty = [expr for expr in exprs if not stack.query(as_prometheus_query(expr))]
    # some panels only fill with errors, PII in outputs or a refusal; most must not be empty
    assert len(empty) <= len(exprs) // 4, empty
