"""What an endpoint answers, before the HTTP layer sends it: a JSON body or an event stream."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

Payload = dict[str, Any]


def sse_frame(payload: Payload | str, event: str | None = None) -> bytes:
    """One server-sent event: ``[event: <type>\\n]data: <json>\\n\\n``."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    prefix = f"event: {event}\n" if event is not None else ""
    return f"{prefix}data: {data}\n\n".encode()


DONE_FRAME = sse_frame("[DONE]")


@dataclass(frozen=True)
class EventSchedule:
    """Encoded events grouped by when they are sent.

    ``preamble`` goes out at once, ``steps[0]`` after the time to first token, every later
    step after the inter-token delay, and ``closing`` right after the last step. By
    convention ``steps[i]`` carries the ``i``-th output token of every choice.
    """

    preamble: list[bytes] = field(default_factory=list)
    steps: list[list[bytes]] = field(default_factory=list)
    closing: list[bytes] = field(default_factory=list)

    @classmethod
    def of_payloads(
        cls, steps: Sequence[Sequence[Payload]], closing: Sequence[Payload], *, done: bool
    ) -> EventSchedule:
        """A ``data:``-only stream (chat, legacy completions), ending in ``[DONE]`` if asked."""
        return cls(
            steps=[[sse_frame(payload) for payload in step] for step in steps],
            closing=[sse_frame(payload) for payload in closing] + ([DONE_FRAME] if done else []),
        )

    def interrupted(self, after_tokens: int, failure: Sequence[bytes]) -> EventSchedule:
        """The same stream failing after ``after_tokens`` token steps: ``failure`` ends it."""
        return EventSchedule(self.preamble, self.steps[:after_tokens], list(failure))


@dataclass(frozen=True)
class JsonReply:
    """A JSON body, sent after ``delay`` seconds."""

    payload: Payload
    delay: float = 0.0


@dataclass(frozen=True)
class StreamReply:
    """A ``text/event-stream`` body paced by the latency settings."""

    schedule: EventSchedule
    first_delay: float = 0.0
    inter_delay: float = 0.0


Reply = JsonReply | StreamReply
