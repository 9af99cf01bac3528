"""A static linter for the collector configs in ``collector-config/otelcol/``.

No otelcol-contrib binary can run here, so this checks what ``otelcol-contrib validate``
would check about the pipeline graph, against ``components.yaml`` (the component list of
the pinned version): every pipeline reference is defined and every definition used; each
component type exists in the pinned distribution under its kind and supports the
pipeline's signal; connectors join an exporting and a receiving pipeline;
``memory_limiter`` comes first and ``batch`` last; endpoints and secrets are ``${env:...}``
references; remote write gets cumulative data and Prometheus-style names. Each check is
shown to fail on a small broken config. Component settings and OTTL statements are not
checked here: run ``otelcol-contrib validate --config=...`` with a real binary for those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from openai_sentinel import semconv

from ..support.backends import COLLECTOR_CONFIG, walk

OTELCOL_DIR = COLLECTOR_CONFIG / "otelcol"
COMPONENTS_FILE = OTELCOL_DIR / "components.yaml"
COMPOSE_FILE = COLLECTOR_CONFIG / "docker-compose.yaml"
CONFIGS = ("agent.yaml", "gateway.yaml", "loadbalancer.yaml")
CONTRIB_IMAGE = "otel/opentelemetry-collector-contrib"

SIGNALS = ("traces", "metrics", "logs", "profiles")
KINDS = ("receivers", "processors", "exporters", "connectors", "extensions")
ENV_REF = re.compile(r"^\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?\}$")
ENDPOINT_KEYS = frozenset({"endpoint", "hostname", "hostnames", "host", "url", "urls"})
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "secret",
        "client_secret",
        "token",
        "bearer_token",
        "api_key",
        "apikey",
        "access_key",
        "secret_key",
        "authorization",
    }
)
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "::"})
"""Hosts an env default may name: loopback, or the wildcard a receiver binds to."""
SUFFIXED_NAMES = "UnderscoreEscapingWithSuffixes"
"""The translation whose names match the Python pull exporter's."""


@dataclass(frozen=True)
class Allowlist:
    """``components.yaml``: the pinned version and its components by kind and type."""

    version: str
    image: str
    components: dict[str, dict[str, dict[str, Any]]]

    def entry(self, kind: str, type_: str) -> dict[str, Any] | None:
        """The entry of ``type_`` under ``kind``, or None."""
        return self.components.get(kind, {}).get(type_)

    def signals(self, kind: str, type_: str) -> set[str]:
        """What ``type_`` supports: signals, ``a_to_b`` pairs or ``extension``."""
        entry = self.entry(kind, type_) or {}
        return {signal for listed in entry.get("stability", {}).values() for signal in listed}

    def renamed(self, kind: str, type_: str) -> str | None:
        """The current type when ``type_`` is a deprecated alias of one."""
        for current, entry in self.components.get(kind, {}).items():
            if entry.get("deprecated_alias") == type_:
                return current
        return None


def load_allowlist(path: Path = COMPONENTS_FILE) -> Allowlist:
    """Read ``components.yaml``."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Allowlist(str(data["version"]), str(data["image"]), data["components"])


def load_config(name: str) -> dict[str, Any]:
    """One of the shipped collector configs."""
    data: dict[str, Any] = yaml.safe_load((OTELCOL_DIR / name).read_text(encoding="utf-8"))
    return data


def component_type(component_id: str) -> str:
    """``otlp_grpc/gateway`` -> ``otlp_grpc``."""
    return component_id.split("/", 1)[0]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _host(address: str) -> str:
    """The host of ``host:port``, ``[v6]:port`` or a URL."""
    if "://" in address:
        return urlsplit(address).hostname or ""
    if address.startswith("["):
        return address[1 : address.find("]")]
    return address.rsplit(":", 1)[0] if address.count(":") == 1 else address


def _check_value(where: str, key: str, value: Any, secret: bool) -> list[str]:
    if isinstance(value, bool | int | float) and not secret:
        return [f"{where}: {key} must be an ${{env:NAME}} reference, not {value!r}"]
    if not isinstance(value, str):
        return [] if value is None else [f"{where}: {key} must be an ${{env:NAME}} reference"]
    match = ENV_REF.match(value)
    if match is None:
        return [f"{where}: {key} {value!r} must be an ${{env:NAME}} or ${{env:NAME:-default}}"]
    default = match.group(2)
    if default and secret:
        return [f"{where}: secret {key} must not have a default"]
    if default and _host(default) not in LOCAL_HOSTS:
        return [f"{where}: {key} default {default!r} names a host; only localhost may"]
    return []


def check_references(where: str, config: Any) -> list[str]:
    """Endpoints and secrets in one component's config are env references."""
    issues = []
    for path, value in walk(config):
        key = path[-1] if path else ""
        parent = path[-2] if len(path) > 1 else ""
        secret = key in SECRET_KEYS or parent == "headers" or (key == "key" and parent == "api")
        if key in ENDPOINT_KEYS or secret:
            issues += _check_value(f"{where}.{'.'.join(path)}", key, value, secret)
    return issues


