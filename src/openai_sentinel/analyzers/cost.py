"""Cost in USD of one exchange, from the ``genai-prices`` package, offline.

Model resolution (snapshot names, fine-tunes, providers) is the package's and is cached
per provider and model, failures included. The package's own calculation goes through
its unit registry and ``Decimal`` (tens of microseconds), so a model whose prices are
plain per-million-token rates is priced here with floats; any other price structure
(tiers by context length, other units) is priced by the package itself. Knows neither
the ``openai`` client nor OpenTelemetry.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Final

from ..exchange import Exchange

__all__ = ["Cost", "PriceBook", "price_source"]

_CACHE_SIZE: Final = 256
_PLAIN_RATES: Final = ("input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok")
_UNUSED_RATES: Final = frozenset({"web_searches_kcount", "storage_searches_kcount"})
"""Rates of units a completion's usage never reports: they price to nothing here."""

_PROVIDER_IDS: Final = {"openai": "openai", "azure.ai.openai": "azure"}
"""``gen_ai.provider.name`` values and the package's provider ids for them."""


@dataclass(frozen=True, slots=True)
class Cost:
    """What a call cost in USD; the parts add up to ``total``."""

    total: float
    input: float
    output: float


@dataclass(frozen=True, slots=True)
class _Rates:
    """USD per token."""

    input: float
    output: float
    cache_read: float
    cache_write: float


class _Unpriced:
    """A model the price data does not know (cached, so it is looked up once)."""


_UNPRICED: Final = _Unpriced()


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
    per_token = {key: float(value or 0) / 1e6 for key, value in rates.items()}
    input_rate = per_token["input_mtok"]
    return _Rates(
        input=input_rate,
        output=per_token["output_mtok"],
        cache_read=per_token["cache_read_mtok"]
        if rates["cache_read_mtok"] is not None
        else input_rate,
        cache_write=per_token["cache_write_mtok"]
        if rates["cache_write_mtok"] is not None
        else input_rate,
    )


class PriceBook:
    """Prices exchanges; thread-safe; looks each (provider, model) up once."""

    __slots__ = ("_lock", "_resolved", "_source")

    def __init__(self) -> None:
        self._resolved: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()
        self._source: str | None = None

    @property
    def source(self) -> str:
        """Where prices come from, with its version (read once)."""
        if self._source is None:
            self._source = price_source()
        return self._source

    def warm(self) -> None:
        """Load the price data now, off the hot path (``instrument()`` calls it). A failure
        here only means the first call tries again."""
        try:
            self._resolve("openai", "gpt-4o-mini")
        except Exception:  # pragma: no cover - the first priced call will say what is wrong
            return

    def _resolve(self, provider: str, model: str) -> Any:
        key = (provider, model)
        found = self._resolved.get(key)
        if found is not None:
            return found
        from genai_prices import Usage, calc_price

        try:
            result = calc_price(
                Usage(input_tokens=0, output_tokens=0),
                model_ref=model,
                provider_id=_PROVIDER_IDS.get(provider, "openai"),
            )
            model_price = result.model_price
            found = _plain_rates(model_price) or model_price
        except LookupError:
            found = _UNPRICED
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
        found = self._resolve(exchange.provider, model)
        if found is _UNPRICED:
            return None
        input_tokens = exchange.input_tokens or 0
        output_tokens = exchange.output_tokens or 0
        cached = exchange.cache_read_input_tokens or 0
        written = exchange.cache_write_input_tokens or 0
        if isinstance(found, _Rates):
            uncached = max(input_tokens - cached - written, 0)
            input_cost = (
                uncached * found.input + cached * found.cache_read + written * found.cache_write
            )
            output_cost = output_tokens * found.output
            return Cost(input_cost + output_cost, input_cost, output_cost)
        from genai_prices import Usage

        calculated = found.calc_price(
            Usage(
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                cache_read_tokens=cached or None,
                cache_write_tokens=written or None,
            )
        )
        return Cost(
            float(calculated["total_price"]),
            float(calculated["input_price"]),
            float(calculated["output_price"]),
        )
