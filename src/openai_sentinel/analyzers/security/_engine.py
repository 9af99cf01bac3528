"""Many patterns over one text in one pass: which matched, and where.

The engine is Hyperscan (``hyperscan``, Intel's multi-pattern matcher): it compiles
every rule into one automaton, so a scan is a single linear pass whatever the rules
say; there is no backtracking to make catastrophic, and a 4 KB prompt takes tens of
microseconds against every rule. On platforms without its wheels, the standard ``re``
module runs each pattern in turn: the same answers, much more slowly. Either way a
match's exact span is found again with ``re`` in a bounded window around where
Hyperscan saw it end.

Compiling the rules takes Hyperscan seconds, so a compiled database is kept: in the
process (the same rules are compiled once) and on disk, in
``$OPENAI_SENTINEL_CACHE_DIR`` (default ``~/.cache/openai-sentinel``), keyed by the
patterns and the Hyperscan version; an unusable cache is skipped, never trusted.

Patterns are written in the syntax both engines share: no backreferences, no
lookaround, ASCII ``\\w``/``\\b``, ``\\uXXXX`` escapes for code points; matching ignores
case and ``.`` matches newlines, unless a pattern asks for case to count.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = ["CACHE_DIR_ENV", "ENGINE", "Pattern", "PatternError", "PatternSet", "utf8"]

CACHE_DIR_ENV: Final = "OPENAI_SENTINEL_CACHE_DIR"
_SPAN_WINDOW: Final = 1024
"""Characters before a match's end searched for its start."""
_CODE_POINT: Final = re.compile(r"\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})")
_UNSHARED_SYNTAX: Final = re.compile(r"\(\?(?:=|!|<=|<!|P=)|\\[1-9]")
"""Lookaround and backreferences: ``re`` has them, Hyperscan refuses them."""
_logger: Final = logging.getLogger("openai_sentinel.security")

_hyperscan: Any
try:  # pragma: no cover - which branch runs depends on the platform
    import hyperscan as _hyperscan
except ImportError:  # pragma: no cover
    _hyperscan = None

ENGINE: Final = "hyperscan" if _hyperscan is not None else "re"
"""The engine scans run on here."""

_COMPILED: Final[dict[str, Any]] = {}
_COMPILED_LOCK: Final = threading.Lock()


class PatternError(ValueError):
    """A pattern neither engine can compile, or one only ``re`` could run."""


@dataclass(frozen=True, slots=True)
class Pattern:
    """One pattern and how it matches."""

    regex: str
    case_sensitive: bool = False
    unicode: bool = False
    """Matches code points (``[eé]``, ``\\uXXXX`` classes) rather than UTF-8 bytes;
    ``\\w`` and ``\\b`` stay ASCII either way."""


def _re_flags(pattern: Pattern) -> int:
    return re.ASCII | re.DOTALL | (0 if pattern.case_sensitive else re.IGNORECASE)


def _hyperscan_syntax(regex: str) -> str:
    """``\\uXXXX`` escapes as Hyperscan spells code points (``\\x{XXXX}``)."""

    def spell(match: re.Match[str]) -> str:
        return "\\x{" + (match.group(1) or match.group(2)).lstrip("0") + "}"

    return _CODE_POINT.sub(spell, regex)


