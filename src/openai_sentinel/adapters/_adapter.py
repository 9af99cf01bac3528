"""What the wrappers ask of an adapter: one per API method they wrap."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final, Protocol

from ..exchange import Exchange
from ._common import sent_params
from ._results import is_omitted

__all__ = ["CHUNK_CONTENT", "CHUNK_CONTROL", "CHUNK_USAGE_ONLY", "Adapter", "ChunkReader"]

CHUNK_CONTENT: Final = 0
"""A chunk of output: counted, and timed (first chunk, gaps between chunks)."""
CHUNK_USAGE_ONLY: Final = 1
"""The usage-only chunk ``include_usage`` adds: neither counted nor timed; maybe hidden."""
CHUNK_CONTROL: Final = 2
"""A lifecycle event (created, in progress, done…): neither counted nor timed."""

_NOT_THE_REQUEST: Final = frozenset(
    {
        "model",
        "extra_body",  # merged into the arguments, as the client sends them
        "stream",
        "stream_options",
        "extra_headers",
        "extra_query",
        "timeout",
        "idempotency_key",
        "user",
        "safety_identifier",
        "metadata",
        "store",
        "service_tier",
        "prompt_cache_key",
        "background",
    }
)
"""Arguments that do not change what is asked: the model, transport options and labels."""


class ChunkReader(Protocol):
    """Folds a stream's chunks into the exchange of the call."""

    def add(self, chunk: Any) -> int:
        """Take one chunk; say what kind it is (``CHUNK_*``)."""

    def fill(self) -> None:
        """Write what the chunks said (finish reasons, usage, content) into the exchange."""

    def usage_only(self, chunk: Any) -> bool:
        """Whether ``chunk`` only carries usage (the chunk ``include_usage`` adds)."""


class _CountingReader:
    """A stream reader for APIs whose chunks need no reading: every chunk is output."""

    __slots__ = ()

    def add(self, chunk: Any) -> int:
        return CHUNK_CONTENT

    def fill(self) -> None:
        return None

    def usage_only(self, chunk: Any) -> bool:
        return False


class Adapter:
    """Reads one API method's requests, responses and stream chunks into an :class:`Exchange`.

    Subclasses implement :meth:`read_request` and override what their API has; the
    defaults suit a method that returns a model, never streams and asks for nothing.
    """

    __slots__ = ()
    positional: tuple[str, ...] = ()
    """Names of the method's positional parameters, for :meth:`read_request` to see them
    among the keyword arguments (``responses.retrieve(response_id)``)."""

    def read_request(
        self, client: Any, kwargs: Mapping[str, Any], *, capture_content: bool
    ) -> Exchange:
        """An exchange holding what the request sent."""
        raise NotImplementedError

    def read_response(self, exchange: Exchange, response: Any, *, capture_content: bool) -> None:
        """Copy what a response (a model, or the JSON of a raw response) says into ``exchange``."""
        return

    def stream_reader(
        self, exchange: Exchange, *, capture_content: bool, text_limit: int
    ) -> ChunkReader:
        """A reader for the chunks of a streamed response."""
        return _CountingReader()

    def request_arguments(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        """What identifies the request for repeat detection: every argument but the model,
        transport options and labels; ``None`` for a call that asks nothing of a model."""
        return {
            name: value
            for name, value in sent_params(kwargs).items()
            if name not in _NOT_THE_REQUEST and not is_omitted(value)
        }

    def readable_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` with one-shot iterables we must read turned into lists."""
        return kwargs

    def with_logprobs(self, kwargs: Mapping[str, Any], model: str | None) -> dict[str, Any] | None:
        """``kwargs`` asking for token logprobs, or ``None`` to leave them as is."""
        return None

    def with_stream_usage(self, kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
        """``kwargs`` asking a stream for its usage chunk, or ``None`` to leave them as is."""
        return None

    def completion_of_error(self, error: BaseException) -> Any:
        """A response an exception still carries (a failed ``parse()``), or ``None``."""
        return None

    def untrusted_text(self, kwargs: Mapping[str, Any]) -> str | None:
        """What users and tools wrote in the request, for the security scanner; ``None``
        for a call that sends no text."""
        return None

    def with_redacted(
        self, kwargs: Mapping[str, Any], replace: Callable[[str], str]
    ) -> dict[str, Any] | None:
        """``kwargs`` with the untrusted text passed through ``replace``, or ``None``
        when nothing changed (the caller's objects are never modified)."""
        return None

    def fallback(self, model: str | None, message: str, *, stream: bool, asynchronous: bool) -> Any:
        """A safe answer of the type the caller expects, saying ``message`` with
        ``finish_reason="content_filter"``; ``None`` where there is none to give."""
        return None

    def redact_answer(self, response: Any, replace: Callable[[str], str]) -> bool:
        """Pass the answer texts of ``response`` through ``replace``, in place; say
        whether the response could be rewritten."""
        return False
