"""Adaptive concurrency (AIMD with Retry-After pauses), the rate limiter, backoff delays."""

from __future__ import annotations

import asyncio
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
