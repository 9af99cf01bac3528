"""The repeat table and the request fingerprint, on their own: a window that slides with
each sighting, the first model kept, memory bounded in entries and in time, and a keyed
digest that reads arguments without consuming them and never keeps their text."""

from __future__ import annotations

import hashlib
import io
import json
import marshal
import os
import subprocess
import sys
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from openai_sentinel.analyzers.repeats import Repeat, RepeatTracker, request_fingerprint

CHAT = "chat chat_completions"


def fingerprint(arguments: Any) -> int | None:
    """The fingerprint of a chat completion request with ``arguments``."""
    return request_fingerprint(CHAT, arguments)


A = 0xA
B = 0xB
C = 0xC
D = 0xD
MESSAGES = [{"role": "user", "content": "What is the capital of Mongolia?"}]


# -- the window ---------------------------------------------------------------------------


def test_a_first_sighting_is_not_a_repeat_and_the_next_is() -> None:
    tracker = RepeatTracker(window=60, capacity=100)
    assert tracker.observe(A, "gpt-4o-mini", now=0.0) is None
    assert tracker.observe(A, "gpt-4o-mini", now=30.0) == Repeat("gpt-4o-mini", False)
    assert tracker.observe(B, "gpt-4o-mini", now=31.0) is None  # others are their own
    assert len(tracker) == 2


def test_a_sighting_after_the_window_is_not_a_repeat() -> None:
    tracker = RepeatTracker(window=60, capacity=100)
    tracker.observe(A, "gpt-4o-mini", now=0.0)
    assert tracker.observe(A, "gpt-4o-mini", now=60.5) is None
    # that sighting starts a new window
    assert tracker.observe(A, "gpt-4o", now=100.0) == Repeat("gpt-4o-mini", True)


def test_each_sighting_slides_the_window() -> None:
    tracker = RepeatTracker(window=60, capacity=100)
    tracker.observe(A, "gpt-4o-mini", now=0.0)
    for now in (50.0, 100.0, 150.0, 200.0):  # each within 60 s of the last, not the first
        assert tracker.observe(A, "gpt-4o-mini", now=now) == Repeat("gpt-4o-mini", False)
    assert tracker.observe(A, "gpt-4o-mini", now=260.5) is None


def test_just_inside_and_just_outside_the_window() -> None:
    inside = RepeatTracker(window=10, capacity=100)
    inside.observe(A, "m", now=100.0)
    assert inside.observe(A, "m", now=109.999) is not None
    outside = RepeatTracker(window=10, capacity=100)
    outside.observe(A, "m", now=100.0)
    assert outside.observe(A, "m", now=110.001) is None


def test_a_model_change_keeps_the_first_model() -> None:
    tracker = RepeatTracker(window=3600, capacity=100)
    assert tracker.observe(A, "gpt-4o-mini", now=0.0) is None
    assert tracker.observe(A, "gpt-4o", now=1.0) == Repeat("gpt-4o-mini", model_changed=True)
    assert tracker.observe(A, "gpt-4.1", now=2.0) == Repeat("gpt-4o-mini", model_changed=True)
    assert tracker.observe(A, "gpt-4o-mini", now=3.0) == Repeat("gpt-4o-mini", False)


def test_a_request_without_a_model() -> None:
    tracker = RepeatTracker(window=3600, capacity=100)
    tracker.observe(A, None, now=0.0)
    assert tracker.observe(A, None, now=1.0) == Repeat(None, model_changed=False)
    assert tracker.observe(A, "gpt-4o", now=2.0) == Repeat(None, model_changed=True)


def test_expired_entries_leave_the_table() -> None:
    tracker = RepeatTracker(window=10, capacity=100)
    for n, fingerprint in enumerate((A, B, C)):
        tracker.observe(fingerprint, "m", now=float(n))
    assert len(tracker) == 3
    tracker.observe(D, "m", now=11.5)  # A and B are older than 10 s by now
    assert len(tracker) == 2
    assert tracker.observe(C, "m", now=11.6) is not None
    assert tracker.observe(A, "m", now=11.7) is None


