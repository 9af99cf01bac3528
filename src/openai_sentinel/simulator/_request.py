"""Reading and validating a chat completions request body.

A ``ChatRequest`` is also what the simulated model answers for the other APIs: a Responses
or legacy completions request is translated into the equivalent chat request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ._errors import invalid_request
from ._params import (
    optional_bool,
    optional_int,
    require_model,
    require_object,
    service_tier,
    stop_sequences,
)

MAX_CHOICES = 128
MAX_TOP_LOGPROBS = 20
MAX_TOKENS_LIMIT = 2**31 - 1

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
    body = require_object(body)
    model = require_model(body)
    stream = optional_bool(body, "stream")
    include_usage = stream_usage_requested(body, stream=stream)
    logprobs = optional_bool(body, "logprobs")
    top_logprobs = optional_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    if "top_logprobs" in body and body["top_logprobs"] is not None and not logprobs:
        raise invalid_request(
            "'logprobs' must be set to 'true' when 'top_logprobs' is specified.",
            param="top_logprobs",
        )
    output_format, output_schema = _output_format(body.get("response_format"))
    tool_choice = body.get("tool_choice")
    chosen = tool_choice.get("function") if isinstance(tool_choice, dict) else None
    return ChatRequest(
        model=model,
        messages=_messages(body.get("messages")),
        n=optional_int(body, "n", 1, MAX_CHOICES) or 1,
        max_tokens=_max_tokens(body),
        stop=stop_sequences(body.get("stop")),
        logprobs=logprobs,
        top_logprobs=top_logprobs or 0,
        stream=stream,
        include_usage=include_usage,
        forced_tool=choose_forced_tool(
            _function_tools(body.get("tools")),
            tool_choice,
            chosen.get("name") if isinstance(chosen, dict) else None,
        ),
        output_format=output_format,
        output_schema=output_schema,
        service_tier=service_tier(body.get("service_tier")),
    )


def stream_usage_requested(body: Mapping[str, Any], *, stream: bool) -> bool:
    """Whether ``stream_options.include_usage`` is set (only allowed when streaming)."""
    stream_options = body.get("stream_options")
    if stream_options is not None and not stream:
        raise invalid_request(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    return isinstance(stream_options, dict) and stream_options.get("include_usage") is True


def choose_forced_tool(
    functions: Sequence[FunctionTool], tool_choice: object, chosen_name: str | None
) -> FunctionTool | None:
    """The function the model must call, or ``None`` when it answers with text.

    It calls one when ``tool_choice`` is ``"required"`` (the first function) or names a
    function (``chosen_name``, read from the API's own ``tool_choice`` shape).
    """
    if tool_choice == "required":
        if not functions:
            raise invalid_request(
                "'tool_choice' is 'required' but no function tools were given.",
                param="tool_choice",
            )
        return functions[0]
    if isinstance(tool_choice, dict) and tool_choice.get("type") == "function":
        for tool in functions:
            if tool.name == chosen_name:
                return tool
        raise invalid_request(
            f"Invalid value for 'tool_choice': no function named {chosen_name!r} in 'tools'.",
            param="tool_choice",
        )
    return None


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


def _max_tokens(body: Mapping[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = optional_int(body, name, 1, MAX_TOKENS_LIMIT)
        if value is not None:
            return value
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
            functions.append(function_tool(function.get("name"), function.get("parameters")))
    return functions


def function_tool(name: object, parameters: object) -> FunctionTool:
    """A ``FunctionTool`` from a tool definition's ``name`` and ``parameters``."""
    if not isinstance(name, str) or not name:
        raise invalid_request("Every function tool needs a 'name'.", param="tools")
    return FunctionTool(name, parameters if isinstance(parameters, dict) else {})


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
