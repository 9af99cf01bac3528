"""Repeated requests through the real client and the real SDK: the same request sent again
within ``repeat_window_seconds`` is marked on its span and counted, with the model it
first went to when a retry escalated to another one."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from pydantic import BaseModel

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor, SettingsError, semconv

from ..support import api_payloads, payloads
from ..support.http_library import http
from ..support.telemetry import Telemetry
from ..support.transport import async_client, sync_client

Instrument = Callable[..., OpenAISentinelInstrumentor]

PROMPT = "Summarize the quarterly report of Zanzibar Widgets in one line"
QUESTION = [{"role": "user", "content": PROMPT}]
REPEAT = semconv.SENTINEL_REQUEST_REPEAT
MODEL_CHANGED = semconv.SENTINEL_REQUEST_REPEAT_MODEL_CHANGED
FIRST_MODEL = semconv.SENTINEL_REQUEST_REPEAT_FIRST_MODEL
REPEAT_METRICS = (
    semconv.METRIC_REQUEST_REPEATS,
    semconv.METRIC_REQUEST_REPEAT_COST,
    semconv.METRIC_REQUEST_MODEL_SWITCHES,
)
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


class Server:
    """Answers the chat, Responses, legacy completions, embeddings and moderations APIs
    in their wire format, echoing the model asked for; fails with the statuses queued in
    ``failures`` first; remembers the JSON it was sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.failures: list[int] = []

    def __call__(self, request: http.Request) -> http.Response:
        request.read()
        sent = json.loads(request.content or b"{}")
        self.sent.append(sent)
        if self.failures:
            error = {"message": "try again", "type": "server_error", "param": None, "code": None}
            # ``retry-after-ms`` keeps the client's own retries (when it makes any) quick
            return http.Response(
                self.failures.pop(0), json={"error": error}, headers={"retry-after-ms": "1"}
            )
        path = request.url.path
        model = sent.get("model", "gpt-4o-mini")
        if path.endswith("/chat/completions"):
            if sent.get("stream"):
                options = sent.get("stream_options") or {}
                chunks = payloads.stream_chunks(
                    ["This", " is", " fine."], include_usage=bool(options.get("include_usage"))
                )
                return http.Response(
                    200,
                    headers={"content-type": "text/event-stream"},
                    content=payloads.sse(chunks),
                )
            content = '{"answer": "yes"}' if "response_format" in sent else "This is a test."
            return http.Response(200, json=payloads.completion(content, model=model))
        if path.endswith("/completions"):
            return http.Response(200, json=api_payloads.text_completion())
        if path.endswith("/embeddings"):
            body = api_payloads.embeddings([[0.25, -0.5, 0.75]], model=model)
            return http.Response(200, json=body)
        if path.endswith("/moderations"):
            return http.Response(200, json=api_payloads.moderation())
        text = '{"answer": "yes"}' if "text" in sent else "This is a test."
        output = [api_payloads.output_message(text)]
        if request.method == "GET":  # responses.retrieve
            return http.Response(200, json=api_payloads.response(output=output))
        return http.Response(200, json=api_payloads.response(output=output, model=model))


class Answer(BaseModel):
    answer: str


class Verdict(BaseModel):
    answer: str


# -- helpers ----------------------------------------------------------------------------


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


def repeat_attributes(span: ReadableSpan) -> dict[str, Any]:
    """The span's ``sentinel.request.repeat*`` attributes."""
    return {k: v for k, v in attributes(span).items() if k.startswith(REPEAT)}


def total(telemetry: Telemetry, metric: str) -> float:
    """The sum of a counter over all its points (0 when it has none)."""
    return sum(point.value for point in telemetry.points(metric))


def all_points(telemetry: Telemetry) -> Iterator[tuple[str, Any]]:
    """Every metric point the SDK holds, with its metric's name."""
    data = telemetry.metric_reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                for point in metric.data.data_points:
                    yield metric.name, point


