"""Helpers shared by the adapters: reading values that may be absent or sentinels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .. import semconv
from .._text import encodable

_DEFAULT_PORTS = {"https": 443, "http": 80}


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings (request params), ``obj.name`` for models; ``None`` if absent."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def as_float(value: object) -> float | None:
    """A real number, or ``None`` for absent values and the client's ``NotGiven``/``Omit``."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def as_int(value: object) -> int | None:
    """An integer, or ``None`` for anything else."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def as_str(value: object) -> str | None:
    """An encodable string (lone surrogates replaced), or ``None`` for anything else."""
    return encodable(value) if isinstance(value, str) else None


def server_of(client: Any) -> tuple[str | None, int | None]:
    """``server.address`` and ``server.port`` from a client's ``base_url`` (httpx or httpx2)."""
    url = getattr(client, "base_url", None)
    if url is None:
        return None, None
    host = getattr(url, "host", None)
    if not isinstance(host, str) or not host:
        return None, None
    port = getattr(url, "port", None)
    if not isinstance(port, int):
        port = _DEFAULT_PORTS.get(getattr(url, "scheme", ""))
    return host, port


_PROVIDER_CACHE_SIZE: Final = 64
_PROVIDER_BY_CLIENT_TYPE: dict[type, str] = {}
"""Bounded, so that client classes made on the fly are not kept alive by it."""


def provider_of(client: Any) -> str:
    """``gen_ai.provider.name`` for a client: Azure OpenAI clients are told apart."""
    client_type = type(client)
    provider = _PROVIDER_BY_CLIENT_TYPE.get(client_type)
    if provider is None:
        is_azure = any(cls.__name__ == "BaseAzureClient" for cls in client_type.__mro__)
        provider = semconv.PROVIDER_AZURE_OPENAI if is_azure else semconv.PROVIDER_OPENAI
        if len(_PROVIDER_BY_CLIENT_TYPE) >= _PROVIDER_CACHE_SIZE:
            _PROVIDER_BY_CLIENT_TYPE.clear()
        _PROVIDER_BY_CLIENT_TYPE[client_type] = provider
    return provider
