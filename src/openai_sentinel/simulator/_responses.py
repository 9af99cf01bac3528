"""Responses API payloads: the ``response`` object and its stream of typed events."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._completion import ChoicePlan, plan_choices
from ._config import SimulatorConfig
from ._errors import SimulatedError
from ._generation import count_prompt_tokens
from ._logprobs import TokenLogprob
from ._replies import EventSchedule, Payload, sse_frame
from ._request import ChatRequest
from ._responses_request import ResponsesRequest

_FAILURE_CODE = "server_error"


@dataclass(frozen=True)
class ResponsePlan:
    """One generated response: identity, the request settings it echoes and its output."""

    response_id: str
    item_id: str
    created_at: int
    completed_at: int
    model: str
    echoed: dict[str, Any]
    choice: ChoicePlan
    input_tokens: int

    @property
    def status(self) -> str:
        """``incomplete`` when ``max_output_tokens`` cut the output, else ``completed``."""
        return "incomplete" if self.choice.finish_reason == "length" else "completed"

    def usage_json(self) -> Payload:
        """The ``ResponseUsage`` shape."""
        output_tokens = len(self.choice.tokens)
        return {
            "input_tokens": self.input_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": self.input_tokens + output_tokens,
        }


def plan_response(
    request: ResponsesRequest, chat_request: ChatRequest, config: SimulatorConfig
) -> ResponsePlan:
    """Generate the answer to ``chat_request`` (the request with its history) as a response."""
    choice = plan_choices(chat_request, config)[0]
    created_at = int(time.time())
    duration = config.time_to_first_token + config.inter_token_delay * len(choice.tokens)
    item_prefix = "msg_" if choice.tool_call is None else "fc_"
    return ResponsePlan(
        response_id="resp_" + secrets.token_hex(24),
        item_id=item_prefix + secrets.token_hex(24),
        created_at=created_at,
        completed_at=created_at + int(duration),
        model=request.model,
        echoed=request.echoed,
        choice=choice,
        input_tokens=count_prompt_tokens(chat_request.messages),
    )


def response_payload(plan: ResponsePlan) -> Payload:
    """The finished ``response`` object (``completed`` or ``incomplete``)."""
    status = plan.status
    return _response_object(
        plan,
        status=status,
        output=[_output_item(plan, status)],
        usage=plan.usage_json(),
        completed_at=plan.completed_at if status == "completed" else None,
        incomplete_details={"reason": "max_output_tokens"} if status == "incomplete" else None,
    )


@dataclass(frozen=True)
class ResponseEvents:
    """The stream of a response, numbered in order, grouped as an ``EventSchedule``."""

    preamble: list[Payload] = field(default_factory=list)
    steps: list[list[Payload]] = field(default_factory=list)
    closing: list[Payload] = field(default_factory=list)

    def flat(self) -> list[Payload]:
        """Every event in sending order."""
        return [*self.preamble, *(event for step in self.steps for event in step), *self.closing]

    def schedule(self) -> EventSchedule:
        """The events framed as ``event: <type>`` / ``data: <json>`` (and no ``[DONE]``)."""
        return EventSchedule(
            preamble=frames(self.preamble),
            steps=[frames(step) for step in self.steps],
            closing=frames(self.closing),
        )

    @property
    def final_response(self) -> Payload:
        """The ``response`` carried by the terminal event."""
        response: Payload = self.closing[-1]["response"]
        return response


def response_events(plan: ResponsePlan, *, fail_after: int | None = None) -> ResponseEvents:
    """The events of ``plan``'s stream: lifecycle, item, part, one delta per token, the
    matching ``done`` events and a terminal event with the full response.

    With ``fail_after``, an ``error`` event and ``response.failed`` replace everything after
    that many tokens.
    """
    in_progress = _response_object(plan, status="in_progress", output=[], usage=None)
    preamble = [
        {"type": "response.created", "response": in_progress},
        {"type": "response.in_progress", "response": in_progress},
    ]
    opening, deltas, closing = (
        _text_events(plan) if plan.choice.tool_call is None else _function_call_events(plan)
    )
    steps = [[*opening, *deltas[:1]], *([delta] for delta in deltas[1:])]
    if fail_after is None:
        status = plan.status
        closing.append({"type": f"response.{status}", "response": response_payload(plan)})
    else:
        steps = steps[:fail_after]
        closing = _failure_events(plan)
    events = ResponseEvents(preamble, steps, closing)
    for number, event in enumerate(events.flat()):
        event["sequence_number"] = number
    return events


def frames(events: Sequence[Payload]) -> list[bytes]:
    """Frame Responses events with their ``event:`` line."""
    return [sse_frame(event, str(event["type"])) for event in events]


def _text_events(plan: ResponsePlan) -> tuple[list[Payload], list[Payload], list[Payload]]:
    choice, status = plan.choice, plan.status
    where = {"item_id": plan.item_id, "output_index": 0}
    part_where = {**where, "content_index": 0}
    opening = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": _message_item(plan.item_id, "in_progress", []),
        },
        {
            "type": "response.content_part.added",
            **part_where,
            "part": _text_part("", None),
        },
    ]
    deltas: list[Payload] = [
        {
            "type": "response.output_text.delta",
            **part_where,
            "delta": token,
            "logprobs": _stream_logprobs(choice.logprobs, position, position + 1),
        }
        for position, token in enumerate(choice.tokens)
    ]
    part = _text_part(choice.text, choice.logprobs)
    closing: list[Payload] = [
        {
            "type": "response.output_text.done",
            **part_where,
            "text": choice.text,
            "logprobs": _stream_logprobs(choice.logprobs, 0, len(choice.tokens)),
        },
        {"type": "response.content_part.done", **part_where, "part": part},
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": _output_item(plan, status),
        },
    ]
    return opening, deltas, closing


def _function_call_events(
    plan: ResponsePlan,
) -> tuple[list[Payload], list[Payload], list[Payload]]:
    where = {"item_id": plan.item_id, "output_index": 0}
    opening: list[Payload] = [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": _function_call_item(plan, "in_progress", arguments=""),
        }
    ]
    deltas: list[Payload] = [
        {"type": "response.function_call_arguments.delta", **where, "delta": token}
        for token in plan.choice.tokens
    ]
    tool_call = plan.choice.tool_call
    assert tool_call is not None
    closing: list[Payload] = [
        {
            "type": "response.function_call_arguments.done",
            **where,
            "name": tool_call.name,  # required by openai 2.x's event type
            "arguments": plan.choice.text,
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": _output_item(plan, plan.status),
        },
    ]
    return opening, deltas, closing


def _failure_events(plan: ResponsePlan) -> list[Payload]:
    error = SimulatedError(500)
    failed = _response_object(
        plan,
        status="failed",
        output=[],
        usage=None,
        error={"code": _FAILURE_CODE, "message": error.message},
    )
    return [
        {"type": "error", "code": _FAILURE_CODE, "message": error.message, "param": None},
        {"type": "response.failed", "response": failed},
    ]


def _response_object(
    plan: ResponsePlan,
    *,
    status: str,
    output: list[Payload],
    usage: Payload | None,
    completed_at: int | None = None,
    incomplete_details: Payload | None = None,
    error: Payload | None = None,
) -> Payload:
    return {
        "id": plan.response_id,
        "object": "response",
        "created_at": plan.created_at,
        "status": status,
        "completed_at": completed_at,
        "error": error,
        "incomplete_details": incomplete_details,
        "model": plan.model,
        "output": output,
        **plan.echoed,
        "usage": usage,
    }


def _output_item(plan: ResponsePlan, status: str) -> Payload:
    choice = plan.choice
    if choice.tool_call is not None:
        return _function_call_item(plan, status, arguments=choice.text)
    return _message_item(plan.item_id, status, [_text_part(choice.text, choice.logprobs)])


def _message_item(item_id: str, status: str, content: list[Payload]) -> Payload:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": content,
    }


def _function_call_item(plan: ResponsePlan, status: str, *, arguments: str) -> Payload:
    tool_call = plan.choice.tool_call
    assert tool_call is not None
    return {
        "id": plan.item_id,
        "type": "function_call",
        "status": status,
        "call_id": tool_call.call_id,
        "name": tool_call.name,
        "arguments": arguments,
    }


def _text_part(text: str, logprobs: Sequence[TokenLogprob] | None) -> Payload:
    return {
        "type": "output_text",
        "text": text,
        "annotations": [],
        "logprobs": [item.as_json() for item in logprobs or ()],
    }


def _stream_logprobs(
    logprobs: Sequence[TokenLogprob] | None, start: int, stop: int
) -> list[Payload]:
    """Logprobs as stream events carry them: no ``bytes``."""
    return [
        {
            "token": item.token,
            "logprob": item.logprob,
            "top_logprobs": [
                {"token": token, "logprob": logprob} for token, logprob in item.top_logprobs
            ],
        }
        for item in (logprobs or ())[start:stop]
    ]
