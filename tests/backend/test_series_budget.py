"""The series budget: how many Prometheus series our metrics make, and that traffic with
a new prompt, user and request id on every call makes no more than repeated traffic
(none of them is a label; only the model, operation, token type, error type, server and
the security and drift enums are)."""

from __future__ import annotations

import re
from collections import Counter

from ..support.workload import run_exposition

_SERIES = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
_PER_RUN = ("server_port",)  # each run's simulator listens on its own port
BUDGET_PER_MODEL = 300
"""The most series one chat model may make (with every kind of call and every bucket)."""


def series(*arguments: str) -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """The series of our metrics in a workload's exposition (per-run labels blanked)."""
    found = set()
    for line in run_exposition(*arguments).splitlines():
        match = _SERIES.match(line)
        if not match or not match.group(1).startswith(("gen_ai_", "sentinel_")):
            continue
        labels = tuple(
            sorted(
                (key, "*" if key in _PER_RUN else value)
                for key, value in _LABEL.findall(match.group(2) or "")
            )
        )
        found.add((match.group(1), labels))
    return found


def test_distinct_prompts_users_and_ids_add_no_series() -> None:
    repeated = series("--calls", "3")
    distinct = series("--calls", "40", "--distinct")
    assert repeated, "the workload exposed none of our series"
    assert distinct <= repeated, sorted(distinct - repeated)[:10]


def test_series_per_model_within_budget() -> None:
    per_model = Counter(
        dict(labels).get("gen_ai_request_model", "(no model)") for _, labels in series()
    )
    assert 0 < per_model["gpt-4o-mini"] <= BUDGET_PER_MODEL, per_model
    # security events carry no model: their series are bounded by the enums alone
    assert per_model["(no model)"] <= 4 * 8 * 3 * 2 + 1, per_model
