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
_MAX_INTEGER: Final = 1_048_576
_DIGITS: Final = re.compile(r"[0-9]{1,8}")
_CALLABLE: Final = type("callable", (), {})
"""The kind of settings that take a function."""
_CHOICE: Final = type("choice", (), {})
"""The kind of settings that take one of a few words (see ``_CHOICES``)."""
_DECIMAL: Final = re.compile(r"[0-9]{1,6}(?:\.[0-9]{1,9})?")
_KEYS: Final = type("keys", (), {})
"""The kind of settings that take attribute keys (a list, or comma-separated text)."""
_ATTRIBUTE_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")
_UNBOUNDED: Final = frozenset(
    {
        "id", "ids", "uuid", "guid", "email", "user", "username", "session",
        "conversation", "request", "trace", "span", "ip", "prompt", "text", "query",
        "message", "content", "phone",
    }
)  # fmt: skip
"""Last words of attribute keys whose values are unbounded (ids, people, text): never
metric attributes."""

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
    cost_threshold_usd: float = 0.015
    """A call costing more than this (USD) is marked ``sentinel.cost.over_threshold``."""
    prices_file: str | None = None
    """A YAML or JSON file of prices that win over ``genai-prices`` (see
    :mod:`openai_sentinel.analyzers.price_overrides`)."""
    repeat_window_seconds: float = 3600.0
    """A request sent again within this many seconds is a repeat; 0 turns detection off."""
    repeat_table_size: int = 10_000
    """Most requests remembered for repeat detection (64-bit fingerprints, never text)."""
    stream_usage: bool = False
    """Ask streamed chat and legacy completions for their usage chunk (``include_usage``)."""
    confidence_heuristic: bool = True
    """Without logprobs, estimate a confidence from how the answer ended and what it says."""
    request_logprobs: bool = False
    """Ask chat and Responses requests for token logprobs when they did not (models that
    support them only); only the response's size changes."""
    drift_detection: bool = True
    """Watch confidence, output length and truncation rate per model for drift."""
    drift_cooldown_seconds: float = 900.0
    """A drift state change is reported at most once per model and severity in this time."""
    on_drift: Callable[[Any], object] | None = None
    """Called with each reported :class:`~openai_sentinel.drift.DriftChange` (keyword only)."""
    security_scanning: bool = True
    """Scan requests for injection, PII and secrets, and answers for PII, secrets and
    hallucination risk (in-process; findings never carry text unless capture is on)."""
    security_input_policy: str = "observe"
    """On a flagged request: ``observe`` (annotate and count), ``redact`` (send it with
    its PII and secrets replaced by typed placeholders) or ``block`` (do not send it)."""
    security_output_policy: str = "observe"
    """On a flagged answer: ``observe``, ``redact`` (hand the caller the answer with its
    PII and secrets replaced) or ``block`` (withhold it)."""
    security_block_severity: str = "high"
    """Least severity of a PII or secret finding that ``block`` acts on (an injection
    always counts): ``low``, ``medium``, ``high`` or ``critical``."""
    security_block_fallback: bool = False
    """Under ``block``, answer with a safe fallback of the expected type
    (``finish_reason="content_filter"``) instead of raising ``PromptBlocked``."""
    security_rules_file: str | None = None
    """A YAML file of rules that add to the packaged ones (see
    :mod:`openai_sentinel.analyzers.security.rules`)."""
    security_rules_watch_seconds: float = 0.0
    """Check the rules file for changes this often and reload it; 0 never does."""
    metric_attributes: tuple[str, ...] = ()
    """Keys of :func:`openai_sentinel.attributes` copied onto metric points too (few
    values each: a tier, a feature; never an id, a user or text)."""


_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "security_input_policy": ("observe", "redact", "block"),
    "security_output_policy": ("observe", "redact", "block"),
    "security_block_severity": ("low", "medium", "high", "critical"),
}
"""The values a choice setting accepts."""


def _accepted(name: str, kind: type, *, text: bool) -> str:
    if kind is _CHOICE:
        setting = name.removeprefix(ENV_PREFIX).lower()
        return "one of " + ", ".join(_CHOICES[setting])
    if kind is bool:
        return "true/false (also 1/0, yes/no, on/off)" if text else "True or False"
    if kind is float:
        unit = "seconds" if "seconds" in name.lower() else "USD"
        return f"a number of {unit}, 0 or more"
    if kind is str:
        return "the path of a file" if text else "a path (str or os.PathLike)"
    if kind is _CALLABLE:
        return "a callable taking one DriftChange, or None (keyword only)"
    if kind is _KEYS:
        return (
            "attribute keys (a list, or comma-separated text) whose values are few: "
            "not an id, a user, a session or text, which stay on spans only"
        )
    return f"an integer from 1 to {_MAX_INTEGER}"


