"""Small JSON values that fit a JSON schema, for tool arguments and structured outputs."""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from ._generation import generate_phrase

_MAX_DEPTH = 4
_MAX_ARRAY_ITEMS = 2


def sample_json_object(schema: object, rng: random.Random) -> dict[str, Any]:
    """A small JSON object for ``schema``; ``{}`` for an empty one, others are wrapped."""
    if not isinstance(schema, Mapping) or not schema:
        return {}
    value = _sample(schema, rng, root=schema, depth=0)
    return value if isinstance(value, dict) else {"value": value}


def _sample(schema: object, rng: random.Random, *, root: object, depth: int) -> Any:
    if not isinstance(schema, Mapping) or depth > _MAX_DEPTH:
        return generate_phrase(rng, 2)
    schema = _resolve_reference(schema, root)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return rng.choice(enum)
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return _sample(options[0], rng, root=root, depth=depth + 1)
    schema_type = _primary_type(schema)
    if schema_type == "object":
        return _sample_object(schema, rng, root=root, depth=depth)
    if schema_type == "array":
        if depth >= _MAX_DEPTH:
            return []
        count = rng.randint(1, _MAX_ARRAY_ITEMS)
        items = schema.get("items", {"type": "string"})
        return [_sample(items, rng, root=root, depth=depth + 1) for _ in range(count)]
    return _sample_scalar(schema_type, schema, rng)


def _sample_object(
    schema: Mapping[str, Any], rng: random.Random, *, root: object, depth: int
) -> dict[str, Any]:
    properties = schema.get("properties")
    if depth >= _MAX_DEPTH or not isinstance(properties, Mapping):
        return {}
    return {
        str(name): _sample(subschema, rng, root=root, depth=depth + 1)
        for name, subschema in properties.items()
    }


def _sample_scalar(schema_type: str, schema: Mapping[str, Any], rng: random.Random) -> Any:
    if schema_type == "integer":
        low = _int_bound(schema.get("minimum"), 1)
        high = max(low, _int_bound(schema.get("maximum"), low + 99))
        return rng.randint(low, high)
    if schema_type == "number":
        return round(rng.uniform(0.0, 100.0), 2)
    if schema_type == "boolean":
        return rng.random() < 0.5
    if schema_type == "null":
        return None
    return generate_phrase(rng, rng.randint(1, 3))


def _primary_type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((item for item in declared if item != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    return "string"


def _resolve_reference(schema: Mapping[str, Any], root: object) -> Mapping[str, Any]:
    """Follow a local ``$ref`` such as ``#/$defs/Name`` (pydantic-generated schemas)."""
    reference = schema.get("$ref")
    if not isinstance(reference, str) or not reference.startswith("#/"):
        return schema
    target: object = root
    for key in reference[2:].split("/"):
        target = target.get(key) if isinstance(target, Mapping) else None
    return target if isinstance(target, Mapping) else {}


def _int_bound(value: object, default: int) -> int:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    return default
