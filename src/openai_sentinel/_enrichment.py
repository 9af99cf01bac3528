"""Business context for the calls made inside a block: :class:`attributes`, and user
feedback on an answer after the call: :func:`record_evaluation`.

The values live in a ``contextvars`` variable, so each thread and each asyncio task
keeps its own, and nested blocks merge (the inner value wins). Every span of a call made
inside gets them; metric points only the keys of the ``metric_attributes`` setting,
each limited to :data:`METRIC_VALUE_LIMIT` distinct values.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextvars import ContextVar, Token
from types import MappingProxyType
from typing import Any, Final, TypeVar

from opentelemetry import baggage
from opentelemetry import context as otel_context
from opentelemetry.trace import SpanContext
from opentelemetry.util.types import AttributeValue

from . import semconv
from ._errors import report_internal_error

__all__ = [
    "METRIC_VALUE_LIMIT",
    "OTHER_VALUE",
    "CallIndex",
    "MetricLabels",
    "attributes",
    "current_attributes",
    "record_evaluation",
]

METRIC_VALUE_LIMIT: Final = 100
"""Distinct values of one ``metric_attributes`` key recorded as they are; later new values
are recorded as :data:`OTHER_VALUE`, so a mistake cannot grow the series without bound."""
OTHER_VALUE: Final = "_other"
_ALIASES: Final = {"conversation_id": semconv.GEN_AI_CONVERSATION_ID}
"""Keyword names for attributes the conventions name with dots."""
_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,127}")
_SCALARS: Final = (str, bool, int, float)
_EMPTY: Final[Mapping[str, AttributeValue]] = MappingProxyType({})
_CURRENT: Final[ContextVar[Mapping[str, AttributeValue]]] = ContextVar(
    "openai_sentinel_attributes", default=_EMPTY
)
_logger: Final = logging.getLogger("openai_sentinel")
F = TypeVar("F", bound=Callable[..., Any])


def current_attributes() -> Mapping[str, AttributeValue]:
    """The attributes in force here (read-only)."""
    return _CURRENT.get()


class attributes:  # lower case: used like a function, as contextlib's context managers are
    """Add business context to every span of the calls made inside::

        with openai_sentinel.attributes(user_tier="pro", feature="search"):
            client.chat.completions.create(...)

        @openai_sentinel.attributes(feature="summarize")
        async def summarize(text: str) -> str: ...

    Keys are attribute names (a mapping for dotted ones: ``attributes({"app.tenant":
    "acme"})``); ``conversation_id=`` sets ``gen_ai.conversation.id``. Values are strings,
    booleans, numbers or lists of one of those. Nested blocks merge, the inner value
    winning. With ``propagate=True`` the values also go into W3C baggage, which the
    configured propagator carries to the services the block calls.
    """

    __slots__ = ("_propagate", "_tokens", "_values")

    def __init__(
        self,
        values: Mapping[str, object] | None = None,
        /,
        *,
        propagate: bool = False,
        **more: object,
    ) -> None:
        if values is not None and not isinstance(values, Mapping):
            raise TypeError(f"attributes() takes a mapping of attributes, not {values!r}")
        self._values = _validated({**(values or {}), **more})
        self._propagate = propagate
        self._tokens: list[tuple[Token[Mapping[str, AttributeValue]], object | None]] = []

    def __enter__(self) -> Mapping[str, AttributeValue]:
        merged = MappingProxyType({**_CURRENT.get(), **self._values})
        token = _CURRENT.set(merged)
        carried = None
        if self._propagate:
            context = otel_context.get_current()
            for key, value in self._values.items():
                context = baggage.set_baggage(key, _as_text(value), context)
            carried = otel_context.attach(context)
        self._tokens.append((token, carried))
        return merged

    def __exit__(self, *exc_info: object) -> None:
        token, carried = self._tokens.pop()
        if carried is not None:
            otel_context.detach(carried)  # type: ignore[arg-type]
        _CURRENT.reset(token)

    def __call__(self, function: F) -> F:
        """Decorate a function or coroutine function: each call runs inside a block of
        its own (so concurrent calls do not share one)."""
        if inspect.isgeneratorfunction(function) or inspect.isasyncgenfunction(function):
            raise TypeError(
                "attributes() cannot decorate a generator function: its body runs after "
                "the call returns; use `with attributes(...)` inside it instead"
            )
        values, propagate = self._values, self._propagate

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                with attributes(values, propagate=propagate):
                    return await function(*args, **kwargs)

            return run_async  # type: ignore[return-value]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            with attributes(values, propagate=propagate):
                return function(*args, **kwargs)

        return run  # type: ignore[return-value]


def _validated(values: Mapping[str, object]) -> dict[str, AttributeValue]:
    """The values as span attributes; a bad key or value raises naming it."""
    checked: dict[str, AttributeValue] = {}
    for name, value in values.items():
        if not isinstance(name, str) or not _KEY.fullmatch(name):
            raise ValueError(
                f"attributes(): {name!r} is not an attribute key (letters, digits, "
                "'_', '.', '-'; at most 128 characters, not starting with a digit)"
            )
        key = _ALIASES.get(name, name)
        if isinstance(value, _SCALARS):
            checked[key] = value
        elif (
            isinstance(value, (list, tuple))
            and value
            and all(type(item) is type(value[0]) and isinstance(item, _SCALARS) for item in value)
        ):
            checked[key] = tuple(value)
        else:
            raise TypeError(
                f"attributes(): {name}={value!r} is not an attribute value (a string, a "
                "boolean, a number, or a non-empty list of one of those)"
            )
    return checked


def _as_text(value: AttributeValue) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


class MetricLabels:
    """The ``metric_attributes`` keys of the attributes in force, as metric attributes:
    scalars only, at most :data:`METRIC_VALUE_LIMIT` distinct values per key."""

    __slots__ = ("_keys", "_lock", "_seen", "_warned")

    def __init__(self, keys: tuple[str, ...]) -> None:
        self._keys = tuple(_ALIASES.get(key, key) for key in keys)
        self._seen: dict[str, set[AttributeValue]] = {key: set() for key in self._keys}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._keys)

    def of(self, values: Mapping[str, AttributeValue]) -> dict[str, AttributeValue]:
        """The metric attributes ``values`` give."""
        labels: dict[str, AttributeValue] = {}
        for key in self._keys:
            value = values.get(key)
            if value is None or not isinstance(value, _SCALARS):
                continue
            seen = self._seen[key]
            if value not in seen:
                with self._lock:
                    if len(seen) < METRIC_VALUE_LIMIT:
                        seen.add(value)
                    else:
                        value = OTHER_VALUE
                        if key not in self._warned:
                            self._warned.add(key)
                            _logger.warning(
                                "openai-sentinel: metric attribute %r has more than %d "
                                "values; new ones are recorded as %r. Is it an id?",
                                key,
                                METRIC_VALUE_LIMIT,
                                OTHER_VALUE,
                            )
            labels[key] = value
        return labels


class CallIndex:
    """The span of each recent call, by response id, so that feedback recorded after the
    call joins it (bounded: the oldest are forgotten first)."""

    __slots__ = ("_calls", "_lock", "_size")

    def __init__(self, size: int = 10_000) -> None:
        self._calls: OrderedDict[str, SpanContext] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def remember(self, response_id: str | None, span_context: SpanContext) -> None:
        if not response_id or not span_context.is_valid:
            return
        with self._lock:
            self._calls[response_id] = span_context
            self._calls.move_to_end(response_id)
            if len(self._calls) > self._size:
                self._calls.popitem(last=False)

    def find(self, response_id: str) -> SpanContext | None:
        with self._lock:
            return self._calls.get(response_id)


def evaluation_attributes(
    name: str,
    response_id: str | None,
    score: float | None,
    label: str | None,
    explanation: str | None,
) -> dict[str, AttributeValue]:
    """The attributes of a ``gen_ai.evaluation.result`` event; bad arguments raise."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"record_evaluation(): name must be a non-empty string, not {name!r}")
    attributes_: dict[str, AttributeValue] = {semconv.GEN_AI_EVALUATION_NAME: name}
    if score is not None:
        if (
            isinstance(score, bool)
            or not isinstance(score, (int, float))
            or not math.isfinite(score)
        ):
            raise ValueError(f"record_evaluation(): score must be a finite number, not {score!r}")
        attributes_[semconv.GEN_AI_EVALUATION_SCORE_VALUE] = float(score)
    for key, text in (
        (semconv.GEN_AI_EVALUATION_SCORE_LABEL, label),
        (semconv.GEN_AI_EVALUATION_EXPLANATION, explanation),
    ):
        if text is not None:
            if not isinstance(text, str):
                raise ValueError(f"record_evaluation(): {key} must be a string, not {text!r}")
            attributes_[key] = text
    if response_id:
        attributes_[semconv.GEN_AI_RESPONSE_ID] = response_id
    return attributes_


