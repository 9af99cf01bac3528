"""The model list served at ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

from ._embeddings import EMBEDDING_MODELS

SIMULATED_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini")
"""Chat and Responses models (any other name is answered too)."""
LEGACY_COMPLETION_MODELS: tuple[str, ...] = ("gpt-3.5-turbo-instruct",)
_CREATED = 1_700_000_000


def models_payload() -> dict[str, Any]:
    """The OpenAI ``list`` of ``model`` objects."""
    names = (*SIMULATED_MODELS, *LEGACY_COMPLETION_MODELS, *EMBEDDING_MODELS)
    return {
        "object": "list",
        "data": [
            {"id": model, "object": "model", "created": _CREATED, "owned_by": "openai-sentinel"}
            for model in names
        ],
    }
