"""``OpenAISentinelInstrumentor``: the wrap table and the ``BaseInstrumentor`` glue."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

from . import _wrappers
from .config import PROVIDER_KWARGS, Settings, load_settings
from .emit import Telemetry

__all__ = ["OpenAISentinelInstrumentor"]

_INSTRUMENTS: Final = ("openai >= 1.26, < 4",)

_CHAT_MODULE: Final = "openai.resources.chat.completions"
_HELPER_MODULE: Final = "openai.lib.streaming.chat"

WrapperFactory = Callable[[Telemetry], Any]

# (module, "Class.method", wrapper factory). Targets missing from older clients
# (``parse``, the ``.stream()`` helpers) are skipped.
_WRAP_TABLE: Final[tuple[tuple[str, str, WrapperFactory], ...]] = (
    (_CHAT_MODULE, "Completions.create", _wrappers.chat_wrapper),
    (_CHAT_MODULE, "Completions.parse", _wrappers.chat_wrapper),
    (_CHAT_MODULE, "AsyncCompletions.create", _wrappers.async_chat_wrapper),
    (_CHAT_MODULE, "AsyncCompletions.parse", _wrappers.async_chat_wrapper),
    (_HELPER_MODULE, "ChatCompletionStream.close", lambda _: _wrappers.helper_close_wrapper),
    (
        _HELPER_MODULE,
        "AsyncChatCompletionStream.close",
        lambda _: _wrappers.async_helper_close_wrapper,
    ),
)


def _resolve(module_name: str, path: str) -> tuple[Any, str] | None:
    """The class owning ``path`` ("Class.method") and the method name, if both exist."""
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    *classes, method = path.split(".")
    for name in classes:
        owner = getattr(owner, name, None)
        if owner is None:
            return None
    return (owner, method) if hasattr(owner, method) else None


class OpenAISentinelInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces and measures OpenAI client calls per the GenAI semantic conventions.

    ``OpenAISentinelInstrumentor().instrument(tracer_provider=..., meter_provider=...,
    capture_content=True)``; settings are described in :class:`~openai_sentinel.config.Settings`.
    """

    _settings: Settings | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    @property
    def settings(self) -> Settings | None:
        """The settings in force, or ``None`` while not instrumented."""
        return self._settings

    def _instrument(self, **kwargs: Any) -> None:
        settings = load_settings({k: v for k, v in kwargs.items() if k not in PROVIDER_KWARGS})
        telemetry = Telemetry(
            settings,
            tracer_provider=kwargs.get("tracer_provider"),
            meter_provider=kwargs.get("meter_provider"),
        )
        for module_name, path, factory in _WRAP_TABLE:
            if _resolve(module_name, path) is not None:
                wrap_function_wrapper(module_name, path, factory(telemetry))
        self._settings = settings

    def _uninstrument(self, **kwargs: Any) -> None:
        for module_name, path, _ in _WRAP_TABLE:
            target = _resolve(module_name, path)
            if target is not None:
                unwrap(*target)
        self._settings = None
