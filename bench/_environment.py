"""What every benchmark's figures depend on: the machine and package versions."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from typing import Any

__all__ = ["machine", "version"]


def version(distribution: str) -> str:
    """The installed version of ``distribution``, or ``?``."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def machine() -> dict[str, Any]:
    """Python, CPUs, load average and platform."""
    try:
        load: list[float] | None = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg": load,
        "platform": platform.platform(),
    }
