"""Chat Completions: ``chat.completions.create`` / ``parse`` requests, responses and chunks."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from .. import semconv
from .._text import encodable
from ..exchange import Exchange, Message
from . import _chat_content
from ._common import as_float, as_int, as_str, field, provider_of, server_of
from ._results import RAW_RESPONSE_HEADER, is_omitted
from ._schema import schema_names

__all__ = [
    "ChatStreamAccumulator",
    "UsageChunkFilter",
    "completion_of_error",
    "read_request",
    "read_response",
    "readable_kwargs",
    "with_stream_usage",
]

_JSON_FORMATS = frozenset({"json_object", "json_schema"})

MAX_CHOICES: Final = 128
"""Choices tracked per stream: the API's own limit on ``n``; more are not followed."""


def _output_type(response_format: Any) -> str | None:
    if isinstance(response_format, type):  # a pydantic model given to ``parse``
        return "json"
    kind = as_str(field(response_format, "type")) if response_format is not None else None
    if kind is None:
        return None
    return "json" if kind in _JSON_FORMATS else kind


def _stop_sequences(stop: Any) -> list[str] | None:
    if isinstance(stop, str):
        return [encodable(stop)]
    if isinstance(stop, (list, tuple)) and all(isinstance(item, str) for item in stop):
        return [encodable(item) for item in stop]
    return None


def _max_tokens(kwargs: Mapping[str, Any]) -> int | None:
    limit = as_int(kwargs.get("max_completion_tokens"))
    return as_int(kwargs.get("max_tokens")) if limit is None else limit


def _service_tier(params: Mapping[str, Any]) -> str | None:
    tier = as_str(params.get("service_tier"))
    return None if tier == "auto" else tier


def _sent_params(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request's parameters as sent: the client merges ``extra_body`` last, over them."""
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping) and extra:
        return {**kwargs, **extra}
    return kwargs


def read_request(client: Any, kwargs: Mapping[str, Any], *, capture_content: bool) -> Exchange:
    """An :class:`Exchange` holding what a chat request sent (``extra_body`` included)."""
    address, port = server_of(client)
    kwargs = _sent_params(kwargs)
    get = kwargs.get
    exchange = Exchange(
        operation=semconv.OPERATION_CHAT,
        provider=provider_of(client),
        api_type=semconv.API_TYPE_CHAT_COMPLETIONS,
        request_model=as_str(get("model")),
        server_address=address,
        server_port=port,
        stream=bool(get("stream")) if isinstance(get("stream"), (bool, int)) else False,
        temperature=as_float(get("temperature")),
        top_p=as_float(get("top_p")),
        max_tokens=_max_tokens(kwargs),
        frequency_penalty=as_float(get("frequency_penalty")),
        presence_penalty=as_float(get("presence_penalty")),
        seed=as_int(get("seed")),
    )
    stop = get("stop")
    if stop is not None:
        exchange.stop_sequences = _stop_sequences(stop)
    choices = as_int(get("n"))
    if choices is not None and choices != 1:
        exchange.choice_count = choices
    response_format = get("response_format")
    if response_format is not None:
        exchange.output_type = _output_type(response_format)
        if isinstance(response_format, type):
            exchange.output_schema_names = schema_names(response_format)
    if "service_tier" in kwargs:
        exchange.request_service_tier = _service_tier(kwargs)
    if capture_content:  # only sequences: a one-shot iterable is the client's to read
        messages = get("messages")
        if isinstance(messages, (list, tuple)):
            exchange.input_messages = _chat_content.input_messages(messages)
        tools = get("tools")
        if isinstance(tools, (list, tuple)):
            exchange.tool_definitions = _chat_content.tool_definitions(tools) or None
    return exchange


