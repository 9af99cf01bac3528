"""The endpoints: each turns one request into a ``Reply`` that the HTTP layer sends."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ._chat import chunk_schedule, completion_payload
from ._completion import plan_completion
from ._controls import RequestControls
from ._embeddings import embeddings_payload, parse_embeddings_request
from ._errors import SimulatedError, invalid_request, not_found
from ._models import models_payload
from ._replies import EventSchedule, JsonReply, Reply, StreamReply, sse_frame
from ._request import parse_chat_request
from ._response_store import StoredResponse
from ._responses import frames, plan_response, response_events
from ._responses_request import item_as_message, parse_responses_request
from ._state import SimulatorState
from ._text_completion import (
    parse_text_completion_request,
    plan_text_completion,
    text_completion_chunks,
    text_completion_payload,
)

RESPONSES_PATH = "/v1/responses"


@dataclass(frozen=True)
class Call:
    """One request as an endpoint sees it."""

    body: Any
    query: Mapping[str, str]
    controls: RequestControls
    state: SimulatorState
    path_parameter: str = ""
    """The ``{id}`` part of the path, for ``GET /v1/responses/{id}``."""

    @property
    def first_delay(self) -> float:
        """Seconds before the first token: the latency header, else the configured TTFT."""
        latency = self.controls.latency
        return latency if latency is not None else self.state.config.time_to_first_token


Endpoint = Callable[[Call], Reply]


def chat_completions(call: Call) -> Reply:
    """``POST /v1/chat/completions``."""
    request = parse_chat_request(call.body)
    config = call.state.config_for(request.model)
    plan = plan_completion(request, config)
    if not request.stream:
        delay = call.first_delay + config.inter_token_delay * plan.longest_choice_tokens
        return JsonReply(completion_payload(plan), delay=delay)
    chunks = chunk_schedule(plan, include_usage=request.include_usage)
    schedule = EventSchedule.of_payloads(chunks.steps, chunks.closing, done=True)
    return _data_stream(call, schedule)


def text_completions(call: Call) -> Reply:
    """``POST /v1/completions`` (legacy)."""
    request = parse_text_completion_request(call.body)
    config = call.state.config_for(request.model)
    plan = plan_text_completion(request, config)
    if not request.stream:
        delay = call.first_delay + config.inter_token_delay * plan.longest_choice_tokens
        return JsonReply(text_completion_payload(plan), delay=delay)
    steps, closing = text_completion_chunks(plan, include_usage=request.include_usage)
    return _data_stream(call, EventSchedule.of_payloads(steps, closing, done=True))


def create_embeddings(call: Call) -> Reply:
    """``POST /v1/embeddings``."""
    return JsonReply(embeddings_payload(parse_embeddings_request(call.body)), call.first_delay)


def create_response(call: Call) -> Reply:
    """``POST /v1/responses``: answer, store (unless ``store: false``) and send."""
    request = parse_responses_request(call.body)
    state, config = call.state, call.state.config_for(request.model)
    history: list[dict[str, Any]] = []
    if request.previous_response_id is not None:
        previous = state.responses.get(request.previous_response_id)
        if previous is None:
            raise not_found(
                f"Previous response with id '{request.previous_response_id}' not found.",
                param="previous_response_id",
            )
        history = previous.conversation
    plan = plan_response(request, request.as_chat_request(history), config)
    fail_after = call.controls.stream_error_after if request.stream else None
    events = response_events(plan, fail_after=fail_after)
    response = events.final_response
    if request.store:
        output = [item_as_message(item) for item in response["output"]]
        conversation = [*history, *request.input_messages, *output]
        state.responses.put(StoredResponse(response, events.flat(), conversation))
    if not request.stream:
        delay = call.first_delay + config.inter_token_delay * len(plan.choice.tokens)
        return JsonReply(response, delay=delay)
    return StreamReply(events.schedule(), call.first_delay, config.inter_token_delay)


def retrieve_response(call: Call) -> Reply:
    """``GET /v1/responses/{id}``, or with ``?stream=true`` its events after
    ``starting_after`` (all of them by default), sent at once."""
    stored = call.state.responses.get(call.path_parameter)
    if stored is None:
        raise not_found(f"Response with id '{call.path_parameter}' not found.")
    if call.query.get("stream", "false").lower() != "true":
        return JsonReply(stored.response)
    starting_after = _query_int(call.query, "starting_after", default=-1)
    replayed = [event for event in stored.events if event["sequence_number"] > starting_after]
    return StreamReply(EventSchedule(preamble=frames(replayed)))


def list_models(call: Call) -> Reply:
    """``GET /v1/models``."""
    return JsonReply(models_payload())


_ROUTES: dict[tuple[str, str], Endpoint] = {
    ("POST", "/v1/chat/completions"): chat_completions,
    ("POST", "/v1/completions"): text_completions,
    ("POST", "/v1/embeddings"): create_embeddings,
    ("POST", RESPONSES_PATH): create_response,
    ("GET", "/v1/models"): list_models,
}


def find_endpoint(method: str, path: str) -> tuple[Endpoint, str] | None:
    """The endpoint for ``method`` and ``path``, with the path's ``{id}`` part (or ``""``)."""
    endpoint = _ROUTES.get((method, path))
    if endpoint is not None:
        return endpoint, ""
    prefix = RESPONSES_PATH + "/"
    response_id = path[len(prefix) :] if path.startswith(prefix) else ""
    if method == "GET" and response_id and "/" not in response_id:
        return retrieve_response, response_id
    return None


def _data_stream(call: Call, schedule: EventSchedule) -> StreamReply:
    """A ``data:``-only stream; the stream-error header cuts it with an ``error`` payload
    (which the client raises as ``APIError``) and no ``[DONE]``."""
    fail_after = call.controls.stream_error_after
    if fail_after is not None:
        schedule = schedule.interrupted(fail_after, [sse_frame(SimulatedError(500).body())])
    return StreamReply(schedule, call.first_delay, call.state.config.inter_token_delay)


def _query_int(query: Mapping[str, str], name: str, *, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_request(
            f"Invalid '{name}': expected an integer, got {raw!r}.", param=name
        ) from None
