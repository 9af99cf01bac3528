"""Instrumenting, re-instrumenting and uninstrumenting the real client; settings errors."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from openai.resources.chat.completions import AsyncCompletions, Completions
from opentelemetry.instrumentation.utils import suppress_instrumentation

import openai_sentinel
from openai_sentinel import OpenAISentinelInstrumentor, SettingsError, semconv

from ..support.telemetry import Telemetry
from ..support.transport import ScriptedAPI, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]
ORIGINALS = (Completions.create, Completions.parse, AsyncCompletions.create)


def _call(client) -> None:
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)


def test_clients_created_before_and_after_instrument_are_traced(
    telemetry: Telemetry, instrument
) -> None:
    before = sync_client(ScriptedAPI())
    instrument()
    after = sync_client(ScriptedAPI())
    _call(before)
    _call(after)
    assert len(telemetry.spans()) == 2


def test_uninstrument_restores_originals_and_reinstrument_works(
    telemetry: Telemetry, instrument
) -> None:
    instrumentor = instrument()
    assert Completions.create is not ORIGINALS[0]
    client = sync_client(ScriptedAPI())
    instrumentor.uninstrument()
    assert (Completions.create, Completions.parse, AsyncCompletions.create) == ORIGINALS
    _call(client)
    assert telemetry.spans() == []
    instrument()
    _call(client)
    assert len(telemetry.spans()) == 1


def test_instrument_twice_does_not_double_wrap(
    telemetry: Telemetry, instrument, caplog: pytest.LogCaptureFixture
) -> None:
    instrumentor = instrument()
    with caplog.at_level(logging.WARNING):
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    assert "already instrumented" in caplog.text
    _call(sync_client(ScriptedAPI()))
    assert len(telemetry.spans()) == 1
    (duration,) = telemetry.points(semconv.METRIC_OPERATION_DURATION)
    assert duration.count == 1


def test_module_level_instrument(telemetry: Telemetry) -> None:
    instrumentor = openai_sentinel.instrument(
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
        capture_content=True,
    )
    try:
        assert isinstance(instrumentor, OpenAISentinelInstrumentor)
        assert instrumentor.settings is not None and instrumentor.settings.capture_content
        _call(sync_client(ScriptedAPI()))
        assert semconv.GEN_AI_INPUT_MESSAGES in (telemetry.span().attributes or {})
    finally:
        openai_sentinel.uninstrument()
    assert instrumentor.settings is None


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"capture_content": "maybe"}, "capture_content"),
        ({"content_max_length": 0}, "content_max_length"),
        ({"content_max_length": "big"}, "content_max_length"),
        ({"stream_usage": 3}, "stream_usage"),
        ({"capture_contents": True}, "capture_contents"),
    ],
)
def test_bad_settings_fail_at_instrument_naming_the_setting(settings, named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        openai_sentinel.instrument(**settings)
    with pytest.raises(SettingsError, match=named):
        OpenAISentinelInstrumentor().instrument(**settings)
    assert not OpenAISentinelInstrumentor().is_instrumented_by_opentelemetry
    assert Completions.create is ORIGINALS[0]


def test_module_level_instrument_accepts_instrumentor_options(telemetry: Telemetry) -> None:
    openai_sentinel.instrument(tracer_provider=telemetry.tracer_provider, skip_dep_check=True)
    try:
        _call(sync_client(ScriptedAPI()))
        assert len(telemetry.spans()) == 1
    finally:
        openai_sentinel.uninstrument()


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_SENTINEL_STREAM_USAGE", "sometimes")
    with pytest.raises(SettingsError, match="OPENAI_SENTINEL_STREAM_USAGE"):
        openai_sentinel.instrument()


def test_suppressed_instrumentation_is_respected(telemetry: Telemetry, instrumented) -> None:
    with suppress_instrumentation():
        _call(sync_client(ScriptedAPI()))
    assert telemetry.spans() == []


def test_entry_point_is_registered_under_its_own_name() -> None:
    (entry_point,) = [
        ep
        for ep in entry_points(group="opentelemetry_instrumentor")
        if ep.value.startswith("openai_sentinel")
    ]
    assert entry_point.name == "openai_sentinel"
    assert entry_point.load() is OpenAISentinelInstrumentor


def test_dependencies_are_declared() -> None:
    """The instrumentor claims what the ``instruments`` extra installs, and the oldest
    claimed release is the one the compatibility matrix tests."""
    import importlib.metadata
    import re

    from packaging.requirements import Requirement

    (claimed,) = [
        Requirement(dependency)
        for dependency in OpenAISentinelInstrumentor().instrumentation_dependencies()
    ]
    requirements = [Requirement(r) for r in importlib.metadata.requires("openai-sentinel") or []]
    extras = [
        r
        for r in requirements
        if r.marker is not None
        and r.marker.evaluate({"extra": "instruments"})
        and not r.marker.evaluate({"extra": ""})  # only what the extra itself adds
    ]
    assert [(r.name, r.specifier) for r in extras] == [(claimed.name, claimed.specifier)]
    noxfile = (Path(__file__).parents[2] / "noxfile.py").read_text(encoding="utf-8")
    oldest = re.search(r'OLDEST_OPENAI = "([0-9.]+)"', noxfile)
    assert oldest is not None
    assert claimed.specifier.contains(oldest.group(1))
    assert not claimed.specifier.contains("1.108.0")