def ask(client: openai.OpenAI, model: str = "gpt-4o-mini", **kwargs: Any) -> None:
    """A chat call; a stream is read to its end (which ends its span)."""
    kwargs.setdefault("messages", QUESTION)
    result = client.chat.completions.create(model=model, **kwargs)
    if isinstance(result, openai.Stream):
        for _ in result:
            pass


def no_repeat_metrics(telemetry: Telemetry) -> None:
    for metric in REPEAT_METRICS:
        assert telemetry.points(metric) == [], metric


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def client(server: Server) -> Iterator[openai.OpenAI]:
    with sync_client(server) as openai_client:
        yield openai_client


# -- chat ------------------------------------------------------------------------------


def test_the_same_prompt_twice_is_a_repeat(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    ask(client)
    ask(client)
    first, second = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert repeat_attributes(second) == {REPEAT: True}
    cost = attributes(second)[semconv.SENTINEL_COST_USD]
    assert cost > 0
    (repeats,) = telemetry.points(semconv.METRIC_REQUEST_REPEATS)
    assert repeats.value == 1
    assert repeats.attributes is not None
    assert repeats.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o-mini"
    (repeat_cost,) = telemetry.points(semconv.METRIC_REQUEST_REPEAT_COST)
    assert repeat_cost.value == pytest.approx(cost)
    assert telemetry.metric(semconv.METRIC_REQUEST_REPEAT_COST).unit == "USD"
    assert telemetry.metric(semconv.METRIC_REQUEST_REPEATS).unit == "{request}"
    assert telemetry.points(semconv.METRIC_REQUEST_MODEL_SWITCHES) == []


def test_a_repeat_to_another_model_names_the_first_one(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    ask(client, "gpt-4o-mini")
    ask(client, "gpt-4o")
    ask(client, "gpt-4.1")
    first, second, third = telemetry.spans()
    assert repeat_attributes(first) == {}
    for span in (second, third):
        assert repeat_attributes(span) == {
            REPEAT: True,
            MODEL_CHANGED: True,
            FIRST_MODEL: "gpt-4o-mini",  # the first model, not the one before
        }
    switches = {
        (point.attributes[FIRST_MODEL], point.attributes[semconv.GEN_AI_REQUEST_MODEL]): point.value
        for point in telemetry.points(semconv.METRIC_REQUEST_MODEL_SWITCHES)
    }
    assert switches == {("gpt-4o-mini", "gpt-4o"): 1, ("gpt-4o-mini", "gpt-4.1"): 1}
    assert total(telemetry, semconv.METRIC_REQUEST_REPEATS) == 2
    spent = sum(attributes(span)[semconv.SENTINEL_COST_USD] for span in (second, third))
    assert total(telemetry, semconv.METRIC_REQUEST_REPEAT_COST) == pytest.approx(spent)


def test_back_to_the_first_model_is_a_repeat_without_a_change(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    ask(client, "gpt-4o-mini")
    ask(client, "gpt-4o")
    ask(client, "gpt-4o-mini")
    assert repeat_attributes(telemetry.spans()[2]) == {REPEAT: True}
    (switch,) = telemetry.points(semconv.METRIC_REQUEST_MODEL_SWITCHES)
    assert switch.value == 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"messages": [{"role": "user", "content": PROMPT + "!"}]}, id="prompt"),
        pytest.param(
            {"messages": [{"role": "system", "content": "Be brief."}, *QUESTION]}, id="system"
        ),
        pytest.param({"temperature": 0.2}, id="temperature"),
        pytest.param({"tools": [WEATHER_TOOL]}, id="tools"),
        pytest.param({"response_format": {"type": "json_object"}}, id="response_format"),
        pytest.param({"max_completion_tokens": 16}, id="max_tokens"),
        pytest.param({"n": 2}, id="n"),
    ],
)
def test_a_different_request_is_not_a_repeat(
    change: dict[str, Any],
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
) -> None:
    ask(client)
    ask(client, **change)
    ask(client, **change)  # the changed request is itself remembered
    first, changed, again = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert repeat_attributes(changed) == {}
    assert repeat_attributes(again) == {REPEAT: True}
    assert total(telemetry, semconv.METRIC_REQUEST_REPEATS) == 1