def _check_pipeline_ids(pipelines: dict[str, Any], config: dict[str, Any]) -> list[str]:
    issues = []
    for pipeline_id, pipeline in pipelines.items():
        signal = component_type(pipeline_id)
        if signal not in SIGNALS:
            issues.append(f"pipeline {pipeline_id}: unknown signal {signal!r}")
            continue
        if not isinstance(pipeline, dict):
            issues.append(f"pipeline {pipeline_id}: not a mapping")
            continue
        for role, kinds in (
            ("receivers", ("receivers", "connectors")),
            ("processors", ("processors",)),
            ("exporters", ("exporters", "connectors")),
        ):
            ids = _as_list(pipeline.get(role))
            if role != "processors" and not ids:
                issues.append(f"pipeline {pipeline_id}: no {role}")
            if len(ids) != len(set(ids)):
                issues.append(f"pipeline {pipeline_id}: a {role[:-1]} listed twice")
            for component_id in ids:
                if not any(component_id in (config.get(kind) or {}) for kind in kinds):
                    issues.append(f"pipeline {pipeline_id}: {role[:-1]} {component_id} undefined")
    return issues


def _check_types(config: dict[str, Any], allow: Allowlist) -> list[str]:
    issues = []
    for kind in KINDS:
        for component_id in config.get(kind) or {}:
            type_ = component_type(component_id)
            current = allow.renamed(kind, type_)
            if current is not None:
                issues.append(f"{kind[:-1]} {component_id}: deprecated type, use {current}")
            elif allow.entry(kind, type_) is None:
                issues.append(
                    f"{kind[:-1]} {component_id}: unknown type {type_!r} in "
                    f"otelcol-contrib {allow.version}"
                )
    return issues


def _check_signals(
    pipelines: dict[str, Any], config: dict[str, Any], allow: Allowlist
) -> list[str]:
    issues = []
    connectors = config.get("connectors") or {}
    exported: dict[str, set[str]] = {}  # connector id -> signals of pipelines feeding it
    received: dict[str, set[str]] = {}  # connector id -> signals of pipelines it feeds
    for pipeline_id, pipeline in pipelines.items():
        signal = component_type(pipeline_id)
        if signal not in SIGNALS or not isinstance(pipeline, dict):
            continue
        for role, kind in (
            ("receivers", "receivers"),
            ("processors", "processors"),
            ("exporters", "exporters"),
        ):
            for component_id in _as_list(pipeline.get(role)):
                if component_id in connectors and role != "processors":
                    side = received if role == "receivers" else exported
                    side.setdefault(component_id, set()).add(signal)
                    continue
                type_ = component_type(component_id)
                if allow.entry(kind, type_) and signal not in allow.signals(kind, type_):
                    issues.append(
                        f"pipeline {pipeline_id}: {role[:-1]} {component_id} does not "
                        f"support {signal} (supports {sorted(allow.signals(kind, type_))})"
                    )
    for connector_id in connectors:
        type_ = component_type(connector_id)
        inputs, outputs = exported.get(connector_id, set()), received.get(connector_id, set())
        if not inputs or not outputs:
            issues.append(
                f"connector {connector_id}: must be an exporter in one pipeline and a "
                "receiver in another"
            )
            continue
        if allow.entry("connectors", type_) is None:
            continue
        pairs = allow.signals("connectors", type_)
        for source in inputs:
            if not any(f"{source}_to_{target}" in pairs for target in outputs):
                issues.append(f"connector {connector_id}: nothing it can make from {source}")
        for target in outputs:
            if not any(f"{source}_to_{target}" in pairs for source in inputs):
                issues.append(f"connector {connector_id}: nothing it can make into {target}")
    return issues


