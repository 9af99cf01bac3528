"""An embedded, dependency-free OpenAI-compatible server for demos and tests.

>>> with Simulator(SimulatorConfig(inter_token_delay=0.01)) as sim:  # doctest: +SKIP
...     client = OpenAI(base_url=sim.base_url, api_key="sk-sim")

Serves ``POST /v1/chat/completions`` (JSON and SSE streaming, logprobs, tools, JSON
output, ``n``, ``max_tokens``, ``stop``), ``POST /v1/responses`` (JSON and typed event
streams; responses are kept, the last 256, for ``GET /v1/responses/{id}``, which can replay
the events with ``?stream=true&starting_after=N``), ``POST /v1/embeddings`` (float or
base64), legacy ``POST /v1/completions`` and ``GET /v1/models``. A Responses or legacy
completions request is answered as the equivalent chat request would be. Answers are
deterministic for a given prompt and seed. Failures can be injected with ``fail_next()``,
the ``error_rate`` setting, or per request with the ``x-simulator-error``,
``x-simulator-retry-after`` and ``x-simulator-latency-ms`` headers; with
``x-simulator-stream-error-after: N`` a stream fails after N tokens (an ``error`` event
and ``response.failed`` for Responses, an ``error`` payload for the others). The
confidence of the logprobs can drift over time, per model (``logprob_drift``).
"""

from __future__ import annotations

from ._config import LogprobDrift, SimulatorConfig
from ._recording import RecordedRequest
from ._simulator import Simulator

__all__ = ["LogprobDrift", "RecordedRequest", "Simulator", "SimulatorConfig"]
