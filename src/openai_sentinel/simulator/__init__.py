"""An embedded, dependency-free OpenAI-compatible server for demos and tests.

>>> with Simulator(SimulatorConfig(inter_token_delay=0.01)) as sim:  # doctest: +SKIP
...     client = OpenAI(base_url=sim.base_url, api_key="sk-sim")

Serves ``POST /v1/chat/completions`` (JSON and SSE streaming, logprobs, tools, JSON
output, ``n``, ``max_tokens``, ``stop``) and ``GET /v1/models``. Answers are deterministic
for a given prompt and seed. Failures can be injected with ``fail_next()``, the
``error_rate`` setting, or per request with the ``x-simulator-error``,
``x-simulator-retry-after`` and ``x-simulator-latency-ms`` headers.
"""

from __future__ import annotations

from ._config import SimulatorConfig
from ._recording import RecordedRequest
from ._simulator import Simulator

__all__ = ["RecordedRequest", "Simulator", "SimulatorConfig"]