@pytest.mark.parametrize(("window", "capacity"), [(0, 10), (-1, 10), (10, 0), (10, -5)])
def test_a_tracker_needs_a_window_and_room(window: float, capacity: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        RepeatTracker(window, capacity)


# -- the table's size ----------------------------------------------------------------------


def test_a_full_table_forgets_the_least_recently_seen() -> None:
    tracker = RepeatTracker(window=3600, capacity=3)
    for n, fingerprint in enumerate((A, B, C, D)):
        tracker.observe(fingerprint, "m", now=float(n))
    assert len(tracker) == 3
    assert tracker.observe(A, "m", now=10.0) is None  # pushed out by D
    assert tracker.observe(D, "m", now=11.0) is not None
    assert len(tracker) <= 3


def test_a_full_table_still_knows_its_oldest_entry() -> None:
    tracker = RepeatTracker(window=3600, capacity=2)
    tracker.observe(A, "m", now=0.0)
    tracker.observe(B, "m", now=1.0)
    assert tracker.observe(A, "m", now=2.0) == Repeat("m", False)


def test_a_table_of_one_finds_an_immediate_repeat() -> None:
    tracker = RepeatTracker(window=3600, capacity=1)
    tracker.observe(A, "m", now=0.0)
    assert tracker.observe(A, "m", now=1.0) == Repeat("m", False)


def test_a_repeat_pushes_nothing_out() -> None:
    tracker = RepeatTracker(window=3600, capacity=2)
    tracker.observe(A, "m", now=0.0)
    tracker.observe(B, "m", now=1.0)
    assert tracker.observe(B, "m", now=2.0) is not None
    assert len(tracker) == 2
    assert tracker.observe(A, "m", now=3.0) is not None


def _observe_range(tracker: RepeatTracker, start: int, stop: int) -> None:
    observe = tracker.observe
    for n in range(start, stop):
        observe(n, "gpt-4o-mini", 0.0)


def _traced(tracker: RepeatTracker, start: int, stop: int) -> tuple[int, int]:
    """Observe ``start..stop`` under tracemalloc: what those observations left allocated,
    and their peak, in bytes."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        _observe_range(tracker, start, stop)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return current - base, peak - base


def test_memory_stays_bounded_over_a_million_requests() -> None:
    """A million distinct requests into a table of 10,000: it never holds more, and the
    memory it holds after the million is what it held after the first 20,000.

    Tracing every allocation of a million observations takes ten times as long, so the
    first and the last 20,000 are traced, and the million minus those are watched
    through the interpreter's count of allocated blocks (a leak of one object per
    observation would add almost a million)."""
    capacity = 10_000
    tracker = RepeatTracker(window=3600.0, capacity=capacity)
    first_held, first_peak = _traced(tracker, 0, 20_000)
    assert len(tracker) == capacity
    blocks = sys.getallocatedblocks()
    for start in range(20_000, 980_000, 40_000):
        _observe_range(tracker, start, start + 40_000)
        assert len(tracker) <= capacity
    grown = sys.getallocatedblocks() - blocks
    last_held, last_peak = _traced(tracker, 980_000, 1_000_000)
    assert len(tracker) == capacity
    assert grown < 1_000
    assert first_held > 0 and first_peak > 0
    assert last_held <= 1.5 * first_held
    assert last_peak <= 1.5 * first_peak
    # the table still works: the newest are known, the oldest forgotten
    assert tracker.observe(999_999, "gpt-4o-mini", 0.0) is not None
    assert tracker.observe(0, "gpt-4o-mini", 0.0) is None


def test_threads_observing_the_same_requests() -> None:
    """Eight threads see the same 400 requests, each in its own order: each request is
    new exactly once."""
    tracker = RepeatTracker(window=3600.0, capacity=10_000)
    fingerprints = [fingerprint({"messages": [{"n": n}]}) for n in range(400)]
    assert all(fingerprints)
    threads_count = 8
    barrier = threading.Barrier(threads_count)
    firsts: list[int] = []
    lock = threading.Lock()

    def observe_all(offset: int) -> None:
        order = fingerprints[offset:] + fingerprints[:offset]
        barrier.wait()
        new = [fp for fp in order if fp and tracker.observe(fp, "m", now=1.0) is None]
        with lock:
            firsts.extend(new)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [
            threading.Thread(target=observe_all, args=(n * 50,)) for n in range(threads_count)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        sys.setswitchinterval(interval)
    assert sorted(firsts) == sorted(fp for fp in fingerprints if fp)
    assert len(tracker) == 400


# -- the fingerprint -----------------------------------------------------------------------


def test_a_fingerprint_is_a_64_bit_number() -> None:
    digest = fingerprint({"messages": [{"role": "user", "content": "What is the capital?"}]})
    assert isinstance(digest, int)
    assert -(2**63) <= digest < 2**63


def test_the_fingerprint_is_keyed() -> None:
    """Not a plain hash of the arguments: without the process's secret it cannot be made."""
    arguments = {"messages": MESSAGES}
    canonical = json.dumps([CHAT, arguments], sort_keys=True, separators=(",", ":"))
    for plain in (
        hash(marshal.dumps((CHAT, arguments), 2)),
        hash(b"m" + marshal.dumps((CHAT, arguments), 2)),
        hash(canonical.encode()),
        int.from_bytes(hashlib.blake2b(canonical.encode(), digest_size=8).digest(), "big"),
    ):
        assert fingerprint(arguments) != plain


