"""``collector-config/docker-compose.yaml`` is wired together: every bind-mounted file
exists, every service a service or config names exists and listens on the port named,
published host ports do not clash, and endpoints and secrets come from ``${VAR:-default}``.

No Docker engine runs here: the file is read with PyYAML and compose's ``${VAR:-default}``
interpolation is applied with the defaults (as ``docker compose config`` would with an
empty environment)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from ..support.backends import COLLECTOR_CONFIG, walk
from .test_collector_config import CONTRIB_IMAGE, ENDPOINT_KEYS, ENV_REF

COMPOSE_FILE = COLLECTOR_CONFIG / "docker-compose.yaml"
COLLECTOR_CONFIG_PATH = "/etc/otelcol-contrib/config.yaml"
WELL_KNOWN_PORTS = {
    CONTRIB_IMAGE: {4317, 4318, 55679},  # EXPOSE in the image's Dockerfile
    "prom/prometheus": {9090},
    "prom/alertmanager": {9093},
    "grafana/grafana": {3000},
    "jaegertracing/all-in-one": {4317, 4318, 14269, 16686},
}
"""Ports the images listen on by themselves (what a service offers without ``expose``)."""
REQUIRED_FILES = (
    "otelcol/agent.yaml",
    "otelcol/gateway.yaml",
    "prometheus/prometheus.yml",
    "prometheus/rules/sentinel-recording.rules.yml",
    "prometheus/rules/sentinel-alerts.rules.yml",
    "alertmanager/alertmanager.yml",
    "grafana/provisioning/datasources/prometheus.yaml",
    "grafana/provisioning/dashboards/dashboards.yaml",
    "grafana/dashboards/openai-sentinel.json",
)
"""Files the stack needs, each inside a bind mount (some are written by other changes)."""
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
_INTERPOLATION = re.compile(
    r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)"
)
_COMPOSE_REF = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:-[^}]*\}$")
_ENDPOINT_OR_SECRET = re.compile(r"(ENDPOINT|URL|HOST|PASSWORD|SECRET|TOKEN|API_KEY|_USER)$")


def interpolate(value: str, variables: dict[str, str] | None = None) -> str:
    """Compose's interpolation with ``variables`` (default: none set, so defaults apply)."""
    variables = variables or {}

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, default = match.group(2) or "", match.group(3) or ""
        found = variables.get(name)
        if operator.endswith("+"):
            return default if found else ""
        if operator.endswith("-") and not found:
            return default
        return found or ""

    return _INTERPOLATION.sub(replace, value)


def load_compose() -> dict[str, Any]:
    """The compose file as YAML."""
    data: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return data


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = load_compose()["services"]
    return services


def environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment after interpolation with the defaults."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        raw = dict(item.split("=", 1) for item in raw)
    return {key: interpolate(str(value)) for key, value in raw.items()}


