"""Routing, the batch helper, the sync facade inside a running loop, errors as results."""

from __future__ import annotations

import asyncio

import pytest

from judgebench.config import settings_from_dict
from judgebench.llm import (
    BadRequestError,
    Completion,
    Gateway,
    LLMError,
    LLMRequest,
    MemoryCallCache,
    ScriptedBackend,
    ServerError,
    complete_sync,
    get_gateway,
    run_sync,
)
from tests.llm.conftest import ask


async def test_routes_registered_sim_and_direct(sim_server):
    settings = settings_from_dict(
        {"models": {"remote/x": {"api_base": sim_server.url, "wire_model": "sim/small"}}}
    )
    gateway = Gateway({"scripted": ScriptedBackend(["hi"])}, settings=settings)
    assert (await gateway.complete("scripted/a", ask())).text == "hi"
    assert (await gateway.complete("sim/small", ask(), temperature=0)).text
    before = sim_server.stats["requests"]
    assert (await gateway.complete("remote/x", ask(), temperature=0)).text
    assert sim_server.stats["requests"] == before + 1
    # per-call api_base routes any name to the direct client
    assert (await gateway.complete("sim/large", ask(), temperature=0, api_base=sim_server.url)).text
    assert sim_server.stats["requests"] == before + 2
    assert {label for label in (r.label for r in gateway._routes.values())} == {
        "registered",
        "sim",
        "direct",
    }
    await gateway.aclose()


async def test_backend_bug_becomes_an_llm_error_with_reason():
    def broken(text: str, model: str) -> str:
        raise KeyError("boom")

    gateway = Gateway({"scripted": ScriptedBackend(responder=broken)})
    with pytest.raises(LLMError, match="KeyError") as info:
        await gateway.complete("scripted/a", ask())
    assert info.value.attempts == 1  # a bug is not retried


async def test_complete_many_keeps_order_and_returns_errors_as_results(capsys):
    replies = {
        "q0": "zero",
        "q1": ServerError("scripted/a: HTTP 500: down"),
        "q2": BadRequestError("scripted/a: HTTP 400: bad", status=400),
    }

    def respond(text: str, model: str):
        return replies.get(text, text.upper())

    settings = settings_from_dict(
        {"models": {"scripted/*": {"max_retries": 1, "backoff_base_s": 0.01}}}
    )
    gateway = Gateway(
        {"scripted": ScriptedBackend(responder=respond)}, settings=settings, cache=MemoryCallCache()
    )
    requests = [
        {
            "model": "scripted/a",
            "messages": [{"role": "user", "content": f"q{i}"}],
            "temperature": 0,
        }
        for i in range(6)
    ]
    requests.append(LLMRequest("scripted/a", prompt="text prompt"))
    results = await gateway.complete_many(requests, progress=True, description="test calls")
    assert [r.text if isinstance(r, Completion) else type(r).__name__ for r in results] == [
        "zero", "ServerError", "BadRequestError", "Q3", "Q4", "Q5", "TEXT PROMPT",
    ]  # fmt: skip
    assert results[1].attempts == 2 and results[2].attempts == 1
    again = await gateway.complete_many(requests, progress=False)
    assert sum(getattr(r, "cached", False) for r in again) == 5  # errors are not cached
    assert "test calls" in capsys.readouterr().out
    with pytest.raises(ServerError):
        await gateway.complete_many(requests[:2], progress=False, return_exceptions=False)


async def test_sync_facade_inside_a_running_loop():
    gateway = Gateway({"scripted": ScriptedBackend(responder=lambda text, model: "sync ok")})
    from judgebench.llm import set_gateway

    set_gateway(gateway)
    # we are inside pytest-asyncio's running loop, as in Jupyter
    asyncio.get_running_loop()
    assert complete_sync("scripted/a", ask()).text == "sync ok"
    assert run_sync(lambda: get_gateway().complete("scripted/a", ask(1))).text == "sync ok"
    results = gateway.complete_many_sync([("scripted/a", ask(2))], progress=False)
    assert results[0].text == "sync ok"


def test_sync_facade_without_a_loop(sim_server):
    settings = settings_from_dict({"models": {"sim/small": {"api_base": sim_server.url}}})
    gateway = Gateway(settings=settings)
    for i in range(3):  # each call runs its own loop; sessions are closed behind it
        assert run_sync(lambda i=i: gateway.complete("sim/small", ask(i), temperature=0)).text
