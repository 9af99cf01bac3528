"""``OpenAISentinelInstrumentor``: the wrap table and the ``BaseInstrumentor`` glue."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Collection
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from . import _abandoned, _wrappers
from ._errors import logger
from ._patching import CurrentMethod, Patch, WrapperPatch
from .config import PROVIDER_KWARGS, Settings, SettingsError, load_settings
from .emit import Telemetry

__all__ = ["OpenAISentinelInstrumentor"]

_INSTRUMENTS: Final = ("openai >= 1.26, < 4",)

_CHAT_MODULE: Final = "openai.resources.chat.completions"
_HELPER_MODULE: Final = "openai.lib.streaming.chat"
_AUTO_INSTRUMENTATION: Final = "opentelemetry.instrumentation.auto_instrumentation"

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

# The client's ``with_raw_response`` / ``with_streaming_response`` classes: (module,
# class, module and name of the function that makes their methods). Their ``create``
# and ``parse`` are bound from the resource's ``_completions`` at each access.
_RESPONSE_WRAPPER_TABLE: Final = (
    (
        _CHAT_MODULE,
        "CompletionsWithRawResponse",
        "openai._legacy_response",
        "to_raw_response_wrapper",
    ),
    (
        _CHAT_MODULE,
        "AsyncCompletionsWithRawResponse",
        "openai._legacy_response",
        "async_to_raw_response_wrapper",
    ),
    (
        _CHAT_MODULE,
        "CompletionsWithStreamingResponse",
        "openai._response",
        "to_streamed_response_wrapper",
    ),
    (
        _CHAT_MODULE,
        "AsyncCompletionsWithStreamingResponse",
        "openai._response",
        "async_to_streamed_response_wrapper",
    ),
)
_BOUND_METHODS: Final = ("create", "parse")


def _resolve(module_name: str, path: str) -> tuple[Any, str] | None:
    """The object owning ``path`` ("Class.method") and the last name, if both exist."""
    try:
        owner: Any = importlib.import_module(module_name)
    except ImportError:
        return None
    *classes, name = path.split(".")
    for class_name in classes:
        owner = getattr(owner, class_name, None)
        if owner is None:
            return None
    return (owner, name) if hasattr(owner, name) else None


def _install(telemetry: Telemetry) -> list[Patch]:
    patches: list[Patch] = []
    for module_name, path, factory in _WRAP_TABLE:
        target = _resolve(module_name, path)
        if target is not None:
            patches.append(WrapperPatch(*target, factory(telemetry)))
    for module_name, class_name, maker_module, maker_name in _RESPONSE_WRAPPER_TABLE:
        owner = _resolve(module_name, class_name)
        maker = _resolve(maker_module, maker_name)
        if owner is None or maker is None:
            continue
        cls, make_method = getattr(*owner), getattr(*maker)
        patches.extend(
            CurrentMethod(cls, name, make_method, "_completions") for name in _BOUND_METHODS
        )
    return patches


def _called_by_auto_instrumentation() -> bool:
    """Whether ``opentelemetry-instrument`` (its sitecustomize) is loading us."""
    frame = sys._getframe(1)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith(_AUTO_INSTRUMENTATION):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


class OpenAISentinelInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces and measures OpenAI client calls per the GenAI semantic conventions.

    ``OpenAISentinelInstrumentor().instrument(tracer_provider=..., meter_provider=...,
    capture_content=True)``; settings are described in :class:`~openai_sentinel.config.Settings`.

    A bad keyword raises :class:`~openai_sentinel.config.SettingsError`. Under
    ``opentelemetry-instrument`` a bad ``OPENAI_SENTINEL_*`` value is logged instead,
    and openai is left uninstrumented so that the other instrumentations still load;
    so is a tracer or meter provider that fails when asked for a tracer or instruments.
    """

    _settings: Settings | None = None
    _telemetry: Telemetry | None = None
    _patches: tuple[Patch, ...] = ()

    def instrumentation_dependencies(self) -> Collection[str]:
        return _INSTRUMENTS

    @property
    def settings(self) -> Settings | None:
        """The settings in force, or ``None`` while not instrumented."""
        return self._settings

    def instrument(self, **kwargs: Any) -> Any:
        result = super().instrument(**kwargs)
        if self._telemetry is None:  # nothing was installed: stay re-instrumentable
            self._is_instrumented_by_opentelemetry = False
        return result

    def _instrument(self, **kwargs: Any) -> None:
        overrides = {k: v for k, v in kwargs.items() if k not in PROVIDER_KWARGS}
        try:
            settings = load_settings(overrides)
        except SettingsError as error:
            if overrides or not _called_by_auto_instrumentation():
                raise
            logger.error("%s. openai is left uninstrumented.", error)
            return
        try:
            telemetry = Telemetry(
                settings,
                tracer_provider=kwargs.get("tracer_provider"),
                meter_provider=kwargs.get("meter_provider"),
            )
        except Exception:
            logger.exception(
                "openai-sentinel could not get a tracer or its instruments from the "
                "providers; openai is left uninstrumented"
            )
            return
        self._patches = tuple(_install(telemetry))
        self._telemetry = telemetry
        self._settings = settings

    def _uninstrument(self, **kwargs: Any) -> None:
        telemetry = self._telemetry
        if telemetry is not None:
            telemetry.active = False
        for patch in reversed(self._patches):
            patch.remove()
        self._patches = ()
        self._telemetry = None
        self._settings = None
        _abandoned.flush()
