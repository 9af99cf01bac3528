"""Internal failures: logged on the ``openai_sentinel`` logger, never raised to the caller."""

from __future__ import annotations

import logging
import threading
import time
from typing import Final

__all__ = ["logger", "report_internal_error"]

logger: Final = logging.getLogger("openai_sentinel")

_QUIET_SECONDS: Final = 300.0
_lock = threading.Lock()
_last_logged: dict[str, float] = {}
_suppressed: dict[str, int] = {}


def report_internal_error(where: str) -> None:
    """Log the exception being handled, at most once per ``where`` every five minutes.

    Call it from an ``except`` block. Repeats inside the quiet period are counted and
    the count is reported with the next log line for the same ``where``. It never
    raises: a failure to log is dropped. It takes a lock, so finalizers never call it.
    """
    try:
        now = time.monotonic()
        with _lock:
            last = _last_logged.get(where)
            if last is not None and now - last < _QUIET_SECONDS:
                _suppressed[where] = _suppressed.get(where, 0) + 1
                return
            _last_logged[where] = now
            repeats = _suppressed.pop(where, 0)
        logger.warning(
            "openai-sentinel failed in %s; the OpenAI call was not affected "
            "(%d similar failures since the last report)",
            where,
            repeats,
            exc_info=True,
        )
    except Exception:  # pragma: no cover - logging itself failed; nothing left to do
        return
