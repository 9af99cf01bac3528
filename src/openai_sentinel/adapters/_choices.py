"""Streamed choices (chat and legacy completions): finish reasons, usage, capped text."""

from __future__ import annotations

from typing import Any, ClassVar, Final

from .. import semconv
from ..exchange import Exchange, Message
from ._adapter import CHUNK_CONTENT, CHUNK_CONTROL, CHUNK_USAGE_ONLY
from ._answers import AnswerCollector
from ._chat_content import output_message
from ._common import as_str

__all__ = [
    "MAX_CHOICES",
    "ChoiceStreamAccumulator",
    "ChoiceText",
    "UsageChunkFilter",
    "position",
    "usage_only",
]

MAX_CHOICES: Final = 128
"""Choices tracked per stream: the API's own limit on ``n``; more are not followed."""


class TextBudget:
    """Characters of streamed text still worth keeping, shared by every choice of a stream,
    so memory stays bounded however much text arrives."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, text: str) -> str:
        kept = text[: self.left]
        self.left -= len(kept)
        return kept


class ChoiceText:
    """Deltas of one streamed choice, kept only when content capture is on, up to a budget."""

    __slots__ = ("_budget", "refusal", "role", "text", "tool_calls")

    def __init__(self, budget: TextBudget) -> None:
        self._budget = budget
        self.role: str | None = None
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}

    def add_text(self, text: Any) -> None:
        """A legacy completion's ``text`` delta."""
        if text and isinstance(text, str) and self._budget.left > 0:
            self.text.append(self._budget.take(text))

    def add(self, delta: Any) -> None:
        """A chat chunk's ``delta``: role, content, refusal, tool call fragments."""
        role = getattr(delta, "role", None)
        if role:
            self.role = role
        budget = self._budget
        if budget.left <= 0:
            return
        content = getattr(delta, "content", None)
        if content:
            self.text.append(budget.take(content))
        refusal = getattr(delta, "refusal", None)
        if refusal:
            self.refusal.append(budget.take(refusal))
        for call in getattr(delta, "tool_calls", None) or ():
            slot = self.tool_calls.setdefault(
                position(getattr(call, "index", 0)), {"id": None, "name": None, "arguments": []}
            )
            slot["id"] = slot["id"] or getattr(call, "id", None)
            function = getattr(call, "function", None)
            if function is not None:
                slot["name"] = slot["name"] or getattr(function, "name", None)
                arguments = getattr(function, "arguments", None)
                if arguments:
                    slot["arguments"].append(budget.take(arguments))

    def message(self, finish: str) -> Message:
        calls = [
            {"id": c["id"], "function": {"name": c["name"], "arguments": "".join(c["arguments"])}}
            for _, c in sorted(self.tool_calls.items())
        ]
        return output_message(self.role, "".join(self.text), "".join(self.refusal), calls, finish)


def position(index: Any) -> int:
    """A choice's or tool call's index as sent; 0 when absent (some compatible servers
    omit it) or not an integer."""
    return index if type(index) is int else 0


def usage_only(chunk: Any) -> bool:
    """Whether ``chunk`` is the extra usage chunk ``include_usage`` adds (no choices)."""
    return not getattr(chunk, "choices", None) and getattr(chunk, "usage", None) is not None


class UsageChunkFilter:
    """A chunk reader that records nothing and only recognises the usage chunk: what a
    stream still needs when its bookkeeping could not be set up."""

    __slots__ = ()

    def add(self, chunk: Any) -> int:
        return CHUNK_CONTENT

    def fill(self) -> None:
        return None

    usage_only = staticmethod(usage_only)


