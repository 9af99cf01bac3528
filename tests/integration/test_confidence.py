"""Answer confidence and quality signals through the real client and the real SDK.

With token logprobs in the response, ``sentinel.confidence`` is the geometric mean of the
first answer's token probabilities and ``sentinel.confidence.min_token`` the probability of
its least likely token; both are computed here, independently, from the logprobs in the
response the client handed back. Without logprobs, the documented heuristic applies (0.9
for a finished answer, 0.5 when cut by the token limit, 0.2 when filtered, 0.3 for a
refusal, times 0.85 per hedging phrase, at most four). Truncations, refusals and
content-filter stops are marked on the span and counted; ``request_logprobs`` asks the
models that support it for logprobs. None of it ever records the answer's text.

Calls go to the embedded simulator over loopback, to a ``MockTransport`` answering with
payloads built here, or to recorded real responses (``tests/cassettes/contrib``, none of
which carries logprobs: they are replayed for the heuristic). Names are spelled out as
documented rather than imported from ``openai_sentinel.semconv``, so that a wrong name in
the package cannot hide. Drift detection is turned off: it is not what these tests watch.
"""

from __future__ import annotations

import bisect
import json
import math
import re
import statistics
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode
from pydantic import BaseModel

from openai_sentinel import OpenAISentinelInstrumentor
from openai_sentinel.simulator import Simulator, SimulatorConfig

from ..support import api_payloads, payloads
from ..support.cassettes import CASSETTE_DIR, Cassette, Replayer, load_cassette, sse_data
from ..support.http_library import http
from ..support.simulated import make_client
from ..support.telemetry import Telemetry
from ..support.transport import Handler, ScriptedAPI, async_client, sync_client

Instrument = Callable[..., OpenAISentinelInstrumentor]

MODEL = "gpt-4o-mini"
INSTRUCT_MODEL = "gpt-3.5-turbo-instruct"
MESSAGES = [{"role": "user", "content": "Describe the weather in one paragraph."}]
PROMPT = "Once upon a time"
LOGPROBS_INCLUDE = "message.output_text.logprobs"

CONFIDENCE = "sentinel.confidence"
MIN_TOKEN = "sentinel.confidence.min_token"
SOURCE = "sentinel.confidence.source"
CHOICE_INDEX = "sentinel.choice.index"
INJECTED = "sentinel.logprobs_injected"
TRUNCATED = "sentinel.response.truncated"
REFUSAL = "sentinel.response.refusal"
CONTENT_FILTERED = "sentinel.response.content_filtered"
CONFIDENCE_METRIC = "sentinel.confidence"
TRUNCATIONS = "sentinel.response.truncations"
REFUSALS = "sentinel.response.refusals"
CONTENT_FILTERED_METRIC = "sentinel.response.content_filtered"
QUALITY_ATTRIBUTES = (TRUNCATED, REFUSAL, CONTENT_FILTERED)
QUALITY_COUNTERS = (TRUNCATIONS, REFUSALS, CONTENT_FILTERED_METRIC)

FINISHED, CUT, FILTERED, REFUSED, PER_HEDGE = 0.9, 0.5, 0.2, 0.3, 0.85
"""The heuristic as the README documents it."""
HEURISTIC_BY_FINISH = {"stop": FINISHED, "tool_calls": FINISHED, "length": CUT}
CONFIDENT_ANSWER = "The capital of France is Paris."
REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
ANSWER_TEXT_LIMIT = 4096
"""Characters of the first answer the heuristic reads."""


class City(BaseModel):
    name: str
    population: int


@pytest.fixture
def sentinel(instrument: Instrument) -> Instrument:
    """Instrument with the test's providers, drift detection off, and ``settings``."""

    def apply(**settings: Any) -> OpenAISentinelInstrumentor:
        return instrument(**{"drift_detection": False, **settings})

    return apply


# -- what the client received ------------------------------------------------------------


def geometric(logprobs: Iterable[float]) -> tuple[float, float]:
    """exp(mean logprob) and exp(min logprob), from the logprobs themselves."""
    values = [float(value) for value in logprobs]
    assert values, "the response the client received carried no token logprobs"
    return math.exp(statistics.fmean(values)), math.exp(min(values))


def chat_logprobs(choice: Any) -> list[float]:
    assert choice.logprobs is not None and choice.logprobs.content, "no logprobs received"
    return [token.logprob for token in choice.logprobs.content]


def streamed_chat_logprobs(chunks: Iterable[Any], index: int = 0) -> list[float]:
    return [
        token.logprob
        for chunk in chunks
        for choice in chunk.choices
        if choice.index == index and choice.logprobs is not None
        for token in choice.logprobs.content or ()
    ]


def streamed_text(chunks: Iterable[Any], index: int = 0) -> str:
    return "".join(
        choice.delta.content or ""
        for chunk in chunks
        for choice in chunk.choices
        if choice.index == index
    )


def responses_logprobs(response: Any) -> list[float]:
    return [
        token.logprob
        for item in response.output
        if item.type == "message"
        for part in item.content
        if part.type == "output_text"
        for token in part.logprobs or ()
    ]


def completed_response(events: Iterable[Any]) -> Any:
    (final,) = [event.response for event in events if event.type == "response.completed"]
    return final


# -- what the telemetry says ---------------------------------------------------------------


def close(actual: object, expected: float) -> bool:
    return isinstance(actual, float) and math.isclose(actual, expected, rel_tol=0, abs_tol=1e-9)


def assert_logprobs_confidence(span: ReadableSpan, logprobs: Iterable[float]) -> float:
    expected, least = geometric(logprobs)
    attributes = span.attributes or {}
    assert attributes.get(SOURCE) == "logprobs"
    assert close(attributes.get(CONFIDENCE), expected), (attributes.get(CONFIDENCE), expected)
    assert close(attributes.get(MIN_TOKEN), least), (attributes.get(MIN_TOKEN), least)
    assert 0.0 < expected <= 1.0
    return expected


