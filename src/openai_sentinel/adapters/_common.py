"""Helpers shared by the adapters: reading values that may be absent or sentinels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from .. import semconv
from .._text import encodable
from ..exchange import Exchange

_DEFAULT_PORTS = {"https": 443, "http": 80}


def field(obj: Any, name: str) -> Any:
    """``obj[name]`` for mappings (request params), ``obj.name`` for models; ``None`` if absent."""
    kind = type(obj)
    if kind is dict:
        return obj.get(name)
    mapping = _IS_MAPPING.get(kind)
    if mapping is None:
        mapping = _remember_mapping(kind, isinstance(obj, Mapping))
    return obj.get(name) if mapping else getattr(obj, name, None)


_TYPE_CACHE_SIZE: Final = 256
_IS_MAPPING: dict[type, bool] = {}
"""Whether a type is a ``Mapping``: the ABC check costs a microsecond per field read.
Bounded, so that classes made on the fly are not kept alive by it."""


def _remember_mapping(kind: type, mapping: bool) -> bool:
    if len(_IS_MAPPING) >= _TYPE_CACHE_SIZE:
        _IS_MAPPING.clear()
    _IS_MAPPING[kind] = mapping
    return mapping


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


def as_count(value: object) -> int | None:
    """A count (tokens): a non-negative integer, or ``None`` for anything else."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def items(value: object) -> list[Any] | tuple[Any, ...]:
    """``value`` if it is a list (or tuple) of items, else none: a malformed response
    (``"output": 3``) reads as empty instead of failing the rest of its reading."""
    return value if isinstance(value, (list, tuple)) else ()


def as_str(value: object) -> str | None:
    """An encodable string (lone surrogates replaced), or ``None`` for anything else."""
    return encodable(value) if isinstance(value, str) else None


_SERVER_CACHE_SIZE: Final = 64
_SERVER_BY_URL: dict[int, tuple[Any, tuple[str | None, int | None]]] = {}
"""The server of each recent ``base_url`` object (URLs are immutable; a client given a
new base URL gets a new object), by identity, with the object to check it against."""


_PLAIN_BASE_URL_GETTERS: Final = frozenset(
    {
        ("openai._base_client", "BaseClient.base_url"),  # openai 1 and 2
        ("openai._client", "OpenAI.base_url"),  # openai 3: imports a module on every read
        ("openai._client", "AsyncOpenAI.base_url"),
    }
)
"""The ``base_url`` properties of the openai package that only return ``_base_url``. Not
among them: the module-level client's (``openai.chat...`` with ``openai.base_url`` set),
which answers the module's setting first."""
_PLAIN_BASE_URL: dict[type, bool] = {}
"""Per client class: whether its ``base_url`` property is one of those."""


def _base_url(client: Any) -> Any:
    """``client.base_url``, read from ``_base_url`` when that is all the property does
    (openai 3's takes 1.7 µs here)."""
    kind = type(client)
    plain = _PLAIN_BASE_URL.get(kind)
    if plain is None:
        getter = getattr(getattr(kind, "base_url", None), "fget", None)
        plain = (
            getattr(getter, "__module__", None),
            getattr(getter, "__qualname__", None),
        ) in _PLAIN_BASE_URL_GETTERS
        if len(_PLAIN_BASE_URL) >= _SERVER_CACHE_SIZE:
            _PLAIN_BASE_URL.clear()
        _PLAIN_BASE_URL[kind] = plain
    if plain:
        url = getattr(client, "_base_url", None)
        if url is not None:
            return url
    return getattr(client, "base_url", None)


def server_of(client: Any) -> tuple[str | None, int | None]:
    """``server.address`` and ``server.port`` from a client's ``base_url`` (httpx or httpx2)."""
    url = _base_url(client)
    if url is None:
        return None, None
    cached = _SERVER_BY_URL.get(id(url))
    if cached is not None and cached[0] is url:
        return cached[1]
    server = _server_of_url(url)
    if len(_SERVER_BY_URL) >= _SERVER_CACHE_SIZE:
        _SERVER_BY_URL.clear()
    _SERVER_BY_URL[id(url)] = (url, server)
    return server


def _server_of_url(url: Any) -> tuple[str | None, int | None]:
    host = getattr(url, "host", None)
    if not isinstance(host, str) or not host:
        return None, None
    port = getattr(url, "port", None)
    if not isinstance(port, int):
        port = _DEFAULT_PORTS.get(getattr(url, "scheme", ""))
    return host, port


_PROVIDER_CACHE_SIZE: Final = 64
_PROVIDER_BY_CLIENT: dict[tuple[type, str | None], str] = {}
"""Bounded, so that client classes made on the fly are not kept alive by it."""

