"""Hallucination risk: is a request in a high-stakes domain, and how risky is the answer.

Two questions, both answered with rules from ``data/hallucination.yaml``:

* :meth:`HallucinationAnalyzer.domain_of` — is the *request* about medicine, law or money?
  Every domain has indicator terms with weights (words, stems such as ``diagnos*``,
  suffix families such as ``*cillin`` for drug names, phrases) and a few patterns. A
  domain's score is the sum of the weights of the *distinct* indicators found in the
  text (a term or a pattern counts once, however often and in however many words it
  matches); the request's domain is the best-scoring one when it reaches
  ``scoring.domain_threshold`` (3: one strong term, or a medium and a weak one), else
  ``None``. Ties go to the first domain in the file.

* :meth:`HallucinationAnalyzer.assess` — how risky is a confident *answer* in that domain?
  The answer's signals are regular expressions of three kinds: ``specific`` (dosages,
  figures, money, citations, statute numbers: things that can be wrong), ``absolute``
  (certainty or safety claims) and ``hedge`` (referral to a professional, hedging words).
  A signal may apply to some domains only. Points are ``weight x occurrences`` per
  signal, occurrences counted up to ``scoring.max_count``. Then:

  ======================================================================  ===========
  no domain (the request is an everyday one)                               ``low``
  no specific and no absolute points                                       ``low``
  some points                                                              ``medium``
  specific + absolute points >= ``high_points`` (4), or absolute points    ``high``
  >= ``absolute_points`` (3)
  specific points and absolute points >= ``absolute_points``               ``critical``
  any points and a confidence below ``low_confidence`` (0.5)               ``critical``
  ======================================================================  ===========

  and a hedge or referral anywhere in the answer lowers the result one level (never
  below ``low``). So "Take 800 mg every 4 hours; it is completely safe." is critical,
  and high once it adds "consult your doctor". The findings are the specific and
  absolute matches (category ``hallucination_risk``, the signal's id and severity,
  offsets in the answer); there are none when the risk is ``low``.

How it stays cheap (both run on every call, in-process):

* ``domain_of`` runs every indicator at once on the engine of :mod:`._engine`
  (Hyperscan): each term and pattern is one expression of one pattern set, matched in a
  single pass over the text as it is (its UTF-8 bytes, not cut into words), case
  ignored, and reported once (Hyperscan's single-match mode), which is exactly
  "distinct indicators count once". A word term ``dose`` is ``\\bdose\\b``, a stem ``diagnos*`` is
  ``\\bdiagnos``, a suffix family ``*cillin`` is ``\\w{3}cillin\\b`` (three letters before
  the suffix, in the same word), a phrase ``side effect*`` is ``side``, one to eight
  marks or spaces, then ``effect`` with one of the usual endings (``effects``,
  ``effected``…). Nothing is remembered between calls: the analyzer has no mutable state.
* ``assess`` runs, on the answer lower-cased with the word-opening marks as spaces (same
  length, so offsets hold), one expression per domain holding all its signals, shaped as
  a trie and anchored on a space: about one attempt per word, most rejected on their
  first character. A request without a domain costs nothing.

Every rule pattern has bounded repetitions only (the parser refuses ``*``, ``+`` and
``{n,}``), and the tries add no nested repetition, so every scan is linear in the length
of the text (Hyperscan's is by construction).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from functools import lru_cache
from importlib import resources
from typing import Any, Final, NamedTuple

from ... import semconv
from ._engine import Pattern, PatternError, PatternSet
from ._model import SEVERITY_RANK, Finding

__all__ = [
    "DOMAINS",
    "KIND_ABSOLUTE",
    "KIND_HEDGE",
    "KIND_SPECIFIC",
    "DomainIndicator",
    "HallucinationAnalyzer",
    "HallucinationRules",
    "Scoring",
    "Signal",
    "SignalMatch",
    "packaged_hallucination_rules",
    "parse_hallucination_rules",
]

DOMAINS: Final = (semconv.DOMAIN_MEDICAL, semconv.DOMAIN_LEGAL, semconv.DOMAIN_FINANCIAL)
KIND_SPECIFIC: Final = "specific"
KIND_ABSOLUTE: Final = "absolute"
KIND_HEDGE: Final = "hedge"
KINDS: Final = (KIND_SPECIFIC, KIND_ABSOLUTE, KIND_HEDGE)

_RULES_RESOURCE: Final = "data/hallucination.yaml"
_SUFFIX_MIN_STEM: Final = 3
"""A suffix-family term (``*cillin``) needs this many letters before the suffix."""

# -- normalisation -------------------------------------------------------------------------
# The marks that can open a word become spaces, so that every word a pattern may start
# with follows a space; the marks that close one ("." "," "?" ")"…) stay, as the patterns
# need them ("u.s.c.", "2.5 mg", "$1,000") and a space more is a scan attempt more.
_ASCII_OPENERS: Final = "\n\t\r\f\v\"'(*/<=>[_`{|~-#"
_UNICODE_OPENERS: Final = "\u2018\u2019\u201c\u201d\u2013\u2014\u2022\u2026\u00ab\u00a0"


def _lower(text: str) -> str:
    """``text`` lower-cased, with exactly its length (offsets stay valid)."""
    lowered = text.lower()
    if len(lowered) != len(text):  # "İ", the one character that lowers to two
        lowered = text.replace("\u0130", "i").lower()
    return lowered


def _normalise(text: str) -> str:
    """A space, then ``text`` lower-cased with the word-opening marks as spaces: the text
    every pattern runs on, so that ``text[i]`` is ``_normalise(text)[i + 1]``."""
    lowered = _lower(text)
    # one str.replace per mark: a memchr-speed scan each, cheaper than str.translate
    # (slow on non-ASCII text) or re.sub
    for mark in _ASCII_OPENERS if lowered.isascii() else _ASCII_OPENERS + _UNICODE_OPENERS:
        if mark in lowered:
            lowered = lowered.replace(mark, " ")
    return " " + lowered


_WORD_DROPS: Final = ".,;:!?()[]{}<>\"'`*#~^" + "\u2018\u2019\u201c\u201d\u00ab\u00bb"
"""Marks that go from the words: closing ones (so that "end. Next" keeps one space) and
the ones around a word ("(ibuprofen)", "**dose**", "401(k)" is "401k")."""
_WORD_SPACES: Final = (
    "".join(
        char
        for char in map(chr, range(128))
        if not (char.isalnum() or char in "$&" or char in _WORD_DROPS)
    )
    + "\u2013\u2014\u2022\u2026\u00a0"
)
"""Marks between words ("side-effects", "and/or", new lines, dashes): spaces."""
_WORD_TABLE: Final = str.maketrans(
    {
        char: (None if char in _WORD_DROPS else " " if char in _WORD_SPACES else char.lower())
        for char in map(chr, range(128))
    }
)


def _word_text(text: str) -> str:
    """``text`` as words (how a domain term is read), with a space at both ends: lower
    case, without the marks around words, and with a space for those between words (see
    ``_WORD_DROPS`` and ``_WORD_SPACES``); ``$``, ``&`` and ``§`` stay."""
    if text.isascii():
        return " " + text.translate(_WORD_TABLE) + " "  # one pass, no slow path on ASCII
    lowered = text.lower()
    for mark in _WORD_DROPS:
        if mark in lowered:
            lowered = lowered.replace(mark, "")
    for mark in _WORD_SPACES:
        if mark in lowered:
            lowered = lowered.replace(mark, " ")
    return " " + lowered + " "


_ENDINGS: Final = ("s", "es", "ed", "ing", "er", "ers", "y", "ies", "ion", "ions", "al")
"""The forms a phrase's last word takes, besides the stem itself, when written as a stem
(``side effect*``)."""
_PHRASE_GAP: Final = "[^a-zA-Z0-9$&]{1,8}"
"""Between the words of a phrase: spaces and marks ("side-effects", "401(k)")."""


# -- the rules ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainIndicator:
    """Terms and patterns that point at one domain, all with the same weight."""

    domain: str
    weight: float
    terms: tuple[str, ...] = ()
    """Normalised terms: ``word``, ``stem*``, ``*suffix`` or a phrase."""
    patterns: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Signal:
    """One answer signal: a regular expression of a kind, with its weight and severity."""

    id: str
    kind: str
    severity: str
    weight: float
    pattern: str
    description: str
    domains: tuple[str, ...] = ()
    """The request domains the signal applies to; empty for all."""
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()

    def applies_to(self, domain: str | None) -> bool:
        return domain is None or not self.domains or domain in self.domains


@dataclass(frozen=True, slots=True)
class Scoring:
    """The thresholds of :meth:`HallucinationAnalyzer.assess` and ``domain_of``."""

    domain_threshold: float = 3.0
    max_count: int = 3
    high_points: float = 4.0
    absolute_points: float = 3.0
    low_confidence: float = 0.5


@dataclass(frozen=True, slots=True)
class HallucinationRules:
    """The parsed rules file."""

    version: str
    source: str
    scoring: Scoring
    indicators: tuple[DomainIndicator, ...]
    signals: tuple[Signal, ...]
    domains: tuple[str, ...] = DOMAINS
    """The domains in the order of the file (the order breaks ties)."""


def _problem(source: str, where: str, message: str) -> ValueError:
    location = f"{source}: {where}: " if where else f"{source}: "
    return ValueError(f"hallucination rules {location}{message}")


def _number(source: str, where: str, value: Any, *, minimum: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _problem(source, where, f"expected a number, got {value!r}")
    if value <= minimum:
        raise _problem(source, where, f"expected a number above {minimum:g}, got {value!r}")
    return float(value)


def _strings(source: str, where: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise _problem(source, where, f"expected a list of strings, got {value!r}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _problem(source, where, f"expected non-empty strings, got {item!r}")
    return tuple(value)


def _mapping(source: str, where: str, value: Any, allowed: Iterable[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _problem(source, where, f"expected a mapping, got {value!r}")
    allowed = tuple(allowed)
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise _problem(
            source, where, f"unknown key(s) {', '.join(unknown)}; accepted: {', '.join(allowed)}"
        )
    return value


_UNBOUNDED: Final = re.compile(r"\{\d*,\}")
_GLOBAL_FLAGS: Final = re.compile(r"\(\?[aiLmsux]{1,7}\)")
_ENGINE_UNSUPPORTED: Final = re.compile(
    r"\(\?(?:=|!|<=|<!|P=|>)|\\[1-9]|\{\d{1,9}(?:,\d{0,9})?\}\+|(?<![\\(])\?\+"
)
"""Look-around, back-references, atomic groups and possessive repetitions: a domain
pattern runs on Hyperscan (:mod:`._engine`), which has none of them."""
_NEWER_SYNTAX: Final = re.compile(r"\(\?>|\{\d{1,9}(?:,\d{0,9})?\}\+|(?<![\\(])[?*+]\+")
"""Atomic groups and possessive repetitions, which ``re`` has only from Python 3.11."""


def _check_regex(source: str, where: str, pattern: str, *, within_word: bool = False) -> None:
    """Compiles, matches no empty text, repeats only a bounded number of times, and can
    be combined with the others (no capturing group, no global flag)."""
    if within_word and _ENGINE_UNSUPPORTED.search(pattern):
        raise _problem(
            source,
            where,
            f"{pattern!r}: a domain pattern has no look-around, back-reference, atomic group "
            "or possessive repetition (write \\b for the edge of a word)",
        )
    if _NEWER_SYNTAX.search(pattern):
        raise _problem(
            source,
            where,
            f"{pattern!r}: no atomic group or possessive repetition (Python 3.10's re has "
            "neither; bounded repetitions keep matching linear without them)",
        )
    try:
        compiled = re.compile(pattern)
    except re.error as error:
        raise _problem(source, where, f"invalid regular expression {pattern!r}: {error}") from None
    unbounded = _unbounded(pattern)
    if unbounded is not None:
        raise _problem(
            source,
            where,
            f"unbounded repetition {unbounded!r} in {pattern!r}: "
            "use a bounded one such as {1,20}, so matching stays linear",
        )
    if compiled.match("") is not None:
        raise _problem(source, where, f"{pattern!r} matches the empty text")
    if compiled.groups:
        raise _problem(source, where, f"{pattern!r} has a capturing group: use (?:...)")
    if _GLOBAL_FLAGS.search(pattern):
        raise _problem(source, where, f"{pattern!r} sets global flags: use (?i:...) if need be")
    if pattern.startswith((" ", "(?<=", "(?<!")):
        raise _problem(source, where, f"{pattern!r} must start with the signal, not a space")
    if within_word and (" " in pattern or "\\s" in pattern):
        raise _problem(source, where, f"{pattern!r}: a domain pattern matches within one word")


_MAX_TERM: Final = 80


def _parse_term(source: str, where: str, raw: str) -> str:
    text = raw.strip()
    star_start, star_end = text.startswith("*"), text.endswith("*") and len(text) > 1
    body = " ".join(_word_text(text.strip("*")).split())
    if not body or (star_start and star_end):
        raise _problem(source, where, f"term {raw!r}: give a word, a stem* or a *suffix")
    if star_start and not body.isalpha():
        raise _problem(source, where, f"term {raw!r}: a *suffix is letters only")
    if "*" in text.strip("*") or len(body) > _MAX_TERM:
        raise _problem(source, where, f"term {raw!r}: a '*' only at one end, {_MAX_TERM} at most")
    return ("*" if star_start else "") + body + ("*" if star_end else "")


def _parse_scoring(source: str, data: Any) -> Scoring:
    if data is None:
        return Scoring()
    defaults = Scoring()
    keys = [item.name for item in fields(Scoring)]
    body = _mapping(source, "scoring", data, keys)
    values: dict[str, Any] = {}
    for key in keys:
        if key not in body:
            values[key] = getattr(defaults, key)
            continue
        number = _number(source, f"scoring.{key}", body[key])
        if key == "max_count":
            if number != int(number):
                raise _problem(
                    source, "scoring.max_count", f"expected a whole number, got {number}"
                )
            values[key] = int(number)
        elif key == "low_confidence" and number > 1:
            raise _problem(source, "scoring.low_confidence", f"expected at most 1, got {number}")
        else:
            values[key] = number
    return Scoring(**values)


def _parse_domains(source: str, data: Any) -> tuple[tuple[str, ...], tuple[DomainIndicator, ...]]:
    body = _mapping(source, "domains", data, DOMAINS)
    if not body:
        raise _problem(source, "domains", "expected at least one domain")
    indicators: list[DomainIndicator] = []
    for domain, entries in body.items():
        if isinstance(entries, (str, Mapping)) or not isinstance(entries, Sequence) or not entries:
            raise _problem(source, f"domains.{domain}", "expected a list of indicators")
        seen: set[str] = set()
        for index, raw in enumerate(entries):
            where = f"domains.{domain}[{index}]"
            entry = _mapping(source, where, raw, ("weight", "terms", "patterns"))
            weight = _number(source, f"{where}.weight", entry.get("weight"))
            terms = tuple(
                _parse_term(source, f"{where}.terms", raw)
                for raw in _strings(source, f"{where}.terms", entry.get("terms", ()))
            )
            patterns = _strings(source, f"{where}.patterns", entry.get("patterns", ()))
            if not terms and not patterns:
                raise _problem(source, where, "give terms or patterns")
            for term in terms:
                if term in seen:
                    raise _problem(source, f"{where}.terms", f"term {term!r} is listed twice")
                seen.add(term)
            for pattern in patterns:
                _check_regex(source, f"{where}.patterns", pattern, within_word=True)
            indicators.append(DomainIndicator(domain, weight, terms, patterns))
    return tuple(body), tuple(indicators)


_SIGNAL_KEYS: Final = (
    "id", "kind", "severity", "weight", "pattern", "description", "domains", "examples",
)  # fmt: skip


def _parse_signal(source: str, index: int, data: Any, ids: set[str]) -> Signal:
    where = f"signals[{index}]"
    identifier = data.get("id") if isinstance(data, Mapping) else None
    if not isinstance(identifier, str) or not identifier.strip():
        raise _problem(source, where, f"expected a mapping with an 'id', got {data!r}")
    where = f"signal {identifier!r}"
    body = _mapping(source, where, data, _SIGNAL_KEYS)
    if identifier in ids:
        raise _problem(source, where, "the id is used twice")
    ids.add(identifier)
    kind = body.get("kind")
    if kind not in KINDS:
        raise _problem(source, where, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    severity = body.get("severity")
    if severity not in semconv.SEVERITIES:
        raise _problem(
            source, where, f"severity {severity!r} is not one of {', '.join(semconv.SEVERITIES)}"
        )
    weight = _number(source, f"{where}: weight", body.get("weight"))
    raw_pattern = body.get("pattern")
    if raw_pattern is None:
        raise _problem(source, where, "a pattern is required")
    alternatives = (
        (raw_pattern,) if isinstance(raw_pattern, str) else _strings(source, where, raw_pattern)
    )
    if not all(alternatives):
        raise _problem(source, where, "the pattern is empty")
    for alternative in alternatives:
        _check_regex(source, where, alternative)
    pattern = "|".join(alternatives)
    description = body.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _problem(source, where, "a description is required")
    domains = _strings(source, f"{where}: domains", body.get("domains", ()))
    unknown = [domain for domain in domains if domain not in DOMAINS]
    if unknown:
        raise _problem(
            source, where, f"unknown domain(s) {', '.join(unknown)}; known: {', '.join(DOMAINS)}"
        )
    examples = _mapping(
        source, f"{where}: examples", body.get("examples", {}), ("match", "no_match")
    )
    return Signal(
        id=identifier,
        kind=kind,
        severity=severity,
        weight=weight,
        pattern=pattern,
        description=description.strip(),
        domains=domains,
        examples_match=_strings(source, f"{where}: examples.match", examples.get("match", ())),
        examples_no_match=_strings(
            source, f"{where}: examples.no_match", examples.get("no_match", ())
        ),
    )


def parse_hallucination_rules(data: dict[str, Any], source: str) -> HallucinationRules:
    """Check and parse a rules document (the YAML's data); ``source`` names it in errors.

    Raises :class:`ValueError` naming the source, the rule and the problem: an unknown key,
    a bad severity or kind, a weight that is not a positive number, an invalid regular
    expression, one with unbounded repetition or one that matches the empty text.
    """
    body = _mapping(source, "", data, ("version", "scoring", "domains", "signals"))
    version = body.get("version")
    if not isinstance(version, str) or not version.strip():
        raise _problem(source, "version", f"expected a version string, got {version!r}")
    scoring = _parse_scoring(source, body.get("scoring"))
    domains, indicators = _parse_domains(source, body.get("domains"))
    raw_signals = body.get("signals")
    if isinstance(raw_signals, (str, Mapping)) or not isinstance(raw_signals, Sequence):
        raise _problem(source, "signals", f"expected a list of signals, got {raw_signals!r}")
    ids: set[str] = set()
    signals = tuple(_parse_signal(source, i, item, ids) for i, item in enumerate(raw_signals))
    return HallucinationRules(version.strip(), source, scoring, indicators, signals, domains)


@lru_cache(maxsize=1)
def packaged_hallucination_rules() -> HallucinationRules:
    """The rules shipped with openai-sentinel (``data/hallucination.yaml``), parsed once."""
    import yaml

    text = resources.files(__package__).joinpath(_RULES_RESOURCE).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe_load, with libyaml if any
    return parse_hallucination_rules(
        yaml.load(text, Loader=loader), f"{__package__}/{_RULES_RESOURCE}"
    )


# -- compiling alternatives into a trie-shaped expression -----------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    """The atom with its quantifier."""
    atom: str
    quantifier: str
    simple: bool
    """A single character, escape or class: it matches exactly one character."""


_QUANTIFIER: Final = re.compile(r"(?:[*+?]|\{(?:\d{1,9}(?:,\d{0,9})?|,\d{1,9})\})[?+]?")
_CLASS_ESCAPES: Final = frozenset("dDwWsS")


def _class_end(pattern: str, start: int) -> int:
    """The index just past the character class opening at ``pattern[start]``."""
    j, n = start + 1, len(pattern)
    if j < n and pattern[j] == "^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _group_end(pattern: str, start: int) -> int:
    """The index just past the group opening at ``pattern[start]``."""
    depth, j, n = 0, start, len(pattern)
    while j < n:
        char = pattern[j]
        if char == "\\":
            j += 2
            continue
        if char == "[":
            j = _class_end(pattern, j)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return n


def _tokens(pattern: str) -> list[_Token]:
    """The top-level atoms of ``pattern`` (groups whole), with their quantifiers."""
    tokens: list[_Token] = []
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\":
            atom = pattern[i : i + 2]
            escaped = atom[1:]
            simple = escaped in _CLASS_ESCAPES or (len(escaped) == 1 and not escaped.isalnum())
        elif char == "[":
            atom, simple = pattern[i : _class_end(pattern, i)], True
        elif char == "(":
            atom, simple = pattern[i : _group_end(pattern, i)], False
        else:
            atom, simple = char, char not in "|^$"
        i += len(atom)
        quantifier_match = _QUANTIFIER.match(pattern, i)
        quantifier = quantifier_match.group() if quantifier_match else ""
        i += len(quantifier)
        tokens.append(_Token(atom + quantifier, atom, quantifier, simple))
    return tokens


def _group_body(atom: str) -> str:
    """The expression inside a group atom, without its kind (``?:``, ``?P<name>``…)."""
    inner = atom[1:-1]
    if inner.startswith("?P<"):
        return inner[inner.find(">") + 1 :]
    if inner.startswith(("?<=", "?<!")):
        return inner[3:]
    if inner.startswith(("?:", "?=", "?!", "?>")):
        return inner[2:]
    if inner.startswith("?"):  # flags, comments, back-references: nothing to check
        colon = inner.find(":")
        return inner[colon + 1 :] if colon > 0 else ""
    return inner


def _unbounded(pattern: str) -> str | None:
    """The first atom of ``pattern`` (at any depth) repeated without bound, if any."""
    for token in _tokens(pattern):
        quantifier = token.quantifier
        if len(quantifier) > 1 and quantifier[-1] in "?+":  # lazy or possessive
            quantifier = quantifier[:-1]
        if quantifier in ("*", "+") or _UNBOUNDED.fullmatch(quantifier):
            return token.text
        if token.atom.startswith("("):
            inner = _unbounded(_group_body(token.atom))
            if inner is not None:
                return inner
    return None


def _split_alternatives(pattern: str) -> list[str]:
    """``pattern``'s top-level alternatives."""
    alternatives: list[str] = []
    current: list[str] = []
    for token in _tokens(pattern):
        if token.text == "|":
            alternatives.append("".join(current))
            current = []
        else:
            current.append(token.text)
    alternatives.append("".join(current))
    return alternatives


_EXPANSION_LIMIT: Final = 256
_BOUNDS: Final = re.compile(r"\{(\d+)(?:,(\d+))?\}(\+?)")


def _expand(pattern: str) -> list[list[str]]:
    """``pattern``'s alternatives as lists of atoms, its non-capturing groups distributed
    (``x(?:a|b)c`` is ``xac|xbc``, up to ``_EXPANSION_LIMIT`` alternatives) and a leading
    ``x{m,n}`` split (``x x{m-1,n-1}``), so that the trie can share more atoms and more
    branches start with one character, which ``re`` rejects without entering them."""
    results: list[list[str]] = []
    for branch in _split_alternatives(pattern):
        results += _expand_alternative([token.text for token in _tokens(branch)])
    return results


def _expand_alternative(first: list[str]) -> list[list[str]]:
    results: list[list[str]] = []
    work = [first]
    while work:
        atoms = work.pop(0)
        tokens = [_tokens(atom)[0] for atom in atoms]
        groups = [
            i
            for i, token in enumerate(tokens)
            if token.atom.startswith("(?:") and not token.quantifier
        ]
        # a leading group always (the root must see first characters), others while the
        # expansion stays small
        size = len(work) + len(results)
        group = groups[0] if groups else None
        if group is not None and (
            size < _EXPANSION_LIMIT or (group == 0 and size < 16 * _EXPANSION_LIMIT)
        ):
            work[:0] = [
                [*atoms[:group], *(t.text for t in _tokens(branch)), *atoms[group + 1 :]]
                for branch in _split_alternatives(tokens[group].atom[3:-1])
            ]
            continue
        bounds = _BOUNDS.fullmatch(tokens[0].quantifier) if tokens else None
        if bounds and tokens[0].simple and int(bounds.group(1)) >= 1:
            low = int(bounds.group(1))
            high = int(bounds.group(2)) if bounds.group(2) is not None else low
            rest = [f"{tokens[0].atom}{{{low - 1},{high - 1}}}{bounds.group(3)}"]
            atoms = [tokens[0].atom, *(rest if high > 1 else []), *atoms[1:]]
        results.append(atoms)
    return results


class _Node:
    __slots__ = ("children", "leaves", "owners")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.leaves: list[tuple[str, int | None]] = []
        self.owners: frozenset[int | None] = frozenset()


def _trie_pattern(
    alternatives: Iterable[tuple[list[str], str, int | None]],
    frequent: frozenset[str] = frozenset(),
) -> tuple[str, dict[str, int]]:
    """One expression matching any of ``alternatives`` (atom lists, each followed by its
    tail, a look-ahead or nothing, and owned by a rule number or ``None``), shaped as a
    trie over their atoms so that ``re`` rejects a non-matching position after a
    character test or two; and its markers, the empty named groups that tell which rule
    matched (``Match.lastgroup``), one per subtree of a single owner."""
    root = _Node()
    for atoms, tail, owner in alternatives:
        node = root
        for atom in atoms:
            node = node.children.setdefault(atom, _Node())
        node.leaves.append((tail, owner))
    _collect_owners(root)
    markers: dict[str, int] = {}
    return _emit(root, markers, marked=False, frequent=frequent), markers


def _collect_owners(node: _Node) -> frozenset[int | None]:
    owners = {owner for _, owner in node.leaves}
    for child in node.children.values():
        owners |= _collect_owners(child)
    node.owners = frozenset(owners)
    return node.owners


_FREQUENT_INITIALS: Final = frozenset("tawsfocpi")
"""The letters most English words start with. ``re`` tries the alternatives of a branch
one after the other, about a nanosecond each even when their first character differs, so
at the root (tried at every word) the subtrees of the other initials are put behind one
look-ahead: a word starting with a frequent letter skips them all at once."""


def _is_literal(atom: str) -> bool:
    """``atom`` is one character, or an escaped one (``\\.``): not a class, not a group."""
    if len(atom) == 1:
        return atom not in ".^$"
    return len(atom) == 2 and atom[0] == "\\" and not atom[1].isalnum()


def _emit(
    node: _Node, markers: dict[str, int], *, marked: bool, frequent: frozenset[str] = frozenset()
) -> str:
    """The expression of ``node``'s subtree. A subtree with a single owner, not already
    marked, is followed by a marker for it. At the root, the children whose first atom is
    not in ``frequent`` go behind one look-ahead (when ``frequent`` is given)."""
    direct: list[str] = []
    gated: list[str] = []
    gate: list[str] = []
    # literal characters before classes: "100% safe" is tried before any number
    children = sorted(node.children.items(), key=lambda item: not _is_literal(item[0]))
    for atom, child in children:
        (owner,) = child.owners if len(child.owners) == 1 else (None,)
        if not marked and owner is not None:
            name = f"m{len(markers)}"
            markers[name] = owner
            branch = f"{atom}(?:{_emit(child, markers, marked=True)})(?P<{name}>)"
        else:
            branch = atom + _emit(child, markers, marked=marked)
        token = _tokens(atom)[0]
        if (
            not frequent
            or atom in frequent
            or not token.simple
            or token.quantifier
            or atom == "."
            or atom.startswith("[^")
        ):
            direct.append(branch)
        else:
            gated.append(branch)
            gate.append(
                atom[1:-1] if atom.startswith("[") else atom if atom[0] == "\\" else re.escape(atom)
            )
    if len(gated) > 1:
        direct.append(f"(?=[{''.join(gate)}])(?:" + "|".join(gated) + ")")
    else:
        direct += gated
    for tail, owner in node.leaves:
        marker = ""
        if not marked and owner is not None:
            marker = f"m{len(markers)}"
            markers[marker] = owner
            marker = f"(?P<{marker}>)"
        direct.append(tail + marker)
    if len(direct) == 1:
        return direct[0]
    return "(?:" + "|".join(direct) + ")"


# -- the analyzer ---------------------------------------------------------------------------


class SignalMatch(NamedTuple):
    """One signal found in an answer, between ``start`` and ``end``."""

    signal: Signal
    start: int
    end: int


_LEVELS: Final = semconv.SEVERITIES


_Values = tuple[tuple[int, float], ...]
"""The domains an indicator counts for (their index in the rules' domains), with its
weight in each."""


def _term_pattern(term: str) -> Pattern:
    """The expression of a domain term (see the module): a word, a stem, a suffix family
    or a phrase, case ignored."""
    body = term.strip("*")
    words = [re.escape(word) for word in body.split(" ")]
    if term.startswith("*"):  # a suffix family: letters only (the parser saw to it)
        expression = rf"\w{{{_SUFFIX_MIN_STEM}}}{words[0]}{_edge(body[-1])}"
        return Pattern(expression, unicode=not body.isascii())
    expression = _PHRASE_GAP.join(words)
    if term.endswith("*") and len(words) > 1:  # a phrase whose last word is a stem
        expression += "(?:" + "|".join(_ENDINGS) + ")?" + _edge(body[-1])
    elif not term.endswith("*"):
        expression += _edge(body[-1])
    return Pattern(_edge(body[0]) + expression, unicode=not body.isascii())


def _edge(char: str) -> str:
    """``\\b`` for a term starting or ending with ``char``, when it is a word character
    (``\\b`` is ASCII in both engines)."""
    return r"\b" if char.isascii() and (char.isalnum() or char == "_") else ""


class _Compiled:
    """The expressions made of a set of rules, shared by the analyzers of those rules."""

    def __init__(self, rules: HallucinationRules, engine: str | None = None) -> None:
        self.rules = rules
        # -- the domain indicators (see HallucinationAnalyzer.domain_scores) --
        domains = {domain: number for number, domain in enumerate(rules.domains)}
        expressions: dict[Pattern, list[tuple[int, float]]] = {}
        written: dict[Pattern, str] = {}
        for indicator in rules.indicators:
            value = (domains[indicator.domain], indicator.weight)
            for term in indicator.terms:  # a term of two domains is one expression
                expressions.setdefault(_term_pattern(term), []).append(value)
            for pattern in indicator.patterns:
                expression = Pattern(pattern, unicode=not pattern.isascii())
                expressions.setdefault(expression, []).append(value)
                written.setdefault(expression, f"domains.{indicator.domain} pattern {pattern!r}")
        patterns = list(expressions)
        try:
            self.indicators = PatternSet(patterns, engine=engine)
        except PatternError as error:  # a pattern only Python's re can run
            number = re.match(r"pattern (\d+)", str(error))
            what = written.get(patterns[int(number.group(1))], "?") if number else "?"
            raise _problem(rules.source, what, str(error)) from None
        values = list(expressions.values())
        self.domain = tuple(found[0][0] for found in values)
        """For each expression of ``indicators``: the domain it counts for (the first)."""
        self.weight = tuple(found[0][1] for found in values)
        self.more: dict[int, _Values] = {
            index: tuple(found[1:]) for index, found in enumerate(values) if len(found) > 1
        }
        """The other domains of the expressions that count for several."""
        # -- the signals: one trie per domain (None: every signal), compiled when first used --
        self._signal_atoms = [_expand(signal.pattern) for signal in rules.signals]
        self._signal_patterns: dict[str | None, tuple[re.Pattern[str], dict[str, Signal]]] = {}

    def matching(self, text: str, data: bytes | None = None) -> list[int]:
        """The indicators (indices of ``indicators``) found in ``text`` (UTF-8: ``data``,
        if known), each once (no spans: domains have no use for them)."""
        return self.indicators.matching(text, data)

    def signal_pattern(self, domain: str | None) -> tuple[re.Pattern[str], dict[str, Signal]]:
        """The expression of ``domain``'s signals and its markers (compiled on first use)."""
        compiled = self._signal_patterns.get(domain)
        if compiled is None:
            signals = self.rules.signals
            alternatives = [
                (atoms, "", number)
                for number, signal in enumerate(signals)
                if signal.applies_to(domain)
                for atoms in self._signal_atoms[number]
            ]
            expression, markers = _trie_pattern(alternatives, _FREQUENT_INITIALS)
            named = {name: signals[number] for name, number in markers.items()}
            compiled = self._signal_patterns[domain] = (re.compile(" " + expression), named)
        return compiled


@lru_cache(maxsize=8)
def _compile(rules: HallucinationRules, engine: str | None) -> _Compiled:
    return _Compiled(rules, engine)


class HallucinationAnalyzer:
    """The domain of a request and the hallucination risk of its answer (see the module).

    Stateless once built, so safe to share between threads; analyzers of the same rules
    share their compiled expressions. ``engine`` picks the engine of the domain
    indicators (``"hyperscan"`` or ``"re"``, see :mod:`._engine`); by default the best
    available. Rules with a domain pattern the engine cannot run raise ``ValueError``.
    """

    __slots__ = ("_compiled", "_scoring", "rules", "version")

    def __init__(self, rules: HallucinationRules, *, engine: str | None = None) -> None:
        self.rules = rules
        self.version = rules.version
        self._scoring = rules.scoring
        self._compiled = _compile(rules, engine)

    # -- the request -----------------------------------------------------------------------

    def domain_scores(self, text: str, *, data: bytes | None = None) -> dict[str, float]:
        """Each domain's score for ``text``: the weights of the distinct indicators found.

        One scan of the text (``data``: its UTF-8, if known) by every indicator at once
        (see the module), each reported once however often it occurs."""
        compiled = self._compiled
        scores = [0.0] * len(self.rules.domains)
        found = compiled.matching(text, data)
        domain, weight = compiled.domain, compiled.weight
        for index in found:
            scores[domain[index]] += weight[index]
        if compiled.more:  # a term of several domains
            for index in found:
                for other, value in compiled.more.get(index, ()):
                    scores[other] += value
        return dict(zip(self.rules.domains, scores, strict=True))

    def domain_of(self, text: str, *, data: bytes | None = None) -> str | None:
        """The high-stakes domain ``text`` (a request; ``data``: its UTF-8, if known) is
        about, or ``None`` for none."""
        scores = self.domain_scores(text, data=data)
        best = max(scores, key=scores.__getitem__, default=None)
        if best is None or scores[best] < self._scoring.domain_threshold:
            return None
        return best

    # -- the answer ------------------------------------------------------------------------

    def signal_matches(self, answer: str, domain: str | None = None) -> list[SignalMatch]:
        """Every signal found in ``answer`` (hedges included), in order: those of
        ``domain``, or of every domain when it is ``None``."""
        if not answer or (domain is not None and domain not in self.rules.domains):
            return []
        pattern, markers = self._compiled.signal_pattern(domain)
        # the expression starts with the space _normalise puts first: a match starts
        # where its signal starts in the answer, and ends one past where it ends
        return [
            SignalMatch(markers[match.lastgroup or ""], match.start(), match.end() - 1)
            for match in pattern.finditer(_normalise(answer))
        ]

    def assess(
        self, answer: str, domain: str | None, confidence: float | None = None
    ) -> tuple[str, list[Finding]]:
        """The hallucination risk of ``answer`` to a request in ``domain``, and the findings
        that make it: the specific and absolute signals that count (the first
        ``max_count`` of each), none when the risk is ``low``. ``confidence`` is the
        answer's confidence in [0, 1] when known (from logprobs)."""
        if domain is None or not answer or domain not in self.rules.domains:
            return semconv.SEVERITY_LOW, []
        pattern, markers = self._compiled.signal_pattern(domain)
        max_count = self._scoring.max_count
        counts: dict[str, int] = {}
        points = dict.fromkeys(KINDS, 0.0)
        counted: list[tuple[Signal, int, int]] = []
        for match in pattern.finditer(_normalise(answer)):
            signal = markers[match.lastgroup or ""]
            seen = counts.get(signal.id, 0)
            if seen < max_count:
                counts[signal.id] = seen + 1
                points[signal.kind] += signal.weight
                if signal.kind != KIND_HEDGE:
                    counted.append((signal, match.start(), match.end() - 1))
        hedged = points[KIND_HEDGE] > 0
        level = _level(
            points[KIND_SPECIFIC], points[KIND_ABSOLUTE], confidence, hedged, self._scoring
        )
        if level == semconv.SEVERITY_LOW:
            return level, []
        category = semconv.SECURITY_CATEGORY_HALLUCINATION_RISK
        return level, [
            Finding(category, signal.id, signal.severity, start, end)
            for signal, start, end in counted
        ]


def _level(
    specific: float, absolute: float, confidence: float | None, hedged: bool, scoring: Scoring
) -> str:
    points = specific + absolute
    if points <= 0:
        return semconv.SEVERITY_LOW
    rank = SEVERITY_RANK[semconv.SEVERITY_MEDIUM]
    if points >= scoring.high_points or absolute >= scoring.absolute_points:
        rank = SEVERITY_RANK[semconv.SEVERITY_HIGH]
    if specific > 0 and absolute >= scoring.absolute_points:
        rank = SEVERITY_RANK[semconv.SEVERITY_CRITICAL]
    if confidence is not None and confidence < scoring.low_confidence:
        rank = SEVERITY_RANK[semconv.SEVERITY_CRITICAL]
    if hedged:
        rank -= 1
    return _LEVELS[max(rank, 0)]
