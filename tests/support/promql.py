"""The metric names a PromQL expression reads, without a PromQL parser: enough for the
expressions we ship (rules, dashboard, debugging queries), checked against a live
Prometheus elsewhere."""

from __future__ import annotations

import json
import re
from typing import Any

from .backends import DASHBOARDS_DIR, ROOT

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGE = re.compile(r"\[[^\[\]]*\]")
_GROUPING = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w.$])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
        "and", "or", "unless", "atan2", "inf", "nan",
    }
)  # fmt: skip
_TEMPLATE = re.compile(r"\$\{?\w+\}?")


def metric_names(expr: str) -> set[str]:
    """The metric (and recording rule) names ``expr`` selects."""
    text = _STRING.sub('""', expr)
    text = _TEMPLATE.sub("1", text)
    text = _MATCHERS.sub("", text)
    text = _RANGE.sub("", text)
    text = _GROUPING.sub("", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


_GRAFANA = {
    "$__rate_interval": "1m",
    "${__rate_interval}": "1m",
    "$__interval": "15s",
    "${__interval}": "15s",
    "$__range": "1h",
    "${__range}": "1h",
}


def dashboard_exprs() -> list[str]:
    """Every panel query of the shipped Grafana dashboards."""
    exprs: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("expr"), str) and node["expr"].strip():
                exprs.append(node["expr"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    for path in sorted(DASHBOARDS_DIR.glob("*.json")):
        visit(json.loads(path.read_text(encoding="utf-8")))
    return exprs


def query_blocks() -> list[str]:
    """The PromQL blocks of ``docs/queries.md``."""
    text = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    return [block.strip() for block in re.findall(r"```promql\n(.*?)```", text, re.DOTALL)]


def as_prometheus_query(expr: str) -> str:
    """A Grafana panel query as Prometheus can run it: the interval variables set, every
    other variable matching anything."""
    for variable, value in _GRAFANA.items():
        expr = expr.replace(variable, value)
    return _TEMPLATE.sub(".*", expr)
