"""Per-model flow control: adaptive concurrency (AIMD), a request-rate limiter, retry backoff.

Three small, independent pieces the gateway combines per model:

- :class:`AdaptiveConcurrency` caps calls in flight. It starts at the configured maximum, halves
  on a 429 (at most once per cool-down, so one burst of 429s is one cut), pauses every caller
  until a server's ``Retry-After`` has passed, and grows back by about one slot per window of
  successes (additive increase, multiplicative decrease). Callers wait in arrival order, except
  calls given a priority (:func:`call_priority`), which wait in front of the others, lowest
  key first.
- :class:`RateLimiter` spaces call starts to at most ``rate`` per second (with a small burst).
- :class:`RetryPolicy` says how long to wait before the next attempt: the server's
  ``Retry-After`` when it gave one, else exponential backoff with jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
import random
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

_PRIORITY: contextvars.ContextVar[tuple[int, ...] | None] = contextvars.ContextVar(
    "judgebench_call_priority", default=None
)
_ARRIVAL = itertools.count()  # equal priorities wait in arrival order


def set_call_priority(*key: int) -> contextvars.Token[tuple[int, ...] | None]:
    """Give the calls this context makes from now on (and those of tasks it starts) the
    priority ``key``: at each endpoint they wait for a slot in front of calls without one, lower
    keys first. A pipelined job ranks a query's preparation before its judgments and older
    chunks before newer ones, so a busy endpoint feeds the work that unblocks the most."""
    return _PRIORITY.set(key)


@contextlib.contextmanager
def call_priority(*key: int) -> Iterator[None]:
    """:func:`set_call_priority` for the calls made inside this block."""
    token = set_call_priority(*key)
    try:
        yield
    finally:
        _PRIORITY.reset(token)


class AdaptiveConcurrency:
    def __init__(
        self,
        max_limit: int,
        min_limit: int = 1,
        *,
        decrease: float = 0.5,
        cooldown_s: float = 1.0,
    ) -> None:
        self.max_limit = max(1, max_limit)
        self._min_wanted = max(1, min_limit)
        self.min_limit = min(self._min_wanted, self.max_limit)
        self.limit = float(self.max_limit)
        self.decrease = decrease
        self.cooldown_s = cooldown_s
        self.in_flight = 0
        self.paused_until = 0.0
        self.cuts = 0
        self._last_cut = -1e18
        self._waiters: deque[asyncio.Future[None]] = deque()
        # callers with a priority: (key, arrival, future), a heap
        self._ranked: list[tuple[tuple[int, ...], int, asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_loop: asyncio.AbstractEventLoop | None = None

    @property
    def capacity(self) -> int:
        return max(self.min_limit, int(self.limit))

    def _open(self) -> bool:
        return self.in_flight < self.capacity and time.monotonic() >= self.paused_until

    async def acquire(self) -> None:
        if not self._queued() and self._open():
            self.in_flight += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        key = _PRIORITY.get()
        if key is None:
            self._waiters.append(fut)
        else:  # a cancelled one stays in the heap until _wake skips it
            heapq.heappush(self._ranked, (key, next(_ARRIVAL), fut))
        self._wake()
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()  # granted a slot just as we were cancelled: hand it on
            else:
                with contextlib.suppress(ValueError):
                    if key is None:
                        self._waiters.remove(fut)
            raise

    def _queued(self) -> bool:
        return bool(self._ranked or self._waiters)

    def _next_waiter(self) -> asyncio.Future[None]:
        return heapq.heappop(self._ranked)[2] if self._ranked else self._waiters.popleft()

    def release(self) -> None:
        self.in_flight -= 1
        self._wake()

    def resize(self, max_limit: int) -> None:
        """A new maximum (e.g. a job's per-endpoint cap). A limit at the old maximum moves to
        the new one; a limit cut by 429s stays cut, never above the new maximum. Calls already
        in flight finish; no new one starts until the count is under the new limit."""
        at_max = self.limit >= self.max_limit
        self.max_limit = max(1, max_limit)
        self.min_limit = min(self._min_wanted, self.max_limit)
        self.limit = float(self.max_limit) if at_max else min(self.limit, float(self.max_limit))
        if self._queued():  # a larger limit lets waiting callers in now
            self._wake()

    def on_success(self) -> None:
        if self.limit < self.max_limit:
            self.limit = min(float(self.max_limit), self.limit + 1.0 / max(self.limit, 1.0))

    def on_rate_limited(self, retry_after: float | None = None) -> None:
        now = time.monotonic()
        if now - self._last_cut >= self.cooldown_s:
            self.limit = max(float(self.min_limit), self.limit * self.decrease)
            self._last_cut = now
            self.cuts += 1
        if retry_after is not None and retry_after > 0:
            self.paused_until = max(self.paused_until, now + retry_after)

    def _wake(self) -> None:
        now = time.monotonic()
        if now < self.paused_until:
            loop = asyncio.get_running_loop()
            # a timer left by an earlier event loop (a finished run_sync) would never fire here
            if self._queued() and (self._timer is None or self._timer_loop is not loop):
                self._timer = loop.call_later(self.paused_until - now, self._timer_fired)
                self._timer_loop = loop
            return
        while self._queued() and self.in_flight < self.capacity:
            fut = self._next_waiter()
            if fut.done():
                continue
            self.in_flight += 1
            fut.set_result(None)

    def _timer_fired(self) -> None:
        self._timer = None
        self._wake()

    async def __aenter__(self) -> AdaptiveConcurrency:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()


class RateLimiter:
    """At most ``rate`` call starts per second, allowing a burst of ``burst`` at once."""

    def __init__(self, rate: float, burst: int = 1) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._next = 0.0  # earliest start of the next call beyond the burst allowance

    async def acquire(self) -> None:
        now = time.monotonic()
        interval = 1.0 / self.rate
        start = max(now - (self.burst - 1) * interval, self._next)
        self._next = start + interval
        if start > now:
            await asyncio.sleep(start - now)


@dataclass
class RetryPolicy:
    max_retries: int = 6
    base_s: float = 0.5
    max_s: float = 30.0
    max_retry_after_s: float = 120.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry number ``attempt`` (0-based)."""
        if retry_after is not None and retry_after >= 0:
            # honour the server, plus a little jitter so waiting callers do not return in lockstep
            return min(retry_after, self.max_retry_after_s) * random.uniform(1.0, 1.1)
        ceiling = min(self.max_s, self.base_s * (2**attempt))
        return random.uniform(ceiling / 2, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
