"""The simulator's Responses API (``POST /v1/responses``, ``GET /v1/responses/{id}``),
driven by the real ``openai`` client over loopback HTTP with strict response validation."""

from __future__ import annotations

import http.client
import json
import math
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import openai
import pytest
from openai import AsyncOpenAI, OpenAI
from pydantic import BaseModel

from openai_sentinel.simulator import Simulator, SimulatorConfig

from ..support.simulated import make_client

pytestmark = pytest.mark.timeout(60)

MODEL = "gpt-4o-mini"
INSTRUCTIONS = "You are a terse assistant."
QUESTION = "Describe the weather in one paragraph."
CHAT_MESSAGES = [
    {"role": "system", "content": INSTRUCTIONS},
    {"role": "user", "content": QUESTION},
]
LOGPROBS = "message.output_text.logprobs"
WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "days", "unit"],
        "additionalProperties": False,
    },
    "strict": True,
}
CLOCK_TOOL = {"type": "function", "name": "get_time", "parameters": {}, "strict": False}
TEXT_EVENTS_BEFORE = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
]
TEXT_EVENTS_AFTER = [
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
]
STREAM_ERROR = {"x-simulator-stream-error-after": "3"}


@pytest.fixture(scope="module")
def long_client() -> Iterator[OpenAI]:
    """Answers of 24 to 40 tokens, longer than the smallest ``max_output_tokens`` (16)."""
    config = SimulatorConfig(seed=7, min_completion_tokens=24, max_completion_tokens=40)
    with Simulator(config) as sim, make_client(sim.base_url) as openai_client:
        yield openai_client


def respond(client: OpenAI, **params):
    return client.responses.create(model=MODEL, instructions=INSTRUCTIONS, input=QUESTION, **params)


def stream_events(client: OpenAI, **params) -> list:
    return list(
        client.responses.create(
            model=MODEL, instructions=INSTRUCTIONS, input=QUESTION, stream=True, **params
        )
    )


def prompt_tokens(*texts: str) -> int:
    """The simulator's count for chat-style messages: 4 per message, 1 per 4 characters, 3."""
    return sum(4 + math.ceil(len(text) / 4) for text in texts) + 3


def raw_post(base_url: str, path: str, body: dict) -> tuple[int, dict[str, str], str]:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
    try:
        connection.request(
            "POST", path, body=json.dumps(body), headers={"content-type": "application/json"}
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


# --- JSON -----------------------------------------------------------------------------------


def test_response_object_has_the_api_shape(client: OpenAI) -> None:
    response = respond(client)

    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.model == MODEL
    assert response.error is None
    assert response.incomplete_details is None
    assert response.completed_at is not None and response.completed_at >= response.created_at
    (message,) = response.output
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.status == "completed"
    assert message.id.startswith("msg_")
    (part,) = message.content
    assert part.type == "output_text"
    assert part.annotations == []
    assert part.logprobs == []
    assert part.text and response.output_text == part.text

    usage = response.usage
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0
    assert usage.input_tokens_details.cache_write_tokens == 0
    assert usage.output_tokens_details.reasoning_tokens == 0

    assert response.instructions == INSTRUCTIONS
    assert response.parallel_tool_calls is True
    assert response.tool_choice == "auto"
    assert response.tools == []
    assert response.temperature == 1.0
    assert response.top_p == 1.0
    assert response.text.format.type == "text"
    assert response.service_tier == "default"
    assert response.store is True
    assert response._request_id is not None and response._request_id.startswith("req_")


def test_response_answers_like_the_equivalent_chat_request(client: OpenAI) -> None:
    chat = client.chat.completions.create(model=MODEL, messages=CHAT_MESSAGES)
    response = respond(client)

    assert response.output_text == chat.choices[0].message.content
    assert response.usage.input_tokens == chat.usage.prompt_tokens
    assert response.usage.output_tokens == chat.usage.completion_tokens
    assert respond(client).output_text == response.output_text  # deterministic


def test_instructions_count_toward_input_tokens(client: OpenAI) -> None:
    with_instructions = respond(client).usage.input_tokens
    without = client.responses.create(model=MODEL, input=QUESTION).usage.input_tokens

    assert with_instructions == prompt_tokens(INSTRUCTIONS, QUESTION)
    assert without == prompt_tokens(QUESTION)


def test_input_may_be_a_list_of_message_items(client: OpenAI) -> None:
    as_string = client.responses.create(model=MODEL, input=QUESTION)
    as_message = client.responses.create(model=MODEL, input=[{"role": "user", "content": QUESTION}])
    as_parts = client.responses.create(
        model=MODEL,
        input=[
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": QUESTION}],
            }
        ],
    )
    assert as_string.output_text == as_message.output_text == as_parts.output_text
    assert as_string.usage == as_message.usage == as_parts.usage

    conversation = [
        {"role": "user", "content": "Hello."},
        {"role": "assistant", "content": "Hi, how can I help?"},
        {"role": "user", "content": QUESTION},
    ]
    turns = client.responses.create(model=MODEL, input=conversation)
    assert turns.usage.input_tokens == prompt_tokens(*(m["content"] for m in conversation))
    assert turns.output_text != as_string.output_text