class ChoiceStreamAccumulator:
    """Folds the chunks of a streamed chat or legacy completion into the exchange.

    Subclasses say how a choice's delta is read (:meth:`_read_choice`) and how usage is.

    Identity fields (id, model, service tier, fingerprint) are written to the exchange
    as soon as a chunk carries them, so metrics recorded mid-stream have them; finish
    reasons, usage and content are written by :meth:`fill`. It keeps references, never
    copies of chunks; text is only kept when content capture is on.
    """

    __slots__ = (
        "_answers",
        "_budget",
        "_capture",
        "_exchange",
        "_finish",
        "_identity_pending",
        "_texts",
        "_usage",
    )

    _reads_deltas: ClassVar[bool] = True
    """Whether the choices are chat choices (a ``delta`` each), read by :meth:`add`;
    otherwise by :meth:`_read_answer`."""

    def __init__(self, exchange: Exchange, *, capture_content: bool, text_limit: int) -> None:
        self._exchange = exchange
        self._capture = capture_content
        self._budget = TextBudget(text_limit)
        self._identity_pending = True
        self._finish: dict[int, str | None] = {}
        self._texts: dict[int, ChoiceText] = {}
        self._usage: Any = None
        self._answers = AnswerCollector()

    def add(self, chunk: Any) -> int:
        """Take one chunk; say whether it is output or only carries usage (no choices)."""
        if self._identity_pending:
            self._read_identity(chunk)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = usage
        choices = getattr(chunk, "choices", None)
        if not choices:
            return CHUNK_USAGE_ONLY if usage is not None else CHUNK_CONTROL
        finish = self._finish
        for choice in choices:
            index = choice.index
            if type(index) is not int:
                index = position(index)
            reason = choice.finish_reason
            if index not in finish:
                if len(finish) >= MAX_CHOICES:
                    continue  # past what the API can send: not tracked
                finish[index] = reason
            elif reason is not None:
                finish[index] = reason
            if self._reads_deltas:
                # A chat choice's answer, read here rather than in a method: this runs
                # for every chunk, and a call per chunk shows in what a stream costs.
                try:  # the client's chunk models always have these; a stranger may not
                    logprobs = choice.logprobs
                    delta = choice.delta
                    refusal = delta.refusal
                    content = delta.content
                except AttributeError:
                    pass
                else:
                    answers = self._answers
                    if logprobs is not None:
                        self._read_logprobs(index, logprobs)
                    if refusal:
                        answers.refused = True
                    if index == 0 and content and answers.text_left > 0 and type(content) is str:
                        left = answers.text_left
                        if len(content) > left:
                            content = content[:left]
                        answers.text_parts.append(content)
                        answers.text_left = left - len(content)
            else:
                self._read_answer(index, choice)
            if self._capture:
                text = self._texts.get(index)
                if text is None:
                    text = self._texts[index] = ChoiceText(self._budget)
                self._read_choice(text, choice)
        return CHUNK_CONTENT

    usage_only = staticmethod(usage_only)

    def _read_choice(self, text: ChoiceText, choice: Any) -> None:
        text.add(getattr(choice, "delta", None))

    def _read_logprobs(self, index: int, logprobs: Any) -> None:
        """A chat choice's token logprobs, of its content and of its refusal."""
        answers = self._answers
        answers.logprobs(index, getattr(logprobs, "content", None))
        refusal_tokens = getattr(logprobs, "refusal", None)
        if refusal_tokens:
            answers.logprobs(index, refusal_tokens)

    def _read_answer(self, index: int, choice: Any) -> None:
        """What the analyzers need of a choice that is not a chat choice (which
        :meth:`add` reads itself): logprobs, first answer's text."""
        raise NotImplementedError

    def _read_usage(self, usage: Any) -> None:
        raise NotImplementedError

    def _read_identity(self, chunk: Any) -> None:
        """Id, model, service tier and fingerprint: the first non-empty value of each.

        Azure's first chunk (prompt filter results) carries an empty id and model.
        """
        exchange = self._exchange
        if exchange.response_id is None:
            exchange.response_id = as_str(getattr(chunk, "id", None)) or None
        if exchange.response_model is None:
            exchange.response_model = as_str(getattr(chunk, "model", None)) or None
        if exchange.response_service_tier is None:
            exchange.response_service_tier = as_str(getattr(chunk, "service_tier", None)) or None
        if exchange.system_fingerprint is None:
            exchange.system_fingerprint = as_str(getattr(chunk, "system_fingerprint", None)) or None
        self._identity_pending = None in (
            exchange.response_id,
            exchange.response_model,
            exchange.response_service_tier,
            exchange.system_fingerprint,
        )

    def fill(self) -> None:
        """Write finish reasons, usage and (opt-in) content into the exchange.

        There is one reason per choice seen, or expected from the request's ``n``, in
        index order; nothing is sized from an index the server sent. A choice that never
        received its finish reason (the stream ended early or failed) reports ``error``,
        as the conventions ask.
        """
        exchange = self._exchange
        self._answers.fill(exchange)
        if self._usage is not None:
            self._read_usage(self._usage)
        expected = range(min(exchange.choice_count or 1, MAX_CHOICES))
        indexes = sorted(self._finish.keys() | set(expected))
        reasons = [
            as_str(self._finish.get(index)) or semconv.FINISH_REASON_ERROR for index in indexes
        ]
        exchange.finish_reasons = reasons
        if self._capture:
            exchange.output_messages = [
                self._texts[index].message(reason)
                if index in self._texts
                else {"role": "assistant", "parts": [], "finish_reason": reason}
                for index, reason in zip(indexes, reasons, strict=True)
            ]
