"""Fixtures shared by every test: real SDK providers and an instrumented client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from openai_sentinel import OpenAISentinelInstrumentor

from .support.telemetry import Telemetry, make_telemetry


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests start from the defaults, whatever the developer's shell has set."""
    import os

    for name in list(os.environ):
        if name.startswith(("OPENAI_SENTINEL_", "OTEL_INSTRUMENTATION_GENAI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def telemetry() -> Telemetry:
    return make_telemetry()


@pytest.fixture
def instrument(telemetry: Telemetry) -> Iterator[Callable[..., OpenAISentinelInstrumentor]]:
    """Instrument with the test's providers; settings are the keyword arguments."""
    instrumentor = OpenAISentinelInstrumentor()

    def apply(**settings: Any) -> OpenAISentinelInstrumentor:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        instrumentor.instrument(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
            **settings,
        )
        return instrumentor

    yield apply
    if instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()


@pytest.fixture
def instrumented(
    instrument: Callable[..., OpenAISentinelInstrumentor],
) -> OpenAISentinelInstrumentor:
    return instrument()
