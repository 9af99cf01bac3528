"""``Simulator``: start, stop and steer an embedded OpenAI-compatible server."""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from ._config import SimulatorConfig
from ._recording import RecordedRequest
from ._server import SimulatorHTTPServer
from ._state import SimulatorState

_JOIN_TIMEOUT_SECONDS = 5.0


class Simulator:
    """An OpenAI-compatible HTTP server on a daemon thread, for demos and tests.

    Use it as a context manager, or call ``start()`` (returns the ``base_url`` to give to
    ``OpenAI(base_url=...)``) and ``stop()``.
    """

    def __init__(
        self, config: SimulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._state = SimulatorState(config or SimulatorConfig())
        self._host = host
        self._port = port
        self._lifecycle_lock = threading.Lock()
        self._server: SimulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._base_url: str | None = None

    def start(self) -> str:
        """Start serving (if not already) and return the base URL, ending in ``/v1``."""
        with self._lifecycle_lock:
            if self._base_url is not None:
                return self._base_url
            server = SimulatorHTTPServer((self._host, self._port), self._state)
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"openai-sentinel-simulator:{server.server_port}",
                daemon=True,
            )
            thread.start()
            host = f"[{self._host}]" if ":" in self._host else self._host
            self._server, self._thread = server, thread
            self._base_url = f"http://{host}:{server.server_port}/v1"
            return self._base_url

    def stop(self) -> None:
        """Stop serving, close open connections and join every server thread. Idempotent."""
        with self._lifecycle_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = self._base_url = None
        if server is None:
            return
        server.shutdown()
        if thread is not None:
            thread.join(_JOIN_TIMEOUT_SECONDS)
        server.server_close()
        server.close_connections(_JOIN_TIMEOUT_SECONDS)

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``; raises ``RuntimeError`` if the server is not running."""
        base_url = self._base_url
        if base_url is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return base_url

    @property
    def config(self) -> SimulatorConfig:
        """The current settings."""
        return self._state.config

    def configure(self, **changes: Any) -> None:
        """Replace settings at runtime, e.g. ``configure(mean_logprob=-1.5)`` (thread-safe)."""
        self._state.configure(**changes)

    def fail_next(
        self,
        status: int = 429,
        *,
        count: int = 1,
        retry_after: float | None = 1.0,
        message: str | None = None,
    ) -> None:
        """Make the next ``count`` requests fail with ``status`` (and a ``retry-after``)."""
        self._state.fail_next(status, count=count, retry_after=retry_after, message=message)

    @property
    def requests(self) -> list[RecordedRequest]:
        """The last 1000 requests, oldest first, without credential headers."""
        return self._state.requests.snapshot()

    def clear_requests(self) -> None:
        """Forget the recorded requests."""
        self._state.requests.clear()