class PatternSet:
    """Compiled patterns; :meth:`first_matches` says which match a text and where first,
    or, for a set built with ``every=True``, :meth:`ends` says where each match ends."""

    __slots__ = ("_database", "_every", "_local", "_patterns", "engine")

    def __init__(
        self, patterns: Sequence[Pattern], *, engine: str | None = None, every: bool = False
    ) -> None:
        self._patterns: list[re.Pattern[str]] = []
        for index, pattern in enumerate(patterns):
            if _UNSHARED_SYNTAX.search(pattern.regex):
                raise PatternError(
                    f"pattern {index}: lookaround and backreferences are not supported "
                    "(they would make matching non-linear)"
                )
            try:
                self._patterns.append(re.compile(pattern.regex, _re_flags(pattern)))
            except re.error as error:
                raise PatternError(f"pattern {index}: {error}") from None
        self.engine = engine or ENGINE
        self._every = every
        self._database: Any = None
        self._local = threading.local()
        if self.engine == "hyperscan" and patterns:
            self._database = _database(patterns, every=every)

    def __len__(self) -> int:
        return len(self._patterns)

    def first_matches(self, text: str, data: bytes | None = None) -> dict[int, tuple[int, int]]:
        """Pattern index → ``(start, end)`` of a match in ``text``, for every pattern that
        matches (the first one Hyperscan reports, or ``re``'s leftmost). ``data``, when
        given, is ``text`` already encoded by :func:`utf8`."""
        if not self._patterns:
            return {}
        if self._database is None:
            found: dict[int, tuple[int, int]] = {}
            for index, pattern in enumerate(self._patterns):
                match = pattern.search(text)
                if match is not None:
                    found[index] = match.span()
            return found
        data = utf8(text) if data is None else data
        ends: dict[int, int] = {}

        def on_match(index: int, start: int, end: int, flags: int, context: Any) -> None:
            if index not in ends:
                ends[index] = end

        self._database.scan(data, match_event_handler=on_match, scratch=self._scratch())
        if not ends:
            return {}
        ascii_text = len(data) == len(text)
        return {
            index: self._span(index, text, end if ascii_text else _char_offset(data, end))
            for index, end in ends.items()
        }

    def matching(self, text: str, data: bytes | None = None) -> list[int]:
        """The indices of the patterns that match ``text``, each once, without their
        spans (cheaper than :meth:`first_matches` when only which matched counts).
        ``data`` as for :meth:`first_matches`."""
        if not self._patterns:
            return []
        if self._database is None:
            return [i for i, pattern in enumerate(self._patterns) if pattern.search(text)]
        found: list[int] = []
        self._database.scan(
            utf8(text) if data is None else data,
            match_event_handler=_collect,
            context=found,
            scratch=self._scratch(),
        )
        return found

    def ends(
        self, text: str, limit: int, data: bytes | None = None
    ) -> list[tuple[int, int]] | None:
        """``(end, pattern index)`` of each match in ``text``, in order, or ``None`` when
        there are more than ``limit`` (the scan stops there). Only for ``every=True``
        sets; a pattern that can match at several lengths reports each end. ``data`` as
        for :meth:`first_matches`."""
        if not self._every:
            raise ValueError("ends() needs a set built with every=True")
        if self._database is None:
            every = sorted(
                (match.end(), index)
                for index, pattern in enumerate(self._patterns)
                for match in pattern.finditer(text)
            )
            return every if len(every) <= limit else None
        data = utf8(text) if data is None else data
        found: list[tuple[int, int]] = []

        def on_match(index: int, start: int, end: int, flags: int, context: Any) -> bool:
            found.append((end, index))
            return len(found) > limit  # True stops the scan

        assert _hyperscan is not None
        try:
            self._database.scan(data, match_event_handler=on_match, scratch=self._scratch())
        except _hyperscan.ScanTerminated:
            return None
        found.sort()
        if len(data) == len(text):
            return found
        ends, bytes_seen, chars_seen = [], 0, 0
        for end, index in found:  # UTF-8 byte offsets to characters, in one pass
            chars_seen += len(data[bytes_seen:end].decode("utf-8", "ignore"))
            bytes_seen = end
            ends.append((chars_seen, index))
        return ends

    def _span(self, index: int, text: str, end: int) -> tuple[int, int]:
        """The span of a match of pattern ``index`` ending at or before ``end``."""
        pattern = self._patterns[index]
        match = pattern.search(text, max(0, end - _SPAN_WINDOW), end)
        if match is None:  # a match longer than the window: its end is all we know
            return max(0, end - 1), end
        return match.span()

    def _scratch(self) -> Any:
        """This thread's Hyperscan scratch space (a scan may not share one)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            assert _hyperscan is not None
            scratch = self._local.scratch = _hyperscan.Scratch(self._database)
        return scratch


def utf8(text: str) -> bytes:
    """``text`` as the engine reads it: UTF-8, a lone surrogate as one ``?``."""
    return text.encode("utf-8", "replace")


def _collect(index: int, start: int, end: int, flags: int, found: list[int]) -> None:
    """Hyperscan's match callback for :meth:`PatternSet.matching` (one report per
    pattern: the database is compiled with single-match patterns)."""
    found.append(index)


def _char_offset(data: bytes, byte_offset: int) -> int:
    """The ``str`` index of UTF-8 byte ``byte_offset`` of ``data``."""
    return len(data[:byte_offset].decode("utf-8", "ignore"))


def _flags(pattern: Pattern, every: bool) -> int:
    assert _hyperscan is not None
    flags: int = _hyperscan.HS_FLAG_DOTALL
    if not every:
        flags |= _hyperscan.HS_FLAG_SINGLEMATCH
    if not pattern.case_sensitive:
        flags |= _hyperscan.HS_FLAG_CASELESS
    if pattern.unicode:
        flags |= _hyperscan.HS_FLAG_UTF8
    return flags


def _build(patterns: Sequence[Pattern], every: bool = False) -> Any:
    """A Hyperscan block-mode database of ``patterns`` (each reporting its first match,
    or, with ``every``, all of them); raises ``hyperscan.error``."""
    assert _hyperscan is not None
    database = _hyperscan.Database(mode=_hyperscan.HS_MODE_BLOCK)
    database.compile(
        expressions=[_hyperscan_syntax(pattern.regex).encode("utf-8") for pattern in patterns],
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[_flags(pattern, every) for pattern in patterns],
    )
    return database


def _key(patterns: Sequence[Pattern], every: bool) -> str:
    digest = hashlib.sha256()
    digest.update(str(getattr(_hyperscan, "__version__", "?")).encode())
    digest.update(b"every\0" if every else b"first\0")
    for pattern in patterns:
        digest.update(f"{pattern.case_sensitive:d}{pattern.unicode:d}{pattern.regex}\0".encode())
    return digest.hexdigest()


def _cache_dir() -> Path:
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "openai-sentinel"


def _load_cached(path: Path) -> Any:
    assert _hyperscan is not None
    try:
        return _hyperscan.loadb(path.read_bytes(), _hyperscan.HS_MODE_BLOCK)
    except FileNotFoundError:
        return None
    except Exception:  # a truncated or foreign file: compile afresh
        _logger.debug("ignoring the unusable compiled rules at %s", path)
        return None


def _store(path: Path, database: Any) -> None:
    assert _hyperscan is not None
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(_hyperscan.dumpb(database))
        os.replace(partial, path)
    except OSError as error:
        _logger.debug("compiled rules not cached (%s)", error)


def _database(patterns: Sequence[Pattern], every: bool) -> Any:
    """The compiled database of ``patterns``: from the process, the disk cache, or
    compiled now (and kept in both)."""
    key = _key(patterns, every)
    with _COMPILED_LOCK:
        database = _COMPILED.get(key)
        if database is not None:
            return database
        path = _cache_dir() / f"rules-{key[:32]}.hsdb"
        database = _load_cached(path)
        if database is None:
            database = _compile(patterns, every)
            _store(path, database)
        _COMPILED[key] = database
        return database


def _compile(patterns: Sequence[Pattern], every: bool) -> Any:
    """:func:`_build`, with an error naming the pattern Hyperscan cannot take."""
    assert _hyperscan is not None
    try:
        return _build(patterns, every)
    except _hyperscan.error as error:
        for index, pattern in reversed(list(enumerate(patterns))):  # newest rules first
            try:
                _build([pattern], every)
            except _hyperscan.error as own:
                raise PatternError(f"pattern {index}: {own}") from None
        raise PatternError(str(error)) from None
