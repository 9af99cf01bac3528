"""Reading and validating a Responses API request body (``POST /v1/responses``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ._errors import invalid_request
from ._generation import message_text
from ._params import (
    optional_bool,
    optional_int,
    optional_number,
    require_model,
    require_object,
    service_tier,
)
from ._request import (
    MAX_TOKENS_LIMIT,
    MAX_TOP_LOGPROBS,
    ChatRequest,
    FunctionTool,
    OutputFormat,
    choose_forced_tool,
    function_tool,
)

INCLUDE_LOGPROBS = "message.output_text.logprobs"
MIN_MAX_OUTPUT_TOKENS = 16
_DEFAULT_TEXT_FORMAT = {"type": "text"}


@dataclass(frozen=True)
class ResponsesRequest:
    """What the simulator acts on, and the request settings a ``response`` object echoes."""

    model: str
    input_messages: list[dict[str, Any]]
    """The input as chat-style messages (``role``, ``content``), without the instructions."""
    instructions: str | None = None
    max_output_tokens: int | None = None
    logprobs: bool = False
    top_logprobs: int = 0
    forced_tool: FunctionTool | None = None
    output_format: OutputFormat = "text"
    output_schema: Mapping[str, Any] | None = None
    service_tier: str = "default"
    stream: bool = False
    store: bool = True
    previous_response_id: str | None = None
    echoed: dict[str, Any] = field(default_factory=dict)
    """Fields of the ``response`` object that repeat the request (tools, text, top_p...)."""

    def as_chat_request(self, history: Sequence[Mapping[str, Any]] = ()) -> ChatRequest:
        """The equivalent chat request: instructions as a system message, then the history
        of the previous responses, then the input."""
        system = [{"role": "system", "content": self.instructions}] if self.instructions else []
        return ChatRequest(
            model=self.model,
            messages=[*system, *map(dict, history), *self.input_messages],
            max_tokens=self.max_output_tokens,
            logprobs=self.logprobs,
            top_logprobs=self.top_logprobs if self.logprobs else 0,
            forced_tool=self.forced_tool,
            output_format=self.output_format,
            output_schema=self.output_schema,
            service_tier=self.service_tier,
        )


def parse_responses_request(body: object) -> ResponsesRequest:
    """Validate ``body``; raise a 400 ``SimulatedError`` naming the bad parameter."""
    body = require_object(body)
    model = require_model(body)
    previous_response_id = _optional_string(body, "previous_response_id")
    if body.get("input") is None and previous_response_id is None:
        raise invalid_request("Missing required parameter: 'input'.", param="input")
    instructions = _optional_string(body, "instructions")
    max_output_tokens = optional_int(body, "max_output_tokens", 1, MAX_TOKENS_LIMIT)
    if max_output_tokens is not None and max_output_tokens < MIN_MAX_OUTPUT_TOKENS:
        raise invalid_request(
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= "
            f"{MIN_MAX_OUTPUT_TOKENS}, but got {max_output_tokens} instead.",
            param="max_output_tokens",
        )
    top_logprobs = optional_int(body, "top_logprobs", 0, MAX_TOP_LOGPROBS)
    tools, functions = _tools(body.get("tools"))
    tool_choice = body.get("tool_choice") or "auto"
    text = _text_config(body.get("text"))
    output_format, output_schema = _output_format(text["format"])
    tier = service_tier(body.get("service_tier"))
    store = body.get("store") is not False
    echoed = {
        "background": False,
        "instructions": instructions,
        "max_output_tokens": max_output_tokens,
        "max_tool_calls": optional_int(body, "max_tool_calls", 1, MAX_TOKENS_LIMIT),
        "metadata": _metadata(body.get("metadata")),
        "parallel_tool_calls": body.get("parallel_tool_calls") is not False,
        "previous_response_id": previous_response_id,
        "prompt_cache_key": _optional_string(body, "prompt_cache_key"),
        "reasoning": _reasoning(body.get("reasoning")),
        "safety_identifier": _optional_string(body, "safety_identifier"),
        "service_tier": tier,
        "store": store,
        "temperature": _number_or(body, "temperature", 0.0, 2.0, default=1.0),
        "text": text,
        "tool_choice": tool_choice,
        "tools": tools,
        "top_logprobs": top_logprobs or 0,
        "top_p": _number_or(body, "top_p", 0.0, 1.0, default=1.0),
        "truncation": "auto" if body.get("truncation") == "auto" else "disabled",
        "user": _optional_string(body, "user"),
    }
    return ResponsesRequest(
        model=model,
        input_messages=_input_messages(body.get("input")),
        instructions=instructions,
        max_output_tokens=max_output_tokens,
        logprobs=INCLUDE_LOGPROBS in _include(body.get("include")),
        top_logprobs=top_logprobs or 0,
        forced_tool=choose_forced_tool(
            functions,
            tool_choice,
            tool_choice.get("name") if isinstance(tool_choice, dict) else None,
        ),
        output_format=output_format,
        output_schema=output_schema,
        service_tier=tier,
        stream=optional_bool(body, "stream"),
        store=store,
        previous_response_id=previous_response_id,
        echoed=echoed,
    )


def item_as_message(item: Mapping[str, Any]) -> dict[str, Any]:
    """An input or output item as a chat-style message, for counting and fingerprinting."""
    role = item.get("role")
    if isinstance(role, str):
        return {"role": role, "content": message_text(item)}
    kind = item.get("type")
    if kind == "function_call_output":
        output = item.get("output")
        return {"role": "tool", "content": output if isinstance(output, str) else ""}
    if kind == "function_call":
        arguments = item.get("arguments")
        return {"role": "assistant", "content": arguments if isinstance(arguments, str) else ""}
    return {"role": str(kind), "content": ""}


def _input_messages(raw: object) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"role": "user", "content": raw}]
    if not isinstance(raw, list):
        raise invalid_request("Invalid 'input': expected a string or an array.", param="input")
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or not (
            isinstance(item.get("role"), str) or isinstance(item.get("type"), str)
        ):
            raise invalid_request(
                f"Invalid 'input[{index}]': expected an object with a 'role' or a 'type'.",
                param=f"input[{index}]",
            )
    return [item_as_message(item) for item in raw]


def _tools(raw: object) -> tuple[list[dict[str, Any]], list[FunctionTool]]:
    """The tools as the response echoes them, and the function tools among them."""
    if raw is None:
        return [], []
    if not isinstance(raw, list) or not all(isinstance(tool, dict) for tool in raw):
        raise invalid_request("'tools' must be an array of objects.", param="tools")
    echoed: list[dict[str, Any]] = []
    functions: list[FunctionTool] = []
    for tool in raw:
        if tool.get("type") != "function":
            echoed.append(tool)
            continue
        functions.append(function_tool(tool.get("name"), tool.get("parameters")))
        echoed.append(
            {
                "type": "function",
                "name": tool["name"],
                "description": tool.get("description"),
                "parameters": tool.get("parameters"),
                "strict": tool.get("strict", True),
            }
        )
    return echoed, functions


def _text_config(raw: object) -> dict[str, Any]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid 'text': expected an object.", param="text")
    text_format = raw.get("format") or _DEFAULT_TEXT_FORMAT
    return {"format": text_format, "verbosity": raw.get("verbosity") or "medium"}


def _output_format(text_format: object) -> tuple[OutputFormat, Mapping[str, Any] | None]:
    kind = text_format.get("type") if isinstance(text_format, dict) else None
    if kind == "text":
        return "text", None
    if kind == "json_object":
        return "json_object", None
    if kind == "json_schema" and isinstance(text_format, dict):
        schema = text_format.get("schema")
        return "json_schema", schema if isinstance(schema, dict) else {}
    raise invalid_request(
        "Invalid 'text.format': expected type 'text', 'json_object' or 'json_schema'.",
        param="text.format",
    )


def _include(raw: object) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise invalid_request("Invalid 'include': expected an array of strings.", param="include")
    return raw


def _metadata(raw: object) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(isinstance(value, str) for value in raw.values()):
        raise invalid_request(
            "Invalid 'metadata': expected an object of strings.", param="metadata"
        )
    return raw


def _reasoning(raw: object) -> dict[str, Any]:
    if raw is None:
        return {"effort": None, "summary": None}
    if not isinstance(raw, dict):
        raise invalid_request("Invalid 'reasoning': expected an object.", param="reasoning")
    return {"effort": raw.get("effort"), "summary": raw.get("summary")}


def _optional_string(body: Mapping[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or isinstance(value, str):
        return value
    raise invalid_request(f"Invalid type for '{name}': expected a string.", param=name)


def _number_or(
    body: Mapping[str, Any], name: str, minimum: float, maximum: float, *, default: float
) -> float:
    value = optional_number(body, name, minimum, maximum)
    return default if value is None else value
