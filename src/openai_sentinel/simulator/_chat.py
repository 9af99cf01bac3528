"""Chat completion payloads: the JSON response and the stream chunks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ._completion import ChoicePlan, CompletionPlan
from ._logprobs import TokenLogprob

Payload = dict[str, Any]


@dataclass(frozen=True)
class ChunkSchedule:
    """Stream chunks grouped by when they are sent.

    ``steps[0]`` goes out after the time to first token, every later step after the
    inter-token delay, and ``closing`` right after the last step.
    """

    steps: list[list[Payload]] = field(default_factory=list)
    closing: list[Payload] = field(default_factory=list)


def completion_payload(plan: CompletionPlan) -> Payload:
    """The non-streamed ``chat.completion`` object."""
    return {
        "id": plan.completion_id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "system_fingerprint": plan.system_fingerprint,
        "service_tier": plan.service_tier,
        "choices": [_choice_payload(choice) for choice in plan.choices],
        "usage": plan.usage_json(),
    }


def _choice_payload(choice: ChoicePlan) -> Payload:
    message: Payload = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if choice.tool_call is None:
        message["content"] = choice.text
    else:
        message["tool_calls"] = [
            {
                "id": choice.tool_call.call_id,
                "type": "function",
                "function": {"name": choice.tool_call.name, "arguments": choice.text},
            }
        ]
    return {
        "index": choice.index,
        "message": message,
        "logprobs": _logprobs_payload(choice.logprobs),
        "finish_reason": choice.finish_reason,
    }


def _logprobs_payload(logprobs: Sequence[TokenLogprob] | None) -> Payload | None:
    if logprobs is None:
        return None
    return {"content": [item.as_json() for item in logprobs], "refusal": None}


def chunk_schedule(plan: CompletionPlan, *, include_usage: bool) -> ChunkSchedule:
    """Every ``chat.completion.chunk`` of the stream, choices interleaved token by token.

    Each choice opens with a role chunk, then sends one chunk per token, then a chunk
    with an empty delta and its finish reason. With ``include_usage`` every chunk carries
    ``"usage": null`` and a last chunk with ``"choices": []`` carries the usage.
    """

    def chunk(choice_payload: Payload | None, usage: Payload | None = None) -> Payload:
        payload: Payload = {
            "id": plan.completion_id,
            "object": "chat.completion.chunk",
            "created": plan.created,
            "model": plan.model,
            "system_fingerprint": plan.system_fingerprint,
            "service_tier": plan.service_tier,
            "choices": [] if choice_payload is None else [choice_payload],
        }
        if include_usage:
            payload["usage"] = usage
        return payload

    steps: list[list[Payload]] = [[chunk(_opening_delta(choice)) for choice in plan.choices]]
    for position in range(plan.longest_choice_tokens):
        step = [
            chunk(_token_delta(choice, position))
            for choice in plan.choices
            if position < len(choice.tokens)
        ]
        if position == 0:
            steps[0].extend(step)
        else:
            steps.append(step)
    closing = [chunk(_closing_delta(choice)) for choice in plan.choices]
    if include_usage:
        closing.append(chunk(None, plan.usage_json()))
    return ChunkSchedule(steps=steps, closing=closing)


def _opening_delta(choice: ChoicePlan) -> Payload:
    delta: Payload = {"role": "assistant", "content": "", "refusal": None}
    if choice.tool_call is not None:
        delta["content"] = None
        delta["tool_calls"] = [
            {
                "index": 0,
                "id": choice.tool_call.call_id,
                "type": "function",
                "function": {"name": choice.tool_call.name, "arguments": ""},
            }
        ]
    return {"index": choice.index, "delta": delta, "logprobs": None, "finish_reason": None}


def _token_delta(choice: ChoicePlan, position: int) -> Payload:
    token = choice.tokens[position]
    delta: Payload
    if choice.tool_call is None:
        delta = {"content": token}
    else:
        delta = {"tool_calls": [{"index": 0, "function": {"arguments": token}}]}
    logprobs = None
    if choice.logprobs is not None:
        logprobs = _logprobs_payload(choice.logprobs[position : position + 1])
    return {"index": choice.index, "delta": delta, "logprobs": logprobs, "finish_reason": None}


def _closing_delta(choice: ChoicePlan) -> Payload:
    return {
        "index": choice.index,
        "delta": {},
        "logprobs": None,
        "finish_reason": choice.finish_reason,
    }
