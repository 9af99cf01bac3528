"""One set of metric names on both paths: what the OpenTelemetry Prometheus exporter
serves (the pull path) is what the collector's Prometheus translation produces from OTLP
(the push path, ``prometheusremotewrite`` or ``prometheus`` exporter), and every name our
rules, dashboard and debugging queries read is one of them.

The translation is the collector's (``pkg/translator/prometheus``, ``otlptranslator``):
invalid characters to ``_``; the unit appended, spelled out for UCUM units, dropped when
it is an annotation in braces; ``_ratio`` for a gauge of unit ``1``; ``_total`` for a
monotonic sum."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from openai_sentinel import OpenAISentinelInstrumentor
from openai_sentinel._prometheus_names import prometheus_name

from ..support.backends import RULES_DIR
from ..support.promql import dashboard_exprs, metric_names, query_blocks
from ..support.workload import run_exposition

_HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")
Instrument = tuple[str, str, str]  # kind, name, unit


class _RecordingMeter:
    """A real SDK meter that notes each instrument it creates."""

    def __init__(self, meter: Any, seen: set[Instrument]) -> None:
        self._meter, self._seen = meter, seen

    def __getattr__(self, attribute: str) -> Any:
        target = getattr(self._meter, attribute)
        if not attribute.startswith("create_"):
            return target

        def create(name: str, *args: Any, **kwargs: Any) -> Any:
            unit = kwargs.get("unit", args[1] if len(args) > 1 else "")
            self._seen.add((attribute.removeprefix("create_"), name, unit))
            return target(name, *args, **kwargs)

        return create


class _RecordingProvider:
    def __init__(self) -> None:
        self.real, self.seen = MeterProvider(), set[Instrument]()

    def get_meter(self, *args: Any, **kwargs: Any) -> _RecordingMeter:
        return _RecordingMeter(self.real.get_meter(*args, **kwargs), self.seen)


def _instruments(monkeypatch: pytest.MonkeyPatch, opt_in: str | None) -> set[Instrument]:
    if opt_in:
        monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", opt_in)
    else:
        monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    provider = _RecordingProvider()
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(meter_provider=provider, tracer_provider=TracerProvider())
    try:
        return set(provider.seen)
    finally:
        instrumentor.uninstrument()


@pytest.fixture(scope="module")
def instruments() -> set[Instrument]:
    """Every instrument the instrumentation creates, in both conventions versions."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        stable = _instruments(monkeypatch, None)
        latest = _instruments(monkeypatch, "gen_ai_latest_experimental")
    return stable | latest


def _exposition_families() -> dict[str, str]:
    """Family name → type, from a real workload's exposition."""
    families = {}
    for line in run_exposition("--calls", "2").splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ", 3)
            families[family] = kind
    return families


def test_collector_translation_reproduces_the_research_table() -> None:
    # observed on the real collector/Prometheus OTLP/VictoriaMetrics paths (research file)
    assert prometheus_name("histogram", "gen_ai.client.token.usage", "{token}") == (
        "gen_ai_client_token_usage"
    )
    assert prometheus_name("histogram", "gen_ai.client.operation.duration", "s") == (
        "gen_ai_client_operation_duration_seconds"
    )
    assert prometheus_name("counter", "gen_ai.client.cost", "USD") == "gen_ai_client_cost_USD_total"
    assert prometheus_name("observable_gauge", "gen_ai.eval.drift.score", "1") == (
        "gen_ai_eval_drift_score_ratio"
    )


def test_no_gauge_has_the_unit_one(instruments: set[Instrument]) -> None:
    # the one name the two paths spell differently (the pull exporter drops the _ratio)
    assert not [i for i in instruments if "gauge" in i[0] and i[2] == "1"]


def test_pull_exporter_and_collector_names_agree(instruments: set[Instrument]) -> None:
    families = _exposition_families()
    expected = {prometheus_name(*instrument) for instrument in instruments}
    served = {f for f in families if f.startswith(("gen_ai_", "sentinel_"))}
    assert served <= expected, sorted(served - expected)
    core = {
        "gen_ai_client_operation_duration_seconds",
        "gen_ai_client_token_usage",
        "sentinel_cost_USD_total",
        "sentinel_request_cost_USD",
        "sentinel_confidence",
        "sentinel_security_events_total",
        "sentinel_response_truncations_total",
        "sentinel_drift_severity",
    }
    assert core <= served, sorted(core - served)


def _series_names(instruments: set[Instrument]) -> set[str]:
    names = set()
    for kind, name, unit in instruments:
        translated = prometheus_name(kind, name, unit)
        if kind == "histogram":
            names.update(translated + suffix for suffix in _HISTOGRAM_SUFFIXES)
        else:
            names.add(translated)
    return names


def _rule_files() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text()) for path in sorted(RULES_DIR.glob("*.rules.yml"))]


def _recorded() -> set[str]:
    return {
        rule["record"]
        for document in _rule_files()
        for group in document["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def _unknown(expr: str, known: set[str]) -> set[str]:
    return metric_names(expr) - known


def test_rules_read_only_names_that_exist(instruments: set[Instrument]) -> None:
    known = _series_names(instruments) | _recorded()
    exprs = [
        rule["expr"]
        for document in _rule_files()
        for group in document["groups"]
        for rule in group["rules"]
    ]
    assert exprs
    unknown = {name for expr in exprs for name in _unknown(expr, known)}
    assert not unknown


def test_dashboard_and_queries_read_only_names_that_exist(instruments: set[Instrument]) -> None:
    known = _series_names(instruments) | _recorded()
    exprs = dashboard_exprs() + query_blocks()
    assert len(exprs) > 10
    unknown = {name for expr in exprs for name in _unknown(expr, known)}
    assert not unknown
