"""Prompt injection and jailbreak detection: phrase-family rules plus de-obfuscation.

A text is first unmasked: invisible characters (zero-width, bidirectional controls,
Unicode tags) are removed, compatibility forms (fullwidth and mathematical letters)
folded by NFKC, and Cyrillic or Greek look-alikes inside Latin words mapped to the Latin
letters they imitate; each of these, when present, is itself evidence. The rules then
run over it in one pass (:mod:`._engine`), again over a leetspeak-folded copy when the
text has leet-looking words, and over base64 blobs that decode to text. The evidence
adds up in log-odds to a score in [0, 1]; the text is an injection when the score
reaches the threshold. Everything here is linear in the length of the text.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import string
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from ... import semconv
from ._engine import Pattern, PatternError, PatternSet, utf8
from ._model import Finding

__all__ = [
    "INJECTION_CATEGORIES",
    "InjectionDetector",
    "InjectionRule",
    "InjectionVerdict",
    "Signal",
    "parse_injection_rules",
]

INJECTION_CATEGORIES: Final = frozenset(
    {
        semconv.SECURITY_CATEGORY_PROMPT_INJECTION,
        semconv.SECURITY_CATEGORY_JAILBREAK,
        semconv.SECURITY_CATEGORY_ROLE_INJECTION,
        semconv.SECURITY_CATEGORY_PROMPT_EXTRACTION,
        semconv.SECURITY_CATEGORY_OBFUSCATION,
    }
)
SIGNAL_INVISIBLE: Final = "obfuscation.invisible_characters"
SIGNAL_MIXED_SCRIPT: Final = "obfuscation.mixed_script"
SIGNAL_CONFUSABLE: Final = "obfuscation.confusable_letters"
SIGNAL_LEETSPEAK: Final = "obfuscation.leetspeak"
SIGNAL_BASE64: Final = "obfuscation.base64_payload"
SIGNAL_SUFFIX: Final = "obfuscation.adversarial_suffix"
SIGNALS: Final = (
    SIGNAL_INVISIBLE,
    SIGNAL_MIXED_SCRIPT,
    SIGNAL_CONFUSABLE,
    SIGNAL_LEETSPEAK,
    SIGNAL_BASE64,
    SIGNAL_SUFFIX,
)

_VOCABULARY_NAME: Final = re.compile(r"\{([A-Z][A-Z0-9_]{0,40})\}")
_INVISIBLE_CLASS: Final = (
    r"[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f]"
)
_INVISIBLE: Final = re.compile(_INVISIBLE_CLASS)
_CONFUSABLE_CLASS: Final = r"[\uff21-\uff3a\uff41-\uff5a\u24b6-\u24e9\U0001d400-\U0001d7ff]"
_MIXED_SCRIPT: Final = r"[a-zA-Z][\u0370-\u03ff\u0400-\u04ff]|[\u0370-\u03ff\u0400-\u04ff][a-zA-Z]"
_LEET: Final = bytes.maketrans(b"013457@$|!", b"oieastasii")
_PRINTABLE: Final = bytes(range(32, 127)) + b"\t\n\r"
_BASE64_BLOB: Final = re.compile(r"[A-Za-z0-9+/]{24,4096}={0,2}", re.ASCII)
_UNMASK_LIMIT: Final = 65_536
"""Characters of a text de-obfuscated and matched again (the rules themselves read it
all): folding and removal run per character, so a megabyte of look-alikes stays cheap."""
_AROUND: Final = 512
"""Characters either side of an invisible character matched again once it is removed."""
_SUFFIX_WINDOW: Final = 400
_SUFFIX_MIN_TOKENS: Final = 10
_SUFFIX_SYMBOLS: Final = "()[]{}<>\\*!#$%^&|~+=\"'`"
_SUFFIX_SYMBOL_BYTES: Final = _SUFFIX_SYMBOLS.encode("ascii")
_SUFFIX_SYMBOL_SHARE: Final = 0.06
_SUFFIX_ODD_SHARE: Final = 0.4
_ODD_TOKEN: Final = re.compile(r"\w[^\w\s]+\w|[^\w\s]{3}|[a-z][A-Z][a-z]|\\[^\\\s]")
"""An oddity inside a token: words glued with symbols, odd casing, an escape."""
_SEVERITY_NAMES: Final = frozenset(semconv.SEVERITIES)
_MAX_WEIGHT: Final = 20.0

# Probes: patterns that say which slower steps a text needs. The ASCII ones are scanned
# with the rules; the others only a text with non-ASCII characters can match, so they
# have a pass of their own that an ASCII text skips (in the rules' database they would
# double the cost of every scan).
_PROBE_BASE64: Final = Pattern(r"[A-Za-z0-9+/]{24}", case_sensitive=True)
_PROBE_LEET: Final = Pattern(r"[a-z][013457]{1,2}[a-z]")
_PROBES: Final = (_PROBE_BASE64, _PROBE_LEET)
_PROBE_INVISIBLE: Final = Pattern(_INVISIBLE_CLASS, unicode=True)
_PROBE_CONFUSABLE: Final = Pattern(_CONFUSABLE_CLASS, unicode=True)
_PROBE_MIXED: Final = Pattern(_MIXED_SCRIPT, unicode=True)
_UNICODE_PROBES: Final = (_PROBE_INVISIBLE, _PROBE_CONFUSABLE, _PROBE_MIXED)
_BASE64, _LEETS, _INVISIBLES, _CONFUSABLES, _MIXED = range(len(_PROBES) + len(_UNICODE_PROBES))
_UNMASK: Final = frozenset({_INVISIBLES, _CONFUSABLES, _MIXED})
_PROBE_IN_WORD: Final = Pattern(
    f"[A-Za-z]{_INVISIBLE_CLASS}|{_INVISIBLE_CLASS}[A-Za-z]", unicode=True
)
"""An invisible character inside a word: the evidence (emoji sequences and a byte order
mark hold them too, harmlessly). Looked for with the engine only in a text with more
invisible characters than :data:`_INVISIBLE_LIMIT`, or longer than the head."""
_LETTERS: Final = frozenset(string.ascii_letters)
_INVISIBLE_LIMIT: Final = 4096
"""Invisible characters the engine locates; in a text with more, ``re`` finds them."""


def _folding_table() -> dict[int, int]:
    """Look-alike letters to the ASCII letters they imitate, one code point each:
    Cyrillic and Greek homoglyphs, fullwidth, circled and mathematical letters."""
    table = {
        ord(a): ord(b)
        for a, b in zip(
            "АВЕКМНОРСТХаеорсухіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοριυνκ",
            "ABEKMHOPCTXaeopcyxijsdqwABEZHIKMNOPTYXaopiuvk",
            strict=True,
        )
    }
    for code in [*range(0xFF21, 0xFF5B), *range(0x24B6, 0x24EA), *range(0x1D400, 0x1D800)]:
        folded = unicodedata.normalize("NFKC", chr(code))
        if len(folded) == 1 and folded.isascii() and folded.isalnum():
            table[code] = ord(folded)
    return table


_FOLD: Final = _folding_table()


@dataclass(frozen=True, slots=True)
class InjectionRule:
    """One phrase-family rule: its pattern (vocabulary spliced in) and its evidence."""

    id: str
    category: str
    severity: str
    weight: float
    pattern: str
    description: str = ""
    case_sensitive: bool = False
    unicode: bool = False
    """Matches code points (``[eé]`` in non-English phrases); ``\\w``, ``\\b`` stay ASCII."""
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    packaged: bool = True
    """Shipped with the package (compiled once, cached); False for a user file's rules."""


