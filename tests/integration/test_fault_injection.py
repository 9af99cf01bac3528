"""A failure in *any* function of ours on the call path never reaches the caller.

The test first records every function of the package that runs during a set of calls
(chat sync and async: plain, streamed, the ``.stream()`` helper, raw responses, API
errors, a failed ``parse()``; the Responses API plain, streamed and through its helper;
a legacy completion stream; embeddings), with the defaults and with every setting on.
Then, for each of those functions in turn, it runs the calls again with that function
made to raise on its first entry (through ``sys.settrace``), and checks that the caller gets exactly
the bare client's result or exception.

Two kinds of function are not made to raise, and the test checks that each is what it
claims to be:

- *boundary* functions, listed by name below: the wrappers and stream proxy methods the
  caller (or the interpreter) calls directly. They contain no logic of their own and
  call only self-guarding functions.
- *self-guarding* functions, recognised from their source: every statement of their
  body is a ``try`` with an ``except Exception`` handler, a plain assignment or return of
  a name or constant, or a deliberate ``raise`` of a built-in exception (the bare
  client's behaviour). Such a function cannot raise on entry in reality; its
  callees are made to raise instead.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from types import CodeType, FrameType, FunctionType, ModuleType
from typing import Any

import openai
import pytest
from pydantic import BaseModel

import openai_sentinel

from ..support import api_payloads, payloads
from ..support.http_library import http
from ..support.transport import ScriptedAPI, async_client, sync_client

MESSAGES = [{"role": "user", "content": "hi"}]
PACKAGE_DIR = Path(openai_sentinel.__file__).parent
OUT_OF_SCOPE = ("simulator", "_demo")
ALL_SETTINGS = {
    "capture_content": True,
    "stream_usage": True,
    "content_max_length": 64,
    "security_input_policy": "redact",
    "security_output_policy": "redact",
}

BOUNDARY = {
    "streams._LikeTheClientsStream.__del__",
    "_wrappers.sync_wrapper.<locals>.wrapper",
    "_wrappers.async_wrapper.<locals>.wrapper",
    "_wrappers._traced",
    "_wrappers.helper_close_wrapper",
    "_wrappers.async_helper_close_wrapper",
    "streams._chunks",
    "streams._async_chunks",
    "streams.InstrumentedStream.__next__",
    "streams.InstrumentedStream.__iter__",
    "streams.InstrumentedStream.__enter__",
    "streams.InstrumentedStream.__exit__",
    "streams.InstrumentedStream.close",
    "streams.InstrumentedAsyncStream.__anext__",
    "streams.InstrumentedAsyncStream.__aiter__",
    "streams.InstrumentedAsyncStream.__aenter__",
    "streams.InstrumentedAsyncStream.__aexit__",
    "streams.InstrumentedAsyncStream.close",
}
"""Entered by the caller (or by the garbage collector) with nothing of ours around them."""


class Injected(RuntimeError):
    """The failure made to happen."""


class Answer(BaseModel):
    count: int


# -- the calls, and what they return to the caller ------------------------------------------


def _outcome(action: Callable[[], Any]) -> Any:
    try:
        return ("returned", action())
    except openai.APIStatusError as error:
        return ("raised", type(error).__name__, str(error), error.status_code)
    except Exception as error:
        return ("raised", type(error).__name__, str(error))


def _api(**body: Any) -> ScriptedAPI:
    api = ScriptedAPI()
    if body:
        api.body = payloads.completion(**body)
    return api


class _OtherAPIs:
    """Answers the Responses, legacy completions and embeddings endpoints (no usage chunk
    unless asked for), like the API does."""

    def __call__(self, request: Any) -> Any:
        sent = json.loads(request.content or b"{}")
        path = request.url.path
        if path.endswith("/responses"):
            final = api_payloads.response(
                output=[api_payloads.output_message("This is a test.")],
                usage=api_payloads.response_usage(),
            )
            if sent.get("stream"):
                events = api_payloads.response_events(final, ["This", " is", " a", " test."])
                return _sse(api_payloads.event_stream(events))
            return http.Response(200, json=final)
        if path.endswith("/completions"):
            if sent.get("stream"):
                include = bool((sent.get("stream_options") or {}).get("include_usage"))
                chunks = api_payloads.text_completion_chunks(["a", "b"], include_usage=include)
                return _sse(api_payloads.data_stream(chunks))
            return http.Response(200, json=api_payloads.text_completion())
        return http.Response(200, json=api_payloads.embeddings([[0.6, 0.8]]))


def _sse(body: bytes) -> Any:
    return http.Response(200, headers={"content-type": "text/event-stream"}, content=body)


def _other_client() -> openai.OpenAI:
    return openai.OpenAI(
        api_key="sk-test",
        base_url="https://api.openai.test/v1",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(_OtherAPIs())),
    )


def _other_async_client() -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(
        api_key="sk-test",
        base_url="https://api.openai.test/v1",
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(_OtherAPIs())),
    )


def _other_api_calls() -> dict[str, Callable[[], Any]]:
    def responses_create() -> Any:
        return _other_client().responses.create(model="m", input="hi").model_dump()

    def responses_stream() -> Any:
        events = _other_client().responses.create(model="m", input="hi", stream=True)
        return [event.type for event in events]

    def responses_helper() -> Any:
        with _other_client().responses.stream(model="m", input="hi") as events:
            return [event.type for event in events]

    def completions_stream() -> Any:
        chunks = _other_client().completions.create(model="m", prompt="hi", stream=True)
        return [chunk.model_dump() for chunk in chunks]

    def embeddings() -> Any:
        client = _other_client()
        return client.embeddings.create(model="m", input="hi", encoding_format="float").model_dump()

    async def async_responses_stream() -> Any:
        events = await _other_async_client().responses.create(model="m", input="hi", stream=True)
        return [event.type async for event in events]

    return {
        "responses_create": responses_create,
        "responses_stream": responses_stream,
        "responses_helper": responses_helper,
        "completions_stream": completions_stream,
        "embeddings": embeddings,
        "async_responses_stream": lambda: asyncio.run(async_responses_stream()),
    }


def _sync_calls() -> dict[str, Callable[[], Any]]:
    def create() -> Any:
        client = sync_client(_api())
        return client.chat.completions.create(model="m", messages=MESSAGES).model_dump()

    def stream() -> Any:
        client = sync_client(_api())
        chunks = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        return [chunk.model_dump() for chunk in chunks]

    def stream_in_with() -> Any:
        client = sync_client(_api())
        with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as s:
            return next(s).model_dump()

    def stream_closed() -> Any:
        client = sync_client(_api())
        chunks = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        first = next(chunks).model_dump()
        chunks.close()
        return first

    def helper() -> Any:
        client = sync_client(_api())
        with client.chat.completions.stream(model="m", messages=MESSAGES) as events:
            return [event.type for event in events]

    def raw() -> Any:
        client = sync_client(_api())
        response = client.chat.completions.with_raw_response.create(model="m", messages=MESSAGES)
        return response.parse().model_dump()

    def api_error() -> Any:
        api = _api()
        api.status = 429
        return sync_client(api).chat.completions.create(model="m", messages=MESSAGES)

    def failed_parse() -> Any:
        client = sync_client(_api(content='{"count": 1', finish_reason="length"))
        return client.chat.completions.parse(
            model="m", messages=MESSAGES, response_format=Answer
        ).model_dump()

    def bad_arguments() -> Any:
        return sync_client(_api()).chat.completions.create(model="m")

    return {
        "bad_arguments": bad_arguments,
        "create": create,
        "stream": stream,
        "stream_in_with": stream_in_with,
        "stream_closed": stream_closed,
        "helper": helper,
        "raw": raw,
        "api_error": api_error,
        "failed_parse": failed_parse,
    }


def _async_calls() -> dict[str, Callable[[], Any]]:
    async def create() -> Any:
        client = async_client(_api())
        return (await client.chat.completions.create(model="m", messages=MESSAGES)).model_dump()

    async def stream() -> Any:
        client = async_client(_api())
        chunks = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        return [chunk.model_dump() async for chunk in chunks]

    async def stream_in_with() -> Any:
        client = async_client(_api())
        chunks = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        async with chunks as s:
            first = (await s.__anext__()).model_dump()
        await chunks.close()
        return first

    async def helper() -> Any:
        client = async_client(_api())
        async with client.chat.completions.stream(model="m", messages=MESSAGES) as events:
            return [event.type async for event in events]

    async def api_error() -> Any:
        api = _api()
        api.status = 500
        return await async_client(api).chat.completions.create(model="m", messages=MESSAGES)

    async def bad_arguments() -> Any:
        return await async_client(_api()).chat.completions.create(model="m")

    return {
        "async_bad_arguments": bad_arguments,
        "async_create": create,
        "async_stream": stream,
        "async_stream_in_with": stream_in_with,
        "async_helper": helper,
        "async_api_error": api_error,
    }


def _calls() -> dict[str, Callable[[], Any]]:
    calls = {**_sync_calls(), **_other_api_calls()}
    for name, coroutine_function in _async_calls().items():
        calls[name] = lambda f=coroutine_function: asyncio.run(f())
    return calls


# -- which code is ours, and what it is called --------------------------------------------


def _package_modules() -> list[ModuleType]:
    return [
        module
        for name, module in list(sys.modules.items())
        if name.startswith("openai_sentinel.")
        and not any(part in OUT_OF_SCOPE for part in name.split("."))
    ]


def _nested_code(code: CodeType, qualname: str) -> Iterator[tuple[CodeType, str]]:
    yield code, qualname
    for constant in code.co_consts:
        if isinstance(constant, CodeType):
            yield from _nested_code(constant, f"{qualname}.<locals>.{constant.co_name}")


def _functions_of(owner: Any, prefix: str, seen: set[int]) -> Iterator[tuple[CodeType, str]]:
    for attribute in vars(owner).values():
        value = attribute
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property):
            value = value.fget
        if isinstance(getattr(value, "__wrapped__", None), FunctionType):  # lru_cache etc.
            value = value.__wrapped__
        if isinstance(value, FunctionType) and id(value.__code__) not in seen:
            seen.add(id(value.__code__))
            yield from _nested_code(value.__code__, f"{prefix}{value.__qualname__}")
        elif isinstance(value, type) and value.__module__ == getattr(owner, "__name__", None):
            yield from _functions_of(value, prefix, seen)


def _qualified_names() -> dict[CodeType, str]:
    """Every code object of the package, named ``module.Qualified.name`` (the module
    relative to the package), comprehensions and closures included."""
    names: dict[CodeType, str] = {}
    seen: set[int] = set()
    for module in _package_modules():
        prefix = module.__name__.removeprefix("openai_sentinel.") + "."
        for code, name in _functions_of(module, prefix, seen):
            names.setdefault(code, name)
    return names


def _is_ours(code: CodeType) -> bool:
    path = Path(code.co_filename)
    return path.is_relative_to(PACKAGE_DIR) and not any(
        part in OUT_OF_SCOPE for part in path.relative_to(PACKAGE_DIR).parts
    )


_SIMPLE_VALUES = (ast.Name, ast.Constant, ast.Attribute)
_BUILTIN_EXCEPTIONS = frozenset({"AttributeError", "TypeError"})


def _broad(handler: ast.ExceptHandler) -> bool:
    return isinstance(handler.type, ast.Name) and handler.type.id in {
        "Exception",
        "BaseException",
    }


def _cannot_raise(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Try):
        return any(_broad(handler) for handler in statement.handlers)
    if isinstance(statement, ast.Return):
        value = statement.value
        if isinstance(value, ast.Tuple):
            return all(isinstance(item, _SIMPLE_VALUES) for item in value.elts)
        return value is None or isinstance(value, _SIMPLE_VALUES)
    if isinstance(statement, ast.Assign):
        return isinstance(statement.value, _SIMPLE_VALUES)
    if isinstance(statement, ast.Raise) and isinstance(statement.exc, ast.Call):
        raised = statement.exc
        return (
            isinstance(raised.func, ast.Name)
            and raised.func.id in _BUILTIN_EXCEPTIONS
            and all(isinstance(argument, _SIMPLE_VALUES) for argument in raised.args)
        )
    return False


def _self_guarding(code: CodeType) -> bool:
    """Whether the function's whole body is guarded (see the module's description)."""
    try:
        source = textwrap.dedent(inspect.getsource(code))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError):  # a comprehension's lines are not a def
        return False
    function = tree.body[0]
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    body = function.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return bool(body) and all(_cannot_raise(statement) for statement in body)


# -- tracing and injection ---------------------------------------------------------------


class _Recorder:
    """Records the code of ours that runs."""

    def __init__(self) -> None:
        self.seen: dict[CodeType, None] = {}

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and _is_ours(frame.f_code):
            self.seen[frame.f_code] = None


class _Injector:
    """Makes ``target`` raise when it is first entered (then stops tracing)."""

    def __init__(self, target: CodeType) -> None:
        self.target = target
        self.fired = False

    def __call__(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is self.target and not self.fired:
            self.fired = True
            raise Injected(f"injected into {self.target.co_name}")


def _traced(tracer: Callable[..., Any], action: Callable[[], Any]) -> Any:
    sys.settrace(tracer)
    try:
        return _outcome(action)
    finally:
        sys.settrace(None)


# -- the test ------------------------------------------------------------------------------


@pytest.mark.timeout(300)
@pytest.mark.parametrize("settings", [{}, ALL_SETTINGS], ids=["defaults", "all-settings"])
def test_a_failure_in_any_function_of_ours_never_reaches_the_caller(
    instrument, settings: dict[str, Any]
) -> None:
    calls = _calls()
    bare = {name: _outcome(action) for name, action in calls.items()}
    instrument(**settings)

    on_path: dict[str, list[CodeType]] = {}
    for name, action in calls.items():
        recorder = _Recorder()
        assert _traced(recorder, action) == bare[name], f"{name} differs without any failure"
        on_path[name] = list(recorder.seen)

    names = _qualified_names()
    every_code = {code for codes in on_path.values() for code in codes}
    unnamed = sorted(f"{c.co_filename}:{c.co_firstlineno}" for c in every_code - names.keys())
    assert not unnamed, f"code of ours the test cannot name: {unnamed}"
    boundary_seen = {names[code] for code in every_code} & BOUNDARY
    stale = BOUNDARY - boundary_seen
    assert not stale, f"boundary functions no longer on the call path: {sorted(stale)}"

    failures: list[str] = []
    injected = 0
    for name, action in calls.items():
        for code in on_path[name]:
            if names[code] in BOUNDARY or _self_guarding(code):
                continue
            injector = _Injector(code)
            outcome = _traced(injector, action)
            injected += injector.fired
            if outcome != bare[name]:
                failures.append(f"{name}: failure in {names[code]} -> {outcome!r:.300}")
    assert not failures, "\n".join(failures)
    assert injected >= 60, f"only {injected} failures were injected"
