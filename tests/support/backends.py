"""Where the backend binaries are (Prometheus, promtool, Alertmanager, amtool), and the
shared paths of ``collector-config/``.

``make test`` installs Debian's packages (``collector-config/scripts/install-backends.sh``);
the binaries are looked up in ``$SENTINEL_BACKENDS`` (a folder), then on ``PATH``. Without
them the backend tests skip, unless ``SENTINEL_REQUIRE_BACKENDS=1`` (set by ``make test``)
makes a missing binary a failure: CI must never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR_CONFIG = ROOT / "collector-config"
PROMETHEUS_DIR = COLLECTOR_CONFIG / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
ALERTMANAGER_DIR = COLLECTOR_CONFIG / "alertmanager"
DASHBOARDS_DIR = COLLECTOR_CONFIG / "grafana" / "dashboards"
RUNBOOKS_DIR = ROOT / "docs" / "runbooks"

_ALIASES = {"alertmanager": ("prometheus-alertmanager", "alertmanager")}


def binary(name: str) -> str:
    """The path of backend binary ``name`` (``prometheus``, ``promtool``,
    ``alertmanager``, ``amtool``); skips the test (fails under
    ``SENTINEL_REQUIRE_BACKENDS=1``) when it is not installed."""
    candidates = _ALIASES.get(name, (name,))
    folder = os.environ.get("SENTINEL_BACKENDS")
    if folder:
        for candidate in candidates:
            path = Path(folder) / candidate
            if path.is_file() and os.access(path, os.X_OK):
                return str(path)
    for candidate in candidates:
        found = shutil.which(candidate)
        if found:
            return found
    message = (
        f"{name} is not installed: run collector-config/scripts/install-backends.sh "
        "(make test does)"
    )
    if os.environ.get("SENTINEL_REQUIRE_BACKENDS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def walk(node: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every (key path, leaf value) under a parsed YAML or JSON ``node``; list items get
    the key of their list."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, (*path, str(key)))
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)
    else:
        yield path, node