@pytest.mark.parametrize("hash_seed", ["random", "0"])
def test_another_process_fingerprints_differently(hash_seed: str) -> None:
    """Even with the interpreter's own hash secret fixed (``PYTHONHASHSEED=0``), each
    process draws its own secret."""
    code = (
        "from openai_sentinel.analyzers.repeats import request_fingerprint;"
        f"print(request_fingerprint({CHAT!r}, {{'messages': {MESSAGES!r}}}))"
    )
    prints = []
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": hash_seed},
        )
        prints.append(int(done.stdout.strip()))
    assert prints[0] != prints[1]
    assert fingerprint({"messages": MESSAGES}) not in prints


def test_the_fingerprint_is_stable_within_the_process() -> None:
    arguments = {"messages": MESSAGES, "temperature": 0.2}
    assert fingerprint(arguments) == fingerprint(json.loads(json.dumps(arguments)))


def test_arguments_built_the_same_way_match_whatever_holds_them() -> None:
    """A program sends the same request the same way: dicts with keys in the same order,
    the same sequence types; equal content is enough, not the same objects."""

    def build(question: str) -> dict[str, Any]:
        return {
            "messages": (
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": question},
            ),
            "temperature": 0.2,
            "response_format": {"type": "json_schema", "json_schema": {"name": "a"}},
        }

    assert fingerprint(build("hi")) == fingerprint(build("".join(["h", "i"])))
    assert fingerprint(build("hi")) != fingerprint(build("hi!"))


BASE: dict[str, Any] = {
    "messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ],
    "temperature": 0.2,
}
CHANGES: dict[str, dict[str, Any]] = {
    "content": {**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "hi!"}]},
    "case": {**BASE, "messages": [BASE["messages"][0], {"role": "user", "content": "Hi"}]},
    "role": {**BASE, "messages": [BASE["messages"][0], {"role": "assistant", "content": "hi"}]},
    "order": {**BASE, "messages": list(reversed(BASE["messages"]))},
    "one message less": {**BASE, "messages": BASE["messages"][1:]},
    "temperature": {**BASE, "temperature": 0.3},
    "no temperature": {"messages": BASE["messages"]},
    "int for float": {**BASE, "temperature": 0},
    "null": {**BASE, "temperature": None},
    "tools": {**BASE, "tools": [{"type": "function", "function": {"name": "f"}}]},
    "extra argument": {**BASE, "seed": 7},
    "string for number": {**BASE, "temperature": "0.2"},
    "nested list": {**BASE, "stop": [["a"]]},
    "flat list": {**BASE, "stop": ["a"]},
}


def test_any_difference_in_content_is_another_request() -> None:
    prints = {name: fingerprint(arguments) for name, arguments in CHANGES.items()}
    prints["base"] = fingerprint(BASE)
    assert None not in prints.values()
    assert len(set(prints.values())) == len(prints), prints


def _messages() -> Iterator[dict[str, str]]:
    yield {"role": "system", "content": "Be brief."}
    yield {"role": "user", "content": "hi"}


def test_a_generator_is_not_fingerprinted_nor_consumed() -> None:
    messages = _messages()
    assert fingerprint({"messages": messages}) is None
    assert next(messages) == {"role": "system", "content": "Be brief."}


