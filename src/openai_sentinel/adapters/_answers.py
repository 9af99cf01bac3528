"""What the analyzers read of the answers: token logprobs, refusals and a bounded sample
of the first answer's text, from chat, legacy and Responses outputs and streams."""

from __future__ import annotations

from typing import Any, Final

from ..exchange import ANSWER_TEXT_LIMIT, AnswerLogprobs, Exchange
from ._common import as_str, field, items

__all__ = ["AnswerCollector", "read_chat_answers", "read_completion_answers", "read_responses"]

_MAX_ANSWERS: Final = 128
"""Answers followed per call: the API's own limit on ``n``."""


def _sample(text: str | None) -> str | None:
    return text[:ANSWER_TEXT_LIMIT] if text else None


def _keep(exchange: Exchange, answers: dict[int, AnswerLogprobs]) -> None:
    """The answers that had logprobs, by choice index."""
    kept = {index: answer for index, answer in answers.items() if answer.count}
    if kept:
        exchange.answer_logprobs = kept


def read_chat_answers(exchange: Exchange, choices: Any) -> None:
    """The choices of a ``ChatCompletion``."""
    answers: dict[int, AnswerLogprobs] = {}
    for index, choice in enumerate(choices[:_MAX_ANSWERS]):
        answer = answers[index] = AnswerLogprobs()
        logprobs = field(choice, "logprobs")
        if logprobs is not None:
            answer.add_tokens(field(logprobs, "content"))
            answer.add_tokens(field(logprobs, "refusal"))
        message = field(choice, "message")
        if field(message, "refusal"):
            exchange.refused = True
        if index == 0:
            exchange.answer_text = _sample(as_str(field(message, "content")))
    _keep(exchange, answers)


def read_completion_answers(exchange: Exchange, choices: Any) -> None:
    """The choices of a legacy ``Completion``."""
    answers: dict[int, AnswerLogprobs] = {}
    for index, choice in enumerate(choices[:_MAX_ANSWERS]):
        answer = answers[index] = AnswerLogprobs()
        logprobs = field(choice, "logprobs")
        if logprobs is not None:
            answer.add_tokens(field(logprobs, "token_logprobs"))
        if index == 0:
            exchange.answer_text = _sample(as_str(field(choice, "text")))
    _keep(exchange, answers)


def read_responses(exchange: Exchange, output: Any) -> None:
    """The output items of a ``Response``: one answer, its text parts and refusals."""
    answer = AnswerLogprobs()
    texts: list[str] = []
    kept = 0
    for item in items(output):
        if as_str(field(item, "type")) != "message":
            continue
        for part in items(field(item, "content")):
            kind = as_str(field(part, "type"))
            if kind == "output_text":
                answer.add_tokens(field(part, "logprobs"))
                text = as_str(field(part, "text"))
                if text and kept < ANSWER_TEXT_LIMIT:
                    texts.append(text[: ANSWER_TEXT_LIMIT - kept])
                    kept += len(texts[-1])
            elif kind == "refusal":
                exchange.refused = True
    exchange.answer_text = "".join(texts) or None
    _keep(exchange, {0: answer})


class AnswerCollector:
    """The answers of a streamed chat or legacy completion, chunk by chunk: logprobs per
    choice, refusals, and the first choice's text up to the limit."""

    __slots__ = ("_answers", "refused", "text_left", "text_parts")

    def __init__(self) -> None:
        self._answers: dict[int, AnswerLogprobs] = {}
        self.text_parts: list[str] = []
        """The first choice's text deltas kept so far."""
        self.text_left = ANSWER_TEXT_LIMIT
        """Characters of the first choice's text still to keep."""
        self.refused = False

    def logprobs(self, index: int, tokens: Any) -> None:
        """Token logprobs (objects with ``logprob``, or floats) of choice ``index``."""
        answer = self._answers.get(index)
        if answer is None:
            if len(self._answers) >= _MAX_ANSWERS:
                return
            answer = self._answers[index] = AnswerLogprobs()
        answer.add_tokens(tokens)

    def text(self, delta: Any) -> None:
        """A text delta of the first choice."""
        left = self.text_left
        if left > 0 and type(delta) is str:
            if len(delta) > left:
                delta = delta[:left]
            self.text_parts.append(delta)
            self.text_left = left - len(delta)

    def fill(self, exchange: Exchange) -> None:
        """Write what the chunks said into ``exchange``."""
        if self.text_parts:
            exchange.answer_text = "".join(self.text_parts)
        if self.refused:
            exchange.refused = True
        _keep(exchange, {index: self._answers[index] for index in sorted(self._answers)})
