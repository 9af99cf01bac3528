"""The README documents every name openai-sentinel emits (names come from semconv.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openai_sentinel import semconv
from openai_sentinel.config import Settings, env_name

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
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
    assert f"`{env_name(setting)}`" in README
