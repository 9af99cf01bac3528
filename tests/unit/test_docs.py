"""The docs: the README documents every emitted name (from semconv.py), every setting and
demo flag; LICENSE is Apache-2.0 and SECURITY.md says how to report a vulnerability."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from openai_sentinel import semconv
from openai_sentinel.config import KEYWORD_ONLY, Settings, env_name

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
PROSE = " ".join(README.split())
EMITTED = sorted(
    value
    for name, value in vars(semconv).items()
    if name.isupper()
    and isinstance(value, str)
    and "." in value
    and not value.startswith("https://")
)


@pytest.mark.parametrize("name", EMITTED)
def test_every_emitted_name_is_documented(name: str) -> None:
    assert f"`{name}`" in README


@pytest.mark.parametrize("setting", list(Settings.__dataclass_fields__))
def test_every_setting_is_documented(setting: str) -> None:
    assert f"`{setting}`" in README
    if setting not in KEYWORD_ONLY:
        assert f"`{env_name(setting)}`" in README


def _demo_flags(capsys: pytest.CaptureFixture[str]) -> list[str]:
    from openai_sentinel.cli import main

    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    return sorted(set(re.findall(r"--[a-z][a-z-]+", capsys.readouterr().out)) - {"--help"})


def test_every_demo_flag_is_documented(capsys: pytest.CaptureFixture[str]) -> None:
    flags = _demo_flags(capsys)
    assert "--capture-content" in flags
    for flag in flags:
        assert f"`{flag}" in README, flag


def test_readme_says_where_examples_live_and_names_the_service_variable() -> None:
    assert "`examples/` lives in the repository, not in the package" in PROSE
    assert "`OTEL_SERVICE_NAME`" in README


def test_license_is_the_apache_2_0_text() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    for section in (
        "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION",
        "9. Accepting Warranty or Additional Liability.",
        "END OF TERMS AND CONDITIONS",
    ):
        assert section in text
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'license = "Apache-2.0"' in pyproject


def test_security_policy_says_how_to_report_and_what_is_recorded() -> None:
    text = " ".join((ROOT / "SECURITY.md").read_text().split())
    assert "privately" in text and "security advisory" in text
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w+", text), "no e-mail address to report to"
    for fact in ("API keys", "`Authorization`", "`capture_content`", "`content_max_length`"):
        assert fact in text
    assert "127.0.0.1" in text
