"""The pattern engine: both engines report the same matches at the same character
offsets, whatever the text holds (non-ASCII, lone surrogates), and an every-match scan
stops at its limit."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_sentinel.analyzers.security._engine import ENGINE, Pattern, PatternSet, utf8

ENGINES = [
    "re",
    pytest.param(
        "hyperscan",
        marks=pytest.mark.skipif(ENGINE != "hyperscan", reason="hyperscan is not installed"),
    ),
]
LITERALS = [Pattern("sk\\-", case_sensitive=True), Pattern("@", case_sensitive=True)]
INVISIBLE = [Pattern("[\\u200b-\\u200f\\ufeff]", unicode=True)]


@pytest.mark.parametrize("engine", ENGINES)
def test_ends_are_character_offsets_in_order(engine: str) -> None:
    patterns = PatternSet(LITERALS, engine=engine, every=True)
    text = "é sk-a\u200b x@y ü sk-b"
    assert patterns.ends(text, 10) == [(5, 0), (10, 1), (17, 0)]
    assert text[5 - 3 : 5] == "sk-" and text[17 - 3 : 17] == "sk-"


@pytest.mark.parametrize("engine", ENGINES)
def test_ends_stop_at_the_limit(engine: str) -> None:
    patterns = PatternSet(INVISIBLE, engine=engine, every=True)
    assert patterns.ends("a\u200bb" * 5, 5) == [(2, 0), (5, 0), (8, 0), (11, 0), (14, 0)]
    assert patterns.ends("a\u200bb" * 6, 5) is None
    assert patterns.ends("", 5) == []


def test_ends_needs_an_every_match_set() -> None:
    with pytest.raises(ValueError, match="every=True"):
        PatternSet(LITERALS, engine="re").ends("sk-", 1)


@pytest.mark.skipif(ENGINE != "hyperscan", reason="hyperscan is not installed")
@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(
    st.lists(
        st.sampled_from(["sk-", "@", "\u200b", "\ufeff", "é", "\U0001d422", "a", " "])
        | st.text(st.characters(codec=None, exclude_categories=()), max_size=3),
        max_size=30,
    ).map("".join)
)
def test_the_engines_agree(text: str) -> None:
    for patterns in (LITERALS, INVISIBLE):
        fast = PatternSet(patterns, engine="hyperscan", every=True)
        slow = PatternSet(patterns, engine="re", every=True)
        assert fast.ends(text, 100) == slow.ends(text, 100)
        first = PatternSet(patterns, engine="hyperscan")
        assert first.first_matches(text) == first.first_matches(text, utf8(text))
        assert set(first.first_matches(text)) == set(
            PatternSet(patterns, engine="re").first_matches(text)
        )
