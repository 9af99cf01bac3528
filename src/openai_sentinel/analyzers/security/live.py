"""The scanner in force for the whole process, and its live reloads.

One scanner serves :func:`openai_sentinel.security.scan` and the instrumentation alike.
A reload builds a new scanner from the packaged rules and the rules file and swaps it
in whole, so a scan in flight finishes on the rules it started with; a file that fails
to load (unreadable, invalid, or failing its own examples) keeps the old rules in force
and logs why. An optional watch thread reloads the file when it changes.
"""

from __future__ import annotations

import logging
import os
import threading
from functools import cache
from typing import Final

from .pii import PiiDetector, packaged_pii_rules
from .rules import RulesFileError
from .scanner import Scanner, build_scanner

__all__ = ["LIVE", "RULES_FILE_ENV", "LiveRules", "logger"]

RULES_FILE_ENV: Final = "OPENAI_SENTINEL_SECURITY_RULES_FILE"
logger: Final = logging.getLogger("openai_sentinel.security")


class LiveRules:
    """Holds the scanner in force; :meth:`reload` replaces it, :meth:`watch` follows a file."""

    def __init__(self) -> None:
        self._scanner: Scanner | None = None
        self._path: str | None = None
        self._configured = False
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._stop = threading.Event()
        self._seen: tuple[int, int] | None = None

    @property
    def path(self) -> str | None:
        """The rules file in use, if any."""
        return self._path

    def scanner(self) -> Scanner:
        """The scanner in force (built on first use from the packaged rules and the file
        ``OPENAI_SENTINEL_SECURITY_RULES_FILE`` names, if that loads)."""
        scanner = self._scanner
        if scanner is not None:
            return scanner
        with self._lock:
            if self._scanner is None:
                path = None if self._configured else os.environ.get(RULES_FILE_ENV) or None
                try:
                    self._scanner = build_scanner(path)
                    self._path = path
                except RulesFileError as error:
                    logger.error("%s; using the packaged rules", error)
                    self._scanner = build_scanner(None)
            return self._scanner

    def redact(self, text: str) -> str:
        """``text`` with its PII and secrets replaced by typed placeholders: by the rules
        in force once a scanner is built, else by the packaged PII rules alone (no
        pattern compilation on the way)."""
        scanner = self._scanner
        if scanner is not None:
            return scanner.redact(text)
        return _packaged_pii().redact(text)

    def install(self, scanner: Scanner, path: str | None, watch_seconds: float = 0.0) -> None:
        """Put ``scanner``, built from the rules file at ``path``, in force
        (``instrument()`` does, with the scanner it checked the settings with)."""
        with self._lock:
            self._scanner = scanner
            self._path = path
            self._configured = True
            self._seen = _stamp(path)
        self.watch(watch_seconds)

    def reload(self, path: str | None = None) -> bool:
        """Load the rules file again (or the one at ``path``): True when the new rules
        are in force, False when they failed to load and the old ones stay."""
        target = path if path is not None else self._path
        try:
            scanner = build_scanner(target)
        except RulesFileError as error:
            logger.error("security rules not reloaded, the previous rules stay in force: %s", error)
            return False
        with self._lock:
            self._scanner = scanner
            self._path = target
            self._configured = True
            self._seen = _stamp(target)
        logger.info("security rules %s in force", scanner.version)
        return True

    def watch(self, interval_seconds: float) -> None:
        """Reload the rules file whenever it changes, checking every ``interval_seconds``
        on a daemon thread; 0 stops watching."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(timeout=5)
            self._watcher = None
        if interval_seconds <= 0:
            return
        self._stop = threading.Event()
        self._watcher = threading.Thread(
            target=self._follow,
            args=(interval_seconds, self._stop),
            name="openai-sentinel-rules-watch",
            daemon=True,
        )
        self._watcher.start()

    def _follow(self, interval: float, stop: threading.Event) -> None:
        while not stop.wait(interval):
            try:
                stamp = _stamp(self._path)
                if stamp != self._seen:
                    self._seen = stamp
                    self.reload()
            except Exception:  # pragma: no cover - the watch must outlive any failure
                logger.exception("security rules watch failed; it keeps watching")

    def reset(self) -> None:
        """Forget the configured file and stop watching (``uninstrument()``)."""
        self.watch(0)
        with self._lock:
            self._scanner = None
            self._path = None
            self._configured = False
            self._seen = None


@cache
def _packaged_pii() -> PiiDetector:
    return PiiDetector(packaged_pii_rules())


def _stamp(path: str | None) -> tuple[int, int] | None:
    """What tells a changed file: its modification time and size."""
    if path is None:
        return None
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


LIVE: Final = LiveRules()