def test_logprobs_are_included_on_request(client: OpenAI) -> None:
    response = respond(client, include=[LOGPROBS], top_logprobs=3)

    part = response.output[0].content[0]
    assert "".join(item.token for item in part.logprobs) == part.text
    assert len(part.logprobs) == response.usage.output_tokens
    for item in part.logprobs:
        assert item.logprob <= 0
        assert item.bytes == list(item.token.encode())
        tops = [top.logprob for top in item.top_logprobs]
        assert len(tops) == 3
        assert item.top_logprobs[0].token == item.token
        assert tops == sorted(tops, reverse=True)

    chat = client.chat.completions.create(
        model=MODEL, messages=CHAT_MESSAGES, logprobs=True, top_logprobs=3
    )
    assert [(item.token, item.logprob) for item in part.logprobs] == [
        (item.token, item.logprob) for item in chat.choices[0].logprobs.content
    ]
    assert respond(client, top_logprobs=3).output[0].content[0].logprobs == []


def test_max_output_tokens_makes_the_response_incomplete(long_client: OpenAI) -> None:
    full = respond(long_client)
    assert full.usage.output_tokens > 16

    cut = respond(long_client, max_output_tokens=16)
    assert cut.status == "incomplete"
    assert cut.incomplete_details.reason == "max_output_tokens"
    assert cut.max_output_tokens == 16
    assert cut.usage.output_tokens == 16
    assert cut.output[0].status == "incomplete"
    assert full.output_text.startswith(cut.output_text)

    events = stream_events(long_client, max_output_tokens=16)
    types = [event.type for event in events]
    assert types == [
        *TEXT_EVENTS_BEFORE,
        *["response.output_text.delta"] * 16,
        *TEXT_EVENTS_AFTER,
        "response.incomplete",
    ]
    assert events[-1].response.status == "incomplete"
    assert events[-1].response.usage == cut.usage

    with pytest.raises(openai.BadRequestError) as caught:
        respond(long_client, max_output_tokens=8)
    assert caught.value.param == "max_output_tokens"


