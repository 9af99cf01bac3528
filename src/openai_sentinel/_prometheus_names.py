"""The Prometheus name of one of our metrics: what the OpenTelemetry Collector's
translation (``prometheusremotewrite``, ``prometheus`` exporters, Prometheus's own OTLP
receiver) and the OpenTelemetry Prometheus exporter both give it. Invalid characters
become ``_``; the unit is appended (spelled out for UCUM units, dropped when it is an
annotation in braces); a gauge of unit ``1`` gets ``_ratio``; a monotonic sum
``_total``. Used by the reference pages and checked against the real exporter by
``tests/backend/test_metric_names.py``."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["prometheus_name"]

_UNITS: Final = {
    "s": "seconds",
    "ms": "milliseconds",
    "By": "bytes",
    "%": "percent",
    "min": "minutes",
}


def prometheus_name(kind: str, name: str, unit: str) -> str:
    """The name of the metric ``name`` of unit ``unit`` made by an instrument of ``kind``
    (``histogram``, ``counter``, ``observable_gauge``...), without histogram suffixes."""
    base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_:]", "_", name)).strip("_")
    if unit == "1":
        suffix = "ratio" if "gauge" in kind else ""
    elif unit.startswith("{") or not unit:
        suffix = ""
    else:
        suffix = _UNITS.get(unit, re.sub(r"[^A-Za-z0-9]", "", unit))
    if suffix and not base.endswith(f"_{suffix}") and f"_{suffix}_" not in base:
        base = f"{base}_{suffix}"
    if "counter" in kind and "up_down" not in kind:
        base = f"{base}_total"
    return base
