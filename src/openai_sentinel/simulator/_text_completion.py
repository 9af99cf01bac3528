"""Legacy completions (``POST /v1/completions``): ``text_completion`` objects and chunks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from ._completion import ChoicePlan, plan_choices, random_id
from ._config import SimulatorConfig
from ._errors import invalid_request
from ._generation import seeded_random, split_into_tokens
from ._logprobs import TokenLogprob, sample_token_logprobs
from ._params import optional_bool, optional_int, require_model, require_object, stop_sequences
from ._replies import Payload
from ._request import MAX_CHOICES, MAX_TOKENS_LIMIT, ChatRequest, stream_usage_requested
from ._text_inputs import TextInput, parse_text_inputs

MAX_LOGPROBS = 5
DEFAULT_MAX_TOKENS = 16
"""What the legacy API generates at most when ``max_tokens`` is not given."""


@dataclass(frozen=True)
class TextCompletionRequest:
    """The parts of a legacy completions request the simulator acts on."""

    model: str
    prompts: list[TextInput]
    n: int = 1
    max_tokens: int = DEFAULT_MAX_TOKENS
    stop: tuple[str, ...] = ()
    logprobs: int | None = None
    echo: bool = False
    stream: bool = False
    include_usage: bool = False

    def as_chat_request(self, prompt: TextInput) -> ChatRequest:
        """The chat request the simulated model answers for one prompt."""
        return ChatRequest(
            model=self.model,
            messages=[{"role": "user", "content": prompt.text}],
            n=self.n,
            max_tokens=self.max_tokens,
            stop=self.stop,
            logprobs=self.logprobs is not None,
            top_logprobs=self.logprobs or 0,
        )


def parse_text_completion_request(body: object) -> TextCompletionRequest:
    """Validate ``body``; raise a 400 ``SimulatedError`` naming the bad parameter."""
    body = require_object(body)
    model = require_model(body)
    stream = optional_bool(body, "stream")
    prompts = parse_text_inputs(
        body.get("prompt"), param="prompt", max_items=MAX_CHOICES, allow_empty_text=True
    )
    n = optional_int(body, "n", 1, MAX_CHOICES) or 1
    if n * len(prompts) > MAX_CHOICES:
        raise invalid_request(
            f"Too many choices: 'n' times the number of prompts must be at most {MAX_CHOICES}.",
            param="n",
        )
    max_tokens = optional_int(body, "max_tokens", 1, MAX_TOKENS_LIMIT)
    return TextCompletionRequest(
        model=model,
        prompts=prompts,
        n=n,
        max_tokens=DEFAULT_MAX_TOKENS if max_tokens is None else max_tokens,
        stop=stop_sequences(body.get("stop")),
        logprobs=optional_int(body, "logprobs", 0, MAX_LOGPROBS),
        echo=optional_bool(body, "echo"),
        stream=stream,
        include_usage=stream_usage_requested(body, stream=stream),
    )


@dataclass(frozen=True)
class TextChoice:
    """One choice: the generated tokens, and the prompt when it is echoed."""

    choice: ChoicePlan
    prompt: str
    echoed: tuple[str, ...] = ()
    echoed_logprobs: tuple[TokenLogprob, ...] | None = None

    @property
    def index(self) -> int:
        """The choice's place over all prompts (``prompt position * n + choice``)."""
        return self.choice.index

    @property
    def text(self) -> str:
        """The echoed prompt (if any) and the generated text."""
        return "".join(self.echoed) + self.choice.text

    @cached_property
    def generated_offsets(self) -> list[int]:
        """Where each generated token starts, counting from the start of the prompt."""
        return _offsets(self.choice.tokens, len(self.prompt))


@dataclass(frozen=True)
class TextCompletionPlan:
    """A whole legacy completion: identity fields, choices and token counts."""

    completion_id: str
    created: int
    model: str
    choices: tuple[TextChoice, ...]
    prompt_tokens: int

    @property
    def longest_choice_tokens(self) -> int:
        """Tokens of the longest choice (what a sequential generation waits for)."""
        return max((len(choice.choice.tokens) for choice in self.choices), default=0)

    def usage_json(self) -> Payload:
        """The ``CompletionUsage`` shape of the legacy API (no details)."""
        completion_tokens = sum(len(choice.choice.tokens) for choice in self.choices)
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        }


