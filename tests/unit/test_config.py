"""Settings resolution: kwargs > OPENAI_SENTINEL_* > the GenAI capture variable > defaults."""

from __future__ import annotations

import pytest

from openai_sentinel.config import Settings, SettingsError, env_name, load_settings


def test_defaults_are_private_and_cheap() -> None:
    assert load_settings({}, {}) == Settings(
        capture_content=False, content_max_length=4096, stream_usage=False
    )


def test_environment_then_kwargs_precedence() -> None:
    environ = {
        "OPENAI_SENTINEL_CAPTURE_CONTENT": "true",
        "OPENAI_SENTINEL_CONTENT_MAX_LENGTH": "100",
    }
    assert load_settings({}, environ).capture_content is True
    assert load_settings({}, environ).content_max_length == 100
    assert load_settings({"capture_content": False}, environ).capture_content is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("span_only", True),
        ("SPAN_AND_EVENT", True),
        ("false", False),
        ("NO_CONTENT", False),
        ("event_only", False),
        ("0", False),
    ],
)
def test_genai_capture_variable(value: str, expected: bool) -> None:
    environ = {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": value}
    assert load_settings({}, environ).capture_content is expected


def test_own_variable_wins_over_genai_variable() -> None:
    environ = {
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
        "OPENAI_SENTINEL_CAPTURE_CONTENT": "false",
    }
    assert load_settings({}, environ).capture_content is False


@pytest.mark.parametrize(
    ("overrides", "environ", "message"),
    [
        ({"capture_content": "perhaps"}, {}, r"'capture_content' got 'perhaps'.*True or False"),
        ({}, {"OPENAI_SENTINEL_CAPTURE_CONTENT": "perhaps"}, r"got 'perhaps'.*true/false"),
        ({}, {"OPENAI_SENTINEL_STREAM_USAGE": "2"}, r"'OPENAI_SENTINEL_STREAM_USAGE' got '2'"),
        ({"content_max_length": -5}, {}, r"'content_max_length'.*integer from 1"),
        ({"content_max_length": True}, {}, r"'content_max_length'"),
        ({}, {"OPENAI_SENTINEL_CONTENT_MAX_LENGTH": "²"}, r"OPENAI_SENTINEL_CONTENT_MAX_LENGTH"),
        ({}, {"OPENAI_SENTINEL_CONTENT_MAX_LENGTH": "٣"}, r"OPENAI_SENTINEL_CONTENT_MAX_LENGTH"),
        (
            {},
            {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "x"},
            r"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT",
        ),
        ({"colour": "red"}, {}, r"unknown openai-sentinel setting.*'colour'.*known settings"),
    ],
)
def test_errors_name_the_setting_and_accepted_values(
    overrides: dict[str, object], environ: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        load_settings(overrides, environ)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("content_max_length", "100"),
        ("content_max_length", 100.0),
        ("capture_content", "true"),
        ("capture_content", 1),
        ("stream_usage", "yes"),
    ],
)
def test_keyword_of_the_wrong_type_is_rejected(setting: str, value: object) -> None:
    """Keywords are typed: text is parsed only where it comes from, the environment."""
    with pytest.raises(SettingsError, match=rf"'{setting}' got {value!r}"):
        load_settings({setting: value}, {})


def test_instrumentor_kwargs_are_not_settings() -> None:
    kwargs = {
        "tracer_provider": None,
        "meter_provider": None,
        "skip_dep_check": True,
        "raise_exception_on_conflict": True,
    }
    assert load_settings(kwargs, {}) == Settings()


def test_env_names() -> None:
    assert env_name("stream_usage") == "OPENAI_SENTINEL_STREAM_USAGE"
