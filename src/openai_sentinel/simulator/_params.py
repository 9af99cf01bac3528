"""Reading single request parameters; a bad value is a 400 that names the parameter."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ._errors import invalid_request

MAX_STOP_SEQUENCES = 4
_ECHOED_SERVICE_TIERS = frozenset({"default", "flex", "scale", "priority"})


def require_object(body: object) -> dict[str, Any]:
    """The request body, which must be a JSON object."""
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    return body


def require_model(body: Mapping[str, Any]) -> str:
    """The non-empty ``model`` parameter."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid_request("you must provide a model parameter", param="model")
    return model


def optional_bool(body: Mapping[str, Any], name: str) -> bool:
    """A boolean parameter; absent or ``null`` is ``False``."""
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_request(f"Invalid type for '{name}': expected a boolean.", param=name)
    return value


def optional_int(body: Mapping[str, Any], name: str, minimum: int, maximum: int) -> int | None:
    """An integer parameter in ``[minimum, maximum]``, or ``None`` when absent."""
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise invalid_request(
            f"Invalid value for '{name}': expected an integer between {minimum} and {maximum}.",
            param=name,
        )
    return value


def optional_number(
    body: Mapping[str, Any], name: str, minimum: float, maximum: float
) -> float | None:
    """A number parameter in ``[minimum, maximum]``, or ``None`` when absent."""
    value = body.get(name)
    if value is None:
        return None
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not minimum <= value <= maximum
    ):
        raise invalid_request(
            f"Invalid value for '{name}': expected a number between {minimum:g} and {maximum:g}.",
            param=name,
        )
    return float(value)


def stop_sequences(raw: object) -> tuple[str, ...]:
    """``stop``: a string or up to four strings."""
    if raw is None:
        return ()
    stops = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP_SEQUENCES
        or not all(isinstance(stop, str) for stop in stops)
    ):
        raise invalid_request(
            f"'stop' must be a string or an array of up to {MAX_STOP_SEQUENCES} strings.",
            param="stop",
        )
    return tuple(stops)


def service_tier(raw: object) -> str:
    """The tier a response reports: ``auto`` runs as ``default`` and ``fast`` as ``priority``."""
    if raw is None or raw == "auto":
        return "default"
    if raw == "fast":
        return "priority"
    if isinstance(raw, str) and raw in _ECHOED_SERVICE_TIERS:
        return raw
    raise invalid_request(f"Invalid value for 'service_tier': {raw!r}.", param="service_tier")
