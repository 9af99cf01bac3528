"""``OpenAISentinelInstrumentor``: the wrap table and the ``BaseInstrumentor`` glue."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from . import _abandoned, _wrappers
from ._errors import logger
from ._patching import CurrentMethod, Patch, WrapperPatch
from .adapters import chat, completions, embeddings, media, responses
from .adapters._adapter import Adapter
from .analyzers.price_overrides import PriceOverrides, load_price_overrides
from .analyzers.security.live import LIVE
from .analyzers.security.scanner import Scanner, build_scanner
from .config import PROVIDER_KWARGS, Settings, SettingsError, load_settings
from .emit import Telemetry

__all__ = ["OpenAISentinelInstrumentor"]

_INSTRUMENTS: Final = ("openai >= 1.108.1, < 4",)

_AUTO_INSTRUMENTATION: Final = "opentelemetry.instrumentation.auto_instrumentation"


@dataclass(frozen=True, slots=True)
class _Resource:
    """A client resource: ``module.Class`` and ``module.AsyncClass``, the methods of it we
    trace, each with its adapter, and the attribute its ``…WithRawResponse`` classes keep
    it under."""

    module: str
    name: str
    methods: tuple[tuple[str, Adapter], ...]
    raw_attribute: str


_RESOURCES: Final = (
    _Resource(
        "openai.resources.chat.completions",
        "Completions",
        (("create", chat.ADAPTER), ("parse", chat.ADAPTER)),
        "_completions",
    ),
    _Resource(
        "openai.resources.responses",
        "Responses",
        (
            ("create", responses.ADAPTER),
            ("parse", responses.ADAPTER),
            ("retrieve", responses.RETRIEVAL_ADAPTER),
        ),
        "_responses",
    ),
    _Resource(
        "openai.resources.completions",
        "Completions",
        (("create", completions.ADAPTER),),
        "_completions",
    ),
    _Resource(
        "openai.resources.embeddings",
        "Embeddings",
        (("create", embeddings.ADAPTER),),
        "_embeddings",
    ),
    _Resource(
        "openai.resources.images",
        "Images",
        (
            ("generate", media.IMAGE_GENERATION),
            ("edit", media.IMAGE_EDIT),
            ("create_variation", media.IMAGE_VARIATION),
        ),
        "_images",
    ),
    _Resource(
        "openai.resources.audio.transcriptions",
        "Transcriptions",
        (("create", media.TRANSCRIPTION),),
        "_transcriptions",
    ),
    _Resource(
        "openai.resources.audio.translations",
        "Translations",
        (("create", media.TRANSLATION),),
        "_translations",
    ),
    _Resource("openai.resources.audio.speech", "Speech", (("create", media.SPEECH),), "_speech"),
    _Resource(
        "openai.resources.moderations",
        "Moderations",
        (("create", media.MODERATION),),
        "_moderations",
    ),
)

# The ``.stream()`` helpers close the HTTP response themselves, bypassing the raw
# stream, so their ``close`` ends the span. Missing from older clients: skipped.
_HELPER_CLOSES: Final = (
    ("openai.lib.streaming.chat", "ChatCompletionStream.close", False),
    ("openai.lib.streaming.chat", "AsyncChatCompletionStream.close", True),
    ("openai.lib.streaming.responses", "ResponseStream.close", False),
    ("openai.lib.streaming.responses", "AsyncResponseStream.close", True),
)

# How the client makes the methods of ``with_raw_response`` / ``with_streaming_response``:
# (class name pattern, module and function).
_RESPONSE_WRAPPERS: Final = (
    ("{}WithRawResponse", "openai._legacy_response", "to_raw_response_wrapper"),
    ("Async{}WithRawResponse", "openai._legacy_response", "async_to_raw_response_wrapper"),
    ("{}WithStreamingResponse", "openai._response", "to_streamed_response_wrapper"),
    ("Async{}WithStreamingResponse", "openai._response", "async_to_streamed_response_wrapper"),
)


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
    for resource in _RESOURCES:
        for method, adapter in resource.methods:
            for class_name, make_wrapper in (
                (resource.name, _wrappers.sync_wrapper),
                (f"Async{resource.name}", _wrappers.async_wrapper),
            ):
                target = _resolve(resource.module, f"{class_name}.{method}")
                if target is not None:
                    patches.append(WrapperPatch(*target, make_wrapper(telemetry, adapter)))
        for pattern, maker_module, maker_name in _RESPONSE_WRAPPERS:
            owner = _resolve(resource.module, pattern.format(resource.name))
            maker = _resolve(maker_module, maker_name)
            if owner is None or maker is None:
                continue
            cls, make_method = getattr(*owner), getattr(*maker)
            patches.extend(
                CurrentMethod(cls, method, make_method, resource.raw_attribute)
                for method, _ in resource.methods
            )
    for module_name, path, is_async in _HELPER_CLOSES:
        target = _resolve(module_name, path)
        if target is not None:
            close = (
                _wrappers.async_helper_close_wrapper if is_async else _wrappers.helper_close_wrapper
            )
            patches.append(WrapperPatch(*target, close))
    return patches


def _called_by_auto_instrumentation() -> bool:
    """Whether ``opentelemetry-instrument`` (its sitecustomize) is loading us."""
    frame = sys._getframe(1)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith(_AUTO_INSTRUMENTATION):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def configure(
    kwargs: dict[str, Any],
) -> tuple[Settings, PriceOverrides | None, Scanner | None]:
    """The settings of ``instrument(**kwargs)``, the prices file and the security rules
    they name, all checked: a bad value raises :class:`SettingsError` saying what is
    wrong (:class:`~openai_sentinel.security.RulesFileError` for the rules file)."""
    settings = load_settings({k: v for k, v in kwargs.items() if k not in PROVIDER_KWARGS})
    prices = load_price_overrides(settings.prices_file) if settings.prices_file else None
    scanner = build_scanner(settings.security_rules_file) if settings.security_scanning else None
    return settings, prices, scanner


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
            settings, prices, scanner = configure(overrides)
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
                price_overrides=prices,
                logger_provider=kwargs.get("logger_provider"),
            )
        except Exception:
            logger.exception(
                "openai-sentinel could not get a tracer or its instruments from the "
                "providers; openai is left uninstrumented"
            )
            return
        # Loaded here, once, rather than on a thread: imports racing between threads can
        # see half-initialised modules (seen with httpx2 under openai 2.x).
        telemetry.price_book.warm()
        if scanner is not None:
            LIVE.install(
                scanner, settings.security_rules_file, settings.security_rules_watch_seconds
            )
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
        LIVE.reset()
        _abandoned.flush()