def _check_usage(pipelines: dict[str, Any], config: dict[str, Any]) -> list[str]:
    issues = []
    used = {
        component_id
        for pipeline in pipelines.values()
        if isinstance(pipeline, dict)
        for role in ("receivers", "processors", "exporters")
        for component_id in _as_list(pipeline.get(role))
    }
    for kind in ("receivers", "processors", "exporters", "connectors"):
        for component_id in config.get(kind) or {}:
            if component_id not in used:
                issues.append(f"{kind[:-1]} {component_id}: defined but in no pipeline")
    enabled = _as_list((config.get("service") or {}).get("extensions"))
    for extension_id in enabled:
        if extension_id not in (config.get("extensions") or {}):
            issues.append(f"extension {extension_id}: enabled but undefined")
    for extension_id in config.get("extensions") or {}:
        if extension_id not in enabled:
            issues.append(f"extension {extension_id}: defined but not enabled")
    return issues


def _check_order(pipelines: dict[str, Any]) -> list[str]:
    issues = []
    for pipeline_id, pipeline in pipelines.items():
        processors = _as_list(pipeline.get("processors")) if isinstance(pipeline, dict) else []
        if not processors:
            continue
        if component_type(processors[0]) != "memory_limiter":
            issues.append(f"pipeline {pipeline_id}: memory_limiter must be the first processor")
        if component_type(processors[-1]) != "batch":
            issues.append(f"pipeline {pipeline_id}: batch must be the last processor")
    return issues


def _check_prometheus_naming(pipelines: dict[str, Any], config: dict[str, Any]) -> list[str]:
    issues = []
    for exporter_id, exporter in (config.get("exporters") or {}).items():
        if component_type(exporter_id) not in ("prometheus_remote_write", "prometheus"):
            continue
        settings = exporter or {}
        strategy = settings.get("translation_strategy")
        suffixes = settings.get("add_metric_suffixes", True)
        if strategy != SUFFIXED_NAMES and not (strategy is None and suffixes is True):
            issues.append(
                f"exporter {exporter_id}: names must match the pull exporter's "
                f"(translation_strategy {SUFFIXED_NAMES})"
            )
        if component_type(exporter_id) != "prometheus_remote_write":
            continue
        for pipeline_id, pipeline in pipelines.items():
            if not isinstance(pipeline, dict):
                continue
            if exporter_id in _as_list(pipeline.get("exporters")) and "delta_to_cumulative" not in {
                component_type(p) for p in _as_list(pipeline.get("processors"))
            }:
                issues.append(
                    f"pipeline {pipeline_id}: {exporter_id} drops delta data; add "
                    "delta_to_cumulative"
                )
    return issues


def check_config(config: dict[str, Any], allow: Allowlist) -> list[str]:
    """Every problem the linter finds in one collector config (empty when clean)."""
    unknown = set(config) - {*KINDS, "service"}
    issues = [f"unknown top-level section {name!r}" for name in sorted(unknown)]
    service = config.get("service") or {}
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        return [*issues, "service.pipelines is empty"]
    issues += _check_pipeline_ids(pipelines, config)
    issues += _check_types(config, allow)
    issues += _check_signals(pipelines, config, allow)
    issues += _check_usage(pipelines, config)
    issues += _check_order(pipelines)
    issues += _check_prometheus_naming(pipelines, config)
    for kind in KINDS:
        for component_id, settings in (config.get(kind) or {}).items():
            issues += check_references(f"{kind}.{component_id}", settings)
    issues += check_references("service.telemetry", service.get("telemetry"))
    return issues


def used_types(config: dict[str, Any]) -> set[tuple[str, str]]:
    """(kind, type) of every component a config defines."""
    return {
        (kind, component_type(component_id))
        for kind in KINDS
        for component_id in config.get(kind) or {}
    }


