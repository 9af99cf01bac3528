"""Legacy completions: ``completions.create`` (``text_completion``), streamed or not."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .. import semconv
from ..exchange import Exchange, Message
from . import _common, _untrusted, chat, fallback
from ._adapter import Adapter, ChunkReader
from ._answers import read_completion_answers
from ._choices import ChoiceStreamAccumulator, ChoiceText
from ._common import as_str, field, items

__all__ = ["ADAPTER"]


def _prompt_messages(prompt: Any) -> list[Message]:
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, (list, tuple)):
        return []
    return [
        {"role": "user", "parts": [{"type": "text", "content": item}]}
        for item in prompts
        if isinstance(item, str)  # token arrays are not text
    ]


def _output_message(text: str | None, finish: str) -> Message:
    parts = [{"type": "text", "content": text}] if text else []
    return {"role": "assistant", "parts": parts, "finish_reason": finish}


class _CompletionStreamAccumulator(ChoiceStreamAccumulator):
    __slots__ = ()
    _reads_deltas = False

    def _read_choice(self, text: ChoiceText, choice: Any) -> None:
        text.add_text(getattr(choice, "text", None))

    def _read_answer(self, index: int, choice: Any) -> None:
        logprobs = getattr(choice, "logprobs", None)
        if logprobs is not None:
            self._answers.logprobs(index, getattr(logprobs, "token_logprobs", None))
        if index == 0:
            self._answers.text(getattr(choice, "text", None))

    def _read_usage(self, usage: Any) -> None:
        chat.read_usage(self._exchange, usage)


class CompletionsAdapter(Adapter):
    """``completions.create``."""

    __slots__ = ()

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        params = _common.sent_params(kwargs)
        exchange = _common.new_exchange(client, params, semconv.OPERATION_TEXT_COMPLETION)
        chat.read_sampling(exchange, params)
        if capture_content:
            exchange.input_messages = _prompt_messages(params.get("prompt")) or None
        return exchange

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        chat.read_identity(exchange, response)
        choices = items(field(response, "choices"))
        exchange.finish_reasons = [
            as_str(field(choice, "finish_reason")) or semconv.FINISH_REASON_ERROR
            for choice in choices
        ] or None
        usage = field(response, "usage")
        if usage is not None:
            chat.read_usage(exchange, usage)
        read_completion_answers(exchange, choices)
        if capture_content:
            exchange.output_messages = [
                _output_message(as_str(field(choice, "text")), finish)
                for choice, finish in zip(choices, exchange.finish_reasons or (), strict=True)
            ]

    def stream_reader(
        self, exchange: Exchange, *, capture_content: bool, text_limit: int
    ) -> ChunkReader:
        return _CompletionStreamAccumulator(
            exchange, capture_content=capture_content, text_limit=text_limit
        )

    def with_stream_usage(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        return chat.with_stream_usage(kwargs)

    def untrusted_text(self, kwargs: Mapping[str, Any]) -> str | None:
        prompt = _common.sent_params(kwargs).get("prompt")
        return _untrusted.joined(_untrusted.input_texts(prompt))

    def with_redacted(
        self, kwargs: Mapping[str, Any], replace: Callable[[str], str]
    ) -> dict[str, Any] | None:
        return _untrusted.redact_inputs(kwargs, "prompt", replace)

    def fallback(self, model: str | None, message: str, *, stream: bool, asynchronous: bool) -> Any:
        answer = fallback.completion(model, message)
        if not stream:
            return answer
        return (
            fallback.AsyncFallbackStream([answer])
            if asynchronous
            else fallback.FallbackStream([answer])
        )

    def redact_answer(self, response: Any, replace: Callable[[str], str]) -> bool:
        for choice in items(field(response, "choices")):
            text = field(choice, "text")
            if isinstance(text, str):
                choice.text = replace(text)
        return True


ADAPTER: Final = CompletionsAdapter()