def test_function_tools_are_called_as_chat_decides(client: OpenAI) -> None:
    response = respond(client, tools=[WEATHER_TOOL, CLOCK_TOOL], tool_choice="required")
    (call,) = response.output
    assert call.type == "function_call"
    assert call.name == "get_weather"
    assert call.id.startswith("fc_")
    assert call.call_id.startswith("call_")
    assert call.status == "completed"
    arguments = json.loads(call.arguments)
    assert set(arguments) == {"city", "days", "unit"}
    assert 1 <= arguments["days"] <= 7
    assert response.status == "completed"
    assert response.output_text == ""
    assert [tool.name for tool in response.tools] == ["get_weather", "get_time"]
    assert response.tool_choice == "required"
    assert response.usage.output_tokens > 0

    named = respond(
        client,
        tools=[WEATHER_TOOL, CLOCK_TOOL],
        tool_choice={"type": "function", "name": "get_time"},
    )
    assert named.output[0].name == "get_time"
    assert json.loads(named.output[0].arguments) == {}

    automatic = respond(client, tools=[WEATHER_TOOL], tool_choice="auto")
    assert automatic.output[0].type == "message"

    with pytest.raises(openai.BadRequestError) as caught:
        respond(client, tools=[WEATHER_TOOL], tool_choice={"type": "function", "name": "nope"})
    assert caught.value.param == "tool_choice"


def test_structured_output_follows_the_text_format(client: OpenAI) -> None:
    class Forecast(BaseModel):
        city: str
        temperature: float
        sunny: bool

    parsed = client.responses.parse(model=MODEL, input=QUESTION, text_format=Forecast)
    assert isinstance(parsed.output_parsed, Forecast)
    assert parsed.text.format.type == "json_schema"


# --- streaming ------------------------------------------------------------------------------


