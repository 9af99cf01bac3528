"""Settings: keyword arguments to ``instrument()`` > environment variables > defaults.

Every value is validated when ``instrument()`` runs; a bad value raises
:class:`SettingsError` naming the setting, the value and what is accepted.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, Final

__all__ = ["Settings", "SettingsError", "load_settings"]

ENV_PREFIX: Final = "OPENAI_SENTINEL_"
GENAI_CAPTURE_ENV: Final = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"

_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off", ""})
_MAX_CONTENT_LENGTH: Final = 1_048_576
_DIGITS: Final = re.compile(r"[0-9]{1,8}")

# Keyword arguments of ``instrument()`` that BaseInstrumentor itself takes or that the
# OpenTelemetry distro passes through; they are not settings.
PROVIDER_KWARGS: Final = frozenset(
    {
        "tracer_provider",
        "meter_provider",
        "logger_provider",
        "event_logger_provider",
        "skip_dep_check",
        "raise_exception_on_conflict",
    }
)


class SettingsError(ValueError):
    """A setting has a value openai-sentinel cannot use."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The validated configuration of one ``instrument()`` call."""

    capture_content: bool = False
    """Record prompt and completion text (redacted, size-limited) on spans."""
    content_max_length: int = 4096
    """Characters of text kept per content attribute when capture is on."""
    stream_usage: bool = False
    """Add ``stream_options={"include_usage": True}`` to streaming chat requests."""


def _parse_bool(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise SettingsError(
        f"openai-sentinel setting {name!r} got {value!r}; "
        "accepted values: true/false (also 1/0, yes/no, on/off)"
    )


def _parse_content_length(name: str, value: object) -> int:
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        number = int(value.strip())
    if number is None or not 0 < number <= _MAX_CONTENT_LENGTH:
        raise SettingsError(
            f"openai-sentinel setting {name!r} got {value!r}; "
            f"accepted values: an integer from 1 to {_MAX_CONTENT_LENGTH}"
        )
    return number


_PARSERS: Final[dict[str, Callable[[str, object], Any]]] = {
    "capture_content": _parse_bool,
    "content_max_length": _parse_content_length,
    "stream_usage": _parse_bool,
}


def env_name(setting: str) -> str:
    """The environment variable that sets ``setting``."""
    return ENV_PREFIX + setting.upper()


def load_settings(
    overrides: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve settings from ``overrides`` (kwargs), then the environment, then defaults."""
    environ = os.environ if environ is None else environ
    unknown = sorted(set(overrides) - set(_PARSERS) - PROVIDER_KWARGS)
    if unknown:
        raise SettingsError(
            f"unknown openai-sentinel setting(s) {', '.join(map(repr, unknown))}; "
            f"known settings: {', '.join(sorted(_PARSERS))}"
        )
    values: dict[str, Any] = {}
    for field in fields(Settings):
        name = field.name
        parse = _PARSERS[name]
        if name in overrides:
            values[name] = parse(name, overrides[name])
        elif env_name(name) in environ:
            values[name] = parse(env_name(name), environ[env_name(name)])
        elif name == "capture_content" and GENAI_CAPTURE_ENV in environ:
            values[name] = _parse_genai_capture(environ[GENAI_CAPTURE_ENV])
    return Settings(**values)


def _parse_genai_capture(value: str) -> bool:
    """Read the OpenTelemetry GenAI capture variable the way contrib instrumentations do.

    Besides true/false, contrib accepts the content-capturing modes ``NO_CONTENT``,
    ``SPAN_ONLY``, ``EVENT_ONLY`` and ``SPAN_AND_EVENT``; span capture is on for the
    modes that record on spans.
    """
    mode = value.strip().upper()
    if mode in {"SPAN_ONLY", "SPAN_AND_EVENT"}:
        return True
    if mode in {"NO_CONTENT", "EVENT_ONLY"}:
        return False
    return _parse_bool(GENAI_CAPTURE_ENV, value)