def _rejected(name: str, value: object, kind: type, *, text: bool) -> SettingsError:
    return SettingsError(
        f"openai-sentinel setting {name!r} got {value!r}; "
        f"accepted values: {_accepted(name, kind, text=text)}"
    )


def _from_keyword(name: str, value: object) -> Any:
    """A keyword argument's value, which must already have the setting's type."""
    kind = _KINDS[name]
    if kind is bool and isinstance(value, bool):
        return value
    if (
        kind is float
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and 0 <= value < float("inf")
    ):
        return float(value)
    if kind is _CALLABLE and (value is None or callable(value)):
        return value
    if kind is _CHOICE and isinstance(value, str) and value.strip().lower() in _CHOICES[name]:
        return value.strip().lower()
    if kind is _KEYS:
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, (list, tuple, set, frozenset)):
            return _metric_keys(name, value, items)
    if kind is str and isinstance(value, (str, os.PathLike)):
        path = os.fspath(value)
        if isinstance(path, str) and path:
            return path
    if (
        kind is int
        and isinstance(value, int)
        and not isinstance(value, bool)
        and 0 < value <= _MAX_INTEGER
    ):
        return value
    raise _rejected(name, value, kind, text=False)


def _metric_keys(name: str, value: object, items: Any) -> tuple[str, ...]:
    """Distinct attribute keys, in order; an id-like key is refused by name."""
    keys: list[str] = []
    for item in items:
        key = item.strip() if isinstance(item, str) else item
        if key == "" and isinstance(value, str):  # "" or "a,,b" from the environment
            continue
        if not isinstance(key, str) or not _ATTRIBUTE_KEY.fullmatch(key):
            raise _rejected(name, value, _KEYS, text=isinstance(value, str))
        last = re.split(r"[._\-]", key.lower())[-1]
        if last in _UNBOUNDED:
            raise SettingsError(
                f"openai-sentinel setting {name!r} got {key!r}: a metric attribute must "
                f"have few values, and {key!r} reads like an id, a user or text, whose "
                "values are unbounded (one series each). Keep it on spans only "
                "(openai_sentinel.attributes) and leave it out of metric_attributes"
            )
        if key not in keys:
            keys.append(key)
    return tuple(keys)


def _from_text(variable: str, text: str, kind: type) -> Any:
    """An environment variable's value, parsed as the setting's type."""
    word = text.strip().lower()
    if kind is bool and word in _TRUE | _FALSE:
        return word in _TRUE
    if kind is int and _DIGITS.fullmatch(word) and 0 < int(word) <= _MAX_INTEGER:
        return int(word)
    if kind is float and _DECIMAL.fullmatch(word):
        return float(word)
    if kind is str and text.strip():
        return text.strip()
    if kind is _CHOICE and word in _CHOICES[variable.removeprefix(ENV_PREFIX).lower()]:
        return word
    if kind is _KEYS:
        return _metric_keys(variable, text, text.split(","))
    raise _rejected(variable, text, kind, text=True)


_KINDS: Final[dict[str, type]] = {
    "capture_content": bool,
    "content_max_length": int,
    "cost_threshold_usd": float,
    "prices_file": str,
    "repeat_window_seconds": float,
    "repeat_table_size": int,
    "stream_usage": bool,
    "confidence_heuristic": bool,
    "request_logprobs": bool,
    "drift_detection": bool,
    "drift_cooldown_seconds": float,
    "on_drift": _CALLABLE,
    "security_scanning": bool,
    "security_input_policy": _CHOICE,
    "security_output_policy": _CHOICE,
    "security_block_severity": _CHOICE,
    "security_block_fallback": bool,
    "security_rules_file": str,
    "security_rules_watch_seconds": float,
    "metric_attributes": _KEYS,
}
KEYWORD_ONLY: Final = frozenset({"on_drift"})
"""Settings no environment variable can give (a function)."""


def env_name(setting: str) -> str:
    """The environment variable that sets ``setting``."""
    return ENV_PREFIX + setting.upper()


def load_settings(
    overrides: Mapping[str, object], environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve settings from ``overrides`` (kwargs), then the environment, then defaults.

    Keyword values must have the setting's type (``content_max_length=100``, not
    ``"100"``); environment variables are text and are parsed.
    """
    environ = os.environ if environ is None else environ
    unknown = sorted(set(overrides) - set(_KINDS) - PROVIDER_KWARGS)
    if unknown:
        raise SettingsError(
            f"unknown openai-sentinel setting(s) {', '.join(map(repr, unknown))}; "
            f"known settings: {', '.join(sorted(_KINDS))}"
        )
    values: dict[str, Any] = {}
    for field in fields(Settings):
        name = field.name
        if name in overrides:
            values[name] = _from_keyword(name, overrides[name])
        elif env_name(name) in environ and name not in KEYWORD_ONLY:
            values[name] = _from_text(env_name(name), environ[env_name(name)], _KINDS[name])
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
    parsed: bool = _from_text(GENAI_CAPTURE_ENV, value, bool)
    return parsed
