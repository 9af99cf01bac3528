"""Real ``openai`` clients for the embedded simulator, as the simulator tests use them."""

from __future__ import annotations

from openai import AsyncOpenAI, OpenAI

__all__ = ["make_async_client", "make_client"]


def make_client(base_url: str, *, strict: bool = True, max_retries: int = 0) -> OpenAI:
    """A client of the simulator at ``base_url``; ``strict`` validates every response."""
    return OpenAI(
        base_url=base_url,
        api_key="sk-sim",
        max_retries=max_retries,
        timeout=10,
        _strict_response_validation=strict,
    )


def make_async_client(base_url: str, *, strict: bool = True) -> AsyncOpenAI:
    """The asynchronous twin of :func:`make_client`."""
    return AsyncOpenAI(
        base_url=base_url,
        api_key="sk-sim",
        max_retries=0,
        timeout=10,
        _strict_response_validation=strict,
    )