def bind_mounts(service: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(host path as written, container path) of each bind mount of a service."""
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type") == "bind":
                yield str(volume["source"]), str(volume["target"])
            continue
        source, target = str(volume).split(":")[:2]
        if source.startswith((".", "/", "~")):
            yield source, target


def host_path(source: str) -> Path:
    """A bind mount's host path, relative to the compose file."""
    return (COMPOSE_FILE.parent / interpolate(source)).resolve()


def image_repository(service: dict[str, Any]) -> str:
    """``prom/prometheus:v2.53.3`` -> ``prom/prometheus``."""
    image = str(service.get("image", ""))
    return image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image


def _port_number(text: str) -> int:
    return int(text.split("/", 1)[0])


def published(service: dict[str, Any]) -> Iterator[tuple[int | None, int]]:
    """(host port or None, container port) of each ``ports`` entry."""
    for entry in service.get("ports") or []:
        if isinstance(entry, dict):
            host = entry.get("published")
            yield (int(interpolate(str(host))) if host else None), int(entry["target"])
            continue
        parts = interpolate(str(entry)).split(":")
        container = _port_number(parts[-1])
        yield (int(parts[-2]) if len(parts) > 1 else None), container


def listening(name: str, service: dict[str, Any]) -> set[int]:
    """Container ports another service can reach: ports, expose and the image's own."""
    ports = {container for _, container in published(service)}
    ports |= {_port_number(str(port)) for port in service.get("expose") or []}
    return ports | WELL_KNOWN_PORTS.get(image_repository(service), set())


def address(reference: str) -> tuple[str, int | None]:
    """(host, port) of ``host:port`` or of a URL (its scheme's port when none)."""
    if "://" in reference:
        parts = urlsplit(reference)
        default = {"http": 80, "https": 443}.get(parts.scheme)
        return parts.hostname or "", parts.port or default
    host, _, port = reference.rpartition(":")
    return host, int(port)


def check_reference(
    where: str, reference: str, services: dict[str, dict[str, Any]], own: str
) -> list[str]:
    """``reference`` names a compose service listening on that port (``localhost`` is the
    service ``own`` itself)."""
    host, port = address(reference)
    name = own if host in LOCAL_HOSTS else host
    if name not in services:
        return [f"{where}: {reference!r}: no compose service {host!r}"]
    if port not in listening(name, services[name]):
        return [f"{where}: {reference!r}: {name} does not listen on {port}"]
    return []


def mounted_file(service: dict[str, Any], container_path: str) -> Path | None:
    """The host file a service sees at ``container_path`` (through a file or folder mount)."""
    wanted = PurePosixPath(container_path)
    for source, target in bind_mounts(service):
        target_path = PurePosixPath(target)
        if wanted == target_path:
            return host_path(source)
        if target_path in wanted.parents:
            return host_path(source) / wanted.relative_to(target_path)
    return None


def _resolve_collector_value(value: str, env: dict[str, str]) -> str | None:
    """A collector ``${env:NAME:-default}`` value as the service would see it."""
    match = ENV_REF.match(value)
    if match is None:
        return value
    return env.get(match.group(1)) or match.group(2)


def collector_references(
    service: dict[str, Any], config: dict[str, Any]
) -> Iterator[tuple[str, str | None]]:
    """(where, resolved value) of each exporter endpoint of a collector config."""
    env = environment(service)
    for exporter_id, settings in (config.get("exporters") or {}).items():
        for path, value in walk(settings):
            if path and path[-1] in ENDPOINT_KEYS and isinstance(value, str):
                yield (
                    f"exporters.{exporter_id}.{'.'.join(path)}",
                    _resolve_collector_value(value, env),
                )


def _collectors() -> list[str]:
    return [
        name for name, service in _services().items() if image_repository(service) == CONTRIB_IMAGE
    ]


# -- tests ------------------------------------------------------------------------------


def test_the_stack_has_its_services() -> None:
    assert {"otel-collector", "prometheus", "alertmanager", "grafana", "jaeger"} <= set(_services())


def test_every_bind_mount_exists() -> None:
    missing = [
        f"{name}: {source}"
        for name, service in _services().items()
        for source, _ in bind_mounts(service)
        if not host_path(source).exists()
    ]
    assert missing == []


@pytest.mark.parametrize("relative", REQUIRED_FILES)
def test_required_file_exists_inside_a_bind_mount(relative: str) -> None:
    path = (COMPOSE_FILE.parent / relative).resolve()
    assert path.is_file(), f"{relative} is missing"
    sources = [host_path(s) for svc in _services().values() for s, _ in bind_mounts(svc)]
    assert any(path == source or source in path.parents for source in sources), relative


def test_named_volumes_are_declared() -> None:
    declared = set(load_compose().get("volumes") or {})
    for name, service in _services().items():
        for volume in service.get("volumes") or []:
            source = volume.get("source") if isinstance(volume, dict) else volume.split(":")[0]
            if isinstance(volume, dict) and volume.get("type") != "volume":
                continue
            if not str(source).startswith((".", "/", "~")):
                assert source in declared, (name, source)


def test_depends_on_names_services() -> None:
    services = _services()
    for name, service in services.items():
        depends = service.get("depends_on") or []
        for dependency in depends if isinstance(depends, list) else list(depends):
            assert dependency in services, (name, dependency)
            assert dependency != name


def test_published_host_ports_are_unique() -> None:
    host_ports = Counter(
        host
        for service in _services().values()
        for host, _ in published(service)
        if host is not None
    )
    assert host_ports, "nothing is published"
    assert [port for port, count in host_ports.items() if count > 1] == []


def test_endpoints_and_secrets_come_from_the_environment() -> None:
    loose = []
    for name, service in _services().items():
        raw = service.get("environment") or {}
        for key, value in raw.items() if isinstance(raw, dict) else []:
            if _ENDPOINT_OR_SECRET.search(key) and not _COMPOSE_REF.match(str(value)):
                loose.append(f"{name}.{key}")
        for entry in service.get("ports") or []:
            host_part = str(entry).rsplit(":", 1)[0] if ":" in str(entry) else ""
            if host_part and not _COMPOSE_REF.match(host_part):
                loose.append(f"{name}.ports {entry}")
    assert loose == []


def test_pinned_collector_image() -> None:
    images = {_services()[name]["image"] for name in _collectors()}
    assert len(images) == 1
    assert re.fullmatch(re.escape(CONTRIB_IMAGE) + r":\d+\.\d+\.\d+", images.pop())


def test_prometheus_targets_name_services() -> None:
    services = _services()
    config = yaml.safe_load((COLLECTOR_CONFIG / "prometheus/prometheus.yml").read_text())
    references = [
        ("alerting", target)
        for manager in config["alerting"]["alertmanagers"]
        for static in manager["static_configs"]
        for target in static["targets"]
    ]
    assert references, "Prometheus sends alerts nowhere"
    references += [
        (job["job_name"], target)
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    ]
    issues = [
        issue
        for where, target in references
        for issue in check_reference(f"prometheus.yml {where}", target, services, "prometheus")
    ]
    assert issues == []


def test_prometheus_runs_the_mounted_config_with_rules_and_remote_write() -> None:
    service = _services()["prometheus"]
    flags = [str(flag) for flag in service["command"]]
    assert "--web.enable-remote-write-receiver" in flags
    config_flag = next(flag for flag in flags if flag.startswith("--config.file="))
    container_config = config_flag.split("=", 1)[1]
    config_file = mounted_file(service, container_config)
    assert config_file == (COLLECTOR_CONFIG / "prometheus/prometheus.yml").resolve()
    config = yaml.safe_load(config_file.read_text())
    assert config["rule_files"] == ["rules/*.rules.yml"]
    rules_dir = mounted_file(service, str(PurePosixPath(container_config).parent / "rules"))
    assert rules_dir is not None, "the rules folder is not mounted next to prometheus.yml"
    assert sorted(rules_dir.glob("*.rules.yml")), "no rule file matches rules/*.rules.yml"


def test_alertmanager_runs_the_mounted_config() -> None:
    service = _services()["alertmanager"]
    flag = next(f for f in service["command"] if str(f).startswith("--config.file="))
    mounted = mounted_file(service, str(flag).split("=", 1)[1])
    assert mounted == (COLLECTOR_CONFIG / "alertmanager/alertmanager.yml").resolve()


def test_grafana_datasource_and_dashboards_are_provisioned() -> None:
    services = _services()
    grafana = services["grafana"]
    datasources = yaml.safe_load(
        (COLLECTOR_CONFIG / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )["datasources"]
    prometheus = next(source for source in datasources if source["uid"] == "prometheus")
    assert prometheus["name"] == "Prometheus"
    assert prometheus["type"] == "prometheus"
    url = interpolate(prometheus["url"], environment(grafana))
    assert check_reference("grafana datasource", url, services, "grafana") == []
    providers = yaml.safe_load(
        (COLLECTOR_CONFIG / "grafana/provisioning/dashboards/dashboards.yaml").read_text()
    )["providers"]
    for provider in providers:
        folder = mounted_file(grafana, provider["options"]["path"])
        assert folder == (COLLECTOR_CONFIG / "grafana/dashboards").resolve()
    assert mounted_file(grafana, "/etc/grafana/provisioning/datasources/prometheus.yaml")


@pytest.mark.parametrize("name", _collectors())
def test_collector_exporters_reach_compose_services(name: str) -> None:
    services = _services()
    service = services[name]
    config_file = mounted_file(service, COLLECTOR_CONFIG_PATH)
    assert config_file is not None and config_file.is_file(), f"{name} has no config mounted"
    config = yaml.safe_load(config_file.read_text())
    issues, seen = [], 0
    for where, value in collector_references(service, config):
        seen += 1
        if value is None:
            issues.append(f"{where}: compose does not set it and it has no default")
        else:
            issues += check_reference(f"{name} {where}", value, services, name)
    assert seen, f"{name} exports nowhere"
    assert issues == []


def test_reference_checks_can_fail() -> None:
    services: dict[str, dict[str, Any]] = {
        "prometheus": {"image": "prom/prometheus:v2.53.3"},
        "app": {"image": "python:3", "expose": ["8000"]},
    }
    assert check_reference("t", "alertmanager:9093", services, "prometheus")
    assert check_reference("t", "app:9000", services, "prometheus")
    assert check_reference("t", "http://prometheus:9091/api/v1/write", services, "app")
    assert check_reference("t", "localhost:9090", services, "app")
    assert not check_reference("t", "localhost:9090", services, "prometheus")
    assert not check_reference("t", "app:8000", services, "prometheus")
    assert not check_reference("t", "http://prometheus:9090", services, "app")


def test_interpolation_uses_defaults() -> None:
    assert interpolate("${PORT:-4317}:4317") == "4317:4317"
    assert interpolate("${PORT:-4317}:4317", {"PORT": "14317"}) == "14317:4317"
    assert interpolate("$$HOME ${UNSET}") == "$HOME "
    assert interpolate("${SET:+yes}", {"SET": "1"}) == "yes"