@dataclass(frozen=True, slots=True)
class Signal:
    """The weight and severity of a built-in de-obfuscation signal."""

    weight: float
    severity: str


@dataclass(frozen=True, slots=True)
class InjectionVerdict:
    """What the detector found in one text."""

    score: float
    injection: bool
    findings: tuple[Finding, ...] = ()
    evidence: tuple[str, ...] = field(default=())
    """Ids of every rule and signal that matched, flagged or not (for evaluation)."""


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{where}: expected a number, got {value!r}")
    if abs(value) > _MAX_WEIGHT:
        raise ValueError(f"{where}: {value!r} is out of range (-{_MAX_WEIGHT}..{_MAX_WEIGHT})")
    return float(value)


def _severity(value: object, where: str) -> str:
    if not isinstance(value, str) or value not in _SEVERITY_NAMES:
        raise ValueError(
            f"{where}: severity {value!r} is not one of {', '.join(semconv.SEVERITIES)}"
        )
    return str(value)


def _examples(entry: Mapping[str, Any], where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    examples = entry.get("examples") or {}
    if not isinstance(examples, Mapping):
        raise ValueError(f"{where}.examples: expected match/no_match lists")
    found: list[tuple[str, ...]] = []
    for key in ("match", "no_match"):
        items = examples.get(key) or []
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            raise ValueError(f"{where}.examples.{key}: expected a list of strings")
        found.append(tuple(items))
    return found[0], found[1]


def expand(pattern: str, vocabulary: Mapping[str, str], where: str) -> str:
    """``pattern`` with each ``{NAME}`` replaced by its vocabulary entry."""

    def splice(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in vocabulary:
            raise ValueError(f"{where}.pattern: unknown vocabulary entry {{{name}}}")
        return vocabulary[name]

    return _VOCABULARY_NAME.sub(splice, pattern)


def parse_injection_rules(
    entries: Sequence[Mapping[str, Any]],
    vocabulary: Mapping[str, str],
    source: str,
    *,
    packaged: bool = True,
) -> list[InjectionRule]:
    """Rules from the ``rules`` entries of a rules file whose category is an injection
    category; raises ``ValueError`` naming ``source``, the rule and the problem."""
    rules: list[InjectionRule] = []
    for entry in entries:
        rule_id = _text(entry.get("id"), f"{source}: a rule without an id")
        where = f"{source}: rule {rule_id}"
        category = entry.get("category")
        if not isinstance(category, str) or category not in INJECTION_CATEGORIES:
            raise ValueError(f"{where}: category {category!r} is not an injection category")
        pattern = expand(_text(entry.get("pattern"), f"{where}.pattern"), vocabulary, where)
        case_sensitive = entry.get("case_sensitive", False)
        unicode = entry.get("unicode", False)
        if not isinstance(case_sensitive, bool) or not isinstance(unicode, bool):
            raise ValueError(f"{where}: case_sensitive and unicode take true or false")
        matches, no_matches = _examples(entry, where)
        rules.append(
            InjectionRule(
                id=rule_id,
                category=str(category),
                severity=_severity(entry.get("severity"), where),
                weight=_number(entry.get("weight"), f"{where}.weight"),
                pattern=pattern,
                description=str(entry.get("description") or ""),
                case_sensitive=case_sensitive,
                unicode=unicode,
                examples_match=matches,
                examples_no_match=no_matches,
                packaged=packaged,
            )
        )
    return rules


def parse_signals(data: object, source: str) -> dict[str, Signal]:
    """The ``signals`` section: weight and severity per built-in signal."""
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ValueError(f"{source}: signals: expected a mapping of signal ids")
    signals: dict[str, Signal] = {}
    for name, entry in data.items():
        where = f"{source}: signal {name}"
        if name not in SIGNALS:
            raise ValueError(f"{where}: unknown signal; known: {', '.join(SIGNALS)}")
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where}: expected weight and severity")
        signals[name] = Signal(
            _number(entry.get("weight"), f"{where}.weight"), _severity(entry.get("severity"), where)
        )
    return signals


class _Unmasked:
    """A text with look-alike letters folded and invisible characters removed, and the
    way back to the original's offsets."""

    __slots__ = ("_shifts", "text")

    def __init__(self, text: str, *, invisibles: Sequence[int], fold: bool) -> None:
        """``invisibles``: where the invisible characters of ``text`` are, in order."""
        folded = text.translate(_FOLD) if fold else text  # one for one: offsets are kept
        self._shifts = [position - count for count, position in enumerate(invisibles)]
        if invisibles:
            kept, previous = [], 0
            for position in invisibles:
                kept.append(folded[previous:position])
                previous = position + 1
            kept.append(folded[previous:])
            folded = "".join(kept)
        self.text = folded

    def original(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that ``[start, end)`` of :attr:`text` came from."""
        shifts = self._shifts
        if not shifts:
            return start, end
        return start + bisect_right(shifts, start), end + bisect_left(shifts, end)


Matched = dict[str, tuple["InjectionRule | None", str, str, int, int]]
"""Rule or signal id → (rule, category, severity, start, end) of its first match."""


class InjectionDetector:
    """Scores a text for prompt injection and jailbreak evidence.

    The packaged rules are compiled into one database with the probes, the same
    whatever a user file adds or disables (so it is compiled once and cached), and a
    user file's rules into a small one of their own; a disabled rule's matches are
    ignored.
    """

    __slots__ = (
        "_disabled",
        "_in_word",
        "_invisible",
        "_own",
        "_own_rules",
        "_packaged",
        "_packaged_rules",
        "_unicode",
        "bias",
        "rules",
        "signals",
        "threshold",
    )

    def __init__(
        self,
        rules: Sequence[InjectionRule],
        *,
        bias: float,
        threshold: float,
        signals: Mapping[str, Signal],
        disabled: frozenset[str] = frozenset(),
        engine: str | None = None,
    ) -> None:
        self._disabled = disabled
        self.rules = tuple(rule for rule in rules if rule.id not in disabled)
        """The rules in force."""
        self.bias = bias
        self.threshold = threshold
        self.signals = {
            name: signals.get(name, Signal(0.0, semconv.SEVERITY_LOW)) for name in SIGNALS
        }
        self._packaged_rules = tuple(rule for rule in rules if rule.packaged)
        self._own_rules = tuple(rule for rule in rules if not rule.packaged)
        self._packaged = _pattern_set(self._packaged_rules, _PROBES, engine)
        self._own = _pattern_set(self._own_rules, (), engine)
        self._unicode = PatternSet(_UNICODE_PROBES, engine=engine)
        self._invisible = PatternSet([_PROBE_INVISIBLE], engine=engine, every=True)
        self._in_word = PatternSet([_PROBE_IN_WORD], engine=engine)

    @property
    def engine(self) -> str:
        """The engine the rules run on: ``hyperscan`` or ``re``."""
        return self._packaged.engine

    def scan(self, text: str, *, data: bytes | None = None) -> InjectionVerdict:
        """The injection score of ``text`` (``data``: its UTF-8, if known), its verdict,
        and (for an injection) findings."""
        matched: Matched = {}
        data = utf8(text) if data is None else data
        probes = self._match(text, matched, data=data)
        invisibles: list[int] = []
        if len(data) != len(text):  # not ASCII
            invisibles = self._probe_unicode(text, data, probes, matched)
        if probes & _UNMASK:
            self._match_unmasked(text, probes, matched, invisibles)
        if _LEETS in probes:
            self._match_leet(text, matched)
        if _BASE64 in probes:
            self._match_base64(text, matched)
        suffix = _adversarial_suffix(text)
        if suffix is not None:
            self._signal(matched, SIGNAL_SUFFIX, *suffix)
        log_odds = self.bias
        for name, (rule, *_rest) in matched.items():
            log_odds += rule.weight if rule is not None else self.signals[name].weight
        score = _sigmoid(log_odds)
        injection = score >= self.threshold
        findings: tuple[Finding, ...] = ()
        if injection:
            findings = tuple(
                Finding(category, name, severity, start, end)
                for name, (_rule, category, severity, start, end) in matched.items()
            )
        return InjectionVerdict(score, injection, findings, tuple(matched))

    def _signal(self, matched: Matched, name: str, start: int, end: int) -> None:
        signal = self.signals[name]
        matched.setdefault(
            name, (None, semconv.SECURITY_CATEGORY_OBFUSCATION, signal.severity, start, end)
        )

    def _match(
        self,
        text: str,
        matched: Matched,
        *,
        data: bytes | None = None,
        unmasked: _Unmasked | None = None,
        where: tuple[int, int] | None = None,
        offset: int = 0,
    ) -> set[int]:
        """Record the rules matching ``text`` (``data`` if it is encoded already; offsets
        mapped back through ``unmasked``, or all set to ``where``); return the probes that
        fired."""
        probes: set[int] = set()
        for rules, patterns in (
            (self._packaged_rules, self._packaged),
            (self._own_rules, self._own),
        ):
            if not len(patterns):
                continue
            count = len(rules)
            for index, found in patterns.first_matches(text, data).items():
                if index >= count:
                    probes.add(index - count)
                    continue
                rule = rules[index]
                if rule.id in matched or rule.id in self._disabled:
                    continue
                span = found
                if where is not None:
                    span = where
                elif unmasked is not None:
                    start, end = unmasked.original(*found)
                    span = (start + offset, end + offset)
                matched[rule.id] = (rule, rule.category, rule.severity, *span)
        return probes

    def _probe_unicode(
        self, text: str, data: bytes, probes: set[int], matched: Matched
    ) -> list[int]:
        """Add the non-ASCII probes that fire on ``text`` (encoded: ``data``) to
        ``probes``, each with its signal; return where the invisible characters of the
        head are (if any)."""
        found = self._unicode.first_matches(text, data)
        invisibles: list[int] = []
        for index, span in found.items():
            probe = index + len(_PROBES)
            where: tuple[int, int] | None = span
            if probe == _INVISIBLES:
                whole = len(text) <= _UNMASK_LIMIT
                invisibles = self._invisibles(text[:_UNMASK_LIMIT], data if whole else None)
                where = self._first_in_word(text, invisibles)
            if where is not None:
                probes.add(probe)
                self._signal(matched, _UNMASK_SIGNALS[probe], *where)
        return invisibles

    def _invisibles(self, head: str, data: bytes | None) -> list[int]:
        """Where the invisible characters of ``head`` (encoded: ``data``, if known) are."""
        ends = self._invisible.ends(head, _INVISIBLE_LIMIT, data)
        if ends is None:
            return [match.start() for match in _INVISIBLE.finditer(head)]
        return [end - 1 for end, _ in ends]  # each is one code point

    def _first_in_word(self, text: str, invisibles: list[int]) -> tuple[int, int] | None:
        """An invisible character inside a word: the first of ``invisibles`` (the head's)
        when they are few, else the engine's first match in ``text``."""
        if len(invisibles) <= _INVISIBLE_LIMIT:
            for position in invisibles:
                before, after = text[position - 1 : position], text[position + 1 : position + 2]
                if before in _LETTERS or after in _LETTERS:
                    return position, position + 1
            if len(text) <= _UNMASK_LIMIT:
                return None
        found = self._in_word.first_matches(text)
        return _mask(text, found[0]) if found else None

    def _match_unmasked(
        self, text: str, probes: set[int], matched: Matched, invisibles: list[int]
    ) -> None:
        """Match again once look-alike letters are folded and invisible characters gone.
        With invisible characters alone, only the stretches around them are matched
        again: a phrase they hide must run through one of them."""
        head = text[:_UNMASK_LIMIT]
        if probes & {_CONFUSABLES, _MIXED}:
            unmasked = _Unmasked(head, invisibles=invisibles, fold=True)
            self._match(unmasked.text, matched, unmasked=unmasked)
            return
        for start, end in _around(invisibles, len(head)):
            inside = invisibles[bisect_left(invisibles, start) : bisect_left(invisibles, end)]
            unmasked = _Unmasked(
                head[start:end], invisibles=[position - start for position in inside], fold=False
            )
            self._match(unmasked.text, matched, unmasked=unmasked, offset=start)

    def _match_leet(self, text: str, matched: Matched) -> None:
        """Match the leet-folded text too; new matches are leetspeak evidence."""
        data = text[:_UNMASK_LIMIT].encode("utf-8", "replace")
        if len(data) != min(len(text), _UNMASK_LIMIT):
            return  # folding is byte-wise: only an ASCII text keeps its offsets
        before = len(matched)
        self._match(data.translate(_LEET).decode("ascii"), matched)
        added = list(matched.values())[before:]
        if added:
            self._signal(matched, SIGNAL_LEETSPEAK, added[0][3], added[0][4])

    def _match_base64(self, text: str, matched: Matched) -> None:
        """Decode base64 blobs that read as text and match the rules against them."""
        for blob in _BASE64_BLOB.finditer(text):
            decoded = _decode_base64(blob.group())
            if decoded is None:
                continue
            before = len(matched)
            self._match(decoded, matched, where=blob.span())
            if len(matched) > before:
                self._signal(matched, SIGNAL_BASE64, *blob.span())
                return


_UNMASK_SIGNALS: Final = {
    _INVISIBLES: SIGNAL_INVISIBLE,
    _CONFUSABLES: SIGNAL_CONFUSABLE,
    _MIXED: SIGNAL_MIXED_SCRIPT,
}


def _around(invisibles: list[int], length: int) -> list[tuple[int, int]]:
    """The stretches of :data:`_AROUND` characters either side of each invisible
    character, merged."""
    stretches: list[tuple[int, int]] = []
    for position in invisibles:
        start, end = max(0, position - _AROUND), min(length, position + 1 + _AROUND)
        if stretches and start <= stretches[-1][1]:
            stretches[-1] = (stretches[-1][0], end)
        else:
            stretches.append((start, end))
    return stretches


def _mask(text: str, span: tuple[int, int]) -> tuple[int, int]:
    """The invisible character in a probe's span (a letter and the character next to
    it), else the span itself."""
    invisible = _INVISIBLE.search(text, *span)
    return invisible.span() if invisible is not None else span


def _pattern_set(
    rules: Sequence[InjectionRule], probes: Sequence[Pattern], engine: str | None
) -> PatternSet:
    """The rules' patterns (then ``probes``) compiled; a pattern that does not compile
    raises ``ValueError`` naming its rule."""
    patterns = [Pattern(rule.pattern, rule.case_sensitive, rule.unicode) for rule in rules]
    try:
        return PatternSet([*patterns, *probes], engine=engine)
    except PatternError as error:
        index = _pattern_index(str(error))
        name = rules[index].id if index is not None and index < len(rules) else "?"
        raise ValueError(f"rule {name}: {error}") from None


def _pattern_index(message: str) -> int | None:
    match = re.match(r"pattern (\d+)", message)
    return int(match.group(1)) if match else None


def _sigmoid(log_odds: float) -> float:
    if log_odds < -30.0:
        return 0.0
    if log_odds > 30.0:
        return 1.0
    return 1.0 / (1.0 + math.exp(-log_odds))


def _decode_base64(blob: str) -> str | None:
    """The text a base64 blob decodes to, if it is mostly printable ASCII."""
    padded = blob + "=" * (-len(blob) % 4)
    try:
        raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 12:
        return None
    unprintable = len(raw.translate(None, _PRINTABLE))
    if unprintable > 0.1 * len(raw):
        return None
    return raw.decode("ascii", "ignore")


def _adversarial_suffix(text: str) -> tuple[int, int] | None:
    """The span of a gibberish run at the end of ``text`` (optimised adversarial
    suffixes: tokens glued with punctuation, odd casing, escapes), or ``None``."""
    start = max(0, len(text) - _SUFFIX_WINDOW)
    tail = text[start:]
    raw = tail.encode("utf-8", "surrogatepass")  # the symbols are ASCII: one byte each
    symbols = len(raw) - len(raw.translate(None, _SUFFIX_SYMBOL_BYTES))
    if symbols < _SUFFIX_SYMBOL_SHARE * len(tail):
        return None  # prose and most code: too few brackets, stars and escapes
    tokens = len(tail.split())
    if tokens < _SUFFIX_MIN_TOKENS:
        return None
    odd = len(_ODD_TOKEN.findall(tail))
    if odd < _SUFFIX_ODD_SHARE * tokens:
        return None
    return start + (len(tail) - len(tail.lstrip())), len(text)