@pytest.mark.parametrize(
    "option",
    [
        pytest.param({"stream": True}, id="stream"),
        pytest.param(
            {"stream": True, "stream_options": {"include_usage": True}}, id="stream_options"
        ),
        pytest.param({"stream": False}, id="stream-false"),
        pytest.param({"user": "user-4711"}, id="user"),
        pytest.param({"metadata": {"run": "nightly"}, "store": True}, id="metadata"),
        pytest.param({"timeout": 12.5}, id="timeout"),
        pytest.param({"extra_headers": {"x-trace": "abc"}}, id="extra_headers"),
        pytest.param({"extra_query": {"debug": "1"}}, id="extra_query"),
        pytest.param({"service_tier": "flex"}, id="service_tier"),
        pytest.param({"prompt_cache_key": "reports"}, id="prompt_cache_key"),
        pytest.param({"safety_identifier": "hashed-user"}, id="safety_identifier"),
    ],
)
def test_transport_options_and_labels_do_not_make_another_request(
    option: dict[str, Any],
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
    server: Server,
) -> None:
    ask(client)
    ask(client, **option)
    assert len(server.sent) == 2
    first, again = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert repeat_attributes(again) == {REPEAT: True}
    assert total(telemetry, semconv.METRIC_REQUEST_REPEATS) == 1


def test_a_streamed_re_ask_is_a_repeat_and_counts_its_cost(
    telemetry: Telemetry, instrument: Instrument, client: openai.OpenAI
) -> None:
    instrument(stream_usage=True)  # the stream reports its usage, so it is priced
    ask(client)
    ask(client, stream=True)
    first, streamed = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert attributes(streamed)[semconv.GEN_AI_REQUEST_STREAM] is True
    assert repeat_attributes(streamed) == {REPEAT: True}
    cost = attributes(streamed)[semconv.SENTINEL_COST_USD]
    assert total(telemetry, semconv.METRIC_REQUEST_REPEAT_COST) == pytest.approx(cost)


# -- the window and the table ------------------------------------------------------------


def test_a_request_after_the_window_is_not_a_repeat(
    telemetry: Telemetry, instrument: Instrument, client: openai.OpenAI
) -> None:
    instrumentor = instrument(repeat_window_seconds=0.05)
    assert instrumentor.settings is not None
    assert instrumentor.settings.repeat_window_seconds == 0.05
    ask(client)
    time.sleep(0.2)
    ask(client, "gpt-4o")
    for span in telemetry.spans():
        assert repeat_attributes(span) == {}
    no_repeat_metrics(telemetry)


def test_a_big_window_remembers(
    telemetry: Telemetry, instrument: Instrument, client: openai.OpenAI
) -> None:
    instrument(repeat_window_seconds=86_400)
    ask(client)
    time.sleep(0.2)
    ask(client)
    assert repeat_attributes(telemetry.spans()[1]) == {REPEAT: True}