def record_evaluation(
    response: object,
    name: str,
    *,
    score: float | None = None,
    label: str | None = None,
    explanation: str | None = None,
) -> bool:
    """Record an evaluation of an answer after the call (user feedback, an engagement
    outcome, a grader's score): a ``gen_ai.evaluation.result`` event (a log record, so a
    logger provider must be configured to export it) in the context of the call that
    produced ``response`` (the response object, or its id)::

        answer = client.chat.completions.create(...)
        ...
        openai_sentinel.record_evaluation(answer, "user_feedback", score=1, label="thumbs_up")

    Returns whether that call's span was found (the last 10,000 calls are remembered);
    the event is recorded either way, with ``gen_ai.response.id``. Bad arguments raise
    ``ValueError``; without instrumentation it records nothing and returns False.
    """
    response_id = response_id_of(response)
    event = evaluation_attributes(name, response_id, score, label, explanation)
    from .instrumentor import OpenAISentinelInstrumentor

    telemetry = OpenAISentinelInstrumentor()._telemetry
    if telemetry is None:
        return False
    try:
        return telemetry.record_evaluation(response_id, event)
    except Exception:
        report_internal_error("record_evaluation")
        return False


def response_id_of(response: object) -> str | None:
    """The id of a response object (or the id itself)."""
    if isinstance(response, str):
        return response or None
    identifier = getattr(response, "id", None)
    return identifier if isinstance(identifier, str) and identifier else None
