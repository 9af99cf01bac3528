"""openai-sentinel: OpenTelemetry instrumentation for the OpenAI Python client.

Zero code: ``opentelemetry-instrument python app.py``. By hand::

    import openai_sentinel
    openai_sentinel.instrument(capture_content=False)
"""

from __future__ import annotations

from typing import Any

from ._version import __version__
from .config import Settings, SettingsError
from .instrumentor import OpenAISentinelInstrumentor

__all__ = [
    "OpenAISentinelInstrumentor",
    "Settings",
    "SettingsError",
    "__version__",
    "instrument",
    "uninstrument",
]


def instrument(**settings: Any) -> OpenAISentinelInstrumentor:
    """Instrument the OpenAI client with the global (or given) providers and ``settings``.

    Settings are validated first: a bad value raises :class:`SettingsError` naming the
    setting. Calling it again while instrumented changes nothing and logs a warning;
    call :func:`uninstrument` first to change settings.
    """
    from .instrumentor import configure

    configure(settings)
    instrumentor = OpenAISentinelInstrumentor()
    instrumentor.instrument(**settings)
    return instrumentor


def uninstrument() -> None:
    """Restore the original OpenAI client methods."""
    OpenAISentinelInstrumentor().uninstrument()
