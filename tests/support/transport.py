"""Real ``openai`` clients over the HTTP library's ``MockTransport``, with scripted responses."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import openai

from . import payloads
from .http_library import http

Handler = Callable[[http.Request], http.Response]
BASE_URL = "https://api.openai.test/v1"


class ScriptedAPI:
    """Answers chat requests like the API does, and remembers what it was sent."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.body: dict[str, Any] = payloads.completion()
        self.stream_words = ["This", " is", " a", " test", "."]
        self.status = 200
        self.error_body: dict[str, Any] | None = None

    def __call__(self, request: http.Request) -> http.Response:
        sent = json.loads(request.content or b"{}")
        self.requests.append(sent)
        if self.status != 200:
            body = self.error_body or {
                "error": {"message": "boom", "type": "server_error", "param": None, "code": None}
            }
            return http.Response(self.status, json=body, headers={"x-request-id": "req_1"})
        if sent.get("stream"):
            include_usage = bool((sent.get("stream_options") or {}).get("include_usage"))
            content = payloads.sse(
                payloads.stream_chunks(self.stream_words, include_usage=include_usage)
            )
            return http.Response(
                200, headers={"content-type": "text/event-stream"}, content=content
            )
        return http.Response(200, json=self.body, headers={"x-request-id": "req_1"})


def sync_client(handler: Handler, **options: Any) -> openai.OpenAI:
    """An ``OpenAI`` client whose HTTP goes to ``handler``."""
    return openai.OpenAI(
        api_key="sk-test",
        base_url=options.pop("base_url", BASE_URL),
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(handler)),
        _strict_response_validation=options.pop("strict", True),
        **options,
    )


def async_client(handler: Handler, **options: Any) -> openai.AsyncOpenAI:
    """An ``AsyncOpenAI`` client whose HTTP goes to ``handler``."""
    return openai.AsyncOpenAI(
        api_key="sk-test",
        base_url=options.pop("base_url", BASE_URL),
        max_retries=0,
        http_client=http.AsyncClient(transport=http.MockTransport(handler)),
        _strict_response_validation=options.pop("strict", True),
        **options,
    )