def assert_heuristic(span: ReadableSpan, expected: float) -> None:
    attributes = span.attributes or {}
    assert attributes.get(SOURCE) == "heuristic"
    assert close(attributes.get(CONFIDENCE), expected), (attributes.get(CONFIDENCE), expected)
    assert MIN_TOKEN not in attributes  # only logprobs know the least likely token


def confidence_keys(span: ReadableSpan) -> list[str]:
    return sorted(key for key in span.attributes or {} if key.startswith("sentinel.confidence"))


def confidence_events(span: ReadableSpan) -> dict[int, tuple[float, float]]:
    found: dict[int, tuple[float, float]] = {}
    for event in span.events:
        if event.name == "sentinel.confidence":
            attributes = event.attributes or {}
            index = attributes[CHOICE_INDEX]
            assert isinstance(index, int) and index not in found
            found[index] = (attributes[CONFIDENCE], attributes[MIN_TOKEN])  # type: ignore[assignment]
    return found


def assert_events_match(span: ReadableSpan, expected: dict[int, list[float]]) -> None:
    events = confidence_events(span)
    assert sorted(events) == sorted(expected)
    for index, logprobs in expected.items():
        value, least = geometric(logprobs)
        assert close(events[index][0], value), (index, events[index], value)
        assert close(events[index][1], least), (index, events[index], least)


def counter_values(telemetry: Telemetry, name: str) -> list[int]:
    return [point.value for point in telemetry.points(name)]  # type: ignore[attr-defined]


def every_metric_attribute(telemetry: Telemetry) -> Iterator[tuple[str, str, object]]:
    data = telemetry.metric_reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    for key, value in (point.attributes or {}).items():
                        yield metric.name, key, value


def every_span_value(span: ReadableSpan) -> Iterator[tuple[str, str]]:
    for key, value in (span.attributes or {}).items():
        yield key, json.dumps(value) if not isinstance(value, str) else value
    for event in span.events:
        for key, value in (event.attributes or {}).items():
            yield f"{event.name}:{key}", str(value)
    yield "status", span.status.description or ""


# -- payloads -------------------------------------------------------------------------------


def token(text: str, logprob: float) -> dict[str, Any]:
    return {"token": text, "logprob": logprob, "bytes": list(text.encode()), "top_logprobs": []}


def chat_body(
    content: str | None = CONFIDENT_ANSWER,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    choices: int = 1,
) -> dict[str, Any]:
    body = payloads.completion(content or "", finish_reason=finish_reason, choices=choices)
    for choice in body["choices"]:
        choice["message"]["content"] = content
        choice["message"]["refusal"] = refusal
    return body


def refusal_part(text: str = REFUSAL_TEXT) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def responses_body(*parts: dict[str, Any], **options: Any) -> dict[str, Any]:
    message = api_payloads.output_message("")
    message["content"] = list(parts)
    if options.get("status") == "incomplete":
        message["status"] = "incomplete"
    return api_payloads.response(output=[message], **options)


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "annotations": [], "logprobs": [], "text": text}


class EventStream:
    """Answers every request with the same server-sent chat chunks."""

    def __init__(self, chunks: list[dict[str, Any]]) -> None:
        self.body = payloads.sse(chunks)

    def __call__(self, request: http.Request) -> http.Response:
        return http.Response(200, headers={"content-type": "text/event-stream"}, content=self.body)


def refusal_chunks() -> list[dict[str, Any]]:
    chunks = [payloads.chunk(role="assistant", content="")]
    for piece in ("I'm sorry,", " but I can't", " help with that."):
        chunk = payloads.chunk()
        chunk["choices"][0]["delta"] = {"refusal": piece}
        chunks.append(chunk)
    chunks.append(payloads.chunk(finish_reason="stop"))
    return chunks


def ask_scripted(api: Handler, **params: Any) -> Any:
    """A chat call to ``api``; the client stays open for a stream to be read."""
    client = sync_client(api)
    return client.chat.completions.create(**{"model": MODEL, "messages": MESSAGES, **params})


def respond_scripted(api: Handler, **params: Any) -> Any:
    client = sync_client(api)
    return client.responses.create(**{"model": MODEL, "input": "Hello", **params})


# == 1. confidence from logprobs ==============================================================

STREAM_MODES = {
    "plain": {},
    "streamed": {"stream": True},
    "streamed-with-usage": {"stream": True, "stream_options": {"include_usage": True}},
}


@pytest.mark.parametrize("mode", list(STREAM_MODES))
def test_chat_confidence_from_logprobs(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI, mode: str
) -> None:
    sentinel()
    result = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, logprobs=True, top_logprobs=2, **STREAM_MODES[mode]
    )
    if mode == "plain":
        logprobs = chat_logprobs(result.choices[0])
    else:
        chunks = list(result)
        logprobs = streamed_chat_logprobs(chunks)
        assert len(logprobs) > 1 and streamed_text(chunks)
        if mode == "streamed-with-usage":  # the caller asked for it: it gets it
            assert chunks[-1].usage is not None and not chunks[-1].choices
    span = telemetry.span()
    assert_logprobs_confidence(span, logprobs)
    assert confidence_events(span) == {}  # one answer: no per-answer events
    assert INJECTED not in (span.attributes or {})


@pytest.mark.parametrize("mode", list(STREAM_MODES))
async def test_async_chat_confidence_from_logprobs(
    sentinel: Instrument, telemetry: Telemetry, aclient: AsyncOpenAI, mode: str
) -> None:
    sentinel()
    result = await aclient.chat.completions.create(
        model=MODEL, messages=MESSAGES, logprobs=True, **STREAM_MODES[mode]
    )
    if mode == "plain":
        logprobs = chat_logprobs(result.choices[0])
    else:
        logprobs = streamed_chat_logprobs([chunk async for chunk in result])
    assert_logprobs_confidence(telemetry.span(), logprobs)