def with_stream_usage(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """``kwargs`` with ``stream_options.include_usage`` turned on, or ``None`` to leave as is.

    Left as is: the caller already decided on ``include_usage``, passed options we do
    not understand, or reads the raw body (an extra chunk would show there).
    """
    headers = kwargs.get("extra_headers")
    if isinstance(headers, Mapping) and RAW_RESPONSE_HEADER in headers:
        return None
    extra_body = kwargs.get("extra_body")
    if isinstance(extra_body, Mapping) and "stream_options" in extra_body:
        return None  # the caller set the options through the raw body
    options = kwargs.get("stream_options")
    if isinstance(options, Mapping):
        if "include_usage" in options:
            return None
        return {**kwargs, "stream_options": {**options, "include_usage": True}}
    if options is None or is_omitted(options):
        return {**kwargs, "stream_options": {"include_usage": True}}
    return None


def _replay(items: list[Any], error: BaseException) -> Iterator[Any]:
    yield from items
    raise error


def readable_kwargs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """``kwargs`` with one-shot iterables (``messages``, ``tools``) turned into lists.

    With content capture on we read these before the client does; a generator would be
    used up. The client turns any iterable into a list anyway, so a list is equivalent.
    If the caller's iterable raises, the client gets the items read so far and then the
    same exception, exactly where it would have met it (and we record no content).
    """
    changed: dict[str, Any] = {}
    for name in ("messages", "tools"):
        value = kwargs.get(name)
        if (
            value is None
            or isinstance(value, (list, tuple, str, Mapping))
            or not isinstance(value, Iterable)
        ):
            continue
        items: list[Any] = []
        try:
            for item in value:
                items.append(item)
        except Exception as error:
            changed[name] = _replay(items, error)
        else:
            changed[name] = items
    return {**kwargs, **changed} if changed else kwargs


def completion_of_error(error: BaseException) -> Any:
    """The completion a failed ``parse()`` still carries (``LengthFinishReasonError``,
    ``ContentFilterFinishReasonError``), or ``None``."""
    return getattr(error, "completion", None)


def _read_usage(exchange: Exchange, usage: Any) -> None:
    exchange.input_tokens = as_int(field(usage, "prompt_tokens"))
    exchange.output_tokens = as_int(field(usage, "completion_tokens"))
    prompt_details = field(usage, "prompt_tokens_details")
    if prompt_details is not None:
        exchange.cache_read_input_tokens = as_int(field(prompt_details, "cached_tokens"))
    completion_details = field(usage, "completion_tokens_details")
    if completion_details is not None:
        exchange.reasoning_output_tokens = as_int(field(completion_details, "reasoning_tokens"))


def read_response(exchange: Exchange, completion: Any, *, capture_content: bool) -> None:
    """Copy what a ``ChatCompletion`` says into ``exchange``."""
    exchange.response_id = as_str(field(completion, "id"))
    exchange.response_model = as_str(field(completion, "model"))
    exchange.response_service_tier = as_str(field(completion, "service_tier"))
    exchange.system_fingerprint = as_str(field(completion, "system_fingerprint"))
    choices = field(completion, "choices") or ()
    exchange.finish_reasons = [
        as_str(field(choice, "finish_reason")) or semconv.FINISH_REASON_ERROR for choice in choices
    ] or None
    usage = field(completion, "usage")
    if usage is not None:
        _read_usage(exchange, usage)
    if capture_content:
        outputs: list[Message] = []
        for choice, finish in zip(choices, exchange.finish_reasons or (), strict=True):
            message = field(choice, "message")
            outputs.append(
                _chat_content.output_message(
                    as_str(field(message, "role")),
                    as_str(field(message, "content")),
                    as_str(field(message, "refusal")),
                    field(message, "tool_calls"),
                    finish,
                )
            )
        exchange.output_messages = outputs


class _TextBudget:
    """Characters of streamed text still worth keeping, shared by every choice of a stream,
    so memory stays bounded however much text arrives."""

    __slots__ = ("left",)

    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self, text: str) -> str:
        kept = text[: self.left]
        self.left -= len(kept)
        return kept


class _ChoiceText:
    """Deltas of one streamed choice, kept only when content capture is on, up to a budget."""

    __slots__ = ("_budget", "refusal", "role", "text", "tool_calls")

    def __init__(self, budget: _TextBudget) -> None:
        self._budget = budget
        self.role: str | None = None
        self.text: list[str] = []
        self.refusal: list[str] = []
        self.tool_calls: dict[int, dict[str, Any]] = {}

    def add(self, delta: Any) -> None:
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
                _position(getattr(call, "index", 0)), {"id": None, "name": None, "arguments": []}
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
        return _chat_content.output_message(
            self.role, "".join(self.text), "".join(self.refusal), calls, finish
        )


def _position(index: Any) -> int:
    """A choice's or tool call's index as sent; 0 when absent (some compatible servers
    omit it) or not an integer."""
    return index if type(index) is int else 0


def _usage_only(chunk: Any) -> bool:
    """Whether ``chunk`` is the extra usage chunk ``include_usage`` adds (no choices)."""
    return not getattr(chunk, "choices", None) and getattr(chunk, "usage", None) is not None


class UsageChunkFilter:
    """A chunk reader that records nothing and only recognises the usage chunk: what a
    stream still needs when its bookkeeping could not be set up."""

    __slots__ = ()

    def add(self, chunk: Any) -> bool:
        return False

    def fill(self) -> None:
        return None

    usage_only = staticmethod(_usage_only)


class ChatStreamAccumulator:
    """Folds ``ChatCompletionChunk``s into the exchange of a streamed call.

    Identity fields (id, model, service tier, fingerprint) are written to the exchange
    as soon as a chunk carries them, so metrics recorded mid-stream have them; finish
    reasons, usage and content are written by :meth:`fill`. It keeps references, never
    copies of chunks; text is only kept when content capture is on.
    """

    __slots__ = (
        "_budget",
        "_capture",
        "_exchange",
        "_finish",
        "_identity_pending",
        "_texts",
        "_usage",
    )

    def __init__(self, exchange: Exchange, *, capture_content: bool, text_limit: int) -> None:
        self._exchange = exchange
        self._capture = capture_content
        self._budget = _TextBudget(text_limit)
        self._identity_pending = True
        self._finish: dict[int, str | None] = {}
        self._texts: dict[int, _ChoiceText] = {}
        self._usage: Any = None

    def add(self, chunk: Any) -> bool:
        """Take one chunk; return True when it only carries usage (no choices)."""
        if self._identity_pending:
            self._read_identity(chunk)
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = usage
        choices = getattr(chunk, "choices", None)
        if not choices:
            return usage is not None
        finish = self._finish
        for choice in choices:
            index = choice.index
            if type(index) is not int:
                index = _position(index)
            reason = choice.finish_reason
            if index not in finish:
                if len(finish) >= MAX_CHOICES:
                    continue  # past what the API can send: not tracked
                finish[index] = reason
            elif reason is not None:
                finish[index] = reason
            if self._capture:
                text = self._texts.get(index)
                if text is None:
                    text = self._texts[index] = _ChoiceText(self._budget)
                text.add(choice.delta)
        return False

    usage_only = staticmethod(_usage_only)

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
        if self._usage is not None:
            _read_usage(exchange, self._usage)
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