# -- the shipped configs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def allow() -> Allowlist:
    return load_allowlist()


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_config_is_clean(name: str, allow: Allowlist) -> None:
    assert check_config(load_config(name), allow) == []


@pytest.mark.parametrize("name", CONFIGS)
def test_shipped_config_has_the_three_signals(name: str) -> None:
    pipelines = load_config(name)["service"]["pipelines"]
    assert {component_type(pipeline_id) for pipeline_id in pipelines} == {
        "traces",
        "metrics",
        "logs",
    }


def test_components_yaml_is_well_formed(allow: Allowlist) -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", allow.version)
    assert allow.image == f"{CONTRIB_IMAGE}:{allow.version}"
    assert set(allow.components) == set(KINDS)
    levels = {"development", "alpha", "beta", "stable", "deprecated", "unmaintained"}
    for kind, entries in allow.components.items():
        for type_, entry in entries.items():
            assert entry["module"], (kind, type_)
            assert set(entry["stability"]) <= levels, (kind, type_)
            signals = allow.signals(kind, type_)
            if kind == "extensions":
                assert signals == {"extension"}, type_
            elif kind == "connectors":
                assert all(re.fullmatch(r"[a-z]+_to_[a-z]+", pair) for pair in signals), type_
            else:
                assert signals and signals <= set(SIGNALS), (kind, type_)


def test_used_markers_match_the_configs(allow: Allowlist) -> None:
    """components.yaml marks exactly what the three configs use."""
    used = set().union(*(used_types(load_config(name)) for name in CONFIGS))
    marked = {
        (kind, type_)
        for kind, entries in allow.components.items()
        for type_, entry in entries.items()
        if entry.get("used")
    }
    assert used == marked


def test_pinned_version_is_the_compose_image(allow: Allowlist) -> None:
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    images = [
        service["image"]
        for service in compose["services"].values()
        if str(service.get("image", "")).startswith(CONTRIB_IMAGE + ":")
    ]
    assert images, "no otelcol-contrib service in docker-compose.yaml"
    assert set(images) == {allow.image}


def _statements(groups: list[Any]) -> list[str]:
    """The OTTL statements of a transform signal section (plain or grouped form)."""
    found: list[str] = []
    for group in groups:
        found += group["statements"] if isinstance(group, dict) else [group]
    return found


def test_agent_drops_content_on_spans_events_and_logs() -> None:
    agent = load_config("agent.yaml")
    drop = agent["processors"]["transform/drop_content"]
    traces, logs = _statements(drop["trace_statements"]), _statements(drop["log_statements"])
    content = (
        semconv.GEN_AI_INPUT_MESSAGES,
        semconv.GEN_AI_OUTPUT_MESSAGES,
        semconv.GEN_AI_SYSTEM_INSTRUCTIONS,
        semconv.GEN_AI_TOOL_DEFINITIONS,
    )
    for context, statements in (("span", traces), ("spanevent", traces), ("log", logs)):
        for name in content:
            assert f'delete_key({context}.attributes, "{name}")' in statements, (context, name)
    for context, statements in (("spanevent", traces), ("log", logs)):
        match = semconv.SENTINEL_SECURITY_MATCH
        assert f'delete_key({context}.attributes, "{match}")' in statements
    for signal in ("traces", "logs"):
        processors = agent["service"]["pipelines"][signal]["processors"]
        assert processors.index("transform/drop_content") < processors.index("redaction")


def test_agent_redaction_masks_keys_mails_and_cards() -> None:
    redaction = load_config("agent.yaml")["processors"]["redaction"]
    assert redaction["allow_all_keys"] is True
    patterns = [re.compile(pattern) for pattern in redaction["blocked_values"]]

    def masked(text: str) -> bool:
        return any(pattern.search(text) for pattern in patterns)

    assert masked("key sk-proj-" + "a1B2" * 8)
    assert masked("write to jane.doe@example.com")
    assert masked("card 4111111111111111")
    assert not masked("task-0123456789abcdefghijklmnop")
    assert not masked("gpt-4o-mini")


