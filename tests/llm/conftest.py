"""Fixtures: a sim-server on loopback (own thread and loop) and gateways pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from judgebench.config import settings_from_dict
from judgebench.llm import Gateway, MemoryCallCache
from judgebench.sim.server import FaultConfig, ServerThread, SimServer

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05, "timeout_s": 5}


@pytest.fixture
def sim_server() -> Iterator[SimServer]:
    server = SimServer(faults=FaultConfig(latency_ms=1))
    thread = ServerThread(server)
    thread.start()
    yield server
    thread.stop()


@pytest.fixture
async def make_gateway(sim_server: SimServer) -> AsyncIterator[Callable[..., Gateway]]:
    """``make_gateway(model="sim/small", cache=..., **settings)``: a gateway whose ``model``
    goes to the test server, with fast retries unless overridden (closed after the test)."""
    made: list[Gateway] = []

    def make(model: str = "sim/small", cache: Any = "memory", **overrides: Any) -> Gateway:
        entry = {"api_base": sim_server.url, **FAST, **overrides}
        settings = settings_from_dict({"models": {model: entry}})
        gateway = Gateway(
            settings=settings, cache=MemoryCallCache() if cache == "memory" else cache
        )
        made.append(gateway)
        return gateway

    yield make
    for gateway in made:
        await gateway.aclose()


def ask(i: int = 0) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"What is the capital of France? (variant {i})"}]