PROVIDER_BY_HOST: Final = (
    ("api.openai.com", semconv.PROVIDER_OPENAI),
    (".openai.azure.com", semconv.PROVIDER_AZURE_OPENAI),
    (".services.ai.azure.com", semconv.PROVIDER_AZURE_INFERENCE),
    (".models.ai.azure.com", semconv.PROVIDER_AZURE_INFERENCE),
    ("api.anthropic.com", semconv.PROVIDER_ANTHROPIC),
    ("api.cohere.com", semconv.PROVIDER_COHERE),
    ("api.cohere.ai", semconv.PROVIDER_COHERE),
    ("api.deepseek.com", semconv.PROVIDER_DEEPSEEK),
    ("generativelanguage.googleapis.com", semconv.PROVIDER_GCP_GEMINI),
    ("aiplatform.googleapis.com", semconv.PROVIDER_GCP_VERTEX_AI),
    ("api.groq.com", semconv.PROVIDER_GROQ),
    ("api.mistral.ai", semconv.PROVIDER_MISTRAL_AI),
    ("api.perplexity.ai", semconv.PROVIDER_PERPLEXITY),
    ("api.x.ai", semconv.PROVIDER_X_AI),
)
"""Hosts of OpenAI-compatible endpoints and the conventions' provider names for them:
an exact host, or a suffix starting with a dot. Any other host (a local server, a
gateway such as LiteLLM, vLLM, Ollama) is reported as ``openai``, the API it speaks,
with its real ``server.address``."""


def _provider_of_host(host: str | None) -> str:
    host = (host or "").lower().rstrip(".")
    for pattern, provider in PROVIDER_BY_HOST:
        if host == pattern or (pattern.startswith(".") and host.endswith(pattern)):
            return provider
    if host.startswith("bedrock-runtime.") and host.endswith(".amazonaws.com"):
        return semconv.PROVIDER_AWS_BEDROCK
    return semconv.PROVIDER_OPENAI


def provider_of(client: Any, host: str | None = None) -> str:
    """``gen_ai.provider.name`` for a client talking to ``host``: Azure OpenAI clients are
    told apart by their class, other providers by their host (see ``PROVIDER_BY_HOST``)."""
    client_type = type(client)
    key = (client_type, host)
    provider = _PROVIDER_BY_CLIENT.get(key)
    if provider is None:
        is_azure = any(cls.__name__ == "BaseAzureClient" for cls in client_type.__mro__)
        provider = semconv.PROVIDER_AZURE_OPENAI if is_azure else _provider_of_host(host)
        if len(_PROVIDER_BY_CLIENT) >= _PROVIDER_CACHE_SIZE:
            _PROVIDER_BY_CLIENT.clear()
        _PROVIDER_BY_CLIENT[key] = provider
    return provider


def sent_params(kwargs: Mapping[str, Any]) -> Mapping[str, Any]:
    """The request's parameters as sent: the client merges ``extra_body`` last, over them."""
    extra = kwargs.get("extra_body")
    if isinstance(extra, Mapping) and extra:
        return {**kwargs, **extra}
    return kwargs


def new_exchange(
    client: Any, params: Mapping[str, Any], operation: str, api_type: str | None = None
) -> Exchange:
    """An exchange with what every request has: operation, provider, server, model."""
    address, port = server_of(client)
    stream = params.get("stream")
    return Exchange(
        operation=operation,
        provider=provider_of(client, address),
        api_type=api_type,
        request_model=as_str(params.get("model")),
        server_address=address,
        server_port=port,
        stream=stream is True or (isinstance(stream, int) and stream == 1),
    )


def stop_sequences(stop: Any) -> list[str] | None:
    """``stop`` as a list of strings, if it is a string or a sequence of them."""
    if isinstance(stop, str):
        return [encodable(stop)]
    if isinstance(stop, (list, tuple)) and all(isinstance(item, str) for item in stop):
        return [encodable(item) for item in stop]
    return None


def service_tier(params: Mapping[str, Any]) -> str | None:
    """``openai.request.service_tier``: the tier asked for, unless ``auto``."""
    tier = as_str(params.get("service_tier"))
    return None if tier == "auto" else tier


def _replay(items: list[Any], error: BaseException) -> Iterator[Any]:
    yield from items
    raise error


def readable_kwargs(kwargs: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``kwargs`` with the one-shot iterables under ``names`` turned into lists.

    With content capture on we read these before the client does; a generator would be
    used up. The client turns any iterable into a list anyway, so a list is equivalent.
    If the caller's iterable raises, the client gets the items read so far and then the
    same exception, exactly where it would have met it (and we record no content).
    """
    changed: dict[str, Any] = {}
    for name in names:
        value = kwargs.get(name)
        if (
            value is None
            or isinstance(value, (list, tuple, str, bytes, Mapping))
            or not isinstance(value, Iterable)
        ):
            continue
        items: list[Any] = []
        try:
            for item in value:
                items.append(item)
        except Exception as error:
            changed[name] = _replay(items, error)
        else:
            changed[name] = items
    return {**kwargs, **changed} if changed else kwargs


_LOGPROB_MODELS: Final = ("gpt-4.1", "gpt-4o", "gpt-4-", "gpt-3.5-turbo", "chatgpt-4o")
_NO_LOGPROBS: Final = ("audio", "search", "realtime", "transcribe", "tts")


def supports_logprobs(model: str | None) -> bool:
    """Whether ``model`` is known to return token logprobs: OpenAI's non-reasoning chat
    models. Reasoning models (o-series, gpt-5) reject the parameter, so a request is only
    changed for these."""
    if not model:
        return False
    name = model.removeprefix("ft:").lower()
    return (name == "gpt-4" or name.startswith(_LOGPROB_MODELS)) and not any(
        word in name for word in _NO_LOGPROBS
    )
