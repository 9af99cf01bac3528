"""Embeddings: ``embeddings.create``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

from .. import semconv
from ..exchange import Exchange
from . import _common, _untrusted
from ._adapter import Adapter
from ._common import as_count, as_int, as_str, field, items

__all__ = ["ADAPTER", "dimension_count"]


def dimension_count(vector: Any) -> int | None:
    """The length of an embedding: a list of floats, or base64 of little-endian float32."""
    if isinstance(vector, list):
        return len(vector)
    if isinstance(vector, str) and vector:
        padding = len(vector) - len(vector.rstrip("="))
        size = len(vector) * 3 // 4 - padding
        return size // 4 if size >= 0 else None  # only padding: not a vector
    return None


class EmbeddingsAdapter(Adapter):
    """``embeddings.create``: dimension count, encoding format and input tokens."""

    __slots__ = ()

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        params = _common.sent_params(kwargs)
        exchange = _common.new_exchange(client, params, semconv.OPERATION_EMBEDDINGS)
        encoding = as_str(params.get("encoding_format"))
        if encoding:
            exchange.encoding_formats = [encoding]
        exchange.embedding_dimensions = as_int(params.get("dimensions"))
        if capture_content:
            value = params.get("input")
            texts = [value] if isinstance(value, str) else value
            if isinstance(texts, (list, tuple)):
                exchange.input_messages = [
                    {"role": "user", "parts": [{"type": "text", "content": text}]}
                    for text in texts
                    if isinstance(text, str)  # token arrays are not text
                ] or None
        return exchange

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        exchange.response_model = as_str(field(response, "model"))
        exchange.input_tokens = as_count(field(field(response, "usage"), "prompt_tokens"))
        if exchange.embedding_dimensions is None:
            data = items(field(response, "data"))
            if data:
                exchange.embedding_dimensions = dimension_count(field(data[0], "embedding"))

    def untrusted_text(self, kwargs: Mapping[str, Any]) -> str | None:
        value = _common.sent_params(kwargs).get("input")
        return _untrusted.joined(_untrusted.input_texts(value))

    def with_redacted(
        self, kwargs: Mapping[str, Any], replace: Callable[[str], str]
    ) -> dict[str, Any] | None:
        return _untrusted.redact_inputs(kwargs, "input", replace)


ADAPTER: Final = EmbeddingsAdapter()
