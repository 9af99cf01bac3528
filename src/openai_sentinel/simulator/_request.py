"""Reading and validating a chat completions request body."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import invalid_request

MAX_CHOICES = 128
MAX_TOP_LOGPROBS = 20
MAX_STOP_SEQUENCES = 4
_ECHOED_SERVICE_TIERS = frozenset({"default", "flex", "scale", "priority"})

OutputFormat = Literal["text", "json_object", "json_schema"]


@dataclass(frozen=True)
class FunctionTool:
    """A function the model is made to call."""

    name: str
    parameters: Mapping[str, Any]


@dataclass(frozen=True)
class ChatRequest:
    """The parts of a chat completions request the simulator acts on."""

    model: str
    messages: list[dict[str, Any]]
    n: int = 1
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    logprobs: bool = False
    top_logprobs: int = 0
    stream: bool = False
    include_usage: bool = False
    forced_tool: FunctionTool | None = None
    output_format: OutputFormat = "text"
    output_schema: Mapping[str, Any] | None = None
    service_tier: str = "default"


def parse_chat_request(body: object) -> ChatRequest:
    """Validate ``body``; raise a 400 ``SimulatedError`` naming the bad parameter."""
    if not isinstance(body, dict):
        raise invalid_request("The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid_request("you must provide a model parameter", param="model")
    stream = _optional_bool(body, "stream")
    stream_options = body.get("stream_options")
    if stream_options is not None and not stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    logprobs = _optional_bool(body, "logprobs")
    top_logprobs = _optional_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    if "top_logprobs" in body and body["top_logprobs"] is not None and not logprobs:
        raise invalid_request(
            "'logprobs' must be set to 'true' when 'top_logprobs' is specified.",
            param="top_logprobs",
        )
    output_format, output_schema = _output_format(body.get("response_format"))
    return ChatRequest(
        model=model,
        messages=_messages(body.get("messages")),
        n=_optional_int(body, "n", 1, MAX_CHOICES) or 1,
        max_tokens=_max_tokens(body),
        stop=_stop_sequences(body.get("stop")),
        logprobs=logprobs,
        top_logprobs=top_logprobs or 0,
        stream=stream,
        include_usage=isinstance(stream_options, dict)
        and stream_options.get("include_usage") is True,
        forced_tool=_forced_tool(body.get("tools"), body.get("tool_choice")),
        output_format=output_format,
        output_schema=output_schema,
        service_tier=_service_tier(body.get("service_tier")),
    )


def _messages(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise invalid_request("'messages' must be a non-empty array.", param="messages")
    for index, message in enumerate(raw):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise invalid_request(
                f"Invalid message at 'messages[{index}]': expected an object with a 'role'.",
                param=f"messages[{index}]",
            )
    return raw


def _optional_bool(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_request(f"Invalid type for '{name}': expected a boolean.", param=name)
    return value


def _optional_int(body: Mapping[str, Any], name: str, minimum: int, maximum: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise invalid_request(
            f"Invalid value for '{name}': expected an integer between {minimum} and {maximum}.",
            param=name,
        )
    return value


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = _optional_int(body, name, 1, 2**31 - 1)
        if value is not None:
            return value
    return None


def _stop_sequences(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    stops = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP_SEQUENCES
        or not all(isinstance(stop, str) for stop in stops)
    ):
        raise invalid_request(
            f"'stop' must be a string or an array of up to {MAX_STOP_SEQUENCES} strings.",
            param="stop",
        )
    return tuple(stops)


def _forced_tool(tools: object, tool_choice: object) -> FunctionTool | None:
    """The function the model must call, or ``None`` when it answers with text."""
    functions = _function_tools(tools)
    if tool_choice == "required":
        if not functions:
            raise invalid_request(
                "'tool_choice' is 'required' but no function tools were given.",
                param="tool_choice",
            )
        return functions[0]
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        function = tool_choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        for tool in functions:
            if tool.name == name:
                return tool
        raise invalid_request(
            f"Invalid value for 'tool_choice': no function named {name!r} in 'tools'.",
            param="tool_choice",
        )
    return None


def _function_tools(tools: object) -> list[FunctionTool]:
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid_request("'tools' must be an array.", param="tools")
    functions: list[FunctionTool] = []
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(tool, dict) and tool.get("type") == "function" and isinstance(function, dict):
            name = function.get("name")
            parameters = function.get("parameters")
            if not isinstance(name, str) or not name:
                raise invalid_request("Every function tool needs a 'name'.", param="tools")
            functions.append(FunctionTool(name, parameters if isinstance(parameters, dict) else {}))
    return functions


def _output_format(raw: object) -> tuple[OutputFormat, Mapping[str, Any] | None]:
    if raw is None:
        return "text", None
    kind = raw.get("type") if isinstance(raw, dict) else None
    if kind == "text":
        return "text", None
    if kind == "json_object":
        return "json_object", None
    if kind == "json_schema" and isinstance(raw, dict):
        definition = raw.get("json_schema")
        schema = definition.get("schema") if isinstance(definition, dict) else None
        return "json_schema", schema if isinstance(schema, dict) else {}
    raise invalid_request(
        "Invalid 'response_format': expected type 'text', 'json_object' or 'json_schema'.",
        param="response_format",
    )


def _service_tier(raw: object) -> str:
    if raw is None or raw == "auto":
        return "default"
    if raw == "fast":
        return "priority"
    if isinstance(raw, str) and raw in _ECHOED_SERVICE_TIERS:
        return raw
    raise invalid_request(f"Invalid value for 'service_tier': {raw!r}.", param="service_tier")