@pytest.mark.parametrize("source", ["keyword", "environment"])
def test_a_zero_window_turns_detection_off(
    source: str,
    telemetry: Telemetry,
    instrument: Instrument,
    client: openai.OpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if source == "keyword":
        instrumentor = instrument(repeat_window_seconds=0)
    else:
        monkeypatch.setenv("OPENAI_SENTINEL_REPEAT_WINDOW_SECONDS", "0")
        instrumentor = instrument()
    assert instrumentor.settings is not None
    assert instrumentor.settings.repeat_window_seconds == 0
    ask(client)
    ask(client)
    ask(client, "gpt-4o")
    spans = telemetry.spans()
    assert len(spans) == 3
    for span in spans:
        assert repeat_attributes(span) == {}
        assert attributes(span)[semconv.SENTINEL_COST_USD] > 0  # the rest still works
    no_repeat_metrics(telemetry)


def test_the_window_can_be_set_from_the_environment(
    telemetry: Telemetry,
    instrument: Instrument,
    client: openai.OpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_SENTINEL_REPEAT_WINDOW_SECONDS", "0.05")
    monkeypatch.setenv("OPENAI_SENTINEL_REPEAT_TABLE_SIZE", "5")
    instrumentor = instrument()
    assert instrumentor.settings is not None
    assert instrumentor.settings.repeat_window_seconds == 0.05
    assert instrumentor.settings.repeat_table_size == 5
    ask(client)
    time.sleep(0.2)
    ask(client)
    assert [repeat_attributes(span) for span in telemetry.spans()] == [{}, {}]


def _prompt(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question number {n}"}]


def test_a_small_table_forgets_the_least_recently_seen(
    telemetry: Telemetry, instrument: Instrument, client: openai.OpenAI
) -> None:
    instrument(repeat_table_size=2)
    for n in (1, 2, 3, 3, 1):
        ask(client, messages=_prompt(n))
    found = [bool(repeat_attributes(span)) for span in telemetry.spans()]
    # the third prompt is still known; the first was pushed out by the second and third
    assert found == [False, False, False, True, False]


def test_a_full_table_still_knows_its_oldest_entry(
    telemetry: Telemetry, instrument: Instrument, client: openai.OpenAI
) -> None:
    instrument(repeat_table_size=2)
    for n in (1, 2, 3, 1, 3):
        ask(client, messages=_prompt(n))
    found = [bool(repeat_attributes(span)) for span in telemetry.spans()]
    # after 1, 2, 3, 1 the two most recently seen are 3 and 1: the last call repeats 3
    assert found == [False, False, False, False, True]


def test_a_table_of_one_detects_an_immediate_repeat(
    telemetry: Telemetry, instrument: Instrument, client: openai.OpenAI
) -> None:
    instrument(repeat_table_size=1)
    ask(client)
    ask(client)
    assert repeat_attributes(telemetry.spans()[1]) == {REPEAT: True}


# -- the other APIs, and async clients ---------------------------------------------------


def test_responses_api(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    client.responses.create(model="gpt-4o-mini", input=PROMPT, instructions="Be brief.")
    client.responses.create(model="gpt-4o", input=PROMPT, instructions="Be brief.")
    client.responses.create(model="gpt-4o", input=PROMPT, instructions="Be verbose.")
    client.responses.create(
        model="gpt-4o",
        input=PROMPT,
        instructions="Be brief.",
        previous_response_id=api_payloads.RESPONSE_ID,
    )
    first, escalated, other_instructions, follow_up = telemetry.spans()
    assert attributes(escalated)[semconv.OPENAI_API_TYPE] == semconv.API_TYPE_RESPONSES
    assert repeat_attributes(first) == {}
    assert repeat_attributes(escalated) == {
        REPEAT: True,
        MODEL_CHANGED: True,
        FIRST_MODEL: "gpt-4o-mini",
    }
    assert repeat_attributes(other_instructions) == {}
    assert repeat_attributes(follow_up) == {}
    (switch,) = telemetry.points(semconv.METRIC_REQUEST_MODEL_SWITCHES)
    assert switch.attributes is not None
    assert switch.attributes[FIRST_MODEL] == "gpt-4o-mini"
    assert switch.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o"


def test_responses_parse_with_a_format_class(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    for text_format in (Answer, Answer, Verdict):
        parsed = client.responses.parse(model="gpt-4o-mini", input=PROMPT, text_format=text_format)
        assert parsed.output_parsed == text_format(answer="yes")
    assert [repeat_attributes(span) for span in telemetry.spans()] == [{}, {REPEAT: True}, {}]


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_retrieving_a_response_is_never_a_repeat(
    stream: bool,
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
) -> None:
    for _ in range(3):
        if stream:
            with client.responses.retrieve(api_payloads.RESPONSE_ID, stream=True) as events:
                for _event in events:
                    pass
        else:
            client.responses.retrieve(api_payloads.RESPONSE_ID)
    spans = telemetry.spans()
    assert len(spans) == 3
    for span in spans:
        assert attributes(span)[semconv.GEN_AI_OPERATION_NAME] == semconv.OPERATION_FETCH_RESPONSE
        assert repeat_attributes(span) == {}
    no_repeat_metrics(telemetry)


def test_embeddings(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    for model in ("text-embedding-3-small", "text-embedding-3-small", "text-embedding-3-large"):
        client.embeddings.create(model=model, input=PROMPT, encoding_format="float")
    client.embeddings.create(
        model="text-embedding-3-small", input=[PROMPT], encoding_format="float"
    )
    first, same, larger, as_list = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert repeat_attributes(same) == {REPEAT: True}
    assert repeat_attributes(larger) == {
        REPEAT: True,
        MODEL_CHANGED: True,
        FIRST_MODEL: "text-embedding-3-small",
    }
    assert repeat_attributes(as_list) == {}  # a list of one text is another request
    assert total(telemetry, semconv.METRIC_REQUEST_REPEATS) == 2


def test_legacy_completions(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, max_tokens=7)
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, max_tokens=7)
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, max_tokens=8)
    first, again, longer = telemetry.spans()
    assert attributes(again)[semconv.GEN_AI_OPERATION_NAME] == semconv.OPERATION_TEXT_COMPLETION
    assert repeat_attributes(first) == {}
    assert repeat_attributes(again) == {REPEAT: True}
    assert repeat_attributes(longer) == {}


async def test_async_clients(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, server: Server
) -> None:
    async with async_client(server) as aclient:
        await aclient.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        await aclient.chat.completions.create(model="gpt-4o", messages=QUESTION)
        await aclient.responses.create(model="gpt-4o-mini", input=PROMPT)
        await aclient.responses.create(model="gpt-4o-mini", input=PROMPT)
        stream = await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=QUESTION, stream=True
        )
        async for _ in stream:
            pass
    found = [repeat_attributes(span) for span in telemetry.spans()]
    assert found == [
        {},
        {REPEAT: True, MODEL_CHANGED: True, FIRST_MODEL: "gpt-4o-mini"},
        {},
        {REPEAT: True},
        {REPEAT: True},
    ]


async def test_concurrent_identical_calls_make_one_repeat(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, server: Server
) -> None:
    async with async_client(server) as aclient:
        await asyncio.gather(
            *(aclient.chat.completions.create(model="gpt-4o-mini", messages=QUESTION) for _ in "ab")
        )
    spans = telemetry.spans()
    assert len(spans) == 2
    assert sorted(bool(repeat_attributes(span)) for span in spans) == [False, True]


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, openai.InternalServerError), (429, openai.RateLimitError)],
    ids=["500", "429"],
)
def test_a_failed_call_retried_on_another_model(
    status: int,
    error: type[Exception],
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
    server: Server,
) -> None:
    """The retry-escalation story: the cheap model fails, the caller asks a bigger one."""
    server.failures = [status]
    with pytest.raises(error):
        ask(client, "gpt-4o-mini")
    ask(client, "gpt-4o")
    failed, retried = telemetry.spans()
    assert attributes(failed)[semconv.ERROR_TYPE] == error.__name__
    assert repeat_attributes(failed) == {}
    assert repeat_attributes(retried) == {
        REPEAT: True,
        MODEL_CHANGED: True,
        FIRST_MODEL: "gpt-4o-mini",
    }
    (switch,) = telemetry.points(semconv.METRIC_REQUEST_MODEL_SWITCHES)
    assert switch.attributes is not None
    assert switch.attributes[FIRST_MODEL] == "gpt-4o-mini"
    assert switch.attributes[semconv.GEN_AI_REQUEST_MODEL] == "gpt-4o"
    assert attributes(retried)[semconv.SENTINEL_COST_USD] > 0
    # the first call got no answer: no response cache would have saved the retry
    assert total(telemetry, semconv.METRIC_REQUEST_REPEAT_COST) == 0
    # once a sighting was answered, a further repeat is what a cache would have saved
    ask(client, "gpt-4o")
    again = attributes(telemetry.spans()[-1])[semconv.SENTINEL_COST_USD]
    assert total(telemetry, semconv.METRIC_REQUEST_REPEAT_COST) == pytest.approx(again)


