"""Deciding what the simulated model answers: tokens, finish reasons, logprobs, usage."""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import string
import time
from dataclasses import dataclass
from typing import Any

from ._config import SimulatorConfig
from ._generation import (
    count_prompt_tokens,
    cut_at_stop,
    generate_prose,
    prompt_fingerprint,
    seeded_random,
    split_into_tokens,
)
from ._logprobs import TokenLogprob, sample_token_logprobs
from ._request import ChatRequest
from ._structured import sample_json_object

_ID_ALPHABET = string.ascii_letters + string.digits
_JSON_ANSWER_OVERHEAD = 8  # tokens of '{"answer": "' and '"}' around the prose


@dataclass(frozen=True)
class ToolCall:
    """The function call a choice makes; its arguments are the choice's tokens."""

    call_id: str
    name: str


@dataclass(frozen=True)
class ChoicePlan:
    """One generated choice."""

    index: int
    tokens: tuple[str, ...]
    finish_reason: str
    tool_call: ToolCall | None = None
    logprobs: tuple[TokenLogprob, ...] | None = None

    @property
    def text(self) -> str:
        """The message content, or the tool call arguments."""
        return "".join(self.tokens)


@dataclass(frozen=True)
class CompletionPlan:
    """A whole response: identity fields, choices and token counts."""

    completion_id: str
    created: int
    model: str
    system_fingerprint: str
    service_tier: str
    choices: tuple[ChoicePlan, ...]
    prompt_tokens: int

    @property
    def completion_tokens(self) -> int:
        """Tokens generated over all choices."""
        return sum(len(choice.tokens) for choice in self.choices)

    @property
    def longest_choice_tokens(self) -> int:
        """Tokens of the longest choice (what a sequential generation waits for)."""
        return max((len(choice.tokens) for choice in self.choices), default=0)

    def usage_json(self) -> dict[str, Any]:
        """The OpenAI ``CompletionUsage`` shape."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }


def plan_completion(request: ChatRequest, config: SimulatorConfig) -> CompletionPlan:
    """Generate every choice of ``request``, deterministically from the prompt and seed."""
    return CompletionPlan(
        completion_id="chatcmpl-" + random_id(24),
        created=int(time.time()),
        model=request.model,
        system_fingerprint=system_fingerprint(config.seed),
        service_tier=request.service_tier,
        choices=plan_choices(request, config),
        prompt_tokens=count_prompt_tokens(request.messages),
    )


def plan_choices(request: ChatRequest, config: SimulatorConfig) -> tuple[ChoicePlan, ...]:
    """The ``n`` choices the model generates for ``request`` (indexes from 0)."""
    prompt_key = prompt_fingerprint(request.messages)
    return tuple(_plan_choice(request, config, prompt_key, index) for index in range(request.n))


def random_id(length: int) -> str:
    """Random letters and digits, as in OpenAI object ids."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def system_fingerprint(seed: int) -> str:
    """A fingerprint that stays the same for a given seed."""
    return "fp_sim" + hashlib.sha256(f"simulator:{seed}".encode()).hexdigest()[:8]


def _plan_choice(
    request: ChatRequest, config: SimulatorConfig, prompt_key: str, index: int
) -> ChoicePlan:
    rng = seeded_random(config.seed, prompt_key, index, "text")
    length = rng.randint(config.min_completion_tokens, config.max_completion_tokens)
    tool_call: ToolCall | None = None
    if request.forced_tool is not None:
        tool = request.forced_tool
        arguments = json.dumps(sample_json_object(tool.parameters, rng))
        tokens = split_into_tokens(arguments)
        tool_call = ToolCall(call_id="call_" + random_id(24), name=tool.name)
    else:
        tokens = cut_at_stop(_content_tokens(request, rng, length), request.stop)
    truncated = request.max_tokens is not None and len(tokens) > request.max_tokens
    if truncated:
        tokens = tokens[: request.max_tokens]
    finish_reason = "length" if truncated else "tool_calls" if tool_call else "stop"
    logprobs = None
    if request.logprobs and tool_call is None:
        logprobs = tuple(
            sample_token_logprobs(
                tokens,
                mean_logprob=config.mean_logprob,
                top_count=request.top_logprobs,
                chosen_rng=seeded_random(config.seed, prompt_key, index, "logprobs"),
                alternatives_rng=seeded_random(config.seed, prompt_key, index, "alternatives"),
            )
        )
    return ChoicePlan(index, tuple(tokens), finish_reason, tool_call, logprobs)


def _content_tokens(request: ChatRequest, rng: random.Random, length: int) -> list[str]:
    if request.output_format == "json_object":
        prose = "".join(generate_prose(rng, max(1, length - _JSON_ANSWER_OVERHEAD)))
        return split_into_tokens(json.dumps({"answer": prose}))
    if request.output_format == "json_schema":
        return split_into_tokens(json.dumps(sample_json_object(request.output_schema, rng)))
    return generate_prose(rng, length)
