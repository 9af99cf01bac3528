"""The fixed word lists and sentence pattern simulated completions are drawn from."""

from __future__ import annotations


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


DETERMINERS = ("the", "this", "that", "every", "each", "one", "our", "your")
ADJECTIVES = _words(
    """small large quiet bright steady careful useful simple clear recent common typical stable
    reliable slow fast early late local remote short long warm cold new first last other"""
)
NOUNS = _words(
    """model system service request response answer question result value signal metric trace
    token budget team user customer report summary example detail record change update release
    version feature option setting limit error retry network server client cache queue batch
    window week month morning evening city river garden market library station project plan
    idea reason method process pattern"""
)
VERBS = _words(
    """keeps makes shows gives helps needs uses finds builds reads writes sends returns measures
    tracks explains checks improves reduces supports follows describes suggests reaches handles
    expects prefers"""
)
ADVERBS = _words(
    """quickly carefully clearly often usually rarely always still also only already simply
    mostly nearly probably"""
)
PREPOSITIONS = _words("across between within without with from into over under about through near")
CONJUNCTIONS = ("and", "but", "so", "while", "because")

SENTENCE_END = "."
CLAUSE_BREAK = ","
PUNCTUATION = (".", ",", "!", "?", ";", ":")

ALL_WORDS: tuple[str, ...] = (
    DETERMINERS + ADJECTIVES + NOUNS + VERBS + ADVERBS + PREPOSITIONS + CONJUNCTIONS
)

# One clause of a sentence: (word class, probability that it appears). The pattern repeats,
# so long sentences become clauses joined by a comma and a conjunction.
SENTENCE_PATTERN: tuple[tuple[tuple[str, ...], float], ...] = (
    (DETERMINERS, 1.0),
    (ADJECTIVES, 0.5),
    (NOUNS, 1.0),
    (VERBS, 1.0),
    (ADVERBS, 0.4),
    (PREPOSITIONS, 1.0),
    (DETERMINERS, 1.0),
    (ADJECTIVES, 0.3),
    (NOUNS, 1.0),
    ((CLAUSE_BREAK,), 1.0),
    (CONJUNCTIONS, 1.0),
)

# A sentence must not end on one of these; the last one is replaced by a noun.
DANGLING = frozenset(DETERMINERS + ADJECTIVES + PREPOSITIONS + CONJUNCTIONS + (CLAUSE_BREAK,))