def test_stream_events_come_in_order_with_sequence_numbers(client: OpenAI) -> None:
    expected = respond(client, include=[LOGPROBS], top_logprobs=2)
    events = stream_events(client, include=[LOGPROBS], top_logprobs=2)

    tokens = expected.usage.output_tokens
    assert [event.type for event in events] == [
        *TEXT_EVENTS_BEFORE,
        *["response.output_text.delta"] * tokens,
        *TEXT_EVENTS_AFTER,
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    created = events[0].response
    assert created.status == "in_progress"
    assert created.usage is None
    assert created.output == []
    assert len({event.response.id for event in events if hasattr(event, "response")}) == 1

    deltas = [event for event in events if event.type == "response.output_text.delta"]
    assert "".join(delta.delta for delta in deltas) == expected.output_text
    assert all(len(delta.logprobs) == 1 for delta in deltas)
    assert [delta.logprobs[0].token for delta in deltas] == [delta.delta for delta in deltas]
    expected_logprobs = expected.output[0].content[0].logprobs
    assert [delta.logprobs[0].logprob for delta in deltas] == [
        item.logprob for item in expected_logprobs
    ]
    assert all(len(delta.logprobs[0].top_logprobs) == 2 for delta in deltas)
    assert events[-4].text == expected.output_text

    final = events[-1].response
    assert final.status == "completed"
    assert final.usage == expected.usage
    assert final.output_text == expected.output_text
    assert final.output[0].content[0].logprobs == expected_logprobs
    assert events[-2].item == final.output[0]


def test_stream_uses_typed_event_framing_without_done(simulator: Simulator) -> None:
    status, headers, body = raw_post(
        simulator.base_url, "/v1/responses", {"model": MODEL, "input": QUESTION, "stream": True}
    )
    assert status == 200
    assert headers["content-type"].startswith("text/event-stream")
    assert body.endswith("\n\n")
    assert "[DONE]" not in body
    frames = body[:-2].split("\n\n")
    for frame in frames:
        event_line, data_line = frame.split("\n")
        assert event_line.startswith("event: ")
        assert data_line.startswith("data: ")
        assert json.loads(data_line[len("data: ") :])["type"] == event_line[len("event: ") :]
    assert frames[-1].startswith("event: response.completed\n")


def test_streamed_function_call(client: OpenAI) -> None:
    events = stream_events(client, tools=[WEATHER_TOOL], tool_choice="required")
    types = [event.type for event in events]
    assert types[:3] == ["response.created", "response.in_progress", "response.output_item.added"]
    assert types[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(deltas) == events[-1].response.usage.output_tokens
    final_call = events[-1].response.output[0]
    assert "".join(deltas) == events[-3].arguments == final_call.arguments
    assert events[2].item.arguments == ""

    with client.responses.stream(
        model=MODEL, input=QUESTION, tools=[WEATHER_TOOL], tool_choice="required"
    ) as stream:
        final = stream.get_final_response()
    assert final.output[0].type == "function_call"
    assert set(json.loads(final.output[0].arguments)) == {"city", "days", "unit"}


def test_stream_helper_gives_snapshots_and_the_final_response(client: OpenAI) -> None:
    expected = respond(client)
    with client.responses.stream(model=MODEL, instructions=INSTRUCTIONS, input=QUESTION) as stream:
        snapshots = [
            event.snapshot for event in stream if event.type == "response.output_text.delta"
        ]
        final = stream.get_final_response()
    assert final.output_text == expected.output_text
    assert snapshots[-1] == final.output_text
    assert final.usage == expected.usage


def test_latency_settings_pace_the_stream() -> None:
    # Lower bounds only: a sleep never ends early, so these hold however slow the machine.
    config = SimulatorConfig(
        time_to_first_token=0.1,
        inter_token_delay=0.02,
        min_completion_tokens=5,
        max_completion_tokens=5,
    )
    with Simulator(config) as sim, make_client(sim.base_url) as client:
        started = time.perf_counter()
        arrivals = [
            (event.type, time.perf_counter() - started)
            for event in client.responses.create(model=MODEL, input=QUESTION, stream=True)
        ]
        first_delta = next(at for kind, at in arrivals if kind == "response.output_text.delta")
        assert first_delta >= 0.1
        assert arrivals[-1][1] >= 0.1 + 4 * 0.02


async def test_async_responses(client: OpenAI, aclient: AsyncOpenAI) -> None:
    expected = respond(client)

    response = await aclient.responses.create(
        model=MODEL, instructions=INSTRUCTIONS, input=QUESTION
    )
    assert response.output_text == expected.output_text

    stream = await aclient.responses.create(
        model=MODEL, instructions=INSTRUCTIONS, input=QUESTION, stream=True
    )
    events = [event async for event in stream]
    assert events[-1].response.output_text == expected.output_text

    async with aclient.responses.stream(
        model=MODEL, instructions=INSTRUCTIONS, input=QUESTION
    ) as helper:
        async for _ in helper:
            pass
        final = await helper.get_final_response()
    assert final.output_text == expected.output_text

    replay = await aclient.responses.retrieve(final.id, stream=True, starting_after=2)
    assert [event.sequence_number async for event in replay] == list(range(3, len(events)))
    assert (await aclient.responses.retrieve(final.id)).output_text == final.output_text


# --- retrieval ------------------------------------------------------------------------------


def test_retrieve_returns_the_stored_response(client: OpenAI) -> None:
    created = respond(client, include=[LOGPROBS], top_logprobs=1)
    retrieved = client.responses.retrieve(created.id)
    assert retrieved.model_dump() == created.model_dump()


def test_retrieve_stream_replays_events_after_starting_after(
    simulator: Simulator, client: OpenAI
) -> None:
    events = stream_events(client)
    response_id = events[-1].response.id

    replay = list(client.responses.retrieve(response_id, stream=True))
    assert [event.model_dump() for event in replay] == [event.model_dump() for event in events]

    simulator.clear_requests()
    tail = list(client.responses.retrieve(response_id, stream=True, starting_after=4))
    assert [event.sequence_number for event in tail] == list(range(5, len(events)))
    (request,) = simulator.requests
    assert request.method == "GET"
    assert "stream=true" in request.path and "starting_after=4" in request.path

    with client.responses.stream(response_id=response_id, starting_after=4) as stream:
        resumed = list(stream)
        final = stream.get_final_response()
    assert [event.sequence_number for event in resumed] == list(range(5, len(events)))
    assert final.output_text == events[-1].response.output_text

    created = respond(client)  # a response created without streaming replays too
    replayed = list(client.responses.retrieve(created.id, stream=True))
    assert replayed[-1].type == "response.completed"
    assert replayed[-1].response.output_text == created.output_text


def test_unknown_or_unstored_responses_are_not_found(client: OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.retrieve("resp_missing")
    assert caught.value.type == "invalid_request_error"
    assert "resp_missing" in caught.value.message
    assert set(caught.value.body) == {"message", "type", "param", "code"}
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_missing", stream=True)

    not_stored = respond(client, store=False)
    assert not_stored.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(not_stored.id)


def test_only_the_last_256_responses_are_kept() -> None:
    with Simulator() as sim, make_client(sim.base_url) as client:
        ids = [client.responses.create(model=MODEL, input=f"q{i}").id for i in range(257)]
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve(ids[0])
        assert client.responses.retrieve(ids[1]).id == ids[1]
        assert client.responses.retrieve(ids[-1]).id == ids[-1]


def test_previous_response_id_continues_the_conversation(client: OpenAI) -> None:
    first = client.responses.create(model=MODEL, input="Hello there.")
    follow_up = client.responses.create(
        model=MODEL, input="And then?", previous_response_id=first.id
    )
    alone = client.responses.create(model=MODEL, input="And then?")

    assert follow_up.previous_response_id == first.id
    assert follow_up.usage.input_tokens == prompt_tokens(
        "Hello there.", first.output_text, "And then?"
    )
    assert follow_up.output_text != alone.output_text
    with pytest.raises(openai.NotFoundError) as caught:
        client.responses.create(model=MODEL, input="x", previous_response_id="resp_missing")
    assert caught.value.param == "previous_response_id"


# --- failures -------------------------------------------------------------------------------


def test_rate_limits_and_error_headers_apply(simulator: Simulator, client: OpenAI) -> None:
    for stream in (False, True):
        simulator.fail_next(429, retry_after=2)
        with pytest.raises(openai.RateLimitError) as caught:
            respond(client, stream=stream)
        assert caught.value.response.headers["retry-after"] == "2"
        assert caught.value.code == "rate_limit_exceeded"

    headers = {"x-simulator-error": "429", "x-simulator-retry-after": "3"}
    with pytest.raises(openai.RateLimitError) as caught:
        respond(client, stream=True, extra_headers=headers)
    assert caught.value.response.headers["retry-after"] == "3"
    with pytest.raises(openai.InternalServerError):
        client.responses.retrieve("resp_any", extra_headers={"x-simulator-error": "500"})


def test_mid_stream_error_event_then_response_failed(client: OpenAI) -> None:
    events = stream_events(client, extra_headers=STREAM_ERROR)
    assert [event.type for event in events] == [
        *TEXT_EVENTS_BEFORE,
        *["response.output_text.delta"] * 3,
        "error",
        "response.failed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    error = events[-2]
    assert error.code == "server_error"
    assert error.message
    assert error.param is None
    failed = events[-1].response
    assert failed.status == "failed"
    assert failed.error.code == "server_error"
    assert failed.usage is None
    assert client.responses.retrieve(failed.id).status == "failed"

    at_once = stream_events(client, extra_headers={"x-simulator-stream-error-after": "0"})
    assert [event.type for event in at_once] == [
        "response.created",
        "response.in_progress",
        "error",
        "response.failed",
    ]

    with client.responses.stream(model=MODEL, input=QUESTION, extra_headers=STREAM_ERROR) as stream:
        seen = [event.type for event in stream]
        with pytest.raises(RuntimeError):
            stream.get_final_response()
    assert seen[-2:] == ["error", "response.failed"]

    assert respond(client, extra_headers=STREAM_ERROR).status == "completed"  # not streamed


def test_invalid_stream_error_header_is_a_bad_request(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        respond(client, stream=True, extra_headers={"x-simulator-stream-error-after": "-1"})