def test_gateway_keeps_errors_findings_slow_calls_and_a_sample() -> None:
    gateway = load_config("gateway.yaml")
    policies = {p["type"]: p for p in gateway["processors"]["tail_sampling"]["policies"]}
    assert policies["status_code"]["status_code"]["status_codes"] == ["ERROR"]
    security = policies["string_attribute"]["string_attribute"]
    assert security["key"] == semconv.SENTINEL_SECURITY_ACTION
    assert set(security["values"]) == {
        semconv.SECURITY_ACTION_OBSERVED,
        semconv.SECURITY_ACTION_REDACTED,
        semconv.SECURITY_ACTION_BLOCKED,
    }
    assert policies["latency"]["latency"]["threshold_ms"].startswith("${env:")
    assert policies["probabilistic"]["probabilistic"]["sampling_percentage"].startswith("${env:")


def test_loadbalancer_routes_traces_by_trace_id() -> None:
    exporters = load_config("loadbalancer.yaml")["exporters"]
    assert exporters["load_balancing/traces"]["routing_key"] == "traceID"
    assert exporters["load_balancing/metrics"]["routing_key"] in {"resource", "streamID"}


# -- every check can fail -------------------------------------------------------------------

_BASE = """
extensions:
  health_check: {endpoint: "${env:HEALTH:-0.0.0.0:13133}"}
receivers:
  otlp:
    protocols: {grpc: {endpoint: "${env:GRPC:-0.0.0.0:4317}"}}
processors:
  memory_limiter: {check_interval: 1s, limit_percentage: 80}
  batch: {}
exporters:
  otlp_grpc: {endpoint: "${env:UPSTREAM}"}
service:
  extensions: [health_check]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [memory_limiter, batch]
      exporters: [otlp_grpc]
"""


def _issues(allow: Allowlist, **changes: Any) -> list[str]:
    """Lint the small clean config above after ``changes`` (section=value; a value of
    None deletes the section)."""
    config: dict[str, Any] = yaml.safe_load(_BASE)
    for section, value in changes.items():
        if value is None:
            config.pop(section, None)
        else:
            config[section] = value
    return check_config(config, allow)


def _pipeline(*processors: str, exporters: tuple[str, ...] = ("otlp_grpc",)) -> dict[str, Any]:
    return {
        "receivers": ["otlp"],
        "processors": list(processors),
        "exporters": list(exporters),
    }


def _service(**pipelines: dict[str, Any]) -> dict[str, Any]:
    return {"extensions": ["health_check"], "pipelines": pipelines}


def test_base_snippet_is_clean(allow: Allowlist) -> None:
    assert _issues(allow) == []


def test_reports_an_undefined_component(allow: Allowlist) -> None:
    issues = _issues(allow, service=_service(traces=_pipeline("memory_limiter", "attributes")))
    assert "pipeline traces: processor attributes undefined" in issues


def test_reports_an_unknown_type(allow: Allowlist) -> None:
    issues = _issues(allow, exporters={"otlp_grpc": {"endpoint": "${env:X}"}, "jaeger": {}})
    assert any("exporter jaeger: unknown type 'jaeger'" in issue for issue in issues)


def test_reports_a_deprecated_type(allow: Allowlist) -> None:
    issues = _issues(
        allow,
        exporters={"otlp": {"endpoint": "${env:X}"}},
        service=_service(traces=_pipeline("memory_limiter", "batch", exporters=("otlp",))),
    )
    assert "exporter otlp: deprecated type, use otlp_grpc" in issues


def test_reports_tail_sampling_in_a_metrics_pipeline(allow: Allowlist) -> None:
    processors: dict[str, Any] = {
        "memory_limiter": {},
        "tail_sampling": {"policies": []},
        "batch": {},
    }
    issues = _issues(
        allow,
        processors=processors,
        service=_service(
            traces=_pipeline("memory_limiter", "batch"),
            metrics=_pipeline("memory_limiter", "tail_sampling", "batch"),
        ),
    )
    assert any(
        issue.startswith("pipeline metrics: processor tail_sampling does not support metrics")
        for issue in issues
    )


def test_reports_batch_first_and_memory_limiter_late(allow: Allowlist) -> None:
    issues = _issues(allow, service=_service(traces=_pipeline("batch", "memory_limiter")))
    assert "pipeline traces: batch must be the last processor" in issues
    assert "pipeline traces: memory_limiter must be the first processor" in issues