def test_chat_parse_and_the_stream_helper(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    parsed = client.chat.completions.parse(
        model=MODEL, messages=MESSAGES, response_format=City, logprobs=True
    )
    assert isinstance(parsed.choices[0].message.parsed, City)
    with client.chat.completions.stream(model=MODEL, messages=MESSAGES, logprobs=True) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    parse_span, stream_span = telemetry.spans()
    assert_logprobs_confidence(parse_span, chat_logprobs(parsed.choices[0]))
    assert_logprobs_confidence(stream_span, chat_logprobs(final.choices[0]))


def test_raw_response_confidence(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=MESSAGES, logprobs=True
    )
    assert_logprobs_confidence(telemetry.span(), chat_logprobs(raw.parse().choices[0]))


def test_chat_with_several_answers_has_an_event_per_answer(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True, n=3)
    per_choice = {choice.index: chat_logprobs(choice) for choice in completion.choices}
    assert sorted(per_choice) == [0, 1, 2]
    assert len({tuple(values) for values in per_choice.values()}) == 3  # three answers
    span = telemetry.span()
    assert_logprobs_confidence(span, per_choice[0])  # the span has the first answer's
    assert_events_match(span, per_choice)


def test_streamed_chat_with_two_answers_has_an_event_per_answer(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    chunks = list(
        client.chat.completions.create(
            model=MODEL, messages=MESSAGES, logprobs=True, n=2, stream=True
        )
    )
    per_choice = {index: streamed_chat_logprobs(chunks, index) for index in (0, 1)}
    assert per_choice[0] != per_choice[1]
    span = telemetry.span()
    assert_logprobs_confidence(span, per_choice[0])
    assert_events_match(span, per_choice)


def test_the_event_index_is_the_choice_index_when_an_answer_has_no_logprobs(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(choices=2)
    first, second = api.body["choices"]
    first["message"]["content"] = None  # e.g. an answer that is a tool call
    first["logprobs"] = {"content": None, "refusal": None}
    second["logprobs"] = {"content": [token("Paris", -0.5), token(".", -1.0)], "refusal": None}
    completion = ask_scripted(api, n=2, logprobs=True)
    assert completion.choices[0].logprobs.content is None
    assert_events_match(telemetry.span(), {1: chat_logprobs(completion.choices[1])})


def test_the_event_index_is_the_choice_index_in_a_stream(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    chunks = [payloads.chunk(role="assistant", content="", index=i) for i in (0, 1)]
    chunks.append(payloads.chunk(content="Paris", index=0))
    answer = payloads.chunk(content="Lyon", index=1)
    answer["choices"][0]["logprobs"] = {"content": [token("Lyon", -0.7)], "refusal": None}
    chunks.append(answer)
    chunks += [payloads.chunk(finish_reason="stop", index=i) for i in (0, 1)]
    received = list(ask_scripted(EventStream(chunks), n=2, logprobs=True, stream=True))
    assert streamed_chat_logprobs(received, 0) == []
    assert streamed_chat_logprobs(received, 1) == [-0.7]
    assert_events_match(telemetry.span(), {1: [-0.7]})


def test_legacy_completion_confidence(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    completion = client.completions.create(
        model=INSTRUCT_MODEL, prompt=PROMPT, logprobs=2, max_tokens=40
    )
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.token_logprobs
    assert_logprobs_confidence(telemetry.span(), logprobs.token_logprobs)


def test_streamed_legacy_completion_confidence(
    sentinel: Instrument, telemetry: Telemetry, lenient_client: OpenAI
) -> None:
    sentinel()
    chunks = list(
        lenient_client.completions.create(
            model=INSTRUCT_MODEL, prompt=PROMPT, logprobs=1, max_tokens=40, stream=True
        )
    )
    logprobs = [
        value
        for chunk in chunks
        for choice in chunk.choices
        if choice.logprobs is not None
        for value in choice.logprobs.token_logprobs or ()
    ]
    assert len(logprobs) > 1
    assert_logprobs_confidence(telemetry.span(), logprobs)


def test_responses_confidence(sentinel: Instrument, telemetry: Telemetry, client: OpenAI) -> None:
    sentinel()
    response = client.responses.create(model=MODEL, input="Hello", include=[LOGPROBS_INCLUDE])
    assert_logprobs_confidence(telemetry.span(), responses_logprobs(response))


def test_streamed_responses_confidence(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    events = list(
        client.responses.create(model=MODEL, input="Hello", include=[LOGPROBS_INCLUDE], stream=True)
    )
    deltas = [
        item.logprob
        for event in events
        if event.type == "response.output_text.delta"
        for item in event.logprobs
    ]
    assert deltas == responses_logprobs(completed_response(events))
    assert_logprobs_confidence(telemetry.span(), deltas)


async def test_async_streamed_responses_confidence(
    sentinel: Instrument, telemetry: Telemetry, aclient: AsyncOpenAI
) -> None:
    sentinel()
    stream = await aclient.responses.create(
        model=MODEL, input="Good morning", include=[LOGPROBS_INCLUDE], stream=True
    )
    events = [event async for event in stream]
    assert_logprobs_confidence(telemetry.span(), responses_logprobs(completed_response(events)))


def test_responses_parse_and_the_stream_helper(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    parsed = client.responses.parse(
        model=MODEL, input="A city", text_format=City, include=[LOGPROBS_INCLUDE]
    )
    assert isinstance(parsed.output_parsed, City)
    with client.responses.stream(model=MODEL, input="Hi", include=[LOGPROBS_INCLUDE]) as stream:
        for _ in stream:
            pass
        final = stream.get_final_response()
    parse_span, stream_span = telemetry.spans()
    assert_logprobs_confidence(parse_span, responses_logprobs(parsed))
    assert_logprobs_confidence(stream_span, responses_logprobs(final))


def test_a_lower_mean_logprob_gives_a_lower_confidence(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    found: list[float] = []
    with (
        Simulator(SimulatorConfig(seed=3, mean_logprob=-0.05)) as simulator,
        make_client(simulator.base_url) as openai_client,
    ):
        for mean in (-0.05, -0.6, -2.0):
            simulator.configure(mean_logprob=mean)
            completion = openai_client.chat.completions.create(
                model=MODEL, messages=MESSAGES, logprobs=True
            )
            span = telemetry.spans()[-1]
            found.append(assert_logprobs_confidence(span, chat_logprobs(completion.choices[0])))
    assert found[0] > found[1] > found[2]


def test_logprobs_win_over_the_heuristic(sentinel: Instrument, telemetry: Telemetry) -> None:
    """A hedging, truncated answer with logprobs: the confidence is the logprobs'."""
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body("I think it is probably", finish_reason="length")
    api.body["choices"][0]["logprobs"] = {
        "content": [token("I", -0.01), token(" think", -0.02), token(" it", -3.0)],
        "refusal": None,
    }
    completion = ask_scripted(api, logprobs=True)
    span = telemetry.span()
    assert_logprobs_confidence(span, chat_logprobs(completion.choices[0]))
    assert (span.attributes or {})[TRUNCATED] is True


def test_the_logprobs_of_a_refusal_are_read(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(None, refusal=REFUSAL_TEXT)
    refusal_tokens = [token("I'm", -0.1), token(" sorry", -0.4)]
    api.body["choices"][0]["logprobs"] = {"content": None, "refusal": refusal_tokens}
    ask_scripted(api, logprobs=True)
    span = telemetry.span()
    assert_logprobs_confidence(span, [-0.1, -0.4])
    assert (span.attributes or {})[REFUSAL] is True


# == 2. the heuristic ==========================================================================


@pytest.mark.parametrize(
    ("finish_reason", "content", "expected"),
    [
        ("stop", CONFIDENT_ANSWER, FINISHED),
        ("tool_calls", None, FINISHED),
        ("length", "The capital of France", CUT),
        ("content_filter", "", FILTERED),
    ],
)
def test_heuristic_by_finish_reason(
    sentinel: Instrument,
    telemetry: Telemetry,
    finish_reason: str,
    content: str | None,
    expected: float,
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(content, finish_reason=finish_reason)
    completion = ask_scripted(api)
    assert completion.choices[0].logprobs is None
    span = telemetry.span()
    assert_heuristic(span, expected)
    assert confidence_events(span) == {}


def test_heuristic_of_a_simulated_answer_cut_by_max_tokens(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=2)
    assert completion.choices[0].finish_reason == "length"
    assert completion.choices[0].logprobs is None
    assert_heuristic(telemetry.span(), CUT)


def test_heuristic_of_a_simulated_finished_answer(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert completion.choices[0].finish_reason == "stop"
    attributes = telemetry.span().attributes or {}
    assert attributes[SOURCE] == "heuristic"
    # the simulated prose may hedge ("probably"): 0.9 times 0.85 for each, up to four
    assert any(close(attributes[CONFIDENCE], FINISHED * PER_HEDGE**k) for k in range(5))


def test_refusal_heuristic(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(None, refusal=REFUSAL_TEXT)
    completion = ask_scripted(api)
    assert completion.choices[0].message.refusal == REFUSAL_TEXT
    assert_heuristic(telemetry.span(), REFUSED)


def test_refusal_heuristic_beats_the_finish_reason(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(None, refusal=REFUSAL_TEXT, finish_reason="content_filter")
    ask_scripted(api)
    assert_heuristic(telemetry.span(), REFUSED)


def test_streamed_refusal_heuristic(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = EventStream(refusal_chunks())
    chunks = list(ask_scripted(api, stream=True))
    refusal = "".join(c.choices[0].delta.refusal or "" for c in chunks if c.choices)
    assert refusal == "I'm sorry, but I can't help with that."
    span = telemetry.span()
    assert_heuristic(span, REFUSED)
    assert (span.attributes or {})[REFUSAL] is True


def test_responses_refusal_part_heuristic(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = responses_body(refusal_part())
    response = respond_scripted(api)
    assert response.output[0].content[0].type == "refusal"
    span = telemetry.span()
    assert_heuristic(span, REFUSED)
    assert (span.attributes or {})[REFUSAL] is True


HEDGED_ANSWERS = [
    pytest.param(CONFIDENT_ANSWER, 0, id="none"),
    pytest.param("I think the capital of France is Paris.", 1, id="one"),
    pytest.param("It is probably Paris, I believe.", 2, id="two"),
    pytest.param("I THINK it is PROBABLY Paris, PERHAPS.", 3, id="upper-case"),
    pytest.param(
        "Perhaps Paris. It might be Lyon. I'm not sure; it seems unclear, possibly Nice.",
        4,
        id="capped-at-four",
    ),
]


@pytest.mark.parametrize(("content", "hedges"), HEDGED_ANSWERS)
def test_hedging_phrases_lower_the_heuristic(
    sentinel: Instrument, telemetry: Telemetry, content: str, hedges: int
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(content)
    ask_scripted(api)
    assert_heuristic(telemetry.span(), FINISHED * PER_HEDGE**hedges)


def test_hedging_in_a_truncated_answer(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body("I believe the answer is", finish_reason="length")
    ask_scripted(api)
    assert_heuristic(telemetry.span(), CUT * PER_HEDGE)


def test_hedging_in_a_streamed_answer(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.stream_words = ["I", " think", " it", " is", " prob", "ably", " Paris."]
    chunks = list(ask_scripted(api, stream=True))
    assert streamed_text(chunks) == "I think it is probably Paris."
    assert_heuristic(telemetry.span(), FINISHED * PER_HEDGE**2)


async def test_hedging_in_an_async_streamed_answer(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.stream_words = ["Perhaps", " Lyon", "."]
    async with async_client(api) as openai_client:
        stream = await openai_client.chat.completions.create(
            model=MODEL, messages=MESSAGES, stream=True
        )
        assert [chunk async for chunk in stream]
    assert_heuristic(telemetry.span(), FINISHED * PER_HEDGE)


def test_only_the_first_answer_is_read_for_hedges(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(CONFIDENT_ANSWER, choices=2)
    api.body["choices"][1]["message"]["content"] = "I think, perhaps, probably Lyon."
    ask_scripted(api, n=2)
    span = telemetry.span()
    assert_heuristic(span, FINISHED)
    assert confidence_events(span) == {}  # per-answer events are for logprobs only


@pytest.mark.parametrize(
    ("padding", "expected"),
    [
        pytest.param(ANSWER_TEXT_LIMIT - len("I think."), FINISHED * PER_HEDGE, id="inside"),
        pytest.param(ANSWER_TEXT_LIMIT + 10, FINISHED, id="beyond"),
    ],
)
def test_hedges_are_read_in_the_first_characters_only(
    sentinel: Instrument, telemetry: Telemetry, padding: int, expected: float
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body("x" * (padding - 1) + " I think.")
    ask_scripted(api)
    assert_heuristic(telemetry.span(), expected)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(responses_body(text_part(CONFIDENT_ANSWER)), FINISHED, id="completed"),
        pytest.param(
            responses_body(text_part("I think it is Paris, probably.")),
            FINISHED * PER_HEDGE**2,
            id="hedged",
        ),
        pytest.param(
            api_payloads.response(output=[api_payloads.function_call("get_weather", "{}")]),
            FINISHED,
            id="tool-call",
        ),
        pytest.param(
            responses_body(
                text_part("The capital of"),
                status="incomplete",
                incomplete_reason="max_output_tokens",
            ),
            CUT,
            id="max-output-tokens",
        ),
        pytest.param(
            responses_body(text_part(""), status="incomplete", incomplete_reason="content_filter"),
            FILTERED,
            id="content-filter",
        ),
    ],
)
def test_responses_heuristic(
    sentinel: Instrument, telemetry: Telemetry, body: dict[str, Any], expected: float
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = body
    response = respond_scripted(api)
    assert responses_logprobs(response) == []
    assert_heuristic(telemetry.span(), expected)


def test_heuristic_off_leaves_no_confidence(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel(confidence_heuristic=False)
    api = ScriptedAPI()
    api.body = chat_body("I think it is Paris.")
    ask_scripted(api)
    span = telemetry.span()
    assert confidence_keys(span) == []
    assert confidence_events(span) == {}
    assert telemetry.points(CONFIDENCE_METRIC) == []


def test_heuristic_off_still_reports_logprobs(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel(confidence_heuristic=False)
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True)
    assert_logprobs_confidence(telemetry.span(), chat_logprobs(completion.choices[0]))


def test_heuristic_off_from_the_environment(
    sentinel: Instrument, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_SENTINEL_CONFIDENCE_HEURISTIC", "false")
    sentinel()
    ask_scripted(ScriptedAPI())
    assert confidence_keys(telemetry.span()) == []


def test_a_failed_call_has_no_confidence(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.status = 500
    with pytest.raises(openai.InternalServerError):
        ask_scripted(api, logprobs=True)
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert confidence_keys(span) == []
    assert not [key for key in span.attributes or {} if key.startswith("sentinel.response.")]
    assert telemetry.points(CONFIDENCE_METRIC) == []


def test_a_failed_response_has_no_confidence(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = api_payloads.response(status="failed", error=api_payloads.response_error())
    respond_scripted(api)
    span = telemetry.span()
    assert (span.attributes or {})["gen_ai.response.finish_reasons"] == ("error",)
    assert confidence_keys(span) == []


def test_a_simulated_server_error_has_no_confidence(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel()
    simulator.fail_next(500, retry_after=None)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True)
    assert confidence_keys(telemetry.span()) == []
    assert telemetry.points(CONFIDENCE_METRIC) == []


def test_a_stream_closed_early_has_no_heuristic_confidence(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.stream_words = ["I", " think", " so", "."]
    with sync_client(api) as openai_client:
        stream = openai_client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
        chunks = iter(stream)
        next(chunks)
        next(chunks)
        stream.close()
    span = telemetry.span()
    assert (span.attributes or {})["gen_ai.response.finish_reasons"] == ("error",)
    assert confidence_keys(span) == []


STREAM_ERROR = {"x-simulator-stream-error-after": "3"}


def test_a_responses_stream_that_failed_has_no_confidence(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    events = list(
        client.responses.create(
            model=MODEL,
            input="Hello",
            include=[LOGPROBS_INCLUDE],
            stream=True,
            extra_headers=STREAM_ERROR,
        )
    )
    assert [event.type for event in events][-1] == "response.failed"
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert confidence_keys(span) == []
    assert telemetry.points(CONFIDENCE_METRIC) == []


def test_a_chat_stream_that_failed_has_no_confidence(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    stream = client.chat.completions.create(
        model=MODEL, messages=MESSAGES, logprobs=True, stream=True, extra_headers=STREAM_ERROR
    )
    received: list[Any] = []
    with pytest.raises(openai.APIError):
        received.extend(stream)
    assert streamed_chat_logprobs(received)  # some tokens came, with their logprobs
    span = telemetry.span()
    assert span.status.status_code is StatusCode.ERROR
    assert confidence_keys(span) == []
    assert telemetry.points(CONFIDENCE_METRIC) == []


# -- recorded real responses (none with logprobs): the heuristic ----------------------------

REPLAYED = [
    "test_chat_completion_no_content",
    "test_chat_completion_multiple_choices",
    "test_chat_completion_streaming",
    "test_chat_completion_tool_calls_no_content",
    "test_responses_create_basic[content_mode0]",
    "test_responses_create_streaming[content_mode0]",
]


def recorded_finish_and_logprobs(cassette: Cassette) -> list[tuple[str, list[Any]]]:
    """Per interaction: the first answer's finish reason and every ``logprobs`` value."""
    found: list[tuple[str, list[Any]]] = []
    for interaction in cassette.interactions:
        if interaction.path.endswith("/responses"):
            if interaction.is_sse:
                events = sse_data(interaction.body)
                (final,) = [e["response"] for e in events if e["type"] == "response.completed"]
            else:
                final = json.loads(interaction.body)
            assert final["status"] == "completed"
            calls = any(item["type"] == "function_call" for item in final["output"])
            logprobs = [
                part.get("logprobs")
                for item in final["output"]
                if item["type"] == "message"
                for part in item["content"]
            ]
            found.append(("tool_calls" if calls else "stop", logprobs))
        elif interaction.is_sse:
            chunks = sse_data(interaction.body)
            choices = [c for chunk in chunks for c in chunk["choices"] if c["index"] == 0]
            (finish,) = [c["finish_reason"] for c in choices if c["finish_reason"]]
            found.append((finish, [c["logprobs"] for c in choices]))
        else:
            choices = json.loads(interaction.body)["choices"]
            found.append((choices[0]["finish_reason"], [c["logprobs"] for c in choices]))
    return found


@pytest.mark.parametrize("name", REPLAYED)
def test_recorded_responses_get_the_heuristic(
    sentinel: Instrument, telemetry: Telemetry, name: str
) -> None:
    cassette = load_cassette(CASSETTE_DIR / f"{name}.yaml")
    recorded = recorded_finish_and_logprobs(cassette)
    assert all(value in (None, []) for _, values in recorded for value in values)
    sentinel()
    replayer = Replayer(cassette)
    with sync_client(replayer, base_url="https://api.openai.com/v1", strict=False) as client:
        for interaction in cassette.interactions:
            request = interaction.request_json
            if interaction.path.endswith("/responses"):
                result = client.responses.create(**request)
            else:
                result = client.chat.completions.create(**request)
            if interaction.is_sse:
                assert list(result)
    assert replayer.all_played
    spans = telemetry.spans()
    assert len(spans) == len(recorded)
    for span, (finish, _) in zip(spans, recorded, strict=True):
        assert_heuristic(span, HEURISTIC_BY_FINISH[finish])
        assert confidence_events(span) == {}
        assert not [key for key in QUALITY_ATTRIBUTES if key in (span.attributes or {})]


# == 3. quality signals ==========================================================================


@pytest.mark.parametrize(
    ("body", "attribute", "counter"),
    [
        pytest.param(
            chat_body("The capital of", finish_reason="length"),
            TRUNCATED,
            TRUNCATIONS,
            id="chat-length",
        ),
        pytest.param(chat_body(None, refusal=REFUSAL_TEXT), REFUSAL, REFUSALS, id="chat-refusal"),
        pytest.param(
            chat_body("", finish_reason="content_filter"),
            CONTENT_FILTERED,
            CONTENT_FILTERED_METRIC,
            id="chat-content-filter",
        ),
    ],
)
def test_chat_quality_signals(
    sentinel: Instrument,
    telemetry: Telemetry,
    body: dict[str, Any],
    attribute: str,
    counter: str,
) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = body
    ask_scripted(api)
    attributes = telemetry.span().attributes or {}
    assert attributes[attribute] is True
    assert [key for key in QUALITY_ATTRIBUTES if key in attributes] == [attribute]
    (point,) = telemetry.points(counter)
    assert point.value == 1  # type: ignore[attr-defined]
    assert point.attributes["gen_ai.operation.name"] == "chat"
    assert point.attributes["gen_ai.request.model"] == MODEL
    for other in QUALITY_COUNTERS:
        if other != counter:
            assert telemetry.points(other) == []


def test_any_truncated_answer_marks_the_call(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(CONFIDENT_ANSWER, choices=2)
    api.body["choices"][1]["finish_reason"] = "length"
    ask_scripted(api, n=2)
    span = telemetry.span()
    assert (span.attributes or {})[TRUNCATED] is True
    assert_heuristic(span, FINISHED)  # the first answer finished
    assert counter_values(telemetry, TRUNCATIONS) == [1]


def test_truncated_responses_are_counted(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = responses_body(
        text_part("The capital of"), status="incomplete", incomplete_reason="max_output_tokens"
    )
    for _ in range(2):
        response = respond_scripted(api)
        assert response.status == "incomplete"
    for span in telemetry.spans():
        assert (span.attributes or {})[TRUNCATED] is True
    assert counter_values(telemetry, TRUNCATIONS) == [2]
    assert telemetry.points(REFUSALS) == telemetry.points(CONTENT_FILTERED_METRIC) == []


def test_content_filtered_responses_are_counted(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = responses_body(
        text_part(""), status="incomplete", incomplete_reason="content_filter"
    )
    respond_scripted(api)
    attributes = telemetry.span().attributes or {}
    assert [key for key in QUALITY_ATTRIBUTES if key in attributes] == [CONTENT_FILTERED]
    assert counter_values(telemetry, CONTENT_FILTERED_METRIC) == [1]
    assert telemetry.points(TRUNCATIONS) == []


def test_a_simulated_truncated_response(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    config = SimulatorConfig(seed=7, min_completion_tokens=24, max_completion_tokens=40)
    with Simulator(config) as simulator, make_client(simulator.base_url) as openai_client:
        response = openai_client.responses.create(
            model=MODEL, input="Tell me a long story", max_output_tokens=16
        )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    span = telemetry.span()
    assert (span.attributes or {})[TRUNCATED] is True
    assert_heuristic(span, CUT * PER_HEDGE ** simulated_hedges(response.output_text))
    assert counter_values(telemetry, TRUNCATIONS) == [1]


def simulated_hedges(text: str) -> int:
    """Hedges in simulated prose: its vocabulary hedges with ``probably`` only."""
    return min(len(re.findall(r"\bprobably\b", text, re.IGNORECASE)), 4)


def test_streamed_chat_quality_signals(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    chunks = [payloads.chunk(role="assistant", content=""), payloads.chunk(content="The")]
    chunks.append(payloads.chunk(finish_reason="content_filter"))
    list(ask_scripted(EventStream(chunks), stream=True))
    span = telemetry.span()
    assert (span.attributes or {})[CONTENT_FILTERED] is True
    assert_heuristic(span, FILTERED)
    assert counter_values(telemetry, CONTENT_FILTERED_METRIC) == [1]


@pytest.mark.parametrize("api_name", ["chat", "responses", "simulated"])
def test_a_normal_answer_has_no_quality_issue(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI, api_name: str
) -> None:
    sentinel()
    api = ScriptedAPI()
    if api_name == "chat":
        ask_scripted(api)
    elif api_name == "responses":
        api.body = responses_body(text_part(CONFIDENT_ANSWER))
        respond_scripted(api)
    else:
        client.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True)
    attributes = telemetry.span().attributes or {}
    assert CONFIDENCE in attributes
    assert [key for key in QUALITY_ATTRIBUTES if key in attributes] == []
    for counter in QUALITY_COUNTERS:
        assert telemetry.points(counter) == []


EXPECTED_BUCKETS = [round(0.05 * step, 2) for step in range(1, 17)] + [
    round(0.8 + 0.01 * step, 2) for step in range(1, 20)
]


def assert_one_confidence_point(telemetry: Telemetry, value: float, source: str) -> None:
    metric = telemetry.metric(CONFIDENCE_METRIC)
    assert metric is not None and metric.unit == "1"
    (point,) = telemetry.points(CONFIDENCE_METRIC)
    assert point.attributes[SOURCE] == source
    assert point.attributes["gen_ai.operation.name"] == "chat"
    assert point.attributes["gen_ai.provider.name"] == "openai"
    assert point.attributes["gen_ai.request.model"] == MODEL
    assert point.count == 1
    assert close(point.sum, value)
    assert list(point.explicit_bounds) == pytest.approx(EXPECTED_BUCKETS, abs=1e-12)
    bucket = bisect.bisect_left(EXPECTED_BUCKETS, value)  # buckets are (lower, upper]
    assert point.bucket_counts[bucket] == 1
    assert sum(point.bucket_counts) == 1


def test_confidence_histogram_from_the_heuristic(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    sentinel()
    ask_scripted(ScriptedAPI())
    assert EXPECTED_BUCKETS[:3] == [0.05, 0.1, 0.15] and EXPECTED_BUCKETS[15:18] == [
        0.8,
        0.81,
        0.82,
    ]
    assert len(EXPECTED_BUCKETS) == 35 and EXPECTED_BUCKETS[-1] == 0.99
    assert_one_confidence_point(telemetry, FINISHED, "heuristic")


def test_confidence_histogram_from_logprobs(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True)
    value, _ = geometric(chat_logprobs(completion.choices[0]))
    assert_one_confidence_point(telemetry, value, "logprobs")


def test_the_histogram_has_one_point_per_call_with_several_answers(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel()
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, logprobs=True, n=3)
    value, _ = geometric(chat_logprobs(completion.choices[0]))
    assert_one_confidence_point(telemetry, value, "logprobs")


# == 4. request_logprobs ==========================================================================


def test_request_logprobs_asks_for_them(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    question = [{"role": "user", "content": "Name three rivers."}]
    sentinel()
    plain = client.chat.completions.create(model=MODEL, messages=question)
    assert "logprobs" not in simulator.requests[-1].json  # off by default
    assert plain.choices[0].logprobs is None

    sentinel(request_logprobs=True)
    completion = client.chat.completions.create(model=MODEL, messages=question)
    sent = simulator.requests[-1].json
    assert sent["logprobs"] is True
    assert "top_logprobs" not in sent
    # the caller's response works as before: same answer, logprobs on top
    assert completion.choices[0].message.content == plain.choices[0].message.content
    assert completion.choices[0].finish_reason == plain.choices[0].finish_reason
    span = telemetry.spans()[-1]
    assert (span.attributes or {})[INJECTED] is True
    assert_logprobs_confidence(span, chat_logprobs(completion.choices[0]))
    assert INJECTED not in (telemetry.spans()[0].attributes or {})


def test_request_logprobs_for_a_stream(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel(request_logprobs=True, stream_usage=True)
    chunks = list(client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True))
    sent = simulator.requests[-1].json
    assert sent["logprobs"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert streamed_text(chunks)
    assert all(chunk.choices for chunk in chunks)  # the usage chunk it asked for is hidden
    span = telemetry.span()
    assert (span.attributes or {})[INJECTED] is True
    assert_logprobs_confidence(span, streamed_chat_logprobs(chunks))


async def test_request_logprobs_async(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, aclient: AsyncOpenAI
) -> None:
    sentinel(request_logprobs=True)
    completion = await aclient.chat.completions.create(model=MODEL, messages=MESSAGES)
    assert simulator.requests[-1].json["logprobs"] is True
    assert_logprobs_confidence(telemetry.span(), chat_logprobs(completion.choices[0]))


def test_request_logprobs_from_the_environment(
    sentinel: Instrument, telemetry: Telemetry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_SENTINEL_REQUEST_LOGPROBS", "true")
    sentinel()
    api = ScriptedAPI()
    ask_scripted(api)
    assert api.requests[-1]["logprobs"] is True
    assert (telemetry.span().attributes or {})[INJECTED] is True


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param({"logprobs": False}, id="logprobs-false"),
        pytest.param({"logprobs": True, "top_logprobs": 3}, id="logprobs-true"),
        pytest.param({"extra_body": {"logprobs": False}}, id="extra-body"),
    ],
)
def test_request_logprobs_respects_the_callers_choice(
    sentinel: Instrument, telemetry: Telemetry, caller: dict[str, Any]
) -> None:
    sentinel(request_logprobs=True)
    api = ScriptedAPI()
    ask_scripted(api, **caller)
    sent = api.requests[-1]
    expected = caller.get("logprobs", caller.get("extra_body", {}).get("logprobs"))
    assert sent["logprobs"] is expected
    assert sent.get("top_logprobs") == caller.get("top_logprobs")
    assert INJECTED not in (telemetry.span().attributes or {})


@pytest.mark.parametrize(
    "model",
    [
        "o3-mini",
        "gpt-5",
        "gpt-5-mini",
        "o1",
        "o4-mini",
        "gpt-4o-audio-preview",
        "gpt-4o-mini-search-preview",
        "text-embedding-3-small",
    ],
)
def test_request_logprobs_leaves_other_models_alone(
    sentinel: Instrument, telemetry: Telemetry, model: str
) -> None:
    sentinel(request_logprobs=True)
    api = ScriptedAPI()
    ask_scripted(api, model=model)
    assert "logprobs" not in api.requests[-1]
    span = telemetry.span()
    assert INJECTED not in (span.attributes or {})
    assert_heuristic(span, FINISHED)


@pytest.mark.parametrize(
    "model",
    [
        "gpt-4o-mini",
        "gpt-4o",
        "gpt-4.1-nano",
        "gpt-4",
        "gpt-4-turbo",
        "gpt-3.5-turbo",
        "ft:gpt-4o-mini-2024-07-18:acme::abc123",
    ],
)
def test_request_logprobs_for_models_that_have_them(
    sentinel: Instrument, telemetry: Telemetry, model: str
) -> None:
    sentinel(request_logprobs=True)
    api = ScriptedAPI()
    ask_scripted(api, model=model)
    assert api.requests[-1]["logprobs"] is True
    assert (telemetry.span().attributes or {})[INJECTED] is True


def test_request_logprobs_leaves_raw_responses_alone(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel(request_logprobs=True)
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=MESSAGES)
    assert "logprobs" not in simulator.requests[-1].json
    assert json.loads(raw.text)["choices"][0]["logprobs"] is None  # the body the caller reads
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=MESSAGES
    ) as streaming:
        assert json.loads(streaming.read())["choices"][0]["logprobs"] is None
    assert "logprobs" not in simulator.requests[-1].json
    for span in telemetry.spans():
        assert INJECTED not in (span.attributes or {})
    assert len(telemetry.spans()) == 2


def test_request_logprobs_leaves_legacy_completions_alone(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel(request_logprobs=True)
    client.completions.create(model=INSTRUCT_MODEL, prompt=PROMPT, max_tokens=5)
    assert "logprobs" not in simulator.requests[-1].json
    assert INJECTED not in (telemetry.span().attributes or {})


@pytest.mark.parametrize(
    ("include", "sent"),
    [
        pytest.param(None, [LOGPROBS_INCLUDE], id="none"),
        pytest.param(
            ["reasoning.encrypted_content"],
            ["reasoning.encrypted_content", LOGPROBS_INCLUDE],
            id="kept",
        ),
    ],
)
def test_request_logprobs_for_responses(
    sentinel: Instrument,
    telemetry: Telemetry,
    simulator: Simulator,
    client: OpenAI,
    include: list[str] | None,
    sent: list[str],
) -> None:
    sentinel()
    extra = {} if include is None else {"include": include}
    plain = client.responses.create(model=MODEL, input="Name a river.", **extra)
    assert simulator.requests[-1].json.get("include") == include
    sentinel(request_logprobs=True)
    response = client.responses.create(model=MODEL, input="Name a river.", **extra)
    assert simulator.requests[-1].json["include"] == sent
    assert response.output_text == plain.output_text
    span = telemetry.spans()[-1]
    assert (span.attributes or {})[INJECTED] is True
    assert_logprobs_confidence(span, responses_logprobs(response))


def test_request_logprobs_for_a_responses_stream(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel(request_logprobs=True)
    events = list(client.responses.create(model=MODEL, input="Hi there", stream=True))
    assert simulator.requests[-1].json["include"] == [LOGPROBS_INCLUDE]
    span = telemetry.span()
    assert (span.attributes or {})[INJECTED] is True
    assert_logprobs_confidence(span, responses_logprobs(completed_response(events)))


def test_request_logprobs_when_responses_already_asked(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel(request_logprobs=True)
    response = client.responses.create(model=MODEL, input="Hi", include=[LOGPROBS_INCLUDE])
    assert simulator.requests[-1].json["include"] == [LOGPROBS_INCLUDE]
    span = telemetry.span()
    assert INJECTED not in (span.attributes or {})
    assert_logprobs_confidence(span, responses_logprobs(response))


def test_request_logprobs_for_a_reasoning_model_on_responses(
    sentinel: Instrument, telemetry: Telemetry, simulator: Simulator, client: OpenAI
) -> None:
    sentinel(request_logprobs=True)
    client.responses.create(model="o3-mini", input="Hi")
    assert "include" not in simulator.requests[-1].json
    assert INJECTED not in (telemetry.span().attributes or {})


# == 5. the answer's text is never recorded ======================================================

SECRET = "Zanzibar-7731"
SECRET_ANSWER = f"I think the code is {SECRET}, probably."


def assert_secret_absent(telemetry: Telemetry) -> None:
    spans = telemetry.spans()
    assert spans
    for span in spans:
        for key, value in every_span_value(span):
            assert SECRET not in value, key
    metric_values = list(every_metric_attribute(telemetry))
    assert metric_values
    for name, key, value in metric_values:
        assert SECRET not in str(value), (name, key)


def test_the_answer_text_is_not_recorded(sentinel: Instrument, telemetry: Telemetry) -> None:
    sentinel()
    api = ScriptedAPI()
    api.body = chat_body(SECRET_ANSWER)
    assert ask_scripted(api).choices[0].message.content == SECRET_ANSWER
    api.body = chat_body(None, refusal=f"I won't say {SECRET}.")
    ask_scripted(api)
    api.stream_words = ["I think", " it is ", SECRET, "."]
    list(ask_scripted(api, stream=True))
    api.body = responses_body(text_part(SECRET_ANSWER))
    respond_scripted(api)
    api.body = responses_body(refusal_part(f"No {SECRET}"))
    respond_scripted(api)
    assert len(telemetry.spans()) == 5
    assert_heuristic(telemetry.spans()[0], FINISHED * PER_HEDGE**2)  # the text was read
    assert_secret_absent(telemetry)


def test_the_probe_sees_the_text_when_capture_is_on(
    sentinel: Instrument, telemetry: Telemetry
) -> None:
    """The same search finds the answer once content capture records it."""
    sentinel(capture_content=True)
    api = ScriptedAPI()
    api.body = chat_body(SECRET_ANSWER)
    ask_scripted(api)
    found = [key for key, value in every_span_value(telemetry.span()) if SECRET in value]
    assert found == ["gen_ai.output.messages"]


def test_simulated_answers_are_not_recorded(
    sentinel: Instrument, telemetry: Telemetry, client: OpenAI
) -> None:
    sentinel(request_logprobs=True)
    completion = client.chat.completions.create(model=MODEL, messages=MESSAGES, n=2)
    phrases = set()
    for choice in completion.choices:
        words = (choice.message.content or "").split()
        phrases |= {" ".join(words[at : at + 3]) for at in range(len(words) - 2)}
    assert len(phrases) > 4
    span = telemetry.span()
    assert len(confidence_events(span)) == 2
    recorded = [value for _, value in every_span_value(span)]
    recorded += [str(value) for _, _, value in every_metric_attribute(telemetry)]
    assert [phrase for phrase in phrases if any(phrase in value for value in recorded)] == []
