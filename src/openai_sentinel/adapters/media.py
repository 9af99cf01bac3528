"""Images, audio and moderations: one adapter per operation, the bytes never read.

The GenAI conventions name no operation for these; the names follow their
``verb_object`` style (``generate_image``, ``transcribe_audio``…). Image and audio
bytes are never recorded, even with content capture on: only text (prompts,
transcripts, speech input) is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .. import semconv
from ..exchange import Exchange, Message
from . import _common
from ._adapter import CHUNK_CONTENT, CHUNK_CONTROL, Adapter, ChunkReader
from ._choices import TextBudget
from ._common import as_count, as_int, as_str, field

__all__ = [
    "IMAGE_EDIT",
    "IMAGE_GENERATION",
    "IMAGE_VARIATION",
    "MODERATION",
    "SPEECH",
    "TRANSCRIPTION",
    "TRANSLATION",
]


def _text_message(role: str, text: Any) -> list[Message] | None:
    if isinstance(text, str) and text:
        return [{"role": role, "parts": [{"type": "text", "content": text}]}]
    return None


def _read_token_usage(exchange: Exchange, usage: Any) -> None:
    """Token usage of images and ``gpt-4o`` transcriptions (``type: tokens``); Whisper's
    ``type: duration`` usage has no tokens."""
    if usage is None or as_str(field(usage, "type")) == "duration":
        return
    exchange.input_tokens = as_count(field(usage, "input_tokens"))
    exchange.output_tokens = as_count(field(usage, "output_tokens"))
    details = field(usage, "input_tokens_details")
    if details is not None:
        exchange.cache_read_input_tokens = as_count(field(details, "cached_tokens"))


class _MediaAdapter(Adapter):
    """What images, audio and moderations share: operation, model, output type, ``n``."""

    __slots__ = ("operation", "output_type", "text_parameter")

    def __init__(self, operation: str, output_type: str | None, text_parameter: str) -> None:
        self.operation = operation
        self.output_type = output_type
        self.text_parameter = text_parameter
        """The request's text, recorded with capture on (never its images or audio)."""

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        params = _common.sent_params(kwargs)
        exchange = _common.new_exchange(client, params, self.operation)
        exchange.output_type = self.output_type
        choices = as_int(params.get("n"))
        if choices is not None and choices != 1:
            exchange.choice_count = choices
        if capture_content:
            exchange.input_messages = _text_message("user", params.get(self.text_parameter))
        return exchange

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        exchange.response_id = as_str(field(response, "id"))
        exchange.response_model = as_str(field(response, "model"))
        _read_token_usage(exchange, field(response, "usage"))


class _MediaEventReader:
    """Image and transcription event streams: partial images, the final image and text
    deltas are output; the ``….completed`` / ``….done`` event carries the usage."""

    __slots__ = ("_budget", "_capture", "_exchange", "_text")

    def __init__(self, exchange: Exchange, *, capture_content: bool, text_limit: int) -> None:
        self._exchange = exchange
        self._capture = capture_content
        self._budget = TextBudget(text_limit)
        self._text: list[str] = []

    def add(self, event: Any) -> int:
        kind = getattr(event, "type", None)
        if type(kind) is not str:
            return CHUNK_CONTROL
        if kind.endswith((".delta", ".partial_image")):
            delta = getattr(event, "delta", None)
            if self._capture and isinstance(delta, str) and self._budget.left > 0:
                self._text.append(self._budget.take(delta))
            return CHUNK_CONTENT
        if kind.endswith(".completed"):  # the final image: output, with the usage
            _read_token_usage(self._exchange, getattr(event, "usage", None))
            return CHUNK_CONTENT
        if kind.endswith(".done"):  # a transcript's whole text again, with the usage
            _read_token_usage(self._exchange, getattr(event, "usage", None))
        return CHUNK_CONTROL

    def usage_only(self, event: Any) -> bool:
        return False

    def fill(self) -> None:
        if self._capture and self._text:
            self._exchange.output_messages = _text_message("assistant", "".join(self._text))


class _StreamingMediaAdapter(_MediaAdapter):
    __slots__ = ()

    def stream_reader(
        self, exchange: Exchange, *, capture_content: bool, text_limit: int
    ) -> ChunkReader:
        return _MediaEventReader(exchange, capture_content=capture_content, text_limit=text_limit)


class _TranscriptionAdapter(_StreamingMediaAdapter):
    """Transcriptions and translations: the text of the audio is their output."""

    __slots__ = ()

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        super().read_response(exchange, response, capture_content=capture_content)
        if capture_content:
            text = response if isinstance(response, str) else field(response, "text")
            exchange.output_messages = _text_message("assistant", as_str(text))


class _ModerationAdapter(_MediaAdapter):
    __slots__ = ()

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        exchange = super().read_request(client, kwargs, capture_content=capture_content)
        if capture_content and exchange.input_messages is None:
            value = _common.sent_params(kwargs).get("input")
            items = value if isinstance(value, (list, tuple)) else ()
            texts = [
                item if isinstance(item, str) else as_str(field(item, "text")) for item in items
            ]
            exchange.input_messages = _text_message("user", " ".join(t for t in texts if t))
        return exchange


IMAGE_GENERATION: Final = _StreamingMediaAdapter(
    semconv.OPERATION_GENERATE_IMAGE, semconv.OUTPUT_TYPE_IMAGE, "prompt"
)
IMAGE_EDIT: Final = _StreamingMediaAdapter(
    semconv.OPERATION_EDIT_IMAGE, semconv.OUTPUT_TYPE_IMAGE, "prompt"
)
IMAGE_VARIATION: Final = _MediaAdapter(
    semconv.OPERATION_CREATE_IMAGE_VARIATION, semconv.OUTPUT_TYPE_IMAGE, "prompt"
)
TRANSCRIPTION: Final = _TranscriptionAdapter(
    semconv.OPERATION_TRANSCRIBE_AUDIO, semconv.OUTPUT_TYPE_TEXT, "prompt"
)
TRANSLATION: Final = _TranscriptionAdapter(
    semconv.OPERATION_TRANSLATE_AUDIO, semconv.OUTPUT_TYPE_TEXT, "prompt"
)
SPEECH: Final = _MediaAdapter(
    semconv.OPERATION_GENERATE_SPEECH, semconv.OUTPUT_TYPE_SPEECH, "input"
)
MODERATION: Final = _ModerationAdapter(semconv.OPERATION_MODERATE_CONTENT, None, "input")