def test_a_failed_call_repeated_as_it_was_is_a_repeat_without_cost(
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
    server: Server,
) -> None:
    server.failures = [503, 503]
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            ask(client)
    first, second = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert repeat_attributes(second) == {REPEAT: True}
    assert total(telemetry, semconv.METRIC_REQUEST_REPEATS) == 1
    assert telemetry.points(semconv.METRIC_REQUEST_REPEAT_COST) == []  # nothing was billed


def test_the_clients_own_retries_are_one_call(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, server: Server
) -> None:
    server.failures = [500]
    with sync_client(server) as client:
        ask(client.with_options(max_retries=2))
    assert len(server.sent) == 2  # the client retried once, inside the one call
    span = telemetry.span()
    assert repeat_attributes(span) == {}
    no_repeat_metrics(telemetry)


# -- what the fingerprint reads, and what it must leave alone ----------------------------


def _messages() -> Iterator[dict[str, str]]:
    yield {"role": "system", "content": "Be brief."}
    yield {"role": "user", "content": PROMPT}


def test_generator_messages_are_left_to_the_client(
    telemetry: Telemetry,
    instrument: Instrument,
    client: openai.OpenAI,
    server: Server,
) -> None:
    """With neither content capture nor security scanning, nothing reads a one-shot
    iterable, so it cannot be fingerprinted: the call goes through whole and is not
    checked for repeats."""
    instrument(security_scanning=False)
    for _ in range(2):
        result = client.chat.completions.create(model="gpt-4o-mini", messages=_messages())
        assert result.choices[0].message.content == "This is a test."
    assert [sent["messages"] for sent in server.sent] == [list(_messages())] * 2
    spans = telemetry.spans()
    assert len(spans) == 2
    for span in spans:
        assert repeat_attributes(span) == {}
    no_repeat_metrics(telemetry)


