"""The user's own prices: a YAML or JSON file (``OPENAI_SENTINEL_PRICES_FILE``).

For private deployments, negotiated discounts, models the ``genai-prices`` data lacks
and service-tier multipliers::

    models:
      our-private-model:          # the model name, exactly: as reported, or as asked
        input_mtok: 0.8           # USD per million input tokens
        output_mtok: 3.2
        cache_read_mtok: 0.2      # optional; cached input costs input_mtok without it
        cache_write_mtok: 1.0     # optional
      "ft:gpt-4o-mini:acme:*":    # a trailing * matches every name with that prefix
        input_mtok: 0.3
        output_mtok: 1.2
      gpt-4o:
        discount: 0.2             # 20% off the genai-prices price
    service_tiers:                # multiplies the standard price of a tier
      priority: 1.8
      flex: 0.5

A bad file raises :class:`PricesFileError` naming the file, the entry and the problem.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from ..config import SettingsError

__all__ = ["ModelPrices", "PriceOverrides", "PricesFileError", "load_price_overrides"]

RATE_KEYS: Final = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_REQUIRED_RATES: Final = ("input_mtok", "output_mtok")
_TOP_LEVEL: Final = ("models", "service_tiers")


class PricesFileError(SettingsError):
    """The prices file cannot be read or says something openai-sentinel cannot use."""


@dataclass(frozen=True, slots=True)
class ModelPrices:
    """One entry of the file: either rates (USD per million tokens) or a discount."""

    name: str
    rates: Mapping[str, float] | None = None
    discount: float | None = None


@dataclass(frozen=True, slots=True)
class PriceOverrides:
    """What a prices file says, ready to match model names against."""

    path: str
    exact: Mapping[str, ModelPrices] = field(default_factory=dict)
    prefixes: tuple[tuple[str, ModelPrices], ...] = ()
    """Longest prefix first, so the most specific pattern wins."""
    tier_multipliers: Mapping[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """How spans name this source: ``prices file prices.yaml``."""
        return f"prices file {Path(self.path).name}"

    def match(self, model: str) -> ModelPrices | None:
        """The entry for ``model``: its exact name, else the longest matching prefix."""
        found = self.exact.get(model)
        if found is not None:
            return found
        for prefix, prices in self.prefixes:
            if model.startswith(prefix):
                return prices
        return None


def _problem(path: str, entry: str, message: str) -> PricesFileError:
    where = f", entry {entry}" if entry else ""
    return PricesFileError(f"openai-sentinel prices file {path!r}{where}: {message}")


def _number(path: str, entry: str, value: object, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _problem(path, entry, f"expected a number, got {value!r}")
    if value < 0 or (positive and value == 0):
        floor = "more than 0" if positive else "0 or more"
        raise _problem(path, entry, f"expected a number {floor}, got {value!r}")
    return float(value)


def _model_prices(path: str, name: object, body: object) -> ModelPrices:
    entry = f"models.{name}"
    if not isinstance(name, str) or not name.strip("*"):
        raise _problem(path, entry, "a model name must be a non-empty string")
    if "*" in name[:-1]:
        raise _problem(path, entry, "'*' is only allowed at the end of a name, as a prefix match")
    if not isinstance(body, Mapping):
        raise _problem(path, entry, f"expected a mapping of prices, got {body!r}")
    unknown = sorted(str(key) for key in body if key not in (*RATE_KEYS, "discount"))
    if unknown:
        accepted = ", ".join((*RATE_KEYS, "discount"))
        raise _problem(path, entry, f"unknown key(s) {', '.join(unknown)}; accepted: {accepted}")
    if "discount" in body:
        if len(body) > 1:
            raise _problem(path, entry, "give either 'discount' or rates, not both")
        discount = _number(path, f"{entry}.discount", body["discount"])
        if discount >= 1:
            message = f"expected a fraction below 1 (0.2 is 20% off), got {discount}"
            raise _problem(path, f"{entry}.discount", message)
        return ModelPrices(name, discount=discount)
    missing = [key for key in _REQUIRED_RATES if key not in body]
    if missing:
        raise _problem(path, entry, f"missing {' and '.join(missing)} (USD per million tokens)")
    rates = {key: _number(path, f"{entry}.{key}", body[key]) for key in RATE_KEYS if key in body}
    return ModelPrices(name, rates=rates)


def _parse(path: str, text: str) -> Any:
    if path.endswith(".json"):
        try:
            return json.loads(text)
        except ValueError as error:
            raise _problem(path, "", f"not valid JSON ({error})") from None
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _problem(path, "", f"not valid YAML ({error})") from None


def load_price_overrides(path: str) -> PriceOverrides:
    """Read and check the prices file at ``path`` (``.json`` is JSON, anything else YAML)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise _problem(path, "", f"cannot be read ({error.__class__.__name__}: {error})") from None
    document = _parse(path, text)
    if document is None:
        document = {}
    if not isinstance(document, Mapping):
        raise _problem(path, "", "expected a mapping with 'models' and/or 'service_tiers'")
    unknown = sorted(str(key) for key in document if key not in _TOP_LEVEL)
    if unknown:
        raise _problem(
            path, "", f"unknown key(s) {', '.join(unknown)}; accepted: {', '.join(_TOP_LEVEL)}"
        )
    models = document.get("models") or {}
    tiers = document.get("service_tiers") or {}
    if not isinstance(models, Mapping):
        raise _problem(path, "models", "expected a mapping of model names to prices")
    if not isinstance(tiers, Mapping):
        raise _problem(path, "service_tiers", "expected a mapping of tier names to multipliers")
    exact: dict[str, ModelPrices] = {}
    prefixes: list[tuple[str, ModelPrices]] = []
    for name, body in models.items():
        prices = _model_prices(path, name, body)
        if prices.name.endswith("*"):
            prefixes.append((prices.name[:-1], prices))
        else:
            exact[prices.name] = prices
    multipliers: dict[str, float] = {}
    for tier, value in tiers.items():
        if not isinstance(tier, str) or not tier:
            raise _problem(path, f"service_tiers.{tier}", "a tier name must be a string")
        if tier in ("default", "auto"):
            raise _problem(
                path, f"service_tiers.{tier}", "the standard tier has no multiplier; set its prices"
            )
        multipliers[tier] = _number(path, f"service_tiers.{tier}", value, positive=True)
    prefixes.sort(key=lambda item: len(item[0]), reverse=True)
    return PriceOverrides(path, exact, tuple(prefixes), multipliers)
