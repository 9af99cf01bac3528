"""Real backends for the end-to-end tests: Prometheus, Alertmanager and a webhook, each
started on 127.0.0.1 with temporary data, found ready, and stopped by PID; and the
shipped rules and routing, time-compressed so that hours of production pass in seconds.

Compression divides every duration by ``factor`` (a range ``[1h]`` and an ``offset 1h``
become ``[30s]`` and ``offset 30s`` at 120x; so do ``for:``, ``keep_firing_for:``,
``group_wait``, ``group_interval`` and ``repeat_interval``); thresholds, labels and
expressions stay as shipped. A range is never shorter than four scrapes.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

SCRAPE_INTERVAL_MS = 500
_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w)")
_RANGE = re.compile(r"\[\s*((?:\d+(?:ms|[smhdw]))+)\s*(?::\s*((?:\d+(?:ms|[smhdw]))+)\s*)?\]")
_OFFSET = re.compile(r"\boffset\s+((?:\d+(?:ms|[smhdw]))+)")


def duration_ms(text: str) -> int:
    """``1h30m`` → 5400000."""
    total, position = 0, 0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            raise ValueError(f"not a duration: {text!r}")
        total += int(match.group(1)) * _UNITS_MS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"not a duration: {text!r}")
    return total


def _scaled(text: str, factor: float, minimum_ms: int = 0) -> str:
    return f"{max(minimum_ms, round(duration_ms(text) / factor))}ms"


def compress_expr(expr: str, factor: float) -> str:
    """``expr`` with its ranges, subquery steps and offsets divided by ``factor``."""
    floor = 4 * SCRAPE_INTERVAL_MS

    def scale_range(match: re.Match[str]) -> str:
        window = _scaled(match.group(1), factor, floor)
        if match.group(2) is None:
            return f"[{window}]"
        return f"[{window}:{_scaled(match.group(2), factor, SCRAPE_INTERVAL_MS)}]"

    def scale_offset(match: re.Match[str]) -> str:
        return f"offset {_scaled(match.group(1), factor)}"

    return _OFFSET.sub(scale_offset, _RANGE.sub(scale_range, expr))


def compress_rules(source: Path, factor: float) -> dict[str, Any]:
    """The rule file ``source`` with every duration divided by ``factor``."""
    document: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    for group in document.get("groups", []):
        if "interval" in group:
            group["interval"] = _scaled(str(group["interval"]), factor, SCRAPE_INTERVAL_MS)
        for rule in group.get("rules", []):
            rule["expr"] = compress_expr(str(rule["expr"]), factor)
            for key in ("for", "keep_firing_for"):
                if key in rule:
                    rule[key] = _scaled(str(rule[key]), factor)
    return document


def compress_routing(source: Path, factor: float, webhook: str) -> dict[str, Any]:
    """The Alertmanager config ``source`` with its timers divided by ``factor`` and every
    webhook receiver sent to ``webhook`` (the path is kept)."""
    document: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))

    def visit(route: dict[str, Any]) -> None:
        for key in ("group_wait", "group_interval", "repeat_interval"):
            if key in route:
                route[key] = _scaled(str(route[key]), factor, 1)
        for child in route.get("routes", []):
            visit(child)

    visit(document["route"])
    base = urllib.parse.urlsplit(webhook)
    for receiver in document.get("receivers", []):
        for config in receiver.get("webhook_configs", []):
            path = urllib.parse.urlsplit(config["url"]).path
            config["url"] = urllib.parse.urlunsplit((base.scheme, base.netloc, path, "", ""))
    return document


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def get_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.load(response)


@dataclass
class Service:
    """A started process, its log, and the URL it answers on."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    url: str

    def stop(self) -> None:
        """Terminate it (kill after 10 s) and close its log."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


def start(
    name: str, argv: Sequence[str], url: str, ready: str, directory: Path, timeout: float = 30.0
) -> Service:
    """Start ``argv`` (output to ``directory/name.log``) and wait until ``url + ready``
    answers 200; raise with the log's tail if it exits or does not get ready in time."""
    log = directory / f"{name}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(argv, stdout=output, stderr=subprocess.STDOUT)
    service = Service(name, process, log, url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{service.tail()}")
        try:
            with urllib.request.urlopen(url + ready, timeout=1) as response:
                if response.status == 200:
                    return service
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"{name} not ready after {timeout} s:\n{service.tail()}")


@dataclass
class Notification:
    """One webhook POST from Alertmanager."""

    received: float
    path: str
    payload: dict[str, Any]

    def alerts(self, status: str = "firing") -> list[dict[str, Any]]:
        return [alert for alert in self.payload.get("alerts", []) if alert["status"] == status]


@dataclass
class Webhook:
    """A local receiver that keeps every notification it is sent."""

    notifications: list[Notification] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Webhook:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook._lock:
                    hook.notifications.append(
                        Notification(time.monotonic(), self.path, json.loads(body))
                    )
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def firing(self, alertname: str, **labels: str) -> list[Notification]:
        """The notifications that say ``alertname`` (with ``labels``) is firing."""
        with self._lock:
            return [
                notification
                for notification in self.notifications
                if any(
                    alert["labels"].get("alertname") == alertname
                    and all(alert["labels"].get(k) == v for k, v in labels.items())
                    for alert in notification.alerts()
                )
            ]


def prometheus_config(
    rule_files: Sequence[Path], app: str, alertmanager: str, interval_ms: int
) -> dict[str, Any]:
    """Scrape ``app`` and evaluate ``rule_files`` every ``interval_ms``; alert to
    ``alertmanager`` (``host:port``)."""
    interval = f"{interval_ms}ms"
    return {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": [str(path) for path in rule_files],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [{"job_name": "openai-app", "static_configs": [{"targets": [app]}]}],
    }
