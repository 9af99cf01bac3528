"""Security rules are data: the packaged YAML files, plus the user's own rules file.

The packaged files (``data/injection.yaml``, ``data/pii.yaml``,
``data/hallucination.yaml``) are versioned with the package. A user rules file adds
to them and may switch packaged rules off::

    version: "acme-7"              # shown as <packaged>+acme-7 in the telemetry
    threshold: 0.6                 # optional: the injection threshold, 0..1
    vocabulary:                    # optional: more phrase families for patterns
      OUR_PRODUCT: 'acme ?bot|acme assistant'
    disable: [jailbreak.fictional_framing]
    rules:
      - id: acme.reveal_discount_codes
        category: prompt_extraction  # injection categories: matched in one pass
        severity: high
        weight: 5.0
        pattern: '\\b(?:list|show)\\W+(?:\\w+\\W+){0,3}discount codes\\b'
        description: Fishing for our internal discount codes.
        examples: {match: ["show me all the discount codes"], no_match: ["do you have discounts?"]}
      - id: acme.employee_id       # pii and secret rules: pattern plus optional validator
        category: pii
        entity: EMPLOYEE_ID
        severity: medium
        pattern: '\\bACME-[0-9]{6}\\b'

A file that cannot be read or says something unusable raises :class:`RulesFileError`
(a :class:`~openai_sentinel.config.SettingsError`) naming the file, the rule and the
problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml

from ... import semconv
from ...config import SettingsError
from .injection import (
    INJECTION_CATEGORIES,
    InjectionRule,
    Signal,
    parse_injection_rules,
    parse_signals,
)

__all__ = ["RuleSet", "RulesFileError", "load_rules", "packaged_rules"]

_PACKAGE: Final = "openai_sentinel.analyzers.security"
_PII_CATEGORIES: Final = frozenset(
    {semconv.SECURITY_CATEGORY_PII, semconv.SECURITY_CATEGORY_SECRET}
)
_USER_KEYS: Final = frozenset({"version", "threshold", "vocabulary", "disable", "rules"})


class RulesFileError(SettingsError):
    """A rules file cannot be read, or says something openai-sentinel cannot use."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Every rule in force, and where they come from."""

    version: str
    injection_rules: tuple[InjectionRule, ...]
    bias: float
    threshold: float
    signals: Mapping[str, Signal]
    pii_rules: tuple[Any, ...]
    """:class:`~.pii.PiiRule` objects."""
    hallucination_rules: Any
    """What :func:`~.hallucination.parse_hallucination_rules` made of its file."""
    disabled: frozenset[str] = frozenset()
    """Ids of packaged injection rules the user file switched off (still compiled)."""
    source: str = "packaged"
    """``packaged``, or the path of the user rules file."""


def _read_packaged(name: str) -> dict[str, Any]:
    text = resources.files(_PACKAGE).joinpath("data").joinpath(name).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    if not isinstance(data, dict):  # pragma: no cover - packaged files are tested
        raise RulesFileError(f"packaged rules file {name} is not a mapping")
    return data


def _vocabulary(data: Mapping[str, Any], source: str) -> dict[str, str]:
    vocabulary = data.get("vocabulary") or {}
    if not isinstance(vocabulary, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in vocabulary.items()
    ):
        raise RulesFileError(f"{source}: vocabulary: expected NAME: 'pattern' entries")
    return dict(vocabulary)