@pytest.mark.parametrize(
    "settings", [{"capture_content": True}, {}], ids=["capture", "security-scanning"]
)
def test_generator_messages_read_for_capture_or_scanning_are_fingerprinted(
    telemetry: Telemetry,
    instrument: Instrument,
    client: openai.OpenAI,
    server: Server,
    settings: dict[str, bool],
) -> None:
    """Content capture and the security scanner read the messages (as a list, which the
    client makes of them anyway), so the fingerprint sees them too."""
    instrument(**settings)
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o-mini", messages=_messages())
    assert [sent["messages"] for sent in server.sent] == [list(_messages())] * 2
    assert [repeat_attributes(span) for span in telemetry.spans()] == [{}, {REPEAT: True}]


def test_a_message_from_an_earlier_response_is_fingerprinted(
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
    server: Server,
) -> None:
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    message = reply.choices[0].message
    assert isinstance(message, BaseModel)
    history = [*QUESTION, message, {"role": "user", "content": "Shorter, please."}]
    client.chat.completions.create(model="gpt-4o-mini", messages=history)
    client.chat.completions.create(model="gpt-4o", messages=history)
    assert server.sent[-1]["messages"][1]["content"] == "This is a test."
    first, follow_up, again = telemetry.spans()
    assert repeat_attributes(first) == {}
    assert repeat_attributes(follow_up) == {}
    assert repeat_attributes(again) == {
        REPEAT: True,
        MODEL_CHANGED: True,
        FIRST_MODEL: "gpt-4o-mini",
    }


