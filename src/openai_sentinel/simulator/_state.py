"""Runtime state shared by the request handlers: config, queued failures, request log and
stored responses."""

from __future__ import annotations

import random
import threading
from collections import deque
from typing import Any

from ._config import SimulatorConfig
from ._controls import RequestControls
from ._errors import MAX_ERROR_STATUS, MIN_ERROR_STATUS, SimulatedError
from ._recording import RequestLog
from ._response_store import ResponseStore


class SimulatorState:
    """Thread-safe settings and fault injection for one simulator."""

    def __init__(self, config: SimulatorConfig) -> None:
        self._lock = threading.Lock()
        self._config = config
        self._queued_failures: deque[SimulatedError] = deque()
        self._error_rng = random.Random(config.seed)
        self.requests = RequestLog()
        self.responses = ResponseStore()
        self._requests_by_model: dict[str, int] = {}

    @property
    def config(self) -> SimulatorConfig:
        """The current settings (an immutable snapshot)."""
        with self._lock:
            return self._config

    def config_for(self, model: str) -> SimulatorConfig:
        """The settings that answer the next request for ``model``: the current ones, with
        the mean logprob this request gets under ``logprob_drift``."""
        with self._lock:
            config = self._config
            drift = config.logprob_drift
            if drift is None:
                return config
            if model not in self._requests_by_model and len(self._requests_by_model) >= 1024:
                return config  # a bounded count: models past the first 1024 do not drift
            request = self._requests_by_model.get(model, 0)
            self._requests_by_model[model] = request + 1
        mean = drift.mean_at(model, request, config.mean_logprob)
        return config if mean == config.mean_logprob else config.with_changes(mean_logprob=mean)

    def configure(self, **changes: Any) -> None:
        """Replace some settings; a new ``seed`` also restarts the random error sequence."""
        with self._lock:
            self._config = self._config.with_changes(**changes)
            if "seed" in changes:
                self._error_rng = random.Random(self._config.seed)
            if "logprob_drift" in changes:
                self._requests_by_model.clear()

    def fail_next(
        self, status: int, *, count: int, retry_after: float | None, message: str | None
    ) -> None:
        """Queue ``count`` failures for the next requests."""
        if isinstance(status, bool) or not MIN_ERROR_STATUS <= status <= MAX_ERROR_STATUS:
            raise ValueError(
                f"status must be an HTTP error status in "
                f"[{MIN_ERROR_STATUS}, {MAX_ERROR_STATUS}], got {status!r}"
            )
        if isinstance(count, bool) or count < 1:
            raise ValueError(f"count must be >= 1, got {count!r}")
        if retry_after is not None and not 0 <= retry_after < float("inf"):
            raise ValueError(f"retry_after must be a finite number >= 0, got {retry_after!r}")
        with self._lock:
            self._queued_failures.extend(
                SimulatedError(status, message, retry_after=retry_after) for _ in range(count)
            )

    def take_failure(self, controls: RequestControls) -> SimulatedError | None:
        """The failure this request gets: queued first, then asked for, then random."""
        with self._lock:
            if self._queued_failures:
                return self._queued_failures.popleft()
            requested = controls.requested_error()
            if requested is not None:
                return requested
            error_rate = self._config.error_rate
            if error_rate > 0 and self._error_rng.random() < error_rate:
                return SimulatedError(500)
        return None
