"""Cost in USD of one exchange, from the ``genai-prices`` package, offline.

Model resolution (snapshot names, fine-tunes, providers, dated prices, service-tier
variants) is the package's and is cached per provider, model and service tier, failures
included, for an hour (so a dated price change is picked up by a long-running process).
The package's own calculation goes through its unit registry and ``Decimal`` (tens of
microseconds), so a model whose prices are plain per-million-token rates is priced here
with floats; any other price structure (tiers by context length, other units) is priced
by the package itself. A prices file (:mod:`.price_overrides`) comes first. Knows
neither the ``openai`` client nor OpenTelemetry.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final

from ..exchange import Exchange
from .price_overrides import ModelPrices, PriceOverrides

__all__ = ["DEFAULT_TIER_MULTIPLIERS", "Cost", "PriceBook", "price_source"]

DEFAULT_TIER_MULTIPLIERS: Final[Mapping[str, float]] = {
    "flex": 0.5,
    "batch": 0.5,
    "priority": 2.0,
}
"""Price multipliers of the service tiers that change the price, for models whose
``genai-prices`` entry has no price for the tier. Flex and Batch are half price on
every OpenAI model that offers them; Priority is 1.7x to 2.5x depending on the model,
so 2.0 is an estimate: set your own in the prices file's ``service_tiers``."""

_CACHE_SIZE: Final = 256
_RESOLUTION_TTL: Final = 3600.0
"""Seconds a model's resolved prices are reused before they are looked up again."""
_PLAIN_RATES: Final = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_UNUSED_RATES: Final = frozenset({"web_searches_kcount", "storage_searches_kcount"})
"""Rates of units a completion's usage never reports: they price to nothing here."""

_PROVIDER_IDS: Final = {"openai": "openai", "azure.ai.openai": "azure"}
"""``gen_ai.provider.name`` values and the package's provider ids for them."""
_STANDARD_TIERS: Final = frozenset({"default", "auto"})
_TIER_CONTEXTS: Final = {"batch": {"processing": "batch"}}
"""The package's price context for a tier, when it is not ``{"service_tier": tier}``."""


@dataclass(frozen=True, slots=True)
class Cost:
    """What a call cost in USD; ``input`` and ``output`` add up to ``total``."""

    total: float
    input: float
    output: float
    source: str = ""
    """Where the prices came from: ``genai-prices 0.2.3``, or the prices file."""
    cached_input: float = 0.0
    """The part of ``input`` paid for cache-read tokens."""
    cache_savings: float = 0.0
    """What the cache-read tokens would have cost more at the uncached input rate."""
    tier_multiplier: float | None = None
    """The service-tier multiplier applied, when one was (not a tier price of the data)."""


@dataclass(frozen=True, slots=True)
class _Rates:
    """USD per token."""

    input: float
    output: float
    cache_read: float
    cache_write: float


@dataclass(frozen=True, slots=True)
class _Resolved:
    """How to price one (provider, model, tier): plain rates or the package's model price,
    times a multiplier."""

    prices: Any  # _Rates | genai_prices ModelPrice
    multiplier: float
    tier_multiplier: float | None
    source: str
    expires: float


class _Unpriced:
    """A model the price data does not know (cached, so it is looked up once)."""

    __slots__ = ("expires",)

    def __init__(self, expires: float) -> None:
        self.expires = expires


def price_source() -> str:
    """Where prices come from, with its version: ``genai-prices 0.2.3``."""
    from importlib.metadata import version

    return f"genai-prices {version('genai-prices')}"


def _plain_rates(model_price: Any) -> _Rates | None:
    """Per-token rates when every price that applies is a plain per-million rate."""
    values = {key: value for key, value in vars(model_price).items() if value is not None}
    if set(values) - set(_PLAIN_RATES) - _UNUSED_RATES:
        return None
    rates = {key: values.get(key) for key in _PLAIN_RATES}
    if not all(value is None or hasattr(value, "as_integer_ratio") for value in rates.values()):
        return None  # tiered prices
    return _rates_per_token(rates)


def _rates_per_token(per_million: Mapping[str, Any]) -> _Rates:
    per_token = {key: float(per_million.get(key) or 0) / 1e6 for key in _PLAIN_RATES}
    input_rate = per_token["input_mtok"]
    return _Rates(
        input=input_rate,
        output=per_token["output_mtok"],
        cache_read=per_token["cache_read_mtok"]
        if per_million.get("cache_read_mtok") is not None
        else input_rate,
        cache_write=per_token["cache_write_mtok"]
        if per_million.get("cache_write_mtok") is not None
        else input_rate,
    )


def _tier_context(model_info: Any, tier: str) -> dict[str, str] | None:
    """The package's price context for ``tier`` when the model has prices for it."""
    context = _TIER_CONTEXTS.get(tier, {"service_tier": tier})
    for variant in getattr(model_info, "price_variants", None) or ():
        if variant.when == context and any(vars(variant.prices).values()):
            return context
    return None


