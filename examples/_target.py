"""Where the examples send their calls: the real API, or the embedded simulator.

With ``OPENAI_API_KEY`` (or ``OPENAI_BASE_URL``) set, the client is built as usual and
reads both, so the real API or any OpenAI-compatible endpoint works. With neither, the
examples start openai-sentinel's embedded simulator on 127.0.0.1, an OpenAI-compatible
server that needs no key. In your own code, write ``openai.OpenAI()`` instead.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def openai_target() -> Iterator[dict[str, str]]:
    """Keyword arguments for ``openai.OpenAI(...)`` and ``openai.AsyncOpenAI(...)``.

    None for a real endpoint; otherwise the simulator's ``base_url`` and a dummy key, the
    simulator running until the ``with`` block ends.
    """
    if os.environ.get("OPENAI_API_KEY") or os.environ.get("OPENAI_BASE_URL"):
        yield {}
        return
    from openai_sentinel.simulator import Simulator

    with Simulator() as simulator:
        yield {"base_url": simulator.base_url, "api_key": "sk-simulator"}
