"""The documentation site: the generated reference pages are current, ``mkdocs build
--strict`` passes (every page in the nav, no broken link or anchor), and every metric and
every setting is documented."""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openai_sentinel import semconv
from openai_sentinel.config import KEYWORD_ONLY, Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
GENERATOR = ROOT / "scripts" / "generate_reference.py"
TIMEOUT = 120


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def _metric_names() -> list[str]:
    declared = {
        value
        for name, value in vars(semconv).items()
        if name.startswith("METRIC_") and isinstance(value, str)
    }
    return sorted(declared | set(semconv.METRIC_DESCRIPTIONS))


def _page(path: str) -> str:
    return (DOCS / path).read_text(encoding="utf-8")


def test_generated_pages_are_up_to_date() -> None:
    # a subprocess: the generator builds the emitter's instruments, which must not touch
    # this process's OpenTelemetry state
    result = _run(str(GENERATOR), "--check")
    assert result.returncode == 0, (
        "generated docs are stale; run `python scripts/generate_reference.py`:\n"
        + result.stderr
        + result.stdout
    )


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None:
        pytest.skip("mkdocs is not installed (pip install -e '.[docs]')")
    result = _run(
        "-m",
        "mkdocs",
        "build",
        "--strict",
        "--config-file",
        str(ROOT / "mkdocs.yml"),
        "--site-dir",
        str(tmp_path / "site"),
        NO_MKDOCS_2_WARNING="1",
    )
    assert result.returncode == 0, result.stderr[-5000:] + result.stdout[-2000:]
    assert (tmp_path / "site" / "index.html").is_file()
    assert (tmp_path / "site" / "reference" / "metrics" / "index.html").is_file()


@pytest.mark.parametrize("metric", _metric_names())
def test_every_metric_is_documented(metric: str) -> None:
    assert metric in semconv.METRIC_DESCRIPTIONS, f"{metric} has no METRIC_DESCRIPTIONS entry"
    rows = [
        line
        for line in _page("reference/metrics.md").splitlines()
        if line.startswith(f"| `{metric}` |")
        and any(kind in line for kind in ("histogram", "counter", "gauge"))
    ]
    assert rows, f"docs/reference/metrics.md has no row for the instrument of {metric}"


@pytest.mark.parametrize("setting", [field.name for field in dataclasses.fields(Settings)])
def test_every_setting_is_documented(setting: str) -> None:
    page = _page("configuration.md")
    assert f"| `{setting}` |" in page, f"docs/configuration.md has no row for {setting}"
    if setting not in KEYWORD_ONLY:
        assert f"`{env_name(setting)}`" in page, f"docs/configuration.md lacks {env_name(setting)}"
