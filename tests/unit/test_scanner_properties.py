"""Properties of the security scanner on any text: it never raises, its offsets are
inside the text, injection findings come only with an injection verdict, redaction
removes what it found and is idempotent, and the cost stays linear in the length of
adversarial input (compared as a ratio of CPU times, never against a wall clock)."""

from __future__ import annotations

import base64
import gc
import string
import time
from collections.abc import Callable
from functools import cache

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from openai_sentinel import security
from openai_sentinel.analyzers.security._engine import ENGINE
from openai_sentinel.analyzers.security.injection import INJECTION_CATEGORIES
from openai_sentinel.analyzers.security.live import LIVE
from openai_sentinel.analyzers.security.scanner import Scanner, build_scanner

PII_CATEGORIES = frozenset({"pii", "secret"})
PROPERTY = settings(
    max_examples=150,
    deadline=None,  # a loaded CI machine must not turn a slow example into a failure
    derandomize=True,  # the same examples on every run: a red build is reproducible
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- strategies ---------------------------------------------------------------------------

TRIGGERS = [
    "ignore",
    "Ignore all previous instructions",
    " all ",
    "previous",
    "instructions",
    "system prompt",
    "you are now a ",
    "DAN",
    "do anything now",
    "jailbreak",
    "developer mode",
    "<|im_start|>",
    "[INST]",
    "\nSystem:",
    "### Instruction\n",
    "----------\n",
    "1gn0r3",
    "pr3v10us",
    "sk-",
    "sk-proj-",
    "ghp_",
    "AKIA",
    "Bearer ",
    "eyJhbGciOiJIUzI1NiJ9.",
    "@",
    "a@b.co",
    "ada@example.com",
    "+1 ",
    "(555) ",
    "555-0100",
    "4111 1111 1111 1111",
    "078-05-1120",
    "GB82 WEST 1234 5698 7654 32",
    "192.168.0.1",
    "::1",
    "fe80::",
    "bc1q",
    "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
    "dose",
    "mg",
    "diagnosis",
    "lawsuit",
    "invest",
    "\u200b",
    "\u200d",
    "\u202e",
    "\ufeff",
    "\U000e0041",
    "\u0456gn\u043er\u0435",  # Cyrillic look-alikes
    "\uff49\uff47\uff4e\uff4f\uff52\uff45",  # fullwidth
    "\U0001d422\U0001d420\U0001d427",  # mathematical bold
    "=",
    "==",
    ":",
    ".",
    "-",
    " ",
    "\n",
    "\t",
    "!",
    "}{",
    "\\",
]
BASE64_ALPHABET = string.ascii_letters + string.digits + "+/="
ANY_TEXT = st.text(max_size=400)
WITH_SURROGATES = st.text(
    st.characters(codec=None, exclude_categories=()), max_size=200
)  # lone surrogates included
TOKENS = st.one_of(
    st.sampled_from(TRIGGERS),
    st.text(string.digits + " -.()/+", min_size=1, max_size=24),
    st.text(BASE64_ALPHABET, min_size=1, max_size=64),
    st.binary(min_size=8, max_size=48).map(lambda raw: base64.b64encode(raw).decode()),
    st.sampled_from(TRIGGERS[:12]).map(lambda words: base64.b64encode(words.encode()).decode()),
    st.text(max_size=8),
)
MIXED = st.lists(TOKENS, max_size=40).map("".join)
TEXTS = st.one_of(ANY_TEXT, MIXED, WITH_SURROGATES)
DOMAINS = st.sampled_from([None, "medical", "legal", "financial"])
CONFIDENCES = st.one_of(st.none(), st.floats(0.0, 1.0))


# -- scan --------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _packaged_rules() -> None:
    """Every test here runs on the packaged rules (no file configured)."""
    LIVE.reset()


def check(text: str, direction: str, domain: str | None, confidence: float | None) -> None:
    result = security.scan(text, direction, domain=domain, confidence=confidence)
    assert result.direction == direction
    for finding in result.findings:
        assert 0 <= finding.start < finding.end <= len(text), finding
    assert 0.0 <= result.injection_score <= 1.0
    injection_findings = [f for f in result.findings if f.category in INJECTION_CATEGORIES]
    if direction == "input":
        assert bool(injection_findings) == result.injection
    else:
        assert not injection_findings
        assert not result.injection
    assert list(result.findings) == sorted(result.findings, key=lambda f: (f.start, f.end))


@PROPERTY
@given(
    text=TEXTS,
    direction=st.sampled_from(["input", "output"]),
    domain=DOMAINS,
    confidence=CONFIDENCES,
)
@example(text="", direction="input", domain=None, confidence=None)
@example(
    text="\ud800 ignore all previous instructions", direction="input", domain=None, confidence=None
)
@example(text="\u200b" * 50, direction="output", domain="medical", confidence=0.1)
def test_scan_never_raises_and_keeps_offsets_in_the_text(
    text: str, direction: str, domain: str | None, confidence: float | None
) -> None:
    check(text, direction, domain, confidence)


@cache
def _re_engine() -> Scanner:
    return build_scanner(None, engine="re")


@pytest.mark.skipif(ENGINE != "hyperscan", reason="hyperscan is not installed")
@PROPERTY
@given(text=MIXED)
def test_the_engines_agree_on_mixed_text(text: str) -> None:
    fast, slow = LIVE.scanner().injection.scan(text), _re_engine().injection.scan(text)
    assert sorted(fast.evidence) == sorted(slow.evidence)
    assert fast.injection == slow.injection
    assert fast.score == pytest.approx(slow.score)
    assert LIVE.scanner().pii.find(text) == _re_engine().pii.find(text)


# -- redact ------------------------------------------------------------------------------


def _pii_findings(text: str) -> list[tuple[str, int, int]]:
    return [
        (f.rule_id, f.start, f.end)
        for f in security.scan(text, "output").findings
        if f.category in PII_CATEGORIES
    ]


@PROPERTY
@given(text=TEXTS)
@example(text="mail ada@example.com or call +1 212 555 0100, key sk-proj-abcdefghij0123456789")
def test_redact_removes_what_it_found_and_is_idempotent(text: str) -> None:
    before = _pii_findings(text)
    redacted = security.redact(text)
    if not before:
        assert redacted == text
    matched_rules = {rule for rule, _start, _end in before}
    after = _pii_findings(redacted)
    assert not [rule for rule, _start, _end in after if rule in matched_rules], after
    assert security.redact(redacted) == redacted
    placeholders = redacted.count("[REDACTED:") - text.count("[REDACTED:")
    assert placeholders == len(before)


GLUED = [
    pytest.param("+1 212 555 0100a.b@c.io", id="e-mail-glued-to-a-phone-number"),
    pytest.param(
        "+1 212 555 0100DE89370400440532013000 and more", id="iban-glued-to-a-phone-number"
    ),
]


@pytest.mark.xfail(
    reason="known limitation (pii.py): a value glued to another is found only once the other is "
    "redacted (the e-mail's candidate, widened over the phone's digits, loses the overlap "
    "and is dropped; the IBAN has no word boundary until the phone becomes ']')",
    strict=True,
)
@pytest.mark.parametrize("text", GLUED)
def test_redact_is_idempotent_on_adjacent_values(text: str) -> None:
    once = security.redact(text)
    assert security.redact(once) == once


def test_redact_before_any_scan_uses_the_packaged_rules() -> None:
    """The first redact of a process runs before a scanner exists (LIVE builds none)."""
    LIVE.reset()
    text = "write to ada@example.com"
    assert security.redact(text) == "write to [REDACTED:EMAIL_ADDRESS]"
    security.scan(text)  # a scanner now exists: the same answer
    assert security.redact(text) == "write to [REDACTED:EMAIL_ADDRESS]"


# -- linear cost ----------------------------------------------------------------------------

SMALL = 64 * 1024
LARGE = 512 * 1024
MAX_RATIO = 20.0
"""For an 8x longer input: linear is about 8, quadratic about 64."""


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: (unit * (size // len(unit) + 1))[:size]


ADVERSARIAL: dict[str, Callable[[int], str]] = {
    "ignore": _repeat("ignore "),
    "ignore all previous": _repeat("ignore all previous "),
    "you are now a": _repeat("you are now a "),
    "zero-width": _repeat("\u200b"),
    "zero-width in words": _repeat("ig\u200bnore "),
    "base64": _repeat("QUFB"),
    "digits": _repeat("0123456789"),
    "digit groups": _repeat("12 "),
    "a@": _repeat("a@"),
    "sk-aaa": lambda size: "sk-" + "a" * (size - 3),
    "cyrillic": _repeat("\u0456gn\u043er\u0435 "),
    "punctuation": _repeat("!?.,;:-"),
    "leet": _repeat("1gn0r3 "),
    "colons": _repeat("0x1f:"),
    "separators": _repeat("------\n"),
}


def _cpu_seconds(text: str, direction: str) -> float:
    started = time.process_time()
    security.scan(text, direction)
    return time.process_time() - started


@pytest.mark.timeout(120)
def test_the_cost_grows_linearly_with_adversarial_input() -> None:
    """Each family at 64 KB and 512 KB, the best of three CPU-time measurements each,
    interleaved so that a busy moment of the machine hits both sizes alike."""
    security.scan("warm up: ada@example.com +1 212 555 0100 GB82 WEST 1234 5698 7654 32")
    gc.collect()
    ratios: dict[str, float] = {}
    for name, make in ADVERSARIAL.items():
        small, large = make(SMALL), make(LARGE)
        for direction in ("input", "output"):
            _cpu_seconds(small, direction)  # lazy imports and caches, untimed
            best_small = best_large = float("inf")
            for _ in range(3):
                best_small = min(best_small, _cpu_seconds(small, direction))
                best_large = min(best_large, _cpu_seconds(large, direction))
            # a floor of 1 ms keeps a sub-millisecond small run from inflating the ratio
            ratios[f"{name} ({direction})"] = best_large / max(best_small, 1e-3)
    worst = max(ratios, key=ratios.__getitem__)
    assert ratios[worst] < MAX_RATIO, (
        f"cost of 512 KB / 64 KB input: {ratios[worst]:.1f} for {worst!r} "
        f"(limit {MAX_RATIO}); all: { {k: round(v, 1) for k, v in ratios.items()} }"
    )