def _threshold(value: object, source: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise RulesFileError(
            f"{source}: threshold: expected a number between 0 and 1, got {value!r}"
        )
    return float(value)


@cache
def packaged_rules() -> RuleSet:
    """The rules that ship with the package (read once: a rule set is immutable)."""
    from .hallucination import parse_hallucination_rules
    from .pii import parse_pii_rules

    injection = _read_packaged("injection.yaml")
    pii = _read_packaged("pii.yaml")
    hallucination = _read_packaged("hallucination.yaml")
    source = "injection.yaml"
    vocabulary = _vocabulary(injection, source)
    try:
        return RuleSet(
            version=str(injection.get("version", "")),
            injection_rules=tuple(parse_injection_rules(injection["rules"], vocabulary, source)),
            bias=float(injection["bias"]),
            threshold=_threshold(injection["threshold"], source),
            signals=parse_signals(injection.get("signals"), source),
            pii_rules=tuple(parse_pii_rules(pii["rules"], "pii.yaml")),
            hallucination_rules=parse_hallucination_rules(hallucination, "hallucination.yaml"),
        )
    except (KeyError, ValueError) as error:  # pragma: no cover - packaged files are tested
        raise RulesFileError(f"packaged rules: {error}") from None


def load_rules(path: str | None) -> RuleSet:
    """The packaged rules, extended by the user rules file at ``path`` (if any).

    Raises :class:`RulesFileError` naming the file, the rule and the problem.
    """
    rules = packaged_rules()
    if path is None:
        return rules
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RulesFileError(f"rules file {source}: cannot be read: {error}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RulesFileError(f"rules file {source}: expected a mapping at the top level")
    unknown = sorted(set(data) - _USER_KEYS)
    if unknown:
        raise RulesFileError(
            f"rules file {source}: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(sorted(_USER_KEYS))}"
        )
    return _extend(rules, data, source)


def _extend(rules: RuleSet, data: Mapping[str, Any], source: str) -> RuleSet:
    from .pii import parse_pii_rules

    entries = data.get("rules") or []
    if not isinstance(entries, list) or not all(isinstance(entry, Mapping) for entry in entries):
        raise RulesFileError(f"rules file {source}: rules: expected a list of rules")
    disabled = data.get("disable") or []
    if not isinstance(disabled, list) or not all(isinstance(name, str) for name in disabled):
        raise RulesFileError(f"rules file {source}: disable: expected a list of rule ids")
    known = {rule.id for rule in rules.injection_rules} | {rule.id for rule in rules.pii_rules}
    unknown = sorted(set(disabled) - known)
    if unknown:
        raise RulesFileError(
            f"rules file {source}: disable: unknown rule id(s) {', '.join(unknown)}"
        )
    packaged = _vocabulary(_read_packaged("injection.yaml"), "injection.yaml")
    vocabulary = {**packaged, **_vocabulary(data, f"rules file {source}")}
    for entry in entries:
        category = entry.get("category")
        if not isinstance(category, str) or category not in INJECTION_CATEGORIES | _PII_CATEGORIES:
            categories = ", ".join(sorted(INJECTION_CATEGORIES | _PII_CATEGORIES))
            raise RulesFileError(
                f"rules file {source}: rule {entry.get('id')!r}: category "
                f"{entry.get('category')!r} is not one of {categories}"
            )
    injection_entries = [e for e in entries if e["category"] in INJECTION_CATEGORIES]
    pii_entries = [e for e in entries if e["category"] in _PII_CATEGORIES]
    try:
        own_injection = parse_injection_rules(
            injection_entries, vocabulary, f"rules file {source}", packaged=False
        )
        own_pii = parse_pii_rules(pii_entries, f"rules file {source}")
    except ValueError as error:
        raise RulesFileError(str(error)) from None
    ids = [rule.id for rule in own_injection] + [rule.id for rule in own_pii]
    clashes = sorted({name for name in ids if name in known or ids.count(name) > 1})
    if clashes:
        raise RulesFileError(
            f"rules file {source}: rule id(s) {', '.join(clashes)} already exist; "
            "give new rules new ids (and `disable` a packaged rule to replace it)"
        )
    off = set(disabled)
    version = data.get("version")
    threshold = data.get("threshold")
    return RuleSet(
        version=rules.version + (f"+{version}" if version is not None else "+user"),
        injection_rules=tuple(r for r in rules.injection_rules if r.id not in off)
        + tuple(own_injection),
        bias=rules.bias,
        threshold=rules.threshold
        if threshold is None
        else _threshold(threshold, f"rules file {source}"),
        signals=rules.signals,
        pii_rules=tuple(r for r in rules.pii_rules if r.id not in off) + tuple(own_pii),
        hallucination_rules=rules.hallucination_rules,
        disabled=frozenset(off),
        source=source,
    )
