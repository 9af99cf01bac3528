"""The model list served at ``GET /v1/models``."""

from __future__ import annotations

from typing import Any

SIMULATED_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-5-mini")
_CREATED = 1_700_000_000


def models_payload() -> dict[str, Any]:
    """The OpenAI ``list`` of ``model`` objects."""
    return {
        "object": "list",
        "data": [
            {"id": model, "object": "model", "created": _CREATED, "owned_by": "openai-sentinel"}
            for model in SIMULATED_MODELS
        ],
    }