def test_chat_parse_with_a_format_class(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    for response_format in (Answer, Answer, Verdict):
        parsed = client.chat.completions.parse(
            model="gpt-4o-mini", messages=QUESTION, response_format=response_format
        )
        assert parsed.choices[0].message.parsed == response_format(answer="yes")
    assert [repeat_attributes(span) for span in telemetry.spans()] == [{}, {REPEAT: True}, {}]


def test_no_prompt_text_reaches_the_telemetry(
    telemetry: Telemetry, instrumented: OpenAISentinelInstrumentor, client: openai.OpenAI
) -> None:
    secret = "Xq7-SECRET-PROMPT-9zK"
    words = [{"role": "user", "content": f"{secret} please"}]
    ask(client, messages=words)
    ask(client, messages=words)
    ask(client, "gpt-4o", messages=words, stream=True)
    client.responses.create(model="gpt-4o-mini", input=secret)
    client.responses.create(model="gpt-4o", input=secret)
    spans = telemetry.spans()
    assert sum(bool(repeat_attributes(span)) for span in spans) == 3
    for span in spans:
        assert secret not in span.name
        values = list(attributes(span).values())
        for event in span.events:
            values += list((event.attributes or {}).values())
        assert not [value for value in values if secret in str(value)]
    names = {name for name, _ in all_points(telemetry)}
    assert set(REPEAT_METRICS) <= names
    for name, point in all_points(telemetry):
        for key, value in (point.attributes or {}).items():
            assert secret not in str(value), (name, key)


# -- settings ---------------------------------------------------------------------------


@pytest.fixture
def leave_uninstrumented() -> Iterator[None]:
    yield
    if OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry:
        openai_sentinel.uninstrument()


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("repeat_window_seconds", -1),
        ("repeat_window_seconds", -0.5),
        ("repeat_window_seconds", "10"),
        ("repeat_window_seconds", float("inf")),
        ("repeat_window_seconds", float("nan")),
        ("repeat_window_seconds", True),
        ("repeat_table_size", 0),
        ("repeat_table_size", -3),
        ("repeat_table_size", "100"),
        ("repeat_table_size", 2.0),
        ("repeat_table_size", True),
    ],
)
def test_a_bad_setting_is_rejected_naming_it(
    setting: str, value: object, leave_uninstrumented: None
) -> None:
    with pytest.raises(SettingsError, match=rf"'{setting}' got"):
        openai_sentinel.instrument(**{setting: value})
    assert not OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("OPENAI_SENTINEL_REPEAT_WINDOW_SECONDS", "-1"),
        ("OPENAI_SENTINEL_REPEAT_WINDOW_SECONDS", "an hour"),
        ("OPENAI_SENTINEL_REPEAT_TABLE_SIZE", "0"),
        ("OPENAI_SENTINEL_REPEAT_TABLE_SIZE", "1.5"),
    ],
)
def test_a_bad_environment_value_is_rejected_naming_the_variable(
    variable: str, value: str, monkeypatch: pytest.MonkeyPatch, leave_uninstrumented: None
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        openai_sentinel.instrument()
    assert not OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry


@pytest.mark.parametrize("earlier", ["embeddings", "moderations"])
def test_the_same_text_sent_to_another_api_is_not_a_repeat(
    earlier: str,
    telemetry: Telemetry,
    instrumented: OpenAISentinelInstrumentor,
    client: openai.OpenAI,
) -> None:
    if earlier == "embeddings":
        client.embeddings.create(model="text-embedding-3-small", input=PROMPT)
    else:
        client.moderations.create(input=PROMPT)  # moderate the user's text, then answer it
    client.responses.create(model="gpt-4o-mini", input=PROMPT)
    assert [repeat_attributes(span) for span in telemetry.spans()] == [{}, {}]
