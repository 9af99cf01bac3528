"""Names in the schema of a ``parse()`` response format: what an error may quote safely."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

__all__ = ["schema_names"]


def _property_names(schema: Any, names: set[str]) -> None:
    if isinstance(schema, dict):
        properties = schema.get("properties")
        if isinstance(properties, dict):
            names.update(key for key in properties if isinstance(key, str))
        for value in schema.values():
            _property_names(value, names)
    elif isinstance(schema, list):
        for item in schema:
            _property_names(item, names)


@lru_cache(maxsize=64)
def schema_names(model: type) -> frozenset[str]:
    """Field names (aliases included) anywhere in a pydantic model's JSON schema, and the
    names of its models; empty for anything that has no JSON schema."""
    try:
        schema = model.model_json_schema()  # type: ignore[attr-defined]
        by_alias = model.model_json_schema(by_alias=False)  # type: ignore[attr-defined]
    except Exception:
        return frozenset()
    names: set[str] = {model.__name__}
    _property_names(schema, names)
    _property_names(by_alias, names)
    for definitions in (schema.get("$defs"), by_alias.get("$defs")):
        if isinstance(definitions, dict):
            names.update(definitions)
    return frozenset(names)
