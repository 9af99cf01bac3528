"""``openai-sentinel doctor`` and ``--help``: the report says what is installed, whether
``opentelemetry-instrument`` would load the instrumentation, and where each setting in
force comes from; a bad setting or a disabled instrumentation is a problem (exit 1)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from typing import Any

import pytest

from openai_sentinel import config

pytestmark = pytest.mark.timeout(60)


def doctor(env: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [sys.executable, "-m", "openai_sentinel.cli", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**_clean_environment(), **(env or {})},
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def _clean_environment() -> dict[str, str]:
    import os

    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OPENAI_SENTINEL_", "OTEL_"))
    }


def test_a_healthy_environment() -> None:
    status, report = doctor()
    assert status == 0, report["problems"]
    assert report["versions"]["openai"]
    assert report["versions"]["opentelemetry-sdk"]
    assert report["instrumentation"]["active_under_opentelemetry_instrument"] is True
    settings = {row["setting"]: row for row in report["settings"]}
    assert set(settings) == {f.name for f in dataclasses.fields(config.Settings)}
    assert settings["security_input_policy"] == {
        "setting": "security_input_policy",
        "value": "observe",
        "source": "default",
    }


def test_settings_from_the_environment_say_so() -> None:
    status, report = doctor(
        {
            "OPENAI_SENTINEL_SECURITY_INPUT_POLICY": "block",
            "OPENAI_SENTINEL_METRIC_ATTRIBUTES": "user_tier,feature",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
            "OTEL_SERVICE_NAME": "checkout",
        }
    )
    assert status == 0
    settings = {row["setting"]: row for row in report["settings"]}
    assert settings["security_input_policy"]["value"] == "block"
    assert settings["security_input_policy"]["source"] == (
        "environment: OPENAI_SENTINEL_SECURITY_INPUT_POLICY"
    )
    assert settings["metric_attributes"]["value"] == ["user_tier", "feature"]
    assert settings["capture_content"] == {
        "setting": "capture_content",
        "value": True,
        "source": "environment: OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
    }
    assert report["environment"]["OTEL_SERVICE_NAME"] == "checkout"


def test_a_bad_setting_is_a_problem_naming_it() -> None:
    status, report = doctor({"OPENAI_SENTINEL_REPEAT_TABLE_SIZE": "lots"})
    assert status == 1
    assert any("OPENAI_SENTINEL_REPEAT_TABLE_SIZE" in problem for problem in report["problems"])


def test_a_disabled_instrumentation_is_a_problem() -> None:
    status, report = doctor({"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS": "redis,openai_sentinel"})
    assert status == 1
    assert report["instrumentation"]["active_under_opentelemetry_instrument"] is False
    assert any("DISABLED" in problem for problem in report["problems"])


def test_help_lists_every_command_with_examples() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "openai_sentinel.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for command in ("demo", "doctor", "price", "scan", "simulator"):
        assert f"openai-sentinel {command}" in result.stdout.split("examples:")[1], command
    assert "opentelemetry-instrument" in result.stdout
