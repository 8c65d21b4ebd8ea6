"""Adaptive concurrency (AIMD with Retry-After pauses), the rate limiter, backoff delays."""

from __future__ import annotations

import asyncio
import contextlib
import time

import pytest

from judgebench.llm import AdaptiveConcurrency, RateLimiter, RetryPolicy
from judgebench.llm.limits import parse_retry_after


async def test_limit_caps_calls_in_flight():
    limiter = AdaptiveConcurrency(max_limit=3)
    peak = 0

    async def one() -> None:
        nonlocal peak
        async with limiter:
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(one() for _ in range(20)))
    assert peak == 3 and limiter.in_flight == 0


async def test_cut_once_per_burst_then_grow_back():
    limiter = AdaptiveConcurrency(max_limit=16, cooldown_s=0.5)
    for _ in range(10):  # a burst of 429s from calls that were in flight together
        limiter.on_rate_limited()
    assert limiter.limit == 8 and limiter.cuts == 1
    for _ in range(200):
        limiter.on_success()
    assert limiter.limit == 16  # additive increase back to the ceiling, never above


async def test_retry_after_pauses_new_calls():
    limiter = AdaptiveConcurrency(max_limit=4)
    limiter.on_rate_limited(retry_after=0.3)
    start = time.monotonic()
    async with limiter:
        pass
    assert time.monotonic() - start >= 0.29


async def test_cancelled_waiter_does_not_leak_a_slot():
    limiter = AdaptiveConcurrency(max_limit=1)
    await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    limiter.release()
    assert limiter.in_flight == 0
    await asyncio.wait_for(limiter.acquire(), 1)


async def test_rate_limiter_spaces_starts():
    limiter = RateLimiter(rate=50, burst=1)
    start = time.monotonic()
    await asyncio.gather(*(limiter.acquire() for _ in range(11)))
    assert time.monotonic() - start >= 0.19  # 10 intervals of 20 ms


def test_backoff_grows_with_jitter_and_prefers_retry_after():
    policy = RetryPolicy(max_retries=5, base_s=0.1, max_s=1.0)
    assert 0.05 <= policy.delay(0) <= 0.1
    assert 0.4 <= policy.delay(3) <= 0.8
    assert policy.delay(10) <= 1.0
    assert 2.0 <= policy.delay(0, retry_after=2.0) <= 2.2
    assert (
        parse_retry_after("3") == 3.0
        and parse_retry_after("soon") is None
        and parse_retry_after(None) is None
    )


def test_pause_survives_a_finished_event_loop():
    limiter = AdaptiveConcurrency(max_limit=2)

    async def paused_acquire() -> None:
        limiter.on_rate_limited(retry_after=0.3)
        waiter = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0.01)
        waiter.cancel()  # the loop ends while the pause timer is pending

    asyncio.run(paused_acquire())

    async def later() -> float:
        limiter.on_rate_limited(retry_after=0.2)
        start = time.monotonic()
        await asyncio.wait_for(limiter.acquire(), 2)  # must not wait on the dead loop's timer
        limiter.release()
        return time.monotonic() - start

    assert 0.15 <= asyncio.run(later()) < 1.5


async def test_resize_moves_an_uncut_limit_keeps_a_cut_one_and_wakes_waiters():
    limiter = AdaptiveConcurrency(max_limit=2)
    await limiter.acquire()
    await limiter.acquire()
    waiter = asyncio.ensure_future(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()  # 2 of 2 in flight
    limiter.resize(3)  # a larger cap lets the waiting caller in at once
    await asyncio.wait_for(waiter, 1)
    assert limiter.capacity == 3 and limiter.in_flight == 3
    limiter.resize(1)  # calls in flight finish; none starts until under the new limit
    for _ in range(3):
        limiter.release()
    assert limiter.capacity == 1
    limiter.resize(4)
    limiter.on_rate_limited()  # cut to 2
    limiter.resize(8)
    assert limiter.capacity == 2  # a limit cut by 429s stays cut; it grows back by successes
    for _ in range(200):
        limiter.on_success()
    assert limiter.capacity == 8


async def test_endpoint_cap_bounds_each_model_and_a_smaller_setting_wins():
    """A job's ``concurrency`` as a per-model cap: every model at most ``cap`` calls in flight,
    a model whose settings configure fewer keeps its own, the built-in default (32) does not
    apply; on exit the settings' limits return."""
    from judgebench.config import settings_from_dict
    from judgebench.llm import Gateway, ScriptedBackend

    in_flight: dict[str, int] = {}
    peak: dict[str, int] = {}

    class Gauged(ScriptedBackend):
        async def complete(self, model, messages, prompt, params):  # type: ignore[no-untyped-def]
            in_flight[model] = in_flight.get(model, 0) + 1
            peak[model] = max(peak.get(model, 0), in_flight[model])
            await asyncio.sleep(0.01)
            in_flight[model] -= 1
            return await super().complete(model, messages, prompt, params)

    settings = settings_from_dict({"models": {"scripted/narrow": {"max_concurrency": 2}}})
    gateway = Gateway({"scripted": Gauged(responder=lambda t, m: "ok")}, settings=settings)
    gateway.concurrency_of("scripted/wide")  # a limiter made before the cap is resized too
    requests = [
        (m, [{"role": "user", "content": f"{m} {i}"}])
        for i in range(60)
        for m in ("scripted/wide", "scripted/narrow", "scripted/other")
    ]
    with gateway.endpoint_cap(40):
        await gateway.complete_many(requests, progress=False, max_in_flight=1000)
    assert peak == {"scripted/wide": 40, "scripted/narrow": 2, "scripted/other": 40}
    assert gateway.concurrency_of("scripted/wide").capacity == 32  # the default again
    assert gateway.concurrency_of("scripted/narrow").capacity == 2


async def test_callers_with_a_priority_go_first_lowest_key_first():
    from judgebench.llm.limits import call_priority

    limiter = AdaptiveConcurrency(max_limit=1)
    await limiter.acquire()
    order: list[str] = []

    async def one(name: str, *key: int) -> None:
        with call_priority(*key) if key else contextlib.nullcontext():
            await limiter.acquire()  # the task's own context: the other callers are unaffected
        order.append(name)
        limiter.release()

    callers = [one("plain0"), one("late chunk", 1, 2), one("plain1"), one("early chunk", 1, 0)]
    callers += [one("preparation", 0, 5), one("early chunk again", 1, 0)]
    tasks = []
    for c in callers:  # arrive in this order
        tasks.append(asyncio.ensure_future(c))
        await asyncio.sleep(0)
    limiter.release()
    await asyncio.gather(*tasks)
    assert order == [
        "preparation",
        "early chunk",
        "early chunk again",  # equal keys in arrival order
        "late chunk",
        "plain0",
        "plain1",
    ]


def test_overlapping_endpoint_caps_the_latest_open_one_holds():
    from judgebench.config import settings_from_dict
    from judgebench.llm import Gateway

    gateway = Gateway(settings=settings_from_dict({}))
    limiter = gateway.concurrency_of("sim/judge")
    first = gateway.endpoint_cap(10)
    second = gateway.endpoint_cap(4)
    first.__enter__()
    second.__enter__()
    assert limiter.capacity == 4
    first.__exit__(None, None, None)  # the first job ends while the second still runs
    assert limiter.capacity == 4
    second.__exit__(None, None, None)
    assert limiter.capacity == 32  # the settings' (built-in) limit
