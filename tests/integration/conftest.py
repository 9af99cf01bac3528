"""Fixtures of the simulator tests: one simulator per module, and its clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from openai import AsyncOpenAI, OpenAI

from openai_sentinel.simulator import Simulator, SimulatorConfig

from ..support.simulated import make_async_client, make_client


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    with Simulator(SimulatorConfig(seed=7)) as sim:
        yield sim


@pytest.fixture(scope="module")
def client(simulator: Simulator) -> Iterator[OpenAI]:
    with make_client(simulator.base_url) as openai_client:
        yield openai_client


@pytest.fixture(scope="module")
def lenient_client(simulator: Simulator) -> Iterator[OpenAI]:
    """Without strict validation: the client's own types reject some of what the real API
    sends (base64 embeddings before decoding, ``finish_reason: null`` in legacy
    completion chunks)."""
    with make_client(simulator.base_url, strict=False) as openai_client:
        yield openai_client


@pytest.fixture
async def aclient(simulator: Simulator) -> AsyncIterator[AsyncOpenAI]:
    async with make_async_client(simulator.base_url) as openai_client:
        yield openai_client
