"""Embeddings (``POST /v1/embeddings``): deterministic unit vectors derived from the text."""

from __future__ import annotations

import base64
import math
import struct
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import invalid_request, not_found
from ._generation import seeded_random
from ._params import optional_int, require_model, require_object
from ._replies import Payload
from ._text_inputs import TextInput, parse_text_inputs

MAX_INPUTS = 2048
MAX_INPUT_TOKENS = 8192

EncodingFormat = Literal["float", "base64"]


@dataclass(frozen=True)
class EmbeddingModel:
    """An embedding model: its default size and whether ``dimensions`` may shorten it."""

    dimensions: int
    shortenable: bool


EMBEDDING_MODELS: dict[str, EmbeddingModel] = {
    "text-embedding-3-small": EmbeddingModel(1536, shortenable=True),
    "text-embedding-3-large": EmbeddingModel(3072, shortenable=True),
    "text-embedding-ada-002": EmbeddingModel(1536, shortenable=False),
}


@dataclass(frozen=True)
class EmbeddingsRequest:
    """The parts of an embeddings request the simulator acts on."""

    model: str
    inputs: list[TextInput]
    dimensions: int
    encoding_format: EncodingFormat = "float"


def parse_embeddings_request(body: object) -> EmbeddingsRequest:
    """Validate ``body``: a 404 ``model_not_found`` for an unknown model, else 400s."""
    body = require_object(body)
    model_name = require_model(body)
    model = EMBEDDING_MODELS.get(model_name)
    if model is None:
        raise not_found(
            f"The model `{model_name}` does not exist or you do not have access to it.",
            code="model_not_found",
        )
    inputs = parse_text_inputs(
        body.get("input"), param="input", max_items=MAX_INPUTS, allow_empty_text=False
    )
    for item in inputs:
        if item.tokens > MAX_INPUT_TOKENS:
            raise invalid_request(
                f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens, however "
                f"you requested {item.tokens} tokens in the input. Please reduce your input.",
                param="input",
            )
    dimensions = optional_int(body, "dimensions", 1, model.dimensions)
    if dimensions is not None and not model.shortenable:
        raise invalid_request(
            "This model does not support specifying dimensions.", param="dimensions"
        )
    raw_format = body.get("encoding_format")
    encoding_format: EncodingFormat
    if raw_format is None or raw_format == "float":
        encoding_format = "float"
    elif raw_format == "base64":
        encoding_format = "base64"
    else:
        raise invalid_request(
            "Invalid value for 'encoding_format': expected 'float' or 'base64'.",
            param="encoding_format",
        )
    return EmbeddingsRequest(
        model=model_name,
        inputs=inputs,
        dimensions=dimensions or model.dimensions,
        encoding_format=encoding_format,
    )


def embeddings_payload(request: EmbeddingsRequest) -> Payload:
    """The ``list`` of ``embedding`` objects, with usage."""
    prompt_tokens = sum(item.tokens for item in request.inputs)
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": index,
                "embedding": _encode(
                    embedding_vector(request.model, item, request.dimensions),
                    request.encoding_format,
                ),
            }
            for index, item in enumerate(request.inputs)
        ],
        "model": request.model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def embedding_vector(model: str, item: TextInput, dimensions: int) -> tuple[float, ...]:
    """A unit-length float32 vector fully determined by the model and the input.

    A shorter vector is the start of the full one, renormalised, as with the real
    ``dimensions`` parameter.
    """
    kind = "tokens" if item.is_token_array else "text"
    rng = seeded_random("embedding", model, kind, item.text)
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(math.fsum(value * value for value in values)) or 1.0
    return _as_float32([value / norm for value in values])


def _as_float32(values: list[float]) -> tuple[float, ...]:
    """Round to float32, as the API does, so both encodings carry the same numbers."""
    return struct.unpack(f"<{len(values)}f", struct.pack(f"<{len(values)}f", *values))


def _encode(vector: tuple[float, ...], encoding_format: EncodingFormat) -> Any:
    if encoding_format == "float":
        return list(vector)
    packed = struct.pack(f"<{len(vector)}f", *vector)
    return base64.b64encode(packed).decode("ascii")
