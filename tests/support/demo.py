"""Running ``openai-sentinel demo`` as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

__all__ = ["closed_port", "run_demo"]


def run_demo(
    *args: str, timeout: float = 120, **extra_env: str
) -> subprocess.CompletedProcess[str]:
    """``openai-sentinel demo ARGS`` without the caller's ``OTEL_*``/``OPENAI_*`` variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "OPENAI_"))}
    return subprocess.run(
        [sys.executable, "-m", "openai_sentinel.cli", "demo", *args],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def closed_port() -> int:
    """A loopback port nothing listens on (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
