"""``openai-sentinel doctor``: what is installed, whether ``opentelemetry-instrument``
would load the instrumentation here, and the settings in force with where each comes
from. Exit status 1 when something stops the instrumentation."""

from __future__ import annotations

import argparse
import json
import os
import platform
from dataclasses import dataclass, field, fields
from importlib import metadata
from typing import Any, Final

from . import config
from ._version import __version__

DESCRIPTION: Final = __doc__
_DISTRIBUTIONS: Final = (
    "openai",
    "httpx",
    "httpx2",
    "opentelemetry-api",
    "opentelemetry-sdk",
    "opentelemetry-instrumentation",
    "opentelemetry-distro",
    "opentelemetry-exporter-otlp-proto-http",
    "opentelemetry-exporter-otlp-proto-grpc",
    "opentelemetry-exporter-prometheus",
    "genai-prices",
    "hyperscan",
)
_OTEL_VARIABLES: Final = (
    "OTEL_SERVICE_NAME",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_TRACES_EXPORTER",
    "OTEL_METRICS_EXPORTER",
    "OTEL_LOGS_EXPORTER",
    "OTEL_SEMCONV_STABILITY_OPT_IN",
    "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS",
    config.GENAI_CAPTURE_ENV,
)
_ENTRY_POINT: Final = "openai_sentinel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


@dataclass
class Report:
    """What ``doctor`` found."""

    versions: dict[str, str | None]
    instrumentation: dict[str, Any]
    settings: list[dict[str, Any]]
    environment: dict[str, str]
    problems: list[str] = field(default_factory=list)


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _instrumentation(versions: dict[str, str | None], problems: list[str]) -> dict[str, Any]:
    """Whether ``opentelemetry-instrument`` would load us, and why not."""
    points = metadata.entry_points(group="opentelemetry_instrumentor")
    registered = any(point.name == _ENTRY_POINT for point in points)
    disabled_names = {
        name.strip()
        for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")
    }
    disabled = bool(disabled_names & {_ENTRY_POINT, "openai", "openai_sentinel", "*"})
    openai_version = versions.get("openai")
    supported = False
    if openai_version is not None:
        from packaging.requirements import Requirement

        from .instrumentor import _INSTRUMENTS

        supported = all(
            Requirement(requirement).specifier.contains(openai_version, prereleases=True)
            for requirement in _INSTRUMENTS
        )
    if not registered:
        problems.append("the opentelemetry_instrumentor entry point is not installed")
    if disabled:
        problems.append("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS disables it")
    if openai_version is None:
        problems.append("openai is not installed")
    elif not supported:
        problems.append(f"openai {openai_version} is outside the supported range")
    if versions.get("opentelemetry-sdk") is None:
        problems.append(
            "opentelemetry-sdk is not installed: spans and metrics go nowhere "
            "(pip install 'openai-sentinel[sdk]')"
        )
    return {
        "entry_point_registered": registered,
        "disabled_by_environment": disabled,
        "openai_supported": supported,
        "active_under_opentelemetry_instrument": registered and not disabled and supported,
    }


def _settings(problems: list[str]) -> list[dict[str, Any]]:
    """Each setting's value in force and where it comes from."""
    try:
        settings = config.load_settings({})
    except config.SettingsError as error:
        problems.append(str(error))
        return []
    rows = []
    for setting in fields(config.Settings):
        name = setting.name
        variable = config.env_name(name)
        if name in config.KEYWORD_ONLY:
            source = "default (keyword only)"
        elif variable in os.environ:
            source = f"environment: {variable}"
        elif name == "capture_content" and config.GENAI_CAPTURE_ENV in os.environ:
            source = f"environment: {config.GENAI_CAPTURE_ENV}"
        else:
            source = "default"
        value = getattr(settings, name)
        rows.append({"setting": name, "value": _plain(value), "source": source})
    return rows


def _plain(value: object) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    return value


def diagnose() -> Report:
    """The report, for this process's environment."""
    problems: list[str] = []
    versions: dict[str, str | None] = {
        "openai-sentinel": __version__,
        "python": platform.python_version(),
    }
    versions.update({name: _version(name) for name in _DISTRIBUTIONS})
    instrumentation = _instrumentation(versions, problems)
    settings = _settings(problems)
    environment = {name: os.environ[name] for name in _OTEL_VARIABLES if name in os.environ}
    from .analyzers.security._engine import ENGINE

    instrumentation["security_engine"] = ENGINE
    return Report(versions, instrumentation, settings, environment, problems)


def run(args: argparse.Namespace) -> int:
    report = diagnose()
    if args.json:
        print(json.dumps(report.__dict__, indent=2))
        return 1 if report.problems else 0
    print("versions")
    for name, version in report.versions.items():
        print(f"  {name:42} {version or '-'}")
    print("\ninstrumentation")
    for key, value in report.instrumentation.items():
        print(f"  {key.replace('_', ' '):42} {value}")
    print("\nsettings (keyword arguments to instrument() win over these)")
    for row in report.settings:
        print(f"  {row['setting']:30} {row['value']!s:12} {row['source']}")
    print("\nOpenTelemetry environment")
    for name, value in report.environment.items() or [("(none set)", "")]:
        print(f"  {name:42} {value}")
    if report.problems:
        print("\nproblems")
        for problem in report.problems:
            print(f"  - {problem}")
        return 1
    print("\nno problems found")
    return 0