def plan_text_completion(
    request: TextCompletionRequest, config: SimulatorConfig
) -> TextCompletionPlan:
    """Generate ``n`` choices per prompt, each as the model answers the prompt in a chat."""
    choices: list[TextChoice] = []
    for position, prompt in enumerate(request.prompts):
        echoed = tuple(split_into_tokens(prompt.text)) if request.echo else ()
        echoed_logprobs = None
        if echoed and request.logprobs is not None:
            echoed_logprobs = tuple(
                sample_token_logprobs(
                    echoed,
                    mean_logprob=config.mean_logprob,
                    top_count=request.logprobs,
                    chosen_rng=seeded_random(config.seed, prompt.text, "echo"),
                    alternatives_rng=seeded_random(config.seed, prompt.text, "echo-alternatives"),
                )
            )
        for choice in plan_choices(request.as_chat_request(prompt), config):
            renumbered = ChoicePlan(
                index=position * request.n + choice.index,
                tokens=choice.tokens,
                finish_reason=choice.finish_reason,
                logprobs=choice.logprobs,
            )
            choices.append(TextChoice(renumbered, prompt.text, echoed, echoed_logprobs))
    return TextCompletionPlan(
        completion_id="cmpl-" + random_id(29),
        created=int(time.time()),
        model=request.model,
        choices=tuple(choices),
        prompt_tokens=sum(prompt.tokens for prompt in request.prompts),
    )


def text_completion_payload(plan: TextCompletionPlan) -> Payload:
    """The non-streamed ``text_completion`` object."""
    return _completion_object(
        plan,
        [
            _choice_json(
                choice.index,
                choice.text,
                _logprobs_json(choice, echo=True, start=0, stop=len(choice.choice.tokens)),
                choice.choice.finish_reason,
            )
            for choice in plan.choices
        ],
        usage=plan.usage_json(),
    )


def text_completion_chunks(
    plan: TextCompletionPlan, *, include_usage: bool
) -> tuple[list[list[Payload]], list[Payload]]:
    """The stream as steps (``steps[i]`` has every choice's ``i``-th token) and closing chunks.

    An echoed prompt comes first, in its own chunk. ``finish_reason`` is ``null`` until each
    choice's last chunk, as the API sends it (the client's ``Completion`` type says otherwise,
    so these chunks do not pass its strict validation). With ``include_usage`` every chunk
    carries ``"usage": null`` and a last chunk with ``"choices": []`` carries the usage.
    """
    extra = {"usage": None} if include_usage else {}

    def chunk(choice: TextChoice, text: str, logprobs: Payload | None, finish: Any) -> Payload:
        choices = [_choice_json(choice.index, text, logprobs, finish)]
        return _completion_object(plan, choices, **extra)

    steps: list[list[Payload]] = [
        [
            chunk(choice, "".join(choice.echoed), _logprobs_json(choice, echo=True), None)
            for choice in plan.choices
            if choice.echoed
        ]
    ]
    for position in range(plan.longest_choice_tokens):
        step = [
            chunk(
                choice,
                choice.choice.tokens[position],
                _logprobs_json(choice, echo=False, start=position, stop=position + 1),
                None,
            )
            for choice in plan.choices
            if position < len(choice.choice.tokens)
        ]
        if position == 0:
            steps[0].extend(step)
        else:
            steps.append(step)
    closing = [chunk(choice, "", None, choice.choice.finish_reason) for choice in plan.choices]
    if include_usage:
        closing.append(_completion_object(plan, [], usage=plan.usage_json()))
    return steps, closing


def _completion_object(plan: TextCompletionPlan, choices: list[Payload], **extra: Any) -> Payload:
    return {
        "id": plan.completion_id,
        "object": "text_completion",
        "created": plan.created,
        "model": plan.model,
        "choices": choices,
        **extra,
    }


def _choice_json(index: int, text: str, logprobs: Payload | None, finish_reason: Any) -> Payload:
    return {"text": text, "index": index, "logprobs": logprobs, "finish_reason": finish_reason}


def _logprobs_json(
    choice: TextChoice, *, echo: bool, start: int = 0, stop: int = 0
) -> Payload | None:
    """``tokens``, ``token_logprobs``, ``top_logprobs`` and ``text_offset`` (offsets count
    from the start of the prompt) of the echoed tokens (if ``echo``) and generated tokens
    ``[start, stop)``."""
    generated = choice.choice.logprobs
    if generated is None:
        return None
    items: list[TokenLogprob] = list(choice.echoed_logprobs or ()) if echo else []
    offsets = _offsets(choice.echoed, 0) if echo else []
    items.extend(generated[start:stop])
    offsets.extend(choice.generated_offsets[start:stop])
    return {
        "tokens": [item.token for item in items],
        "token_logprobs": [item.logprob for item in items],
        "top_logprobs": [dict(item.top_logprobs) for item in items],
        "text_offset": offsets,
    }


def _offsets(tokens: Sequence[str], start: int) -> list[int]:
    offsets: list[int] = []
    for token in tokens:
        offsets.append(start)
        start += len(token)
    return offsets
