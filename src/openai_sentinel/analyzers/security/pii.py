"""PII and secret detection: rules as data (``data/pii.yaml``), validators in code.

A rule's regex finds candidates; its validator, when it has one, has the last word. The
validators lean on well-kept libraries, each imported on first use (and cached by
Python's module cache), so ``import openai_sentinel`` stays fast and a text with nothing
that looks like a number never loads them:

- ``phonenumbers`` (the Python port of Google's libphonenumber) for telephone numbers:
  it knows every country's calling code, trunk prefix and number lengths, and parses
  ``+41 (0)38 549 02 90`` or ``001-518-640-0854`` the way a dialler would. We ask whether
  a number is *possible*, not *valid*: real traffic (and Faker data) holds numbers in
  ranges that are not assigned yet, and a redactor must not let them through. Structure
  rules of our own (grouping, the word that follows a short number) keep the
  precision that validity would have given.
- ``python-stdnum`` for the Luhn check of payment cards (``stdnum.luhn``) and the
  never-issued SSN areas, groups, serials and well-known numbers (``stdnum.us.ssn``).
- ``schwifty`` for IBANs: each country's length and BBAN structure from the SWIFT
  registry, and the ISO 7064 mod-97 check digits.
- the standard library's ``ipaddress`` for IPv4 and IPv6 (zones and embedded IPv4
  included), and ``hashlib`` for base58check bitcoin addresses (imported on first use
  too).

Speed: the detector runs on every model call, so a rule only runs where its ``trigger``
could be met, and finding those places costs about one ``memchr`` pass per kind:

- literal rules (secrets, e-mail): the literals are grouped by their rarest character;
  a group is looked at only when that character is in the text (``in``), with one
  regex that starts with it, and a rule's pattern is then matched at each occurrence;
- number rules: one regex (the "gate", built from the triggers) over a copy of the text
  with every digit written ``0``; it starts with a literal, so it skips prose at
  ``memchr``-like speed, and it rejects in C the years and counts prose is full of;
- the IPv6 rule: a similar gate on a copy with hex digits written ``h``, only when
  two colons are close.

Each pattern runs in a small window around what the gate found; a validator's verdict
on a candidate, and the candidates around a run, are remembered for the rest of the
scan, so a repetitive text costs one look per distinct candidate. Every pattern is
linear in the length of the text: bounded repetitions, no quantified group holding a
quantifier or an alternation, and candidates that start only at token boundaries.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, TypeAlias

import yaml

from ... import semconv
from ._engine import ENGINE, Pattern, PatternSet
from ._model import Finding

__all__ = [
    "VALIDATORS",
    "PiiDetector",
    "PiiRule",
    "PiiTrigger",
    "packaged_pii_rules",
    "parse_pii_rules",
]

_PACKAGE: Final = "openai_sentinel.analyzers.security"
_CATEGORIES: Final = frozenset({semconv.SECURITY_CATEGORY_PII, semconv.SECURITY_CATEGORY_SECRET})
_SEVERITIES: Final = frozenset(semconv.SEVERITIES)
_ENTITY: Final = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_TRIGGER_KEYS: Final = frozenset(
    {"literals", "digits", "compact", "run_has", "letters_before", "in_word", "colons"}
)
_RULE_KEYS: Final = frozenset(
    {
        "id",
        "category",
        "entity",
        "severity",
        "pattern",
        "validator",
        "description",
        "examples",
        "trigger",
    }
)

_DIGIT_BYTES: Final = bytes.maketrans(b"123456789", b"000000000")
_RUN_CHARS: Final = "[0 .()/x-]"
"""What a run of digits is made of (in the digits-as-``0`` copy of the text)."""
_RUN_SEPARATORS: Final = "[ .()/x-]"
_LONG_RUN: Final = 256
"""In a longer run, only the head is searched (except by rules that need ``run_has``)."""
_BEFORE_RUN: Final = 4
"""Characters before a run a number match may start at (``GB`` of an IBAN, ``+(``)."""
_AFTER_RUN: Final = 8
"""Characters after a run a number match's lookahead may look at."""
_AFTER_LETTERS: Final = 72
"""Characters after a run a match of a rule with ``letters_before`` may reach (the
letters and digits of an IBAN go on after its check digits)."""
_LITERAL_LIMIT: Final = 32
"""Occurrences of a rule's literals matched one by one; beyond, the rule scans the text."""
_KEY_BEFORE: Final = 16
_KEY_AFTER: Final = 48
_KEY_WORD: Final = 82
"""What decides the candidates around a run (its cache key): 16 characters before it,
48 after it (a validator looks at most 33 past a candidate; an IBAN ends within 40 of
its run's start), and 82 after its start (the word a bitcoin address fills)."""
_PERIOD_RUNS: Final = 16
"""Runs a period of an exactly repeating text may hold for the gate to copy it whole."""
_PERIOD_HISTORY: Final = 4096
"""Runs remembered while looking for a period."""
_PERIOD_MARGIN: Final = 256
"""Characters around a period's runs that must repeat too (more than any search or
validator looks past a run)."""
_FEW_COLONS: Final = 16
"""Colons looked at one by one before the colon gate runs anyway."""
_HEX_BYTES: Final = bytes.maketrans(
    b"0123456789ABCDEFabcdefGHIJKLMNOPQRSTUVWXYZghijklmnopqrstuvwxyz_",
    b"h" * 22 + b"w" * 41,
)
_COLON_GATE: Final = re.compile(
    rb":(?<!w:)(?<!wh:)(?<!whh:)(?<!whhh:)(?<!whhhh:)"
    rb"(?::|(?=h{1,4}:h{1,4}:h{1,4}:h{1,4}:h{1,4}))[h:.%]{0,64}"
)
"""Where an IPv6 address may be, in the copy of the text with hex digits as ``h`` and
other word characters as ``w``: a ``::``, or a colon followed by four more groups; not
inside a word (``std::cout``)."""
_DIGIT_GROUP: Final = re.compile(r"[0-9]+")


# -- rules ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PiiTrigger:
    """When a rule runs at all (see the header of ``data/pii.yaml``)."""

    literals: tuple[str, ...] = ()
    """A match starts with one of these strings."""
    digits: int = 0
    """A match lies in a run of digits and separators holding at least this many digits."""
    compact: int = 0
    """A run with no separator needs at least this many digits (``digits`` when 0)."""
    run_has: str = ""
    """The run must hold this character between its digits."""
    letters_before: int = 0
    """The run must follow this many capital letters."""
    in_word: int = 0
    """The run must start a word (letters and digits) at least this long, or follow its
    first two letters; the match is looked for in that word."""
    colons: bool = False
    """A match holds two colons at most 5 characters apart."""


@dataclass(frozen=True, slots=True)
class PiiRule:
    """One PII or secret rule: a candidate regex and the validator that confirms it."""

    id: str
    category: str
    entity: str
    severity: str
    pattern: re.Pattern[str]
    validator: str | None = None
    description: str = ""
    examples_match: tuple[str, ...] = ()
    examples_no_match: tuple[str, ...] = ()
    trigger: PiiTrigger = field(default_factory=PiiTrigger)

    @property
    def examples(self) -> dict[str, tuple[str, ...]]:
        """``{"match": …, "no_match": …}`` as written in the rules file."""
        return {"match": self.examples_match, "no_match": self.examples_no_match}


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: expected a non-empty string, got {value!r}")
    return value


def _strings(value: object, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _count(value: object, where: str, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= upper:
        raise ValueError(f"{where}: expected a whole number from 0 to {upper}, got {value!r}")
    return value


def _trigger(value: object, where: str) -> PiiTrigger:
    if value is None:
        return PiiTrigger()
    if not isinstance(value, Mapping):
        raise ValueError(f"{where}: expected a mapping")
    unknown = sorted(set(value) - _TRIGGER_KEYS)
    if unknown:
        raise ValueError(
            f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
            f"known: {', '.join(sorted(_TRIGGER_KEYS))}"
        )
    if not isinstance(value.get("colons", False), bool):
        raise ValueError(f"{where}.colons: expected true or false")
    run_has = value.get("run_has", "")
    if not isinstance(run_has, str) or len(run_has) > 1:
        raise ValueError(f"{where}.run_has: expected one character")
    trigger = PiiTrigger(
        literals=_strings(value.get("literals"), f"{where}.literals"),
        digits=_count(value.get("digits", 0), f"{where}.digits", 64),
        compact=_count(value.get("compact", 0), f"{where}.compact", 64),
        run_has=run_has,
        letters_before=_count(value.get("letters_before", 0), f"{where}.letters_before", 4),
        in_word=_count(value.get("in_word", 0), f"{where}.in_word", 64),
        colons=bool(value.get("colons", False)),
    )
    kinds = [bool(trigger.literals), trigger.digits > 0, trigger.colons]
    if sum(kinds) > 1:
        raise ValueError(f"{where}: give one of literals, digits or colons")
    number_only = trigger.compact or trigger.run_has or trigger.letters_before or trigger.in_word
    if number_only and not trigger.digits:
        raise ValueError(f"{where}: compact, run_has, letters_before and in_word need digits")
    return trigger


def _examples(value: object, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return (), ()
    if not isinstance(value, Mapping) or set(value) - {"match", "no_match"}:
        raise ValueError(f"{where}: expected a mapping with match and no_match lists")
    return (
        _strings(value.get("match"), f"{where}.match"),
        _strings(value.get("no_match"), f"{where}.no_match"),
    )


def parse_pii_rules(entries: Sequence[Mapping[str, Any]], source: str) -> list[PiiRule]:
    """Rules from the ``rules`` entries of a PII rules file (category ``pii`` or
    ``secret``); raises ``ValueError`` naming ``source``, the rule and the problem."""
    rules: list[PiiRule] = []
    seen: set[str] = set()
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping):
            raise ValueError(f"{source}: rule #{number}: expected a mapping")
        rule_id = _text(entry.get("id"), f"{source}: rule #{number}: id")
        where = f"{source}: rule {rule_id}"
        if rule_id in seen:
            raise ValueError(f"{where}: the id is used twice")
        seen.add(rule_id)
        unknown = sorted(set(entry) - _RULE_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(map(str, unknown))}")
        category = entry.get("category")
        if not isinstance(category, str) or category not in _CATEGORIES:
            raise ValueError(f"{where}: category {category!r} is not one of pii, secret")
        entity = _text(entry.get("entity"), f"{where}: entity")
        if not _ENTITY.fullmatch(entity):
            raise ValueError(f"{where}: entity {entity!r} is not an UPPER_SNAKE_CASE name")
        severity = entry.get("severity")
        if not isinstance(severity, str) or severity not in _SEVERITIES:
            raise ValueError(
                f"{where}: severity {severity!r} is not one of {', '.join(semconv.SEVERITIES)}"
            )
        source_pattern = _text(entry.get("pattern"), f"{where}: pattern")
        try:
            pattern = re.compile(source_pattern)
        except re.error as error:
            raise ValueError(f"{where}: pattern does not compile: {error}") from None
        validator = entry.get("validator")
        if validator is not None and (
            not isinstance(validator, str) or validator not in VALIDATORS
        ):
            raise ValueError(
                f"{where}: unknown validator {validator!r}; known: {', '.join(sorted(VALIDATORS))}"
            )
        description = entry.get("description") or ""
        if not isinstance(description, str):
            raise ValueError(f"{where}: description: expected a string")
        matches, no_matches = _examples(entry.get("examples"), f"{where}: examples")
        rules.append(
            PiiRule(
                id=rule_id,
                category=str(category),
                entity=entity,
                severity=str(severity),
                pattern=pattern,
                validator=validator,
                description=description.strip(),
                examples_match=matches,
                examples_no_match=no_matches,
                trigger=_trigger(entry.get("trigger"), f"{where}: trigger"),
            )
        )
    return rules


def packaged_pii_rules() -> list[PiiRule]:
    """The rules of ``data/pii.yaml``."""
    from importlib import resources

    text = (resources.files(_PACKAGE) / "data" / "pii.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return parse_pii_rules(data["rules"], "pii.yaml")


# -- validators ---------------------------------------------------------------------------
# Each takes the text and a candidate's span and returns the span to report (possibly
# trimmed or widened) or None. They only look at a few characters around the span.

Validator: TypeAlias = Callable[[str, int, int], tuple[int, int] | None]


def _word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _char_at(text: str, index: int) -> str:
    return text[index] if 0 <= index < len(text) else ""


def _luhn(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A payment card: the longest prefix of the candidate, ending at a digit group, that
    is a compact or evenly grouped number (first group of 4, one kind of single separator)
    of 12-19 digits passing the Luhn check."""
    candidate = text[start:end]
    groups = [(group.start(), group.end()) for group in _DIGIT_GROUP.finditer(candidate)]
    for count in range(len(groups), 0, -1):
        used = groups[:count]
        sizes = [b - a for a, b in used]
        if not 12 <= sum(sizes) <= 19:
            continue
        if count > 1:
            separators = {candidate[used[i][1] : used[i + 1][0]] for i in range(count - 1)}
            if len(separators) != 1 or len(next(iter(separators))) != 1:
                continue
            if sizes[0] != 4 or not all(3 <= size <= 6 for size in sizes[1:]):
                continue
        digits = "".join(candidate[a:b] for a, b in used)
        if len(digits) == 13 and digits[0] == "1":
            continue  # a millisecond Unix timestamp, not a card
        if _luhn_valid(digits):
            return start, start + used[-1][1]
    return None


_LUHN_DOUBLED: Final = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)


@lru_cache(maxsize=4096)
def _luhn_valid(digits: str) -> bool:
    """``stdnum.luhn`` says; a quick sum first spares it the nine in ten random numbers
    that fail (the library is the authority on every number that passes)."""
    quick = sum(map(int, digits[-1::-2])) + sum(
        map(_LUHN_DOUBLED.__getitem__, map(int, digits[-2::-2]))
    )
    if quick % 10:
        return False
    from stdnum import luhn

    return luhn.is_valid(digits)


_FAMOUS_SSNS: Final = ("123456789", "987654320", "987654321", "987654322")


def _us_ssn(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A US SSN: one kind of separator (a lone one a dash), not all one digit, issued
    ranges only (``stdnum.us.ssn``), not a well-known sample number."""
    candidate = text[start:end]
    digits = "".join(char for char in candidate if char.isdigit())
    separators = [char for char in candidate if not char.isdigit()]
    if len(set(separators)) > 1 or separators in (["."], [" "]):
        return None
    if len(set(digits)) == 1 or digits in _FAMOUS_SSNS:
        return None
    return (start, end) if _ssn_valid(digits) else None


@lru_cache(maxsize=4096)
def _ssn_valid(digits: str) -> bool:
    from stdnum.us import ssn

    return ssn.is_valid(digits)


_IBAN_GROUP: Final = re.compile(r"[A-Z0-9]+")
_DOUBLE_SEPARATOR: Final = re.compile(r"[ -]{2}")


def _iban(text: str, start: int, end: int) -> tuple[int, int] | None:
    """An IBAN: the prefix of the candidate as long as its country's IBANs, ending at a
    group boundary and not glued to a following word, valid for ``schwifty``."""
    candidate = text[start:end]
    double = _DOUBLE_SEPARATOR.search(candidate)
    if double:
        candidate = candidate[: double.start()]
    length = _iban_length(candidate[:2])
    if length is None:
        return None
    seen = 0
    for group in _IBAN_GROUP.finditer(candidate):
        seen += group.end() - group.start()
        if seen < length:
            continue
        if seen > length:
            return None
        stop = start + group.end()
        if _word_char(_char_at(text, stop)):
            return None
        compact = "".join(char for char in candidate[: group.end()] if char.isalnum())
        return (start, stop) if _iban_valid(compact) else None
    return None


@lru_cache(maxsize=256)
def _iban_length(country: str) -> int | None:
    from schwifty import registry
    from schwifty.exceptions import SchwiftyException

    try:
        return registry.get_iban_spec(country).iban_length
    except (SchwiftyException, KeyError):
        return None


@lru_cache(maxsize=4096)
def _iban_valid(compact: str) -> bool:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(compact)
    except SchwiftyException:
        return False
    return True


_LOCAL_PART: Final = re.compile(r"[A-Za-z0-9._%+-]{1,65}")


def _email(text: str, start: int, end: int) -> tuple[int, int] | None:
    """An e-mail address: the candidate (``@domain``) widened over its local part (a dot
    before it is punctuation, not part of it)."""
    before = text[max(0, start - 65) : start][::-1]
    local = _LOCAL_PART.match(before)
    if local is None or local.end() > 64:
        return None
    name = before[: local.end()][::-1].lstrip(".")
    if not name or name.endswith(".") or ".." in name:
        return None
    labels = text[start + 1 : end].split(".")
    if any(not label or label[0] == "-" or label[-1] == "-" for label in labels):
        return None
    return start - len(name), end


def _ip(text: str, start: int, end: int) -> tuple[int, int] | None:
    """An IPv4 or IPv6 address that ``ipaddress`` accepts, not glued to a word (a colon
    after an IPv6 address is punctuation, after an IPv4 one a port)."""
    candidate = text[start:end]
    if candidate.endswith(":") and not candidate.endswith("::"):
        candidate = candidate[:-1]
        end -= 1
    after = _char_at(text, end)
    if _word_char(after):
        return None
    if after == "." and ":" in candidate and _char_at(text, end + 1).isdigit():
        return None  # an IPv6 address cut short of its IPv4 tail
    import ipaddress

    try:
        ipaddress.ip_address(candidate)
    except ValueError:
        return None
    return start, end


def _jwt(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A JSON Web Token: its header decodes to a JSON object naming an algorithm."""
    import base64
    import binascii
    import json

    header = text[start:end].split(".", 1)[0]
    try:
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError):
        return None
    return (start, end) if isinstance(decoded, dict) and "alg" in decoded else None


def _token(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A random-looking token (a digit in it, or both upper and lower case letters),
    without the full stop that may end the sentence around it."""
    while end > start and text[end - 1] == ".":
        end -= 1
    value = text[start:end]
    for keyword in ("Bearer", "bearer", "BEARER"):
        if value.startswith(keyword):
            value = value[len(keyword) :].lstrip()
            break
    if any(char.isdigit() for char in value):
        return start, end
    has_upper = any(char.isupper() for char in value)
    has_lower = any(char.islower() for char in value)
    return (start, end) if has_upper and has_lower else None


_BASE58: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BECH32: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_CONSTANT: Final = 1
_BECH32M_CONSTANT: Final = 0x2BC830A3


def _bitcoin(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A bitcoin address whose checksum is right: base58check with a P2PKH or P2SH
    version byte, or bech32 (witness v0) / bech32m (v1+) on the ``bc`` prefix."""
    address = text[start:end]
    valid = _bech32_valid(address) if address.startswith("bc1") else _base58check_valid(address)
    return (start, end) if valid else None


def _base58check_valid(address: str) -> bool:
    import hashlib

    number = 0
    for char in address:
        number = number * 58 + _BASE58.index(char)
    leading = len(address) - len(address.lstrip("1"))
    raw = b"\x00" * leading + number.to_bytes((number.bit_length() + 7) // 8, "big")
    if len(raw) != 25 or raw[0] not in (0, 5):
        return False
    return hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:]


def _bech32_valid(address: str) -> bool:
    data = [_BECH32.index(char) for char in address[3:]]
    if len(data) < 7:
        return False
    values = [3, 3, 0, 2, 3, *data]  # hrp "bc" expanded, then the data part
    check = 1
    for value in values:
        top = check >> 25
        check = (check & 0x1FFFFFF) << 5 ^ value
        for bit, generator in enumerate(
            (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
        ):
            if (top >> bit) & 1:
                check ^= generator
    witness = data[0]
    return check == (_BECH32_CONSTANT if witness == 0 else _BECH32M_CONSTANT) and witness <= 16


# -- phone numbers ------------------------------------------------------------------------

_PHONE_REGIONS: Final = ("DE", "US", "GB", "FR", "IL", "IN", "CA", "BR", "JP", "CN")
"""Regions a number without a country code is tried in (it is possible in one of them):
Presidio's defaults, plus Japan and China as in Presidio's own tests; the most lenient
first, as parsing is not cheap."""
_PHONE_EXTENSION: Final = re.compile(r"[ ]?(?:x|ext\.?|#)[ ]?[0-9]{1,6}$")
_DATE: Final = re.compile(
    r"(?:19|20)[0-9]{2}[-./][01]?[0-9][-./][0-3]?[0-9]"
    r"|[0-3]?[0-9][-./][01]?[0-9][-./](?:19|20)[0-9]{2}"
)
_SEPARATED_DIGIT: Final = re.compile(r"[ .()-]{1,2}[0-9]")
"""More of a number: after a candidate, or (on the reversed text) before it."""
_WORD_AFTER: Final = re.compile(r"[ \t]{1,2}([A-Za-z][A-Za-z']{0,30})")
_PHONE_WORDS: Final = frozenset(
    [
        "office",
        "fax",
        "mobile",
        "cell",
        "cellphone",
        "home",
        "work",
        "phone",
        "tel",
        "telephone",
        "landline",
        "direct",
        "desk",
        "main",
        "voicemail",
        "whatsapp",
        "sms",
        "text",
        "ext",
        "extension",
        "or",
        "and",
        "to",
        "for",
        "if",
        "is",
        "was",
        "at",
        "after",
        "before",
        "please",
        "thanks",
        "thank",
        "today",
        "tomorrow",
        "tonight",
        "anytime",
        "until",
        "between",
        "only",
    ]
)
"""Words that may follow a short local number (any other word makes it a street number,
a quantity or an id rather than a telephone number)."""


def _phone(text: str, start: int, end: int) -> tuple[int, int] | None:
    """A telephone number: the longest prefix of the candidate, ending at a digit group,
    that :func:`_phone_shape` accepts (with the extension when the whole is taken). A
    candidate with an opening parenthesis after its start (``room 12 (212) 555-0100``)
    is left for the candidate that starts at the parenthesis."""
    candidate = text[start:end]
    if "(" in candidate[1:] and candidate[0] != "+":
        return None
    extension = _PHONE_EXTENSION.search(candidate)
    body = candidate[: extension.start()] if extension else candidate
    groups = [(group.start(), group.end()) for group in _DIGIT_GROUP.finditer(body)]
    for count in range(len(groups), 0, -1):
        stop = groups[count - 1][1]
        sizes = [b - a for a, b in groups[:count]]
        separators = {body[a:b] for (_, a), (b, _) in itertools.pairwise(groups[:count])}
        if _phone_shape(body[:stop], sizes, separators, text, (start, start + stop)):
            return start, (end if extension and count == len(groups) else start + stop)
    return None


def _phone_shape(
    body: str, sizes: list[int], separators: set[str], text: str, span: tuple[int, int]
) -> bool:
    """Whether ``body`` (digit groups of ``sizes`` apart by ``separators``, at ``span``
    in ``text``) is a telephone number."""
    digits_count = sum(sizes)
    if not 7 <= digits_count <= 15:
        return False
    digits = "".join(_DIGIT_GROUP.findall(body))
    if body.startswith("+"):
        return _possible_international(body)
    if sizes == [3, 2, 4]:
        return False  # the shape of a US social security number, valid or not

    if _DATE.search(body):
        return False
    if digits.startswith(("00", "011")):  # an international call prefix
        rest = digits[3:] if digits.startswith("011") else digits[2:]
        return len(rest) >= 8 and min(sizes) >= 2 and _possible_international("+" + rest)
    if digits[0] == "0":  # national number with a trunk prefix
        return 9 <= digits_count <= 12 and min(sizes) >= 2 and _possible_national(digits)
    if _north_american(digits, sizes):
        return True
    if len(separators) > 1:
        return False
    if 11 <= digits_count <= 13:  # a country or area code first: 91-415-555-0132
        return (
            len(sizes) >= 3
            and 2 <= sizes[0] <= 3
            and min(sizes) >= 2
            and sizes[-1] >= 4
            and _possible_national(digits)
        )
    return digits_count <= 9 and _short_local(digits, sizes, text, span)


_NANP_SHAPES: Final = ([10], [3, 3, 4], [3, 7], [11], [1, 3, 3, 4], [1, 10], [1, 3, 7])


def _north_american(digits: str, sizes: list[int]) -> bool:
    national = digits[1:] if len(digits) == 11 and digits[0] == "1" else digits
    if len(national) != 10 or sizes not in _NANP_SHAPES or national[0] in "01":
        return False
    return _possible(national, "US")


def _short_local(digits: str, sizes: list[int], text: str, span: tuple[int, int]) -> bool:
    """A 7-9 digit number without prefix: phone grouping (7 digits as 3+4), not part of
    a longer number, and not followed by a word other than a phone label or a small word
    (a street number or a quantity is)."""
    if len(sizes) < 2 or min(sizes) < 2 or sizes[0] > 4:
        return False
    if len(digits) == 7 and sizes != [3, 4]:
        return False
    if sizes == [4, 4] and all(1900 <= int(digits[i : i + 4]) <= 2099 for i in (0, 4)):
        return False  # two years
    start, stop = span
    if _SEPARATED_DIGIT.match(text, stop) or _SEPARATED_DIGIT.match(
        text[max(0, start - 3) : start][::-1]
    ):
        return False  # a piece of a longer number
    word = _WORD_AFTER.match(text, stop)
    if word and word.group(1).lower() not in _PHONE_WORDS:
        return False
    return _possible_national(digits)


@lru_cache(maxsize=16384)
def _possible_international(number: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return False


@lru_cache(maxsize=16384)
def _possible(number: str, region: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_possible_number(phonenumbers.parse(number, region))
    except phonenumbers.NumberParseException:
        return False


@lru_cache(maxsize=16384)
def _possible_national(digits: str) -> bool:
    return any(_possible(digits, region) for region in _PHONE_REGIONS)


VALIDATORS: Final[Mapping[str, Validator]] = {
    "bitcoin": _bitcoin,
    "email": _email,
    "iban": _iban,
    "ip": _ip,
    "jwt": _jwt,
    "luhn": _luhn,
    "phone": _phone,
    "token": _token,
    "us_ssn": _us_ssn,
}
"""The validators a rule may name."""


# -- the detector ---------------------------------------------------------------------------

_Candidate: TypeAlias = tuple[int, int, int]
"""``(start, end, rule index)``."""
_NumberPlan: TypeAlias = tuple[int, int, int, str, int, int]
"""A number rule's index and trigger: digits, compact, run_has, letters_before, in_word."""
_Run: TypeAlias = tuple[int, int, list[_Candidate]]
"""Where a run of digits starts and ends, and its candidates relative to its start."""
_Memo: TypeAlias = dict[tuple[int, int, int, str], "tuple[int, int] | None"]
"""Validator verdicts of one scan, by rule and candidate in its surroundings."""
_CONTEXT: Final = 72
"""Characters on each side of a candidate its validator may look at."""

_RARITY: Final = (
    "@_#$%^&*=+~|\\<>[]{}`ZQXJKVUYGFNzqxjEDLROHCBMWP0123456789-kvASIT"
    "/:;()'\"!?bpygfwmucldrhsnioate.,\n "
)
"""Characters from the rarest in English prose to the most common: a literal is first
looked for by its rarest character (one ``memchr``), then as a whole."""
_WORD: Final = re.compile(r"[A-Za-z0-9]{1,80}")
_RUN_TAIL: Final = " .()/x-"


def _anchor(literal: str) -> str:
    """The character of ``literal`` least likely to be in ordinary text."""
    return min(literal, key=_RARITY.find)


_LiteralGroup: TypeAlias = tuple[str, re.Pattern[str], tuple[tuple[str, int, tuple[int, ...]], ...]]
"""An anchor character, the regex that finds (at that character) every literal holding
it, and those literals with the anchor's offset in them and the rules they trigger."""


def _literal_group(
    anchor: str, literals: list[str], owners: Mapping[str, list[int]]
) -> _LiteralGroup:
    """One regex per anchor character: it starts with that literal character, so it skips
    the text at ``memchr``-like speed, and checks the rest of each literal around it."""
    alternatives = []
    plans = []
    for literal in literals:
        offset = literal.index(anchor)
        before, after = literal[: offset + 1], literal[offset + 1 :]
        check = (f"(?<={re.escape(before)})" if offset else "") + (
            f"(?={re.escape(after)})" if after else ""
        )
        alternatives.append(check)
        plans.append((literal, offset, tuple(owners[literal])))
    body = "|".join(dict.fromkeys(alternatives))
    return anchor, re.compile(f"{re.escape(anchor)}(?:{body})"), tuple(plans)


class PiiDetector:
    """Finds what its rules describe in a text; safe to share between threads."""

    __slots__ = (
        "_always",
        "_colon_rules",
        "_gate",
        "_groups",
        "_literal_owners",
        "_literal_set",
        "_literals",
        "_numbers",
        "_validators",
        "rules",
    )

    def __init__(self, rules: Sequence[PiiRule], *, engine: str | None = None) -> None:
        self.rules: tuple[PiiRule, ...] = tuple(rules)
        self._validators: tuple[Validator | None, ...] = tuple(
            VALIDATORS[rule.validator] if rule.validator else None for rule in self.rules
        )
        self._groups: tuple[int, ...] = tuple(
            rule.pattern.groupindex.get("value", 0) for rule in self.rules
        )
        owners: dict[str, list[int]] = {}
        for index, rule in enumerate(self.rules):
            for literal in rule.trigger.literals:
                owners.setdefault(literal, []).append(index)
        by_anchor: dict[str, list[str]] = {}
        for literal in owners:
            by_anchor.setdefault(_anchor(literal), []).append(literal)
        self._literals: tuple[_LiteralGroup, ...] = tuple(
            _literal_group(anchor, group, owners) for anchor, group in by_anchor.items()
        )
        self._literal_owners: tuple[tuple[int, tuple[int, ...]], ...] = tuple(
            (len(literal), tuple(indexes)) for literal, indexes in owners.items()
        )
        self._literal_set: PatternSet | None = None
        if owners and (engine or ENGINE) == "hyperscan":  # every literal in one pass
            self._literal_set = PatternSet(
                [Pattern(re.escape(literal), case_sensitive=True) for literal in owners],
                engine="hyperscan",
                every=True,
            )
        self._numbers: tuple[_NumberPlan, ...] = tuple(
            (
                index,
                rule.trigger.digits,
                max(rule.trigger.compact, rule.trigger.digits),
                rule.trigger.run_has,
                rule.trigger.letters_before,
                rule.trigger.in_word,
            )
            for index, rule in enumerate(self.rules)
            if rule.trigger.digits
        )
        self._gate = _number_gate(self._numbers)
        self._colon_rules: tuple[int, ...] = tuple(
            index for index, rule in enumerate(self.rules) if rule.trigger.colons
        )
        self._always: tuple[int, ...] = tuple(
            index
            for index, rule in enumerate(self.rules)
            if not (rule.trigger.literals or rule.trigger.digits or rule.trigger.colons)
        )

    # - public ---------------------------------------------------------------------------

    def find(self, text: str, *, data: bytes | None = None) -> list[Finding]:
        """Every PII or secret finding in ``text`` (``data``: its UTF-8, if known), sorted
        by start; of overlapping candidates the longer wins (then the rule listed
        first)."""
        candidates: list[_Candidate] = []
        memo: _Memo = {}
        if self._literals:
            self._find_literals(text, data, candidates, memo)
        if self._numbers:
            self._find_numbers(text, candidates, memo)
        if self._colon_rules and _close_colons(text):
            self._find_colons(text, candidates, memo)
        for index in self._always:
            self._search(index, text, 0, len(text), out=candidates, memo=memo)
        return self._resolve(candidates) if candidates else []

    def redact(self, text: str) -> str:
        """``text`` with each finding replaced by ``[REDACTED:<ENTITY>]``."""
        findings = self.find(text)
        if not findings:
            return text
        parts: list[str] = []
        position = 0
        for finding in findings:
            parts.append(text[position : finding.start])
            parts.append(f"[REDACTED:{finding.entity}]")
            position = finding.end
        parts.append(text[position:])
        return "".join(parts)

    # - scanning ---------------------------------------------------------------------------

    def _accept(
        self, index: int, text: str, match: re.Match[str], memo: _Memo
    ) -> tuple[int, int] | None:
        """The span rule ``index`` reports for ``match``, once its validator agrees (the
        verdict on a candidate seen in the same surroundings before is reused)."""
        start, end = match.span(self._groups[index])
        if start >= end:
            return None
        validate = self._validators[index]
        if validate is None:
            return start, end
        origin = max(0, start - _CONTEXT)
        key = (index, start - origin, end - origin, text[origin : end + _CONTEXT])
        if key in memo:
            known = memo[key]
            return (known[0] + origin, known[1] + origin) if known else None
        span = validate(text, start, end)
        if span and span[0] >= span[1]:
            span = None
        memo[key] = (span[0] - origin, span[1] - origin) if span else None
        return span

    def _search(
        self,
        index: int,
        text: str,
        lo: int,
        hi: int,
        *,
        out: list[_Candidate],
        memo: _Memo,
        before: int | None = None,
    ) -> None:
        """Rule ``index``'s validated matches starting in ``[lo, before)`` (``before``
        defaults to ``hi``) and seeing no further than ``hi``; after a rejected candidate
        the search goes on from the next character, after an accepted one from its end."""
        pattern = self.rules[index].pattern
        position = max(lo, 0)
        limit = hi if before is None else min(before, hi)
        while position < limit:
            match = pattern.search(text, position, hi)
            if match is None or match.start() >= limit:
                return
            span = self._accept(index, text, match, memo)
            if span:
                out.append((span[0], span[1], index))
                position = max(span[1], match.start() + 1)
            else:
                position = match.start() + 1

    def _find_literals(
        self, text: str, data: bytes | None, out: list[_Candidate], memo: _Memo
    ) -> None:
        """Literal rules at each occurrence of their literals (or over the whole text,
        for a rule whose literals occur too often to take one by one)."""
        starts = self._literal_starts(text, data)
        for index, positions in starts.items():
            if len(positions) > _LITERAL_LIMIT:
                self._search(index, text, 0, len(text), out=out, memo=memo)
                continue
            pattern = self.rules[index].pattern
            for position in sorted(set(positions)):
                match = pattern.match(text, position)
                span = self._accept(index, text, match, memo) if match else None
                if span:
                    out.append((span[0], span[1], index))

    def _literal_starts(self, text: str, data: bytes | None) -> dict[int, list[int]]:
        """Rule index → where its literals start in ``text`` (more than
        :data:`_LITERAL_LIMIT` places: too many to take one by one). All literals in one
        Hyperscan pass when they are few, else one regex per anchor character."""
        starts: dict[int, list[int]] = {}
        if self._literal_set is not None:
            found = self._literal_set.ends(text, _LITERAL_LIMIT, data)
            if found is not None:
                for end, which in found:
                    size, indexes = self._literal_owners[which]
                    for index in indexes:
                        starts.setdefault(index, []).append(end - size)
                return starts
        for anchor, finder, plans in self._literals:
            if anchor not in text:
                continue
            for count, hit in enumerate(finder.finditer(text)):
                if count > _LITERAL_LIMIT:  # too many: the rules of those present scan the text
                    for literal, _, indexes in plans:
                        if literal in text:
                            for index in indexes:
                                starts[index] = [-1] * (_LITERAL_LIMIT + 1)
                    break
                position = hit.start()
                for literal, offset, indexes in plans:
                    if text.startswith(literal, position - offset):
                        for index in indexes:
                            starts.setdefault(index, []).append(position - offset)
        return starts

    def _find_numbers(self, text: str, out: list[_Candidate], memo: _Memo) -> None:
        """Number rules around each run of digits that passes the gate: one regex over a
        copy of the text with every digit written ``0`` (so that it scans at ``memchr``
        speed and rejects, without Python, the short numbers prose is full of). A run's
        candidates are reused for an identical run in an identical neighbourhood, so a
        repetitive text costs one look per distinct run; and where the text repeats
        itself exactly, the runs of each further period are copied in one step."""
        if self._gate is None or not _has_digit(text):
            return
        data = text.encode("ascii", "replace").translate(_DIGIT_BYTES)
        seen: dict[str, list[_Candidate]] = {}
        block: list[_Run] = []  # the runs since the last periodic step
        first: dict[str, int] = {}  # a key's last place in ``block``
        wait = 0  # the size of ``block`` before which no period is looked for
        position = 0
        while (run := self._gate.search(data, position)) is not None:
            start, end = run.span()
            position = end
            if start < _KEY_BEFORE:  # too close to the start for the cache key
                body = run.group()
                last = start + len(body.rstrip(b" .()/x-")) - 1
                self._scan_run(text, (start, end, last), body.count(b"0"), out=out, memo=memo)
                continue
            key = text[start - _KEY_BEFORE : max(end + _KEY_AFTER, start + _KEY_WORD)]
            known = seen.get(key)
            if known is None:
                found: list[_Candidate] = []
                body = run.group()
                last = start + len(body.rstrip(b" .()/x-")) - 1
                self._scan_run(text, (start, end, last), body.count(b"0"), out=found, memo=memo)
                seen[key] = known = [(a - start, b - start, i) for a, b, i in found]
            for a, b, index in known:
                out.append((a + start, b + start, index))
            earlier = first.get(key)
            if earlier is not None and len(block) - earlier <= _PERIOD_RUNS and len(block) >= wait:
                skipped = _repeat_period(text, block[earlier:], start, out)
                if skipped:
                    position, wait = skipped, 0
                    block.clear()
                    first.clear()
                    continue
                wait = len(block) + _PERIOD_RUNS  # not exact: look again a few runs on
            if len(block) == _PERIOD_HISTORY:
                block.clear()
                first.clear()
                wait = 0
            first[key] = len(block)
            block.append((start, end, known))

    def _scan_run(
        self,
        text: str,
        run: tuple[int, int, int],
        digits: int,
        *,
        out: list[_Candidate],
        memo: _Memo,
    ) -> None:
        """Search around the run ``(start, end, last digit)`` holding ``digits`` digits
        with every number rule whose trigger it meets."""
        start, end, last = run
        capitals: bool | None = None
        word: tuple[int, int] | None = None
        compact: bool | None = None
        for index, need, alone, run_has, letters, in_word in self._numbers:
            if digits < need:
                continue
            if digits < alone:
                if compact is None:
                    compact = last - start + 1 == digits
                if compact:
                    continue
            lo, hi = start - _BEFORE_RUN, end + (_AFTER_LETTERS if letters else _AFTER_RUN)
            stop = last + 1  # a match starts at a digit of the run, or before it
            if run_has:
                if text.find(run_has, start, last) < 0:
                    continue
            elif end - start > _LONG_RUN:
                hi = start + _LONG_RUN + _AFTER_RUN
                stop = start + _LONG_RUN
            if letters:
                if capitals is None:
                    prefix = text[max(0, start - letters) : start]
                    capitals = (
                        len(prefix) == letters
                        and prefix.isascii()
                        and prefix.isalpha()
                        and prefix.isupper()
                    )
                if not capitals:
                    continue
            if in_word:
                if word is None:
                    word = _word_around(text, start)
                if word[1] - word[0] < in_word or start - word[0] > 2:
                    continue
                lo, hi, stop = word[0], word[1] + 1, word[1]
            self._search(index, text, lo, min(len(text), hi), out=out, memo=memo, before=stop)

    def _find_colons(self, text: str, out: list[_Candidate], memo: _Memo) -> None:
        """Colon rules around each place the colon gate passes (a repetitive text costs
        one look per distinct place, as for numbers)."""
        data = text.encode("ascii", "replace").translate(_HEX_BYTES)
        seen: dict[str, list[_Candidate]] = {}
        for place in _COLON_GATE.finditer(data):
            start, end = place.span()
            lo, hi = max(0, start - 45), min(len(text), end + 45)
            key = text[lo - 16 : hi + 16] if lo >= 16 else ""
            known = seen.get(key) if key else None
            if known is None:
                found: list[_Candidate] = []
                for index in self._colon_rules:
                    self._search(index, text, lo, hi, out=found, memo=memo)
                known = [(a - lo, b - lo, i) for a, b, i in found]
                if key:
                    seen[key] = known
            for a, b, index in known:
                out.append((a + lo, b + lo, index))

    # - resolution -----------------------------------------------------------------------------

    def _resolve(self, candidates: Iterable[_Candidate]) -> list[Finding]:
        """Non-overlapping findings, in one sweep by start: of two overlapping candidates
        the longer stays, then the one of the rule listed first, then the earlier."""
        kept: list[_Candidate] = []
        for candidate in sorted(set(candidates)):
            if kept and candidate[0] < kept[-1][1]:
                if _rank(candidate) < _rank(kept[-1]):
                    kept[-1] = candidate
                continue
            kept.append(candidate)
        findings: list[Finding] = []
        for start, end, index in kept:
            rule = self.rules[index]
            findings.append(Finding(rule.category, rule.id, rule.severity, start, end, rule.entity))
        return findings


def _rank(candidate: _Candidate) -> tuple[int, int, int]:
    start, end, index = candidate
    return start - end, index, start


def _repeat_period(text: str, period: Sequence[_Run], start: int, out: list[_Candidate]) -> int:
    """Where ``text`` repeats itself exactly with the period that begins at ``period[0]``
    and ends at the run at ``start`` (its copy), the candidates of every further period
    that fits, added to ``out``; returns where the gate goes on (0: no repetition)."""
    size = start - period[0][0]
    origin = period[0][0] - _PERIOD_MARGIN
    reach = period[-1][1] + _PERIOD_MARGIN  # the last run's surroundings
    if origin < 0 or reach - origin > len(text):
        return 0
    extent = _periodic_extent(text, origin, size, reach - origin)
    copies = (origin + size + extent - reach) // size  # periods after the one of ``period``
    if copies < 1:
        return 0
    for copy in range(1, copies + 1):
        shift = copy * size
        for run_start, _, known in period[1:] if copy == 1 else period:
            for a, b, index in known:
                out.append((a + run_start + shift, b + run_start + shift, index))
    return period[-1][1] + copies * size


def _periodic_extent(text: str, origin: int, size: int, need: int) -> int:
    """The longest ``n`` (at least ``need``, else 0) with ``text[origin:origin + n]``
    equal to the ``n`` characters ``size`` later: string comparisons only, galloping then
    halving, so the cost is linear in the answer."""
    limit = len(text) - origin - size
    if limit < need or text[origin : origin + need] != text[origin + size : origin + size + need]:
        return 0
    equal, step = need, need
    while equal < limit:
        upper = min(limit, equal + step)
        if (
            text[origin + equal : origin + upper]
            == text[origin + size + equal : origin + size + upper]
        ):
            equal, step = upper, step * 2
            continue
        while upper - equal > 1:
            middle = (equal + upper) // 2
            if (
                text[origin + equal : origin + middle]
                == text[origin + size + equal : origin + size + middle]
            ):
                equal = middle
            else:
                upper = middle
        return equal
    return equal


def _close_colons(text: str) -> bool:
    """Whether two colons are at most 5 characters apart (or there are many colons)."""
    first = text.find(":")
    for _ in range(_FEW_COLONS):
        if first < 0:
            return False
        second = text.find(":", first + 1, first + 6)
        if second >= 0:
            return True
        first = text.find(":", first + 6)
    return first >= 0


def _has_digit(text: str) -> bool:
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
    )


def _number_gate(plans: Sequence[_NumberPlan]) -> re.Pattern[bytes] | None:
    """The regex that says where a number rule may find something, built from the
    triggers and run over the digits-as-``0`` copy of the text: enough digits close
    together (with a separator among them, or enough in a row), or the required character
    among the first digits, or a long word the run starts, or capitals before the run. A
    superset: each rule checks its own trigger again. It starts with a literal ``0``, so
    it skips the rest of the text at ``memchr`` speed."""
    if not plans:
        return None
    sep = _RUN_SEPARATORS
    free: list[str] = []  # at a digit after a non-word character
    glued: list[str] = []  # at a digit right after a letter
    plain = [
        (need, alone)
        for _, need, alone, has, letters, word in plans
        if not (has or letters or word)
    ]
    if plain:
        need = min(need for need, _ in plain)
        free.append(f"(?=0{{0,{max(0, need - 2)}}}{sep}{{1,2}}0){_digits_ahead(need)}")
        free.append(f"0{{{min(alone for _, alone in plain) - 1}}}")
    for _, need, _, has, letters, word in plans:
        if letters:
            glued.append(f"(?<=[A-Z]{{{letters}}}0)")
        elif word:
            free.append(f"(?=[A-Za-z0-9]{{{word - 1}}})")
            glued.append(
                f"(?<=(?<![A-Za-z0-9])[A-Za-z]{{2}}0)(?=[A-Za-z0-9]{{{max(0, word - 3)}}})"
            )
        elif has:
            free.append(
                f"(?<!{re.escape(has)}0)(?={_RUN_CHARS}{{0,15}}{re.escape(has)}0){_digits_ahead(need)}"
            )
    branches = []
    if free:
        branches.append(f"(?<![A-Za-z0-9_]0)(?:{'|'.join(dict.fromkeys(free))})")
    if glued:
        branches.append(f"(?<=[A-Za-z]0)(?:{'|'.join(dict.fromkeys(glued))})")
    return re.compile(f"0(?<!00)(?:{'|'.join(branches)}){_RUN_CHARS}{{0,4095}}".encode())


def _digits_ahead(count: int) -> str:
    """A lookahead for ``count - 1`` more digits, at most two separators apart."""
    return f"(?={''.join(f'{_RUN_SEPARATORS}{{0,2}}0' for _ in range(count - 1))})"


def _word_around(text: str, position: int) -> tuple[int, int]:
    """The word (ASCII letters and digits, at most 80 each way) holding ``position``."""
    back = _WORD.match(text[max(0, position - 80) : position][::-1])
    ahead = _WORD.match(text, position)
    return (
        position - (back.end() if back else 0),
        ahead.end() if ahead else position,
    )
