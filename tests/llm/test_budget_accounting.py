"""Token and cost accounting per call and per run; budget caps stop calls before they are made."""

from __future__ import annotations

import asyncio

import pytest

from judgebench.config import settings_from_dict
from judgebench.llm import Budget, BudgetExceeded, Completion, Gateway, ScriptedBackend
from judgebench.records import Usage
from tests.llm.conftest import ask


def priced_gateway(
    budget: Budget | None = None, prices: bool = True
) -> tuple[Gateway, ScriptedBackend]:
    backend = ScriptedBackend(
        responder=lambda text, model: Completion(
            model=model, text="ok", usage=Usage(prompt_tokens=100, completion_tokens=50)
        )
    )
    entry = {"input_cost_per_mtok": 2.0, "output_cost_per_mtok": 10.0} if prices else {}
    settings = settings_from_dict({"models": {"scripted/*": entry}})
    return Gateway({"scripted": backend}, settings=settings, budget=budget), backend


async def test_cost_per_call_and_per_run_from_registry_prices():
    gateway, _ = priced_gateway()
    with gateway.account("run-1") as run:
        reply = await gateway.complete("scripted/a", ask(), temperature=0)
    await gateway.complete("scripted/a", ask(1), temperature=0)  # outside the run
    assert reply.cost == pytest.approx(100 * 2e-6 + 50 * 10e-6)
    assert run.calls == 1 and run.prompt_tokens == 100 and run.completion_tokens == 50
    assert run.known_cost == pytest.approx(reply.cost)
    assert gateway.stats.calls == 2 and gateway.stats.known_cost == pytest.approx(2 * reply.cost)


async def test_unknown_price_is_null_not_zero():
    gateway, _ = priced_gateway(prices=False)
    reply = await gateway.complete("scripted/a", ask(), temperature=0)
    assert reply.cost is None
    assert gateway.stats.known_cost is None and gateway.stats.calls_without_price == 1
    assert gateway.stats.total_tokens == 150


async def test_sim_models_use_their_profile_prices():
    from judgebench.sim import load_profile

    reply = await Gateway().complete("sim/small", ask(), temperature=0)
    prices = load_profile("sim/small").prices
    expected = (
        reply.usage.prompt_tokens * prices.input + reply.usage.completion_tokens * prices.output
    ) / 1e6
    assert reply.cost == pytest.approx(expected)


async def test_max_calls_raises_before_the_call():
    gateway, backend = priced_gateway(Budget(max_calls=3))
    for i in range(3):
        await gateway.complete("scripted/a", ask(i), temperature=0)
    with pytest.raises(BudgetExceeded, match="max_calls=3"):
        await gateway.complete("scripted/a", ask(9), temperature=0)
    assert len(backend.prompts) == 3  # the fourth call was never made


async def test_concurrent_calls_cannot_overshoot_the_cap():
    gateway, backend = priced_gateway()
    with gateway.account("job", Budget(max_calls=5)) as run:
        results = await asyncio.gather(
            *(gateway.complete("scripted/a", ask(i), temperature=0) for i in range(12)),
            return_exceptions=True,
        )
    assert sum(isinstance(r, Completion) for r in results) == 5
    assert sum(isinstance(r, BudgetExceeded) for r in results) == 7
    assert len(backend.prompts) == 5 and run.calls == 5


async def test_max_tokens_and_max_cost_use_the_worst_case_of_the_next_call():
    gateway, backend = priced_gateway()
    with gateway.account("t", Budget(max_tokens=400)):
        await gateway.complete("scripted/a", ask(), temperature=0, max_tokens=50)  # 150 used
        with pytest.raises(BudgetExceeded, match="max_tokens=400"):
            await gateway.complete("scripted/a", ask(1), temperature=0, max_tokens=300)
    assert len(backend.prompts) == 1
    with gateway.account("c", Budget(max_cost=0.0012)) as run:
        await gateway.complete("scripted/a", ask(2), temperature=0, max_tokens=50)  # $0.0007
        with pytest.raises(BudgetExceeded, match="max_cost"):
            await gateway.complete("scripted/a", ask(3), temperature=0, max_tokens=50)
    assert run.known_cost == pytest.approx(0.0007)


async def test_cost_cap_with_unknown_price_refuses_and_cache_hits_are_free():
    gateway, _ = priced_gateway(prices=False)
    with (
        gateway.account("c", Budget(max_cost=1.0)),
        pytest.raises(BudgetExceeded, match="price .* unknown"),
    ):
        await gateway.complete("scripted/a", ask(), temperature=0)
    from judgebench.llm import MemoryCallCache

    cached, backend = priced_gateway()
    cached.cache = MemoryCallCache()
    await cached.complete("scripted/a", ask(), temperature=0)
    with cached.account("rerun", Budget(max_calls=0)) as run:
        reply = await cached.complete("scripted/a", ask(), temperature=0)  # a hit needs no budget
    assert reply.cached and run.cache_hits == 1 and run.calls == 0 and len(backend.prompts) == 1


def test_prices_are_public_per_model():
    from judgebench.llm import Gateway

    gateway = Gateway()
    cheap, dear = gateway.prices("sim/small"), gateway.prices("sim/large")
    assert cheap is not None and dear is not None
    assert sum(cheap) < sum(dear)
