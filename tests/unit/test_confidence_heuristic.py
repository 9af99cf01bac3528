"""The confidence heuristic used when a response has no logprobs, as the README documents
it: 0.9 for an answer that ended normally (``stop``, ``tool_calls``), 0.5 when cut by the
token limit, 0.2 when stopped by the content filter, 0.3 for a refusal, times 0.85 per
hedging phrase ("I think", "probably", "I'm not sure", "it seems", ...), at most four;
none for an answer that never finished. The hedge search is case-insensitive and runs in
time linear in the text, however hostile."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openai_sentinel.analyzers.confidence import (
    Confidence,
    confidence_of,
    heuristic_confidence,
    quality_of,
)
from openai_sentinel.exchange import AnswerLogprobs, Exchange

FINISHED, CUT, FILTERED, REFUSED, PER_HEDGE = 0.9, 0.5, 0.2, 0.3, 0.85
MOST_HEDGES = 4


def close(actual: float | None, expected: float) -> bool:
    return actual is not None and math.isclose(actual, expected, rel_tol=0, abs_tol=1e-12)


def hedged(base: float, hedges: int) -> float:
    return base * PER_HEDGE ** min(hedges, MOST_HEDGES)


# -- finish reasons and refusals ----------------------------------------------------------


@pytest.mark.parametrize(
    ("finish_reason", "refused", "expected"),
    [
        ("stop", False, FINISHED),
        ("tool_calls", False, FINISHED),
        ("function_call", False, FINISHED),
        ("length", False, CUT),
        ("content_filter", False, FILTERED),
        ("stop", True, REFUSED),
        ("length", True, REFUSED),
        ("content_filter", True, REFUSED),
        (None, True, REFUSED),
        ("error", True, REFUSED),
    ],
)
def test_heuristic_table(finish_reason: str | None, refused: bool, expected: float) -> None:
    for text in (None, "", "The capital of France is Paris."):
        assert close(heuristic_confidence(finish_reason, refused=refused, text=text), expected)


@pytest.mark.parametrize("finish_reason", [None, "", "error", "cancelled", "in_progress", "STOP"])
def test_an_unfinished_answer_has_no_heuristic(finish_reason: str | None) -> None:
    assert heuristic_confidence(finish_reason, refused=False, text="Paris.") is None
    assert heuristic_confidence(finish_reason, refused=False, text="I think Paris.") is None


def test_hedges_do_not_lower_a_refusal() -> None:
    text = "I think I probably can't help; perhaps it seems unclear."
    assert close(heuristic_confidence("stop", refused=True, text=text), REFUSED)


@pytest.mark.parametrize(
    ("finish_reason", "base"), [("stop", FINISHED), ("length", CUT), ("content_filter", FILTERED)]
)
@pytest.mark.parametrize("hedges", [0, 1, 2, 3, 4, 5, 9])
def test_each_hedge_multiplies_by_0_85_up_to_four(
    finish_reason: str, base: float, hedges: int
) -> None:
    text = "Paris. " + " ".join(["Probably so."] * hedges)
    assert close(
        heuristic_confidence(finish_reason, refused=False, text=text), hedged(base, hedges)
    )


def test_the_documented_values() -> None:
    assert close(heuristic_confidence("stop", refused=False, text="I think so."), 0.765)
    assert close(heuristic_confidence("stop", refused=False, text="I think, probably."), 0.65025)
    most = "I think, probably, perhaps, it seems; possibly."
    assert close(heuristic_confidence("stop", refused=False, text=most), 0.469805625)
    assert close(heuristic_confidence("length", refused=False, text="Perhaps"), 0.425)


# -- the hedging phrases ----------------------------------------------------------------------

HEDGES = [
    "I think",
    "I believe",
    "I guess",
    "I'm not sure",
    "Im not sure",
    "I'm not certain",
    "I am not sure",
    "I am not certain",
    "not sure",
    "not certain",
    "not entirely sure",
    "not completely certain",
    "not totally sure",
    "I don't know",
    "I dont know",
    "I do not know",
    "might be",
    "might have",
    "may be",
    "may have",
    "could be",
    "could have",
    "possibly",
    "perhaps",
    "probably",
    "presumably",
    "it seems",
    "it appears",
    "as far as I know",
    "to my knowledge",
    "if I recall",
    "I can't be sure",
    "I cant verify",
    "I cannot be sure",
    "I cannot verify",
    "unclear",
    "uncertain",
]


@pytest.mark.parametrize("phrase", HEDGES)
def test_each_hedging_phrase_counts_once(phrase: str) -> None:
    text = f"The answer, {phrase}, is 42."
    assert close(heuristic_confidence("stop", refused=False, text=text), hedged(FINISHED, 1))


@pytest.mark.parametrize("phrase", ["I think", "probably", "I'm not sure", "it seems", "unclear"])
@pytest.mark.parametrize("case", [str.upper, str.lower, str.title, str.swapcase])
def test_hedges_are_found_in_any_case(phrase: str, case: Callable[[str], str]) -> None:
    text = f"Well, {case(phrase)} it is Paris."
    assert close(heuristic_confidence("stop", refused=False, text=text), hedged(FINISHED, 1))


def test_hedges_at_the_edges_of_the_text() -> None:
    for text in ("probably", "Probably.", "(perhaps)", "It is Lyon, I think", "\nunclear\n"):
        assert close(heuristic_confidence("stop", refused=False, text=text), hedged(FINISHED, 1))


CONFIDENT_TEXTS = [
    "The capital of France is Paris.",
    "Water boils at 100 degrees Celsius at sea level.",
    "Our records show the invoice was paid on 3 March 2024.",
    "I know the answer: it is 42. I am sure of it, and I'm certain.",
    "The mayor, a noted thinker, believes the unclearness of maybe-possibilities "
    "could become probable; uncertainty-free mayhem appears seemingly impossible.",
    "Thinking about it, the improbable possibility was presumed, then mighty.",
    "def possibly_unclear(x): return x  # not_sure, i_think",
    "Je pense que c'est Paris. Ich glaube nicht.",
    "Taxi think-tank; Wii thinks; hi thinking; knot sure-footed.",
    "",
]


@pytest.mark.parametrize("text", CONFIDENT_TEXTS)
def test_no_false_hedge_in_ordinary_confident_text(text: str) -> None:
    assert close(heuristic_confidence("stop", refused=False, text=text), FINISHED)


def test_a_long_confident_answer_stays_confident() -> None:
    text = " ".join(CONFIDENT_TEXTS) * 2000
    assert close(heuristic_confidence("stop", refused=False, text=text), FINISHED)


REFERENCE = re.compile(
    r"\b(?:" + "|".join(re.escape(phrase) for phrase in HEDGES) + r")\b", re.IGNORECASE
)
"""The phrases as a plain case-insensitive alternation, against which the optimised
search (lower-cased text, a Hyperscan pass first, then a pattern with a first-letter
lookahead and optional apostrophes) is checked."""
PIECES = [
    *HEDGES,
    *("think", "sure", "may", "I", "i", "'", " ", ",", ".", "-", "_", "x", "1"),
    *("é", "ß", "İ", "ü", "中", "\u00a0"),  # word characters to re, not to Hyperscan's \b
]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.sampled_from(PIECES) | st.sampled_from(PIECES).map(str.upper), max_size=30))
def test_hedges_are_counted_as_the_plain_case_insensitive_alternation_counts_them(
    pieces: list[str],
) -> None:
    text = "".join(pieces)
    expected = sum(1 for _ in REFERENCE.finditer(text))
    assert close(heuristic_confidence("stop", refused=False, text=text), hedged(FINISHED, expected))


# -- hostile input: linear time -----------------------------------------------------------------

ADVERSARIAL = [
    pytest.param("i think " * 200_000, MOST_HEDGES, id="i-think-repeated"),
    pytest.param("perhaps" * 250_000, 0, id="perhapsperhaps"),
    pytest.param("not " * 400_000, 0, id="not-not-not"),
    pytest.param("not " * 400_000 + "sure", 1, id="not-not-not-sure"),
    pytest.param("not entirely " * 150_000, 0, id="not-entirely"),
    pytest.param("i'm not " * 200_000, 0, id="im-not"),
    pytest.param("i am not " * 200_000, 0, id="i-am-not"),
    pytest.param("i " * 800_000, 0, id="i-i-i"),
    pytest.param("i'" * 800_000, 0, id="i-apostrophe"),
    pytest.param("ithink" * 300_000, 0, id="no-word-boundaries"),
    pytest.param("i can't be " * 150_000, 0, id="i-cant-be"),
    pytest.param("as far as i " * 150_000, 0, id="as-far-as-i"),
    pytest.param("might " * 300_000, 0, id="might-might"),
    pytest.param("a" * 2_000_000, 0, id="one-long-word"),
    pytest.param(" " * 2_000_000, 0, id="blanks"),
    pytest.param("'" * 2_000_000, 0, id="apostrophes"),
    pytest.param("x" * 1_999_990 + " probably", 1, id="hedge-at-the-end"),
    pytest.param("é perhaps " * 120_000, MOST_HEDGES, id="not-ascii"),
    pytest.param("İnot " * 250_000, 0, id="not-ascii-not-not"),
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(("text", "hedges"), ADVERSARIAL)
def test_the_hedge_search_is_linear_on_hostile_input(text: str, hedges: int) -> None:
    assert len(text) >= 1_000_000
    found = heuristic_confidence("stop", refused=False, text=text)
    assert close(found, hedged(FINISHED, hedges))
    assert found is not None and found >= hedged(FINISHED, MOST_HEDGES)  # at most four count


# -- the heuristic inside confidence_of, and quality_of ------------------------------------------


def exchange(**fields: object) -> Exchange:
    return Exchange(operation="chat", provider="openai", **fields)  # type: ignore[arg-type]


def test_confidence_of_uses_the_heuristic_without_logprobs() -> None:
    found = confidence_of(
        exchange(finish_reasons=["stop", "length"], answer_text="It is probably Paris."),
        heuristic=True,
    )
    assert found == Confidence(hedged(FINISHED, 1), "heuristic")
    assert found is not None and found.min_token is None and found.per_answer == ()


def test_confidence_of_a_refusal() -> None:
    found = confidence_of(exchange(finish_reasons=["stop"], refused=True), heuristic=True)
    assert found is not None and close(found.value, REFUSED) and found.source == "heuristic"


def test_confidence_of_without_the_heuristic() -> None:
    assert confidence_of(exchange(finish_reasons=["stop"]), heuristic=False) is None


def test_confidence_of_an_unfinished_exchange() -> None:
    assert confidence_of(exchange(), heuristic=True) is None
    assert confidence_of(exchange(finish_reasons=["error"]), heuristic=True) is None


def test_logprobs_take_precedence_over_the_heuristic() -> None:
    answer = AnswerLogprobs()
    for logprob in (-0.1, -0.5, -1.2):
        answer.add(logprob)
    found = confidence_of(
        exchange(finish_reasons=["length"], answer_text="I think", answer_logprobs={0: answer}),
        heuristic=False,
    )
    assert found is not None and found.source == "logprobs"
    assert close(found.value, math.exp((-0.1 - 0.5 - 1.2) / 3))
    assert close(found.min_token or 0.0, math.exp(-1.2))


def test_answer_logprobs_ignore_what_is_not_a_logprob() -> None:
    answer = AnswerLogprobs()
    for value in (float("nan"), float("inf"), float("-inf"), None, "-0.5", True, [-1.0]):
        answer.add(value)
    assert answer.count == 0
    answer.add(0.25)  # impossible for a probability: counts as certain
    answer.add(-2)
    answer.add_tokens([{"logprob": -1.0}, {"token": "x"}, object()])
    assert answer.count == 3
    assert close(answer.total, -3.0) and close(answer.minimum, -2.0)


@pytest.mark.parametrize(
    ("reasons", "refused", "expected"),
    [
        (["stop"], False, (False, False, False)),
        (None, False, (False, False, False)),
        (["stop", "length"], False, (True, False, False)),
        (["content_filter"], False, (False, False, True)),
        (["stop"], True, (False, True, False)),
        (["length", "content_filter"], True, (True, True, True)),
    ],
)
def test_quality_of(
    reasons: list[str] | None, refused: bool, expected: tuple[bool, bool, bool]
) -> None:
    quality = quality_of(exchange(finish_reasons=reasons, refused=refused))
    assert (quality.truncated, quality.refused, quality.content_filtered) == expected
    assert bool(quality) is any(expected)


def test_streamed_legacy_logprobs_with_an_echoed_first_token_are_all_counted() -> None:
    """``echo=True`` makes the first token's logprob ``None``: the rest still count."""
    from openai_sentinel.adapters._answers import AnswerCollector

    collector = AnswerCollector()
    collector.logprobs(0, [None, -0.5, -1.0])
    collector.logprobs(0, [-0.25])
    found = exchange(finish_reasons=["stop"])
    collector.fill(found)
    assert found.answer_logprobs is not None
    answer = found.answer_logprobs[0]
    assert (answer.count, answer.total, answer.minimum) == (3, -1.75, -1.0)
