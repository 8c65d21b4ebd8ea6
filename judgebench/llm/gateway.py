"""The gateway: one async entry point for every LLM call judgebench makes.

Routing by model name: ``sim/<profile>`` goes to the in-process simulated provider,
``scripted/<name>`` to a scripted backend (tests), anything with an ``api_base`` to the direct
OpenAI-compatible client, and every other name to litellm.

FOUNDATION SKELETON: retries, adaptive concurrency, the persistent cache, accounting and the
HTTP backends are added by the gateway work; the public signatures below are the contract.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from judgebench.llm.types import Backend, Completion, Message

T = TypeVar("T")


class Gateway:
    def __init__(self, backends: dict[str, Backend] | None = None) -> None:
        self._backends: dict[str, Backend] = dict(backends or {})
        self.calls_made = 0
        self.cache_hits = 0

    def register_backend(self, prefix: str, backend: Backend) -> None:
        """Route every model named ``<prefix>/...`` to ``backend``."""
        self._backends[prefix] = backend

    def _backend_for(self, model: str) -> Backend:
        prefix = model.split("/", 1)[0]
        if prefix in self._backends:
            return self._backends[prefix]
        if prefix == "sim":
            from judgebench.sim import SimBackend

            backend: Backend = SimBackend()
            self._backends["sim"] = backend
            return backend
        raise ValueError(f"no backend for model {model!r}")

    async def complete(self, model: str, messages: list[Message], **params: Any) -> Completion:
        start = time.perf_counter()
        completion = await self._backend_for(model).complete(model, messages, None, params)
        self.calls_made += 1
        if not completion.latency_s:
            completion.latency_s = time.perf_counter() - start
        return completion

    async def complete_text(self, model: str, prompt: str, **params: Any) -> Completion:
        """Text completion (``/v1/completions``), e.g. with ``echo=True, logprobs=1`` for TRLM."""
        completion = await self._backend_for(model).complete(model, None, prompt, params)
        self.calls_made += 1
        return completion


_default: Gateway | None = None


def get_gateway() -> Gateway:
    global _default
    if _default is None:
        _default = Gateway()
    return _default


def set_gateway(gateway: Gateway | None) -> None:
    global _default
    _default = gateway


async def complete(model: str, messages: list[Message], **params: Any) -> Completion:
    return await get_gateway().complete(model, messages, **params)


async def gather_limited(
    factories: Sequence[Callable[[], Awaitable[T]]], limit: int = 32
) -> list[T]:
    sem = asyncio.Semaphore(limit)

    async def one(factory: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await factory()

    return list(await asyncio.gather(*(one(f) for f in factories)))


def run_sync(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code, also inside a running loop (Jupyter), without nest_asyncio.

    Inside a running loop the coroutine runs on a fresh loop in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_factory())  # type: ignore[arg-type]
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(coro_factory())  # type: ignore[arg-type]
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=worker, name="judgebench-sync")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def complete_sync(model: str, messages: list[Message], **params: Any) -> Completion:
    return run_sync(lambda: complete(model, messages, **params))
