"""Recorded vcrpy cassettes (``version: 1``) replayed through ``httpx2.MockTransport``.

Only PyYAML is used: no vcrpy at test time. A cassette's interactions are answered in
recorded order, each one once, so two-turn cassettes (tool call, then tool result)
replay both turns as they happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from openai_sentinel import OpenAISentinelInstrumentor

from .http_library import http
from .telemetry import Telemetry

__all__ = [
    "CASSETTE_DIR",
    "Cassette",
    "Interaction",
    "Replayer",
    "chat_cassettes",
    "instrument_for",
    "load_cassette",
    "sse_data",
]

CASSETTE_DIR = Path(__file__).resolve().parent.parent / "cassettes" / "contrib"
"""The vendored cassettes (copied unchanged from opentelemetry-python-contrib)."""

CHAT_PATH = "/v1/chat/completions"

# The stored bodies are decompressed (and JSON bodies re-indented), so the recorded
# framing headers no longer describe them: httpx2 must neither decode nor count.
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


@dataclass(frozen=True)
class Interaction:
    """One recorded request and the response the API gave to it."""

    method: str
    uri: str
    request_body: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: str

    @property
    def path(self) -> str:
        """The request's URL path, e.g. ``/v1/chat/completions``."""
        return urlsplit(self.uri).path

    @property
    def request_json(self) -> dict[str, Any]:
        """The recorded request body, parsed."""
        parsed: dict[str, Any] = json.loads(self.request_body)
        return parsed

    @property
    def content_type(self) -> str:
        """The response's ``content-type`` (lower case), or ``""``."""
        for name, value in self.headers:
            if name.lower() == "content-type":
                return value.lower()
        return ""

    @property
    def is_sse(self) -> bool:
        """True when the response is a server-sent event stream."""
        return self.content_type.startswith("text/event-stream")

    def replay_headers(self) -> list[tuple[str, str]]:
        """The recorded response headers minus those describing the wire encoding."""
        return [
            (name, value) for name, value in self.headers if name.lower() not in _DROPPED_HEADERS
        ]


@dataclass(frozen=True)
class Cassette:
    """A vcrpy cassette: its file and its interactions in recorded order."""

    path: Path
    interactions: tuple[Interaction, ...]

    @property
    def name(self) -> str:
        """The file stem, e.g. ``test_chat_completion_streaming``."""
        return self.path.stem


def _headers(raw: dict[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """vcrpy stores header values as lists of strings (one item per header line)."""
    pairs: list[tuple[str, str]] = []
    for name, values in (raw or {}).items():
        for value in values if isinstance(values, list) else [values]:
            pairs.append((str(name), str(value)))
    return tuple(pairs)


def load_cassette(path: Path) -> Cassette:
    """Read a vcrpy ``version: 1`` cassette with ``yaml.safe_load``."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    if document.get("version") != 1:
        raise ValueError(f"{path.name}: unsupported cassette version {document.get('version')!r}")
    interactions = []
    for item in document["interactions"]:
        request, response = item["request"], item["response"]
        interactions.append(
            Interaction(
                method=str(request["method"]).upper(),
                uri=str(request["uri"]),
                request_body=request.get("body") or "",
                status=int(response["status"]["code"]),
                headers=_headers(response.get("headers")),
                body=response["body"]["string"] or "",
            )
        )
    return Cassette(path, tuple(interactions))


def chat_cassettes(directory: Path = CASSETTE_DIR) -> list[Cassette]:
    """Every cassette in ``directory`` whose requests all go to ``/v1/chat/completions``."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        cassette = load_cassette(path)
        if cassette.interactions and all(i.path == CHAT_PATH for i in cassette.interactions):
            found.append(cassette)
    return found


def sse_data(body: str) -> list[dict[str, Any]]:
    """The JSON payloads of a recorded SSE body's ``data:`` lines, up to ``[DONE]``."""
    payloads: list[dict[str, Any]] = []
    for line in body.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[len("data:") :].strip()
        if data == "[DONE]":
            break
        payloads.append(json.loads(data))
    return payloads


@dataclass
class Replayer:
    """An ``httpx2.MockTransport`` handler answering with a cassette's interactions in order.

    Each request must match the next unplayed interaction on method and path; what the
    client sent is kept in :attr:`sent` for the test to compare with the recording.
    """

    cassette: Cassette
    played: int = 0
    sent: list[bytes] = field(default_factory=list)

    def __call__(self, request: http.Request) -> http.Response:
        interactions = self.cassette.interactions
        if self.played >= len(interactions):
            raise AssertionError(
                f"{self.cassette.name}: unexpected request {request.method} {request.url.path}; "
                f"all {len(interactions)} interaction(s) already played"
            )
        expected = interactions[self.played]
        if (request.method, request.url.path) != (expected.method, expected.path):
            raise AssertionError(
                f"{self.cassette.name}: request {self.played} is {request.method} "
                f"{request.url.path}, the recording has {expected.method} {expected.path}"
            )
        self.played += 1
        self.sent.append(request.content)
        return http.Response(
            expected.status,
            headers=expected.replay_headers(),
            content=expected.body.encode("utf-8"),
        )

    @property
    def all_played(self) -> bool:
        """True once every interaction has been answered."""
        return self.played == len(self.cassette.interactions)


def instrument_for(
    telemetry: Telemetry,
    instrument: Callable[..., OpenAISentinelInstrumentor],
    instrumentor: OpenAISentinelInstrumentor,
    *,
    capture: bool,
    unsampled: bool,
) -> None:
    """Instrument again (after the uninstrumented baseline) as a cassette asks: with
    content capture or not, and with a tracer provider that samples no span or not."""
    if not unsampled:
        instrument(capture_content=capture)
        return
    provider = TracerProvider(sampler=ALWAYS_OFF)
    provider.add_span_processor(SimpleSpanProcessor(telemetry.spans_exporter))
    instrumentor.instrument(
        tracer_provider=provider, meter_provider=telemetry.meter_provider, capture_content=capture
    )
