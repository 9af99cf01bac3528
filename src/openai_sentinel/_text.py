"""Text that can always leave the process: valid Unicode, for any exporter."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["encodable"]

_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_REPLACEMENT: Final = "\ufffd"


def encodable(text: str) -> str:
    """``text`` with lone surrogates (valid in JSON, not in UTF-8) replaced by U+FFFD.

    An exporter that meets an unencodable string drops the whole attribute or batch,
    so every string that reaches a span or a metric goes through here.
    """
    if text.isascii():
        return text
    return _SURROGATE.sub(_REPLACEMENT, text)
