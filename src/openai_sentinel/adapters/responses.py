"""The Responses API: ``responses.create`` / ``parse`` / ``retrieve``, responses and events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .. import semconv
from ..exchange import Exchange
from . import _common, _responses_content, _untrusted, fallback
from ._adapter import CHUNK_CONTENT, CHUNK_CONTROL, Adapter, ChunkReader
from ._answers import read_responses
from ._choices import TextBudget
from ._common import as_count, as_float, as_int, as_str, field, items
from ._results import is_omitted
from ._schema import schema_names
from .chat import output_type, reads_raw_body
from .errors import describe_api_error

__all__ = ["ADAPTER", "RETRIEVAL_ADAPTER", "ResponseEventReader", "finish_reason"]

_READ_AHEAD: Final = ("input", "tools")
_TERMINAL_EVENTS: Final = frozenset(
    {"response.completed", "response.incomplete", "response.failed"}
)
_IDENTITY_EVENTS: Final = frozenset({"response.created", "response.in_progress", "response.queued"})
_TEXT_DELTA: Final = "response.output_text.delta"
_INCOMPLETE_REASONS: Final = {
    "max_output_tokens": semconv.FINISH_REASON_LENGTH,
    "content_filter": semconv.FINISH_REASON_CONTENT_FILTER,
}
_TOOL_CALL_ITEMS: Final = frozenset({"function_call", "custom_tool_call"})
_UNFINISHED: Final = frozenset({"queued", "in_progress"})


def finish_reason(response: Any) -> str | None:
    """A chat-style finish reason for a response, which has a ``status`` instead.

    ``completed`` is ``stop`` (``tool_calls`` when it ends in a tool call), an
    ``incomplete`` one says why (``length`` for ``max_output_tokens``,
    ``content_filter``), ``failed`` is ``error``; ``cancelled`` keeps its name. A
    response still ``queued`` or ``in_progress`` (``background=True``) has none yet.
    """
    status = as_str(field(response, "status"))
    if status == "completed":
        output = items(field(response, "output"))
        calls = any(as_str(field(item, "type")) in _TOOL_CALL_ITEMS for item in output)
        return semconv.FINISH_REASON_TOOL_CALLS if calls else semconv.FINISH_REASON_STOP
    if status == "incomplete":
        reason = as_str(field(field(response, "incomplete_details"), "reason"))
        return _INCOMPLETE_REASONS.get(reason or "", reason or status)
    if status == "failed":
        return semconv.FINISH_REASON_ERROR
    if status in _UNFINISHED:
        return None
    return status or semconv.FINISH_REASON_ERROR


def _text_format_type(params: Mapping[str, Any]) -> str | None:
    text_format = params.get("text_format")  # ``parse(text_format=Model)``
    if isinstance(text_format, type):
        return "json"
    return output_type(field(params.get("text"), "format"))


def read_request(client: Any, kwargs: Mapping[str, Any], *, capture_content: bool) -> Exchange:
    """An :class:`Exchange` holding what a Responses request sent."""
    params = _common.sent_params(kwargs)
    exchange = _common.new_exchange(
        client, params, semconv.OPERATION_CHAT, semconv.API_TYPE_RESPONSES
    )
    get = params.get
    exchange.temperature = as_float(get("temperature"))
    exchange.top_p = as_float(get("top_p"))
    exchange.max_tokens = as_int(get("max_output_tokens"))
    if "service_tier" in params:
        exchange.request_service_tier = _common.service_tier(params)
    exchange.output_type = _text_format_type(params)
    text_format = get("text_format")
    if isinstance(text_format, type):
        exchange.output_schema_names = schema_names(text_format)
    exchange.previous_response_id = as_str(get("previous_response_id"))
    conversation = get("conversation")
    exchange.conversation_id = as_str(conversation) or as_str(field(conversation, "id"))
    exchange.reasoning_level = as_str(field(get("reasoning"), "effort"))
    if capture_content:
        exchange.system_instructions = _responses_content.instructions(get("instructions"))
        exchange.input_messages = _responses_content.input_messages(get("input")) or None
        exchange.tool_definitions = _responses_content.tool_definitions(get("tools")) or None
    return exchange


def read_usage(exchange: Exchange, usage: Any) -> None:
    """A ``ResponseUsage``."""
    exchange.input_tokens = as_count(field(usage, "input_tokens"))
    exchange.output_tokens = as_count(field(usage, "output_tokens"))
    input_details = field(usage, "input_tokens_details")
    if input_details is not None:
        exchange.cache_read_input_tokens = as_count(field(input_details, "cached_tokens"))
        exchange.cache_write_input_tokens = as_count(field(input_details, "cache_write_tokens"))
    output_details = field(usage, "output_tokens_details")
    if output_details is not None:
        exchange.reasoning_output_tokens = as_count(field(output_details, "reasoning_tokens"))


def read_response(exchange: Exchange, response: Any, *, capture_content: bool) -> None:
    """Copy what a ``Response`` says into ``exchange``."""
    exchange.response_id = as_str(field(response, "id"))
    exchange.response_model = as_str(field(response, "model"))
    exchange.response_service_tier = as_str(field(response, "service_tier"))
    reason = finish_reason(response)
    exchange.finish_reasons = None if reason is None else [reason]
    usage = field(response, "usage")
    if usage is not None:
        read_usage(exchange, usage)
    read_responses(exchange, field(response, "output"))
    error = field(response, "error")
    if error is not None:
        exchange.error_type, exchange.error_message = describe_api_error(
            as_str(field(error, "code")), as_str(field(error, "message"))
        )
    if capture_content:
        exchange.output_messages = _responses_content.output_messages(
            field(response, "output"), reason
        )
        if exchange.system_instructions is None:
            exchange.system_instructions = _responses_content.instructions(
                field(response, "instructions")
            )


class ResponseEventReader:
    """Folds a Responses event stream into the exchange.

    Deltas are output chunks (counted and timed); the terminal event carries the whole
    response, which :meth:`fill` reads as a non-streamed one. Text deltas are kept (up
    to the budget, with capture on) only for a stream that never reaches that event.
    """

    __slots__ = ("_budget", "_capture", "_error", "_exchange", "_final", "_text")

    def __init__(self, exchange: Exchange, *, capture_content: bool, text_limit: int) -> None:
        self._exchange = exchange
        self._capture = capture_content
        self._budget = TextBudget(text_limit)
        self._final: Any = None
        self._error: Any = None
        self._text: list[str] = []

    def add(self, event: Any) -> int:
        kind = getattr(event, "type", None)
        if type(kind) is not str:
            return CHUNK_CONTROL
        if kind.endswith(".delta"):
            if kind == _TEXT_DELTA and self._capture and self._budget.left > 0:
                delta = getattr(event, "delta", None)
                if isinstance(delta, str):
                    self._text.append(self._budget.take(delta))
            return CHUNK_CONTENT
        if kind in _TERMINAL_EVENTS:
            self._final = getattr(event, "response", None)
        elif kind in _IDENTITY_EVENTS:
            self._read_identity(getattr(event, "response", None))
        elif kind == "error":
            self._error = event
        return CHUNK_CONTROL

    def _read_identity(self, response: Any) -> None:
        exchange = self._exchange
        exchange.response_id = exchange.response_id or as_str(field(response, "id"))
        exchange.response_model = exchange.response_model or as_str(field(response, "model"))

    def usage_only(self, event: Any) -> bool:
        return False

    def fill(self) -> None:
        exchange = self._exchange
        if self._final is not None:
            read_response(exchange, self._final, capture_content=self._capture)
        else:
            exchange.finish_reasons = [semconv.FINISH_REASON_ERROR]
            if self._capture:
                parts = [{"type": "text", "content": "".join(self._text)}] if self._text else []
                exchange.output_messages = [
                    {"role": "assistant", "parts": parts, "finish_reason": "error"}
                ]
        if self._error is not None:
            exchange.error_type, exchange.error_message = describe_api_error(
                as_str(getattr(self._error, "code", None)),
                as_str(getattr(self._error, "message", None)),
            )


_LOGPROBS_INCLUDE: Final = "message.output_text.logprobs"


def with_logprobs(kwargs: Mapping[str, Any], model: str | None) -> dict[str, Any] | None:
    """``kwargs`` with ``include`` asking for the output text's logprobs, or ``None`` to
    leave them as is (already asked for, raw body read, or a model without logprobs)."""
    if reads_raw_body(kwargs) or not _common.supports_logprobs(model):
        return None
    extra_body = kwargs.get("extra_body")
    if isinstance(extra_body, Mapping) and "include" in extra_body:
        return None
    include = kwargs.get("include")
    if include is None or is_omitted(include):
        return {**kwargs, "include": [_LOGPROBS_INCLUDE]}
    if not isinstance(include, (list, tuple)) or _LOGPROBS_INCLUDE in include:
        return None
    return {**kwargs, "include": [*include, _LOGPROBS_INCLUDE]}


class ResponsesAdapter(Adapter):
    """``responses.create`` and ``parse`` (the ``.stream()`` helper goes through them)."""

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
        return ResponseEventReader(exchange, capture_content=capture_content, text_limit=text_limit)

    def readable_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return _common.readable_kwargs(kwargs, _READ_AHEAD)

    def with_logprobs(self, kwargs: Mapping[str, Any], model: str | None) -> dict[str, Any] | None:
        return with_logprobs(kwargs, model)

    def untrusted_text(self, kwargs: Mapping[str, Any]) -> str | None:
        value = _common.sent_params(kwargs).get("input")
        return _untrusted.joined(_untrusted.responses_texts(value))

    def with_redacted(
        self, kwargs: Mapping[str, Any], replace: Callable[[str], str]
    ) -> dict[str, Any] | None:
        return _untrusted.redact_responses_input(kwargs, replace)

    def fallback(self, model: str | None, message: str, *, stream: bool, asynchronous: bool) -> Any:
        return None if stream else fallback.response(model, message)

    def redact_answer(self, response: Any, replace: Callable[[str], str]) -> bool:
        for item in items(field(response, "output")):
            if field(item, "type") != "message":
                continue
            for part in items(field(item, "content")):
                text = field(part, "text")
                if field(part, "type") == "output_text" and isinstance(text, str):
                    part.text = replace(text)
        return True


class _RetrievalEventReader(ResponseEventReader):
    __slots__ = ()

    def fill(self) -> None:
        super().fill()
        _as_fetched(self._exchange)


def _as_fetched(exchange: Exchange) -> None:
    """What a fetch reports of the response it fetched: no usage (the call that made it
    paid for and reported those tokens), and no error (the fetch itself worked, even of
    a response whose generation failed; its finish reason says so)."""
    exchange.input_tokens = exchange.output_tokens = None
    exchange.cache_read_input_tokens = exchange.cache_write_input_tokens = None
    exchange.reasoning_output_tokens = None
    exchange.error_type = exchange.error_message = None


class ResponseRetrievalAdapter(ResponsesAdapter):
    """``responses.retrieve``: fetching a stored or background response (also streamed,
    to resume it). The conventions' ``fetch_response``: no token usage is reported."""

    __slots__ = ()
    positional = ("response_id",)

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        params = _common.sent_params(kwargs)
        exchange = _common.new_exchange(
            client, params, semconv.OPERATION_FETCH_RESPONSE, semconv.API_TYPE_RESPONSES
        )
        exchange.response_id = as_str(params.get("response_id"))
        return exchange

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        read_response(exchange, response, capture_content=capture_content)
        _as_fetched(exchange)

    def stream_reader(
        self, exchange: Exchange, *, capture_content: bool, text_limit: int
    ) -> ChunkReader:
        return _RetrievalEventReader(
            exchange, capture_content=capture_content, text_limit=text_limit
        )

    def request_arguments(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        return None  # fetching a response asks nothing of a model

    def with_logprobs(self, kwargs: Mapping[str, Any], model: str | None) -> dict[str, Any] | None:
        return None  # a fetch gets what the response was made with

    def untrusted_text(self, kwargs: Mapping[str, Any]) -> str | None:
        return None

    def with_redacted(
        self, kwargs: Mapping[str, Any], replace: Callable[[str], str]
    ) -> dict[str, Any] | None:
        return None

    def fallback(self, model: str | None, message: str, *, stream: bool, asynchronous: bool) -> Any:
        return None

    def readable_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        return kwargs


ADAPTER: Final = ResponsesAdapter()
RETRIEVAL_ADAPTER: Final = ResponseRetrievalAdapter()
