"""Garbage collection tuned for a job's stages: many short-lived objects per LLM call, next to
a large heap that lives as long as the process.

By the time a job's calls start, the process holds a few hundred thousand long-lived objects
(sklearn, SQLAlchemy, pydantic, the taxonomy), and CPython's collector traverses all of them at
every full collection; with its default thresholds (a young collection every 700 allocations)
collecting took a quarter of a job's CPU per LLM call at low latency. :func:`batch_gc` freezes
what exists when the stages start (never garbage while the job runs) and collects the young
generation every 50,000 allocations instead: the same objects are freed, in fewer passes.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 50_000  # allocations between young collections (CPython's default: 700)

_lock = threading.Lock()
_depth = 0  # batch_gc blocks open in this process (jobs in threads may overlap)
_saved: tuple[int, int, int] = (700, 10, 10)
_thaw = False  # whether the outermost block unfreezes on exit (not when the process had frozen)


@contextmanager
def batch_gc() -> Iterator[None]:
    """Inside: objects that existed on entry are out of the collector's way, and young
    collections are rarer. On exit (of the outermost block) both are undone: the frozen objects
    rejoin the oldest generation, where a later full collection frees any that became garbage
    (unless the process had frozen objects of its own before: those stay frozen, with ours)."""
    global _depth, _saved, _thaw
    with _lock:
        if _depth == 0:
            _saved = gc.get_threshold()
            _thaw = gc.get_freeze_count() == 0
            gc.freeze()
            gc.set_threshold(max(_saved[0], YOUNG_THRESHOLD), *_saved[1:])
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.set_threshold(*_saved)
                if _thaw:
                    gc.unfreeze()