@pytest.mark.parametrize(
    "make",
    [
        lambda: iter(MESSAGES),
        lambda: map(dict, MESSAGES),
        lambda: (m for m in MESSAGES),
        lambda: reversed(MESSAGES),
    ],
    ids=["iter", "map", "genexpr", "reversed"],
)
def test_an_iterator_anywhere_is_not_fingerprinted_nor_consumed(make: Any) -> None:
    expected = list(make())
    top, nested = make(), make()
    assert fingerprint({"messages": top}) is None
    assert fingerprint({"messages": [{"role": "user", "content": nested}]}) is None
    assert list(top) == expected  # nothing was taken from them
    assert list(nested) == expected


def test_a_file_is_not_fingerprinted_nor_read() -> None:
    audio = io.BytesIO(b"RIFF....WAVEfmt ")
    assert fingerprint({"file": audio}) is None
    assert audio.tell() == 0


def test_a_cycle_is_not_fingerprinted() -> None:
    looped: list[Any] = []
    looped.append(looped)
    assert fingerprint({"messages": looped}) is None


def test_lone_surrogates() -> None:
    one = fingerprint({"messages": [{"role": "user", "content": "half \ud83d"}]})
    other = fingerprint({"messages": [{"role": "user", "content": "half \ude00"}]})
    whole = fingerprint({"messages": [{"role": "user", "content": "half \U0001f600"}]})
    assert one is not None and other is not None and whole is not None
    assert len({one, other, whole}) == 3
    assert one == fingerprint({"messages": [{"role": "user", "content": "half \ud83d"}]})


class Call(BaseModel):
    name: str
    arguments: str


class Message(BaseModel):
    role: str
    content: str | None = None
    tool_calls: list[Call] | None = None


class Answer(BaseModel):
    answer: str


class Verdict(BaseModel):
    answer: str


def test_nested_pydantic_models() -> None:
    def history(arguments: str) -> dict[str, Any]:
        message = Message(
            role="assistant", tool_calls=[Call(name="get_weather", arguments=arguments)]
        )
        return {"messages": [*MESSAGES, message]}

    one = fingerprint(history('{"city": "Ulaanbaatar"}'))
    assert one is not None
    assert one == fingerprint(history('{"city": "Ulaanbaatar"}'))
    assert one != fingerprint(history('{"city": "Darkhan"}'))


def test_a_class_stands_for_itself() -> None:
    answer = fingerprint({"messages": MESSAGES, "response_format": Answer})
    assert answer is not None
    assert answer == fingerprint({"messages": MESSAGES, "response_format": Answer})
    assert answer != fingerprint({"messages": MESSAGES, "response_format": Verdict})
    assert answer != fingerprint({"messages": MESSAGES})


def test_bytes() -> None:
    sound = b"RIFF\x24\x08\x00\x00WAVEfmt " + bytes(range(256))
    one = fingerprint({"file": sound, "language": "en"})
    assert one is not None
    assert one == fingerprint({"file": bytearray(sound), "language": "en"})
    assert one != fingerprint({"file": sound[:-1], "language": "en"})
    assert one != fingerprint({"file": sound + b"\x00", "language": "en"})
    assert fingerprint({"file": ("speech.wav", sound, "audio/wav")}) is not None


def test_sets_do_not_depend_on_their_order() -> None:
    assert fingerprint({"include": {"a", "b", "c"}}) == fingerprint({"include": {"c", "b", "a"}})
    assert fingerprint({"include": {"a", "b"}}) != fingerprint({"include": {"a", "c"}})


def test_the_same_arguments_to_another_operation_are_another_request() -> None:
    arguments = {"input": "Is this fine?"}
    assert fingerprint(arguments) != request_fingerprint("embeddings ", arguments)


def test_a_repeat_says_whether_an_earlier_sighting_was_answered() -> None:
    tracker = RepeatTracker(window=3600, capacity=10)
    assert tracker.observe(A, "cheap", now=0.0, answered=False) is None
    retry = tracker.observe(A, "dear", now=1.0)
    assert retry == Repeat("cheap", model_changed=True, answered_before=False)
    again = tracker.observe(A, "dear", now=2.0)
    assert again == Repeat("cheap", model_changed=True, answered_before=True)
