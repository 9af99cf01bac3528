"""openai-sentinel: OpenTelemetry instrumentation for the OpenAI Python client.

Zero code: ``opentelemetry-instrument python app.py``. By hand::

    import openai_sentinel
    openai_sentinel.instrument(capture_content=False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .config import Settings, SettingsError

if TYPE_CHECKING:
    from ._enrichment import attributes, record_evaluation
    from .instrumentor import OpenAISentinelInstrumentor
    from .security import PromptBlocked, ResponseBlocked

__all__ = [
    "OpenAISentinelInstrumentor",
    "PromptBlocked",
    "ResponseBlocked",
    "Settings",
    "SettingsError",
    "__version__",
    "attributes",
    "instrument",
    "record_evaluation",
    "uninstrument",
]


def __getattr__(name: str) -> Any:
    """``OpenAISentinelInstrumentor``, ``attributes`` and the exceptions, imported on
    first use, so that importing a module of the package that needs none of them
    (``openai_sentinel.drift``) loads neither ``openai`` nor OpenTelemetry."""
    if name == "OpenAISentinelInstrumentor":
        from .instrumentor import OpenAISentinelInstrumentor

        return OpenAISentinelInstrumentor
    if name in ("attributes", "record_evaluation"):
        from . import _enrichment

        return getattr(_enrichment, name)
    if name in ("PromptBlocked", "ResponseBlocked"):
        from . import security

        return getattr(security, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def instrument(**settings: Any) -> OpenAISentinelInstrumentor:
    """Instrument the OpenAI client with the global (or given) providers and ``settings``.

    Settings are validated first: a bad value raises :class:`SettingsError` naming the
    setting. Calling it again while instrumented changes nothing and logs a warning;
    call :func:`uninstrument` first to change settings.
    """
    from .instrumentor import OpenAISentinelInstrumentor, configure

    configure(settings)
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(**settings)
    return instrumentor


def uninstrument() -> None:
    """Restore the original OpenAI client methods."""
    from .instrumentor import OpenAISentinelInstrumentor

    OpenAISentinelInstrumentor().uninstrument()