def test_reports_an_unused_component_and_extension(allow: Allowlist) -> None:
    issues = _issues(
        allow,
        processors={"memory_limiter": {}, "batch": {}, "redaction": {"allow_all_keys": True}},
        service={"pipelines": {"traces": _pipeline("memory_limiter", "batch")}},
    )
    assert "processor redaction: defined but in no pipeline" in issues
    assert "extension health_check: defined but not enabled" in issues


def test_reports_a_connector_used_on_one_side_only(allow: Allowlist) -> None:
    issues = _issues(
        allow,
        connectors={"span_metrics": {}},
        service=_service(
            traces=_pipeline("memory_limiter", "batch", exporters=("otlp_grpc", "span_metrics"))
        ),
    )
    assert (
        "connector span_metrics: must be an exporter in one pipeline and a receiver in another"
        in issues
    )


def test_accepts_a_connector_between_pipelines_it_supports(allow: Allowlist) -> None:
    service = _service(
        traces=_pipeline("memory_limiter", "batch", exporters=("otlp_grpc", "span_metrics")),
        metrics={"receivers": ["span_metrics"], "exporters": ["otlp_grpc"]},
    )
    assert _issues(allow, connectors={"span_metrics": {}}, service=service) == []


def test_reports_a_connector_between_signals_it_cannot_join(allow: Allowlist) -> None:
    service = _service(
        metrics=_pipeline("memory_limiter", "batch", exporters=("span_metrics",)),
        logs={"receivers": ["span_metrics"], "exporters": ["otlp_grpc"]},
    )
    issues = _issues(allow, connectors={"span_metrics": {}}, service=service)
    assert "connector span_metrics: nothing it can make from metrics" in issues
    assert "connector span_metrics: nothing it can make into logs" in issues


def test_reports_hard_coded_endpoints_and_secrets(allow: Allowlist) -> None:
    exporters = {
        "otlp_grpc": {
            "endpoint": "jaeger:4317",
            "headers": {"authorization": "Bearer abc"},
        },
        "otlp_http": {"endpoint": "${env:TRACES:-tempo.example.com:4318}"},
        "datadog": {"api": {"key": "${env:DD_API_KEY:-0123abcd}"}},
    }
    service = _service(
        traces=_pipeline("memory_limiter", "batch", exporters=("otlp_grpc", "otlp_http")),
        metrics=_pipeline("memory_limiter", "batch", exporters=("datadog",)),
    )
    issues = _issues(allow, exporters=exporters, service=service)
    assert any(i.startswith("exporters.otlp_grpc.endpoint: endpoint 'jaeger:4317'") for i in issues)
    assert any(i.startswith("exporters.otlp_grpc.headers.authorization") for i in issues)
    assert any("default 'tempo.example.com:4318' names a host" in i for i in issues)
    assert "exporters.datadog.api.key: secret key must not have a default" in issues


def test_accepts_localhost_defaults(allow: Allowlist) -> None:
    exporters = {"otlp_grpc": {"endpoint": "${env:UPSTREAM:-localhost:4317}"}}
    assert _issues(allow, exporters=exporters) == []


def test_reports_remote_write_without_cumulative_data_or_suffixes(allow: Allowlist) -> None:
    exporters = {
        "prometheus_remote_write": {
            "http": {"endpoint": "${env:RW}"},
            "translation_strategy": "NoTranslation",
        }
    }
    service = _service(
        metrics=_pipeline("memory_limiter", "batch", exporters=("prometheus_remote_write",))
    )
    issues = _issues(allow, exporters=exporters, service=service)
    assert (
        "pipeline metrics: prometheus_remote_write drops delta data; add delta_to_cumulative"
        in issues
    )
    assert any("names must match the pull exporter's" in issue for issue in issues)


def test_reports_a_bad_pipeline_signal_and_empty_sides(allow: Allowlist) -> None:
    issues = _issues(allow, service=_service(spans={"receivers": [], "exporters": []}))
    assert "pipeline spans: unknown signal 'spans'" in issues
    issues = _issues(allow, service=_service(traces={"receivers": ["otlp"], "exporters": []}))
    assert "pipeline traces: no exporters" in issues
