"""A job's LLM usage written as calls are made, not when a piece of work finishes.

A :class:`UsageLog` is the ``on_change`` of a gateway account: every charged call, cache hit
and error is added to the run's ``job_usage`` rows within ``interval_s`` of happening (a write
per call would serialise thousands of calls a second on the store's write lock). A shard
killed mid-way — a Ray worker, ``kill -9`` — loses at most the last interval's usage instead
of every call it made, and budgets read on resume see what was spent.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("judgebench.jobs")

DEFAULT_INTERVAL_S = 0.5


def usage_keys(run_id: str, part: str) -> list[str]:
    """The ``job_usage`` rows a call of ``part`` (responses, judgments, synthesis) adds to: the
    run's own (what budgets read) and the part's (what the cost summary splits by)."""
    from judgebench.db.jobs import part_usage_key

    return [run_id, part_usage_key(run_id, part)]


class UsageLog:
    """Adds usage deltas to the ``job_usage`` rows named by ``keys`` (a run id, and the row of
    the part of the run the calls belong to)."""

    def __init__(self, store: Any, keys: Sequence[str], interval_s: float = DEFAULT_INTERVAL_S):
        self.store = store
        self.keys = list(keys)
        self.interval_s = interval_s
        self.written: dict[str, float] = {}  # what reached the store (tests, reports)
        self._pending: Counter[str] = Counter()
        self._floats: dict[str, float] = {}
        self._last = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None
        self._lock = threading.Lock()  # Account callbacks may come from loops in other threads

    def __call__(self, delta: dict[str, Any]) -> None:
        with self._lock:
            for key, value in delta.items():
                if isinstance(value, float):
                    self._floats[key] = self._floats.get(key, 0.0) + value
                else:
                    self._pending[key] += int(value)
        if time.monotonic() - self._last >= self.interval_s:
            self.flush()
        elif self._timer is None:
            try:  # a quiet spell after the last call still reaches the store soon
                self._timer = asyncio.get_running_loop().call_later(self.interval_s, self.flush)
            except RuntimeError:  # no loop (a sync caller): write now
                self.flush()

    def flush(self) -> None:
        """Write what is pending now (also what :meth:`close` does)."""
        from judgebench.db.jobs import add_usage_rows

        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            delta: dict[str, Any] = {**self._pending, **self._floats}
            self._pending, self._floats = Counter(), {}
            self._last = time.monotonic()
        if not any(delta.values()):
            return
        try:
            add_usage_rows(self.store, self.keys, delta)
        except Exception as exc:  # the calls happened; losing their tally must not fail them
            from judgebench.llm.secrets import redact

            log.warning("could not record LLM usage for %s: %s", self.keys[0], redact(exc))
            return
        for name, value in delta.items():
            self.written[name] = self.written.get(name, 0) + value

    def close(self) -> None:
        self.flush()