class PriceBook:
    """Prices exchanges; thread-safe; looks each (provider, model, tier) up once an hour."""

    __slots__ = ("_lock", "_overrides", "_resolved", "_source", "_tier_multipliers")

    def __init__(self, overrides: PriceOverrides | None = None) -> None:
        self._overrides = overrides
        self._tier_multipliers: Mapping[str, float] = {
            **DEFAULT_TIER_MULTIPLIERS,
            **(overrides.tier_multipliers if overrides else {}),
        }
        self._resolved: dict[tuple[str, str, str | None], _Resolved | _Unpriced] = {}
        self._lock = threading.Lock()
        self._source: str | None = None

    @property
    def source(self) -> str:
        """Where the package's prices come from, with its version (read once)."""
        if self._source is None:
            self._source = price_source()
        return self._source

    def warm(self) -> None:
        """Load the price data now, off the hot path (``instrument()`` calls it). A failure
        here only means the first call tries again."""
        try:
            self._resolve("openai", "gpt-4o-mini", None)
        except Exception:  # pragma: no cover - the first priced call will say what is wrong
            return

    def _user_multiplier(self, tier: str | None) -> float | None:
        """The prices file's multiplier for ``tier``, which wins over the package's data."""
        if tier is None or self._overrides is None:
            return None
        return self._overrides.tier_multipliers.get(tier)

    def _from_file(self, entry: ModelPrices, tier: str | None, expires: float) -> _Resolved:
        assert entry.rates is not None
        assert self._overrides is not None
        multiplier = self._tier_multipliers.get(tier, 1.0) if tier else 1.0
        return _Resolved(
            _rates_per_token(entry.rates),
            multiplier,
            multiplier if multiplier != 1.0 else None,
            self._overrides.label,
            expires,
        )

    def _from_package(
        self, provider: str, model: str, tier: str | None, expires: float
    ) -> _Resolved | _Unpriced:
        from genai_prices import Usage, calc_price

        try:
            result = calc_price(
                Usage(input_tokens=0, output_tokens=0),
                model_ref=model,
                provider_id=_PROVIDER_IDS.get(provider, "openai"),
            )
        except LookupError:
            return _Unpriced(expires)
        model_price = result.model_price
        tier_multiplier: float | None = None
        user_multiplier = self._user_multiplier(tier)
        context = _tier_context(result.model, tier) if tier and user_multiplier is None else None
        if context is not None:
            model_price = result.model.get_prices(datetime.now(timezone.utc), context)
        elif tier is not None:
            tier_multiplier = self._tier_multipliers.get(tier)
        multiplier = tier_multiplier or 1.0
        source = self.source
        entry = self._overrides.match(model) if self._overrides else None
        if entry is not None and entry.discount is not None:
            multiplier *= 1.0 - entry.discount
            source = f"{source}, discount from {self._overrides.label}"  # type: ignore[union-attr]
        return _Resolved(
            _plain_rates(model_price) or model_price, multiplier, tier_multiplier, source, expires
        )

    def _resolve(self, provider: str, model: str, tier: str | None) -> _Resolved | _Unpriced:
        key = (provider, model, tier)
        now = time.monotonic()
        found = self._resolved.get(key)
        if found is not None and found.expires > now:
            return found
        expires = now + _RESOLUTION_TTL
        entry = self._overrides.match(model) if self._overrides else None
        if entry is not None and entry.rates is not None:
            found = self._from_file(entry, tier, expires)
        else:
            found = self._from_package(provider, model, tier, expires)
        with self._lock:
            if len(self._resolved) >= _CACHE_SIZE:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def cost(self, exchange: Exchange) -> Cost | None:
        """The cost of ``exchange``, or ``None`` when it cannot be priced (no usage, or a
        model the price data does not know): never an invented zero."""
        model = exchange.response_model or exchange.request_model
        if model is None or (exchange.input_tokens is None and exchange.output_tokens is None):
            return None
        return self.quote(
            model,
            provider=exchange.provider,
            service_tier=exchange.response_service_tier,
            input_tokens=exchange.input_tokens or 0,
            output_tokens=exchange.output_tokens or 0,
            cached=exchange.cache_read_input_tokens or 0,
            written=exchange.cache_write_input_tokens or 0,
        )

    @staticmethod
    def _price(
        found: _Resolved, *, input_tokens: int, output_tokens: int, cached: int, written: int
    ) -> Cost:
        """Price token counts with resolved prices."""
        prices = found.prices
        scale = found.multiplier
        if isinstance(prices, _Rates):
            uncached = max(input_tokens - cached - written, 0)
            cached_cost = cached * prices.cache_read * scale
            input_cost = (uncached * prices.input + written * prices.cache_write) * scale
            input_cost += cached_cost
            output_cost = output_tokens * prices.output * scale
            savings = cached * (prices.input - prices.cache_read) * scale
        else:
            from genai_prices import Usage

            calculated = prices.calc_price(
                Usage(
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    cache_read_tokens=cached or None,
                    cache_write_tokens=written or None,
                )
            )
            input_cost = float(calculated["input_price"]) * scale
            output_cost = float(calculated["output_price"]) * scale
            cached_cost = savings = 0.0
            if cached:
                uncached_usage = Usage(
                    input_tokens=input_tokens,
                    output_tokens=0,
                    cache_write_tokens=written or None,
                )
                full = float(prices.calc_price(uncached_usage)["input_price"]) * scale
                savings = max(full - input_cost, 0.0)
                # the cache-read rate at the tier the whole input selects
                all_cached = Usage(input_tokens=input_tokens, cache_read_tokens=input_tokens)
                cache_rate = float(prices.calc_price(all_cached)["input_price"]) / input_tokens
                cached_cost = cached * cache_rate * scale
        return Cost(
            input_cost + output_cost,
            input_cost,
            output_cost,
            found.source,
            cached_cost,
            savings,
            found.tier_multiplier,
        )

    def quote(
        self,
        model: str,
        *,
        provider: str = "openai",
        service_tier: str | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cached: int = 0,
        written: int = 0,
    ) -> Cost | None:
        """The cost of the given token counts (cached and written are parts of the input),
        or ``None`` for a model without prices. ``default`` and ``auto`` tiers are the
        standard price."""
        if service_tier in _STANDARD_TIERS:
            service_tier = None
        found = self._resolve(provider, model, service_tier)
        if isinstance(found, _Unpriced):
            return None
        return self._price(
            found,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cached=cached,
            written=written,
        )
