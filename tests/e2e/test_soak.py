"""The short soak (``bench/soak.py``): thousands of calls of every kind that stresses the
instrumentation, streams abandoned without ``close()`` among them, and nothing lost:
every call has its span (ended) and its duration point, no span is dropped, and resident
memory stays flat after the warm-up. ``make soak`` runs the hour-long version."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CYCLES = 300
"""Cycles of the soak's twelve kinds of call: a fixed amount of work, not of time, so that
what it covers does not depend on the machine's speed (about 20 s here)."""
GROWTH_LIMIT_MB = 16.0
"""Resident memory a short soak may add after its warm-up: a leak of one object per call
(thousands of calls) would pass it, a leak of a span or a stream would not."""


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_short_soak_loses_nothing(tmp_path: Path) -> None:
    figures_path = tmp_path / "soak.json"
    completed = subprocess.run(
        [sys.executable, "bench/soak.py", "--calls", str(CYCLES * 12), "--json", str(figures_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    figures = json.loads(figures_path.read_text())
    calls = figures["total_calls"]
    assert calls == CYCLES * 12, figures
    assert figures["calls"]["abandoned"] == CYCLES
    assert figures["calls"]["async cancelled"] == CYCLES
    assert figures["spans_exported"] == calls
    assert figures["duration_points"] == calls
    assert figures["spans_unfinished"] == 0
    assert figures["dropped_spans"] == 0
    assert figures["rss_growth_mb"] < GROWTH_LIMIT_MB, figures["rss_mb"]
