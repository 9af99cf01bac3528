"""Chat Completions: ``chat.completions.create`` / ``parse`` requests, responses and chunks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .. import semconv
from ..exchange import Exchange, Message
from . import _chat_content, _common, _untrusted, fallback
from ._adapter import Adapter, ChunkReader
from ._answers import read_chat_answers
from ._choices import ChoiceStreamAccumulator, UsageChunkFilter
from ._common import as_count, as_float, as_int, as_str, field, items, supports_logprobs
from ._results import RAW_RESPONSE_HEADER, is_omitted
from ._schema import schema_names

__all__ = [
    "ADAPTER",
    "ChatStreamAccumulator",
    "UsageChunkFilter",
    "read_request",
    "read_response",
    "read_usage",
    "with_stream_usage",
]

_JSON_FORMATS = frozenset({"json_object", "json_schema"})
_READ_AHEAD = ("messages", "tools")


def output_type(response_format: Any) -> str | None:
    """``gen_ai.output.type`` of a ``response_format`` (a dict, or a model for ``parse``)."""
    if isinstance(response_format, type):  # a pydantic model given to ``parse``
        return "json"
    kind = as_str(field(response_format, "type")) if response_format is not None else None
    if kind is None:
        return None
    return "json" if kind in _JSON_FORMATS else kind


def _max_tokens(params: Mapping[str, Any]) -> int | None:
    limit = as_int(params.get("max_completion_tokens"))
    return as_int(params.get("max_tokens")) if limit is None else limit


def read_sampling(exchange: Exchange, params: Mapping[str, Any]) -> None:
    """The sampling parameters chat and legacy completions share."""
    get = params.get
    exchange.temperature = as_float(get("temperature"))
    exchange.top_p = as_float(get("top_p"))
    exchange.max_tokens = _max_tokens(params)
    exchange.frequency_penalty = as_float(get("frequency_penalty"))
    exchange.presence_penalty = as_float(get("presence_penalty"))
    exchange.seed = as_int(get("seed"))
    stop = get("stop")
    if stop is not None:
        exchange.stop_sequences = _common.stop_sequences(stop)
    choices = as_int(get("n"))
    if choices is not None and choices != 1:
        exchange.choice_count = choices
    if "service_tier" in params:
        exchange.request_service_tier = _common.service_tier(params)


def read_request(client: Any, kwargs: Mapping[str, Any], *, capture_content: bool) -> Exchange:
    """An :class:`Exchange` holding what a chat request sent (``extra_body`` included)."""
    params = _common.sent_params(kwargs)
    exchange = _common.new_exchange(
        client, params, semconv.OPERATION_CHAT, semconv.API_TYPE_CHAT_COMPLETIONS
    )
    read_sampling(exchange, params)
    response_format = params.get("response_format")
    if response_format is not None:
        exchange.output_type = output_type(response_format)
        if isinstance(response_format, type):
            exchange.output_schema_names = schema_names(response_format)
    if capture_content:  # only sequences: a one-shot iterable is the client's to read
        messages = params.get("messages")
        if isinstance(messages, (list, tuple)):
            exchange.input_messages = _chat_content.input_messages(messages)
        tools = params.get("tools")
        if isinstance(tools, (list, tuple)):
            exchange.tool_definitions = _chat_content.tool_definitions(tools) or None
    return exchange


def reads_raw_body(kwargs: Mapping[str, Any]) -> bool:
    """Whether the caller reads the raw body (``with_raw_response``,
    ``with_streaming_response``), where anything added to the request would show."""
    headers = kwargs.get("extra_headers")
    return isinstance(headers, Mapping) and RAW_RESPONSE_HEADER in headers


def _decided(kwargs: Mapping[str, Any], name: str) -> bool:
    """The caller gave ``name``, as an argument or through ``extra_body``."""
    extra_body = kwargs.get("extra_body")
    if isinstance(extra_body, Mapping) and name in extra_body:
        return True
    return name in kwargs and not is_omitted(kwargs[name])


def with_logprobs(kwargs: Mapping[str, Any], model: str | None) -> dict[str, Any] | None:
    """``kwargs`` with ``logprobs=True``, or ``None`` to leave them as is: the caller
    decided, reads the raw body, or the model is not known to return logprobs."""
    if _decided(kwargs, "logprobs") or reads_raw_body(kwargs) or not supports_logprobs(model):
        return None
    return {**kwargs, "logprobs": True}


def with_stream_usage(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    """``kwargs`` with ``stream_options.include_usage`` turned on, or ``None`` to leave as is.

    Left as is: the caller already decided on ``include_usage``, passed options we do
    not understand, or reads the raw body (an extra chunk would show there).
    """
    if reads_raw_body(kwargs):
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


def read_usage(exchange: Exchange, usage: Any) -> None:
    """A ``CompletionUsage`` (chat and legacy completions)."""
    exchange.input_tokens = as_count(field(usage, "prompt_tokens"))
    exchange.output_tokens = as_count(field(usage, "completion_tokens"))
    prompt_details = field(usage, "prompt_tokens_details")
    if prompt_details is not None:
        exchange.cache_read_input_tokens = as_count(field(prompt_details, "cached_tokens"))
        exchange.cache_write_input_tokens = as_count(field(prompt_details, "cache_write_tokens"))
    completion_details = field(usage, "completion_tokens_details")
    if completion_details is not None:
        exchange.reasoning_output_tokens = as_count(field(completion_details, "reasoning_tokens"))


def read_identity(exchange: Exchange, response: Any) -> None:
    """Id, model, service tier and fingerprint of a completion."""
    exchange.response_id = as_str(field(response, "id"))
    exchange.response_model = as_str(field(response, "model"))
    exchange.response_service_tier = as_str(field(response, "service_tier"))
    exchange.system_fingerprint = as_str(field(response, "system_fingerprint"))


def read_response(exchange: Exchange, completion: Any, *, capture_content: bool) -> None:
    """Copy what a ``ChatCompletion`` says into ``exchange``."""
    read_identity(exchange, completion)
    choices = items(field(completion, "choices"))
    exchange.finish_reasons = [
        as_str(field(choice, "finish_reason")) or semconv.FINISH_REASON_ERROR for choice in choices
    ] or None
    usage = field(completion, "usage")
    if usage is not None:
        read_usage(exchange, usage)
    read_chat_answers(exchange, choices)
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


class ChatStreamAccumulator(ChoiceStreamAccumulator):
    """Folds ``ChatCompletionChunk``s into the exchange of a streamed call."""

    __slots__ = ()

    def _read_usage(self, usage: Any) -> None:
        read_usage(self._exchange, usage)


class ChatAdapter(Adapter):
    """``chat.completions.create`` and ``parse``."""

    __slots__ = ()

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        return read_request(client, kwargs, capture_content=capture_content)

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        read_response(exchange, response, capture_content=capture_content)

    def stream_reader(
        self, exchange: Exchange, *, capture_content: bool, text_limit: int
    ) -> ChunkReader:
        return ChatStreamAccumulator(
            exchange, capture_content=capture_content, text_limit=text_limit
        )

    def readable_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return _common.readable_kwargs(kwargs, _READ_AHEAD)

    def with_stream_usage(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        return with_stream_usage(kwargs)

    def with_logprobs(self, kwargs: Mapping[str, Any], model: str | None) -> dict[str, Any] | None:
        return with_logprobs(kwargs, model)

    def completion_of_error(self, error: BaseException) -> Any:
        """The completion a failed ``parse()`` still carries (``LengthFinishReasonError``,
        ``ContentFilterFinishReasonError``)."""
        return getattr(error, "completion", None)

    def untrusted_text(self, kwargs: Mapping[str, Any]) -> str | None:
        messages = _common.sent_params(kwargs).get("messages")
        return _untrusted.joined(_untrusted.chat_texts(messages))

    def with_redacted(
        self, kwargs: Mapping[str, Any], replace: Callable[[str], str]
    ) -> dict[str, Any] | None:
        return _untrusted.redact_chat(kwargs, replace)

    def fallback(self, model: str | None, message: str, *, stream: bool, asynchronous: bool) -> Any:
        if not stream:
            return fallback.chat_completion(model, message)
        chunks = [fallback.chat_chunk(model, message)]
        return (
            fallback.AsyncFallbackStream(chunks)
            if asynchronous
            else fallback.FallbackStream(chunks)
        )

    def redact_answer(self, response: Any, replace: Callable[[str], str]) -> bool:
        for choice in items(field(response, "choices")):
            message = field(choice, "message")
            content = field(message, "content")
            if isinstance(content, str):
                message.content = replace(content)
        return True


ADAPTER = ChatAdapter()
