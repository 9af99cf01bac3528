"""Cost in USD of one exchange, from the ``genai-prices`` package, offline.

Model resolution (snapshot names, fine-tunes, providers, dated prices, service-tier
variants) is the package's and is cached per provider, model and service tier, failures
included, for an hour (so a dated price change is picked up by a long-running process).
The package's own calculation goes through its unit registry and ``Decimal`` (tens to
hundreds of microseconds), so the resolved per-million rates, cliff tiers by input size
included, are priced here with floats, the way the package prices them. A price of
another structure, or a model priced only in units a completion never reports, is left
unpriced rather than guessed. A prices file (:mod:`.price_overrides`) comes first.
Knows neither the ``openai`` client nor OpenTelemetry.
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


_Rate = tuple[float, tuple[tuple[int, float], ...]]
"""USD per token: the base rate, and ``(start, rate)`` tiers that apply to every token
once the call's input is over ``start`` tokens (genai-prices' "cliff" tiers)."""


@dataclass(frozen=True, slots=True)
class _Rates:
    """USD per token of each kind, by the size of the call's input."""

    input: _Rate
    output: _Rate
    cache_read: _Rate
    cache_write: _Rate
    flat: tuple[float, float, float, float] | None
    """The four rates when none is tiered: the common case, no lookup."""

    def at(self, input_tokens: int) -> tuple[float, float, float, float]:
        """Input, output, cache-read and cache-write rates for a call of ``input_tokens``."""
        if self.flat is not None:
            return self.flat
        return (
            _rate_at(self.input, input_tokens),
            _rate_at(self.output, input_tokens),
            _rate_at(self.cache_read, input_tokens),
            _rate_at(self.cache_write, input_tokens),
        )


def _rate_at(rate: _Rate, input_tokens: int) -> float:
    base, tiers = rate
    for start, price in reversed(tiers):
        if input_tokens > start:
            return price
    return base


@dataclass(frozen=True, slots=True)
class _Resolved:
    """How to price one (provider, model, tier): rates, times a multiplier."""

    rates: _Rates
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


class _OtherStructure(Exception):
    """A price that is neither a per-million rate nor cliff tiers of them."""


def _per_token(value: Any) -> _Rate | None:
    if value is None:
        return None
    if hasattr(value, "as_integer_ratio"):  # Decimal, float, int
        return (float(value) / 1e6, ())
    base, tiers = getattr(value, "base", None), getattr(value, "tiers", None)
    if base is None or not isinstance(tiers, (list, tuple)):
        raise _OtherStructure
    return (
        float(base) / 1e6,
        tuple((int(tier.start), float(tier.price) / 1e6) for tier in tiers),
    )


def _token_rates(per_million: Mapping[str, Any]) -> _Rates | None:
    """Per-token rates from per-million ones (``input_mtok``…); ``None`` when neither input
    nor output has a price (the model is priced in units a completion never reports).
    Cached and cache-written tokens cost the input rate when they have none of their own.
    Raises :class:`_OtherStructure` for a price this cannot follow."""
    input_rate = _per_token(per_million.get("input_mtok"))
    output_rate = _per_token(per_million.get("output_mtok"))
    if input_rate is None and output_rate is None:
        return None
    zero: _Rate = (0.0, ())
    input_rate = input_rate or zero
    output_rate = output_rate or zero
    cache_read = _per_token(per_million.get("cache_read_mtok")) or input_rate
    cache_write = _per_token(per_million.get("cache_write_mtok")) or input_rate
    rates = (input_rate, output_rate, cache_read, cache_write)
    flat = None
    if not any(tiers for _, tiers in rates):
        flat = (input_rate[0], output_rate[0], cache_read[0], cache_write[0])
    return _Rates(input_rate, output_rate, cache_read, cache_write, flat)


def _package_rates(model_price: Any) -> _Rates | None:
    """:func:`_token_rates` of a genai-prices ``ModelPrice``. Its rates for units a chat,
    Responses or embeddings usage never reports (audio, images, web searches…) price
    nothing, as in the package given the same usage."""
    return _token_rates({key: getattr(model_price, key, None) for key in _PLAIN_RATES})


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
        rates = _token_rates(entry.rates)
        assert rates is not None  # the file requires input and output rates
        return _Resolved(
            rates,
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
        try:
            rates = _package_rates(model_price)
        except _OtherStructure:
            rates = None
        if rates is None:
            return _Unpriced(expires)
        return _Resolved(rates, multiplier, tier_multiplier, source, expires)

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
        overrides = self._overrides
        requested = exchange.request_model
        if overrides and requested and not overrides.match(model) and overrides.match(requested):
            model = requested  # the file names the model as asked (gpt-4o), not its snapshot
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
        scale = found.multiplier
        input_rate, output_rate, read_rate, write_rate = found.rates.at(input_tokens)
        uncached = max(input_tokens - cached - written, 0)
        cached_cost = cached * read_rate * scale
        input_cost = (uncached * input_rate + written * write_rate) * scale + cached_cost
        output_cost = output_tokens * output_rate * scale
        savings = cached * (input_rate - read_rate) * scale
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
