"""The gateway: one async entry point for every LLM call judgebench makes.

Routing by model name (first match wins):

1. a backend registered for the name's prefix (``scripted/…`` in tests);
2. a model whose settings (or call params) give an ``api_base``: the direct OpenAI-compatible
   client (``backend: litellm`` in its settings sends it through litellm instead);
3. ``sim/<profile>``: the in-process simulated provider;
4. anything else: litellm (imported on first use).

Around every backend call: the call cache (hits cost nothing), budget caps (checked before the
call), a rate limiter and an adaptive concurrency limit per model, a timeout, and retries with
backoff on 429 / 5xx / timeouts / connection errors / unusable bodies. Every call ends as a
:class:`Completion` or a raised :class:`LLMError` whose message is the reason.
"""

from __future__ import annotations

import asyncio
import atexit
import contextvars
import logging
import os
import threading
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from judgebench.config import ModelSettings, Settings, load_settings
from judgebench.llm.accounting import (
    DEFAULT_COMPLETION_ESTIMATE,
    Account,
    Budget,
    Reservation,
    estimate_prompt_tokens,
    price_cost,
)
from judgebench.llm.cache import CacheEntry, CallCache, cache_key, generation_params, is_cacheable
from judgebench.llm.limits import AdaptiveConcurrency, RateLimiter, RetryPolicy
from judgebench.llm.secrets import redact, register_secret
from judgebench.llm.types import (
    AuthenticationError,
    Backend,
    BudgetExceeded,
    Completion,
    LLMError,
    Message,
    RateLimitError,
    TimeoutError_,
)
from judgebench.records import ErrorRecord

T = TypeVar("T")
log = logging.getLogger("judgebench.llm")

_FLUSH_ROWS = 256
_FLUSH_SECONDS = 0.5
_FLUSH_DELAY = 0.1


@dataclass
class LLMRequest:
    """One call for :meth:`Gateway.complete_many`: chat when ``messages`` is set, else text."""

    model: str
    messages: list[Message] | None = None
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def coerce(cls, item: Any) -> LLMRequest:
        if isinstance(item, LLMRequest):
            return item
        if isinstance(item, dict):
            data = dict(item)
            model = data.pop("model")
            messages = data.pop("messages", None)
            prompt = data.pop("prompt", None)
            params = {**data.pop("params", {}), **data}
            return cls(model, messages, prompt, params)
        if isinstance(item, tuple) and len(item) in (2, 3):
            model, messages, *rest = item
            return cls(model, list(messages), None, dict(rest[0]) if rest else {})
        raise TypeError(f"cannot make an LLM request from {type(item).__name__}")


@dataclass
class _Route:
    label: str  # registered | direct | litellm | sim
    backend: Backend
    settings: ModelSettings
    concurrency: AdaptiveConcurrency
    rate: RateLimiter | None
    retry: RetryPolicy
    prices: tuple[float, float] | None
    missing_key_env: str | None = None  # the settings name a key variable that is not set
    completion_tokens_seen: int = 0
    completions_seen: int = 0

    def completion_estimate(self) -> int:
        if self.completions_seen:
            return max(1, round(self.completion_tokens_seen / self.completions_seen))
        return DEFAULT_COMPLETION_ESTIMATE


_LIVE: weakref.WeakSet[Gateway] = weakref.WeakSet()


@atexit.register
def _flush_live_gateways() -> None:
    for gateway in list(_LIVE):
        gateway.flush()


class Gateway:
    """Routes, limits, retries, caches and accounts LLM calls.

    ``cache``: a :class:`~judgebench.llm.cache.CallCache` (``MemoryCallCache()`` in-process,
    ``judgebench.db.callcache.SQLCallCache(store)`` persistent) or None for no caching.
    ``settings``: the model registry (default: :func:`judgebench.config.load_settings`).
    ``budget``: caps for the gateway's whole life (per-run caps: :meth:`account`).
    """

    def __init__(
        self,
        backends: dict[str, Backend] | None = None,
        *,
        settings: Settings | None = None,
        cache: CallCache | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._backends: dict[str, Backend] = dict(backends or {})
        self._sim_backend: Backend | None = None
        self.settings = settings if settings is not None else load_settings()
        self.cache = cache if self.settings.cache else None
        if budget is None:
            b = self.settings.budget
            budget = Budget(max_cost=b.max_cost, max_tokens=b.max_tokens, max_calls=b.max_calls)
        self.stats = Account("gateway", budget)
        self._routes: dict[tuple[str, str | None, str | None], _Route] = {}
        self._limits: dict[str, tuple[AdaptiveConcurrency, RateLimiter | None]] = {}
        self._limit_settings: dict[str, ModelSettings] = {}  # what each limiter was made from
        self._endpoint_caps: list[int] = []  # endpoint_cap() blocks open now; the last holds
        self._before_cache_writes: list[Callable[[], None]] = []  # see recording_first()
        self._accounts: contextvars.ContextVar[tuple[Account, ...]] = contextvars.ContextVar(
            f"judgebench_accounts_{id(self)}", default=()
        )
        self._in_flight = 0
        self._pending: dict[str, CacheEntry] = {}
        self._pending_hits: Counter[str] = Counter()
        self._last_flush = time.monotonic()
        self._flushers: dict[asyncio.AbstractEventLoop, asyncio.Task[None]] = {}
        self._lookups: dict[asyncio.AbstractEventLoop, list[tuple[str, asyncio.Future[Any]]]] = {}
        self._leaders: dict[str, asyncio.Future[Completion]] = {}
        self._lock = threading.RLock()  # guards pending writes when loops in threads share us
        self.cache_write_errors = 0
        _LIVE.add(self)

    def __repr__(self) -> str:
        return f"Gateway(routes={sorted({k[0] for k in self._routes})}, cache={type(self.cache).__name__})"

    # --- counters kept from the first contract ----------------------------------------------
    @property
    def calls_made(self) -> int:
        return self.stats.calls

    @property
    def cache_hits(self) -> int:
        return self.stats.cache_hits

    # --- routing ------------------------------------------------------------------------------
    def register_backend(self, prefix: str, backend: Backend) -> None:
        """Route every model named ``<prefix>/...`` to ``backend``."""
        self._backends[prefix] = backend
        for key in [k for k in self._routes if k[0].split("/", 1)[0] == prefix]:
            del self._routes[key]

    def prices(self, model: str) -> tuple[float, float] | None:
        """USD per (input, output) token for ``model`` as this gateway would charge it
        (registry, simulated profile, or litellm's cost map); None when unknown."""
        return self._route(model).prices

    def _route(self, model: str, api_base: str | None = None, api_key: str | None = None) -> _Route:
        key = (model, api_base, api_key)
        route = self._routes.get(key)
        if route is not None:
            return route
        overrides: dict[str, Any] = {}
        if api_base is not None:
            overrides["api_base"] = api_base
        if api_key is not None:
            register_secret(api_key)
            overrides["api_key"] = api_key
        cfg = self.settings.model(model, overrides)
        prefix = model.split("/", 1)[0]
        backend: Backend
        prices = cfg.prices
        kind = backend_kind(model, cfg)
        if prefix in self._backends:
            label, backend = "registered", self._backends[prefix]
        elif kind == "direct":
            from judgebench.llm.openai_compat import OpenAICompatBackend

            assert cfg.api_base is not None  # "direct" means it has one
            label, backend = (
                "direct",
                OpenAICompatBackend(cfg.api_base, cfg.resolved_api_key(), cfg.wire_model),
            )
        elif kind == "sim":
            if self._sim_backend is None:
                self._sim_backend = _make_sim_backend()
            backend, label = self._sim_backend, "sim"
        else:
            from judgebench.llm.litellm_backend import LiteLLMBackend, litellm_prices

            label = "litellm"
            backend = LiteLLMBackend(cfg.api_base, cfg.resolved_api_key(), cfg.wire_model)
            if prices is None and not cfg.api_base:
                prices = litellm_prices(cfg.wire_model or model)
        if prices is None:
            prices = _backend_prices(backend, model)
        if model not in self._limits:
            rate = (
                RateLimiter(cfg.rate_limit_per_s, burst=max(1, int(cfg.rate_limit_per_s)))
                if cfg.rate_limit_per_s
                else None
            )
            self._limits[model] = (
                AdaptiveConcurrency(self._max_concurrency(cfg), cfg.min_concurrency),
                rate,
            )
            self._limit_settings[model] = cfg
        concurrency, rate = self._limits[model]
        retry = RetryPolicy(
            cfg.max_retries, cfg.backoff_base_s, cfg.backoff_max_s, cfg.max_retry_after_s
        )
        route = _Route(label, backend, cfg, concurrency, rate, retry, prices)
        if cfg.api_key_env and not (api_key or cfg.api_key or os.environ.get(cfg.api_key_env)):
            route.missing_key_env = cfg.api_key_env
        self._routes[key] = route
        return route

    def concurrency_of(self, model: str) -> AdaptiveConcurrency:
        """The adaptive limiter of ``model`` (created on first use)."""
        return self._route(model).concurrency

    @contextmanager
    def endpoint_cap(self, max_concurrency: int) -> Iterator[None]:
        """Inside this block every model (endpoint) has at most ``max_concurrency`` calls in
        flight, whoever makes them: a job's ``concurrency``, shared by all its stages. A smaller
        ``max_concurrency`` configured for the model (its entry or ``defaults`` in the settings)
        wins; the built-in default does not apply. Blocks that overlap (two jobs in one process
        at once) share the limiters: the latest open block's cap holds; when the last closes,
        the settings' limits return."""
        cap = max(1, max_concurrency)
        self._endpoint_caps.append(cap)
        self._resize_limits()
        try:
            yield
        finally:
            self._endpoint_caps.remove(cap)
            self._resize_limits()

    @contextmanager
    def recording_first(self, record: Callable[[], None]) -> Iterator[None]:
        """Inside this block ``record`` runs before each write of the call cache (a job writing
        its usage log): a call is charged before its reply is queued for the cache, so a reply
        that is stored never has unrecorded usage, and a kill can lose only the usage of calls
        whose replies were not stored yet."""
        self._before_cache_writes.append(record)
        try:
            yield
        finally:
            self._before_cache_writes.remove(record)

    def _max_concurrency(self, cfg: ModelSettings) -> int:
        if not self._endpoint_caps:
            return cfg.max_concurrency
        cap = self._endpoint_caps[-1]
        if "max_concurrency" in cfg.model_fields_set:  # configured: a smaller one wins
            return min(cfg.max_concurrency, cap)
        return cap

    def _resize_limits(self) -> None:
        for model, (concurrency, _) in self._limits.items():
            concurrency.resize(self._max_concurrency(self._limit_settings[model]))

    # --- accounting ---------------------------------------------------------------------------
    @contextmanager
    def account(
        self,
        name: str = "run",
        budget: Budget | None = None,
        *,
        on_change: Callable[[dict[str, Any]], None] | None = None,
    ) -> Iterator[Account]:
        """Charge every call made inside this block (this task and tasks it starts) to a new
        :class:`Account`, whose ``budget`` is checked before each call. ``on_change`` is told
        each call's usage as it is charged (see :attr:`Account.on_change`)."""
        acct = Account(name, budget or Budget(), on_change=on_change)
        token = self._accounts.set((*self._accounts.get(), acct))
        try:
            yield acct
        finally:
            self._accounts.reset(token)

    # --- the calls ----------------------------------------------------------------------------
    async def complete(self, model: str, messages: list[Message], **params: Any) -> Completion:
        """A chat completion. Params are sent as given (``temperature``, ``max_tokens``,
        ``logprobs``, ``top_logprobs`` ...), except the gateway's own: ``sample_index`` (cache
        identity of a sampled call), ``cache=False``, ``timeout``, ``api_base``, ``api_key``."""
        return await self._call(model, "chat", messages, None, params)

    async def complete_text(self, model: str, prompt: str, **params: Any) -> Completion:
        """Text completion (``/v1/completions``), e.g. with ``echo=True, logprobs=1`` for TRLM."""
        return await self._call(model, "text", None, prompt, params)

    async def _call(
        self,
        model: str,
        kind: str,
        messages: list[Message] | None,
        prompt: str | None,
        params: dict[str, Any],
    ) -> Completion:
        params = dict(params)
        base_url = params.pop("base_url", None)
        api_base = params.pop("api_base", None) or base_url
        api_key = params.pop("api_key", None)
        timeout = params.pop("timeout", None)
        use_cache = params.pop("cache", True)
        sample_index = params.pop("sample_index", None)
        route = self._route(model, api_base, api_key)
        if route.settings.params:
            params = {**route.settings.params, **params}
        if route.label in ("sim", "registered") and sample_index is not None:
            params["sample_index"] = sample_index  # in-process backends may vary samples by it

        if self.cache is None or not use_cache or not is_cacheable(params, sample_index):
            return await self._make_call(
                route, model, kind, messages, prompt, params, timeout, None, sample_index
            )
        key = cache_key(model, kind, messages, prompt, params, sample_index)
        loop = asyncio.get_running_loop()
        while (leader := self._leaders.get(key)) is not None and leader.get_loop() is loop:
            try:  # the same request is in flight: wait for it, then find its result cached
                await asyncio.shield(leader)
            except asyncio.CancelledError:
                if not leader.cancelled():
                    raise
        leader_future: asyncio.Future[Completion] = loop.create_future()
        self._leaders[key] = leader_future  # registered before any await: followers see it
        try:
            hit = await self._lookup(key)
            if hit is not None:
                completion = self._served_from_cache(key, hit)
            else:
                completion = await self._make_call(
                    route, model, kind, messages, prompt, params, timeout, key, sample_index
                )
        except LLMError as exc:
            if not leader_future.done():
                leader_future.set_exception(exc)
                leader_future.exception()  # retrieved: followers re-raise it themselves
            raise
        except BaseException:
            if not leader_future.done():
                leader_future.cancel()  # followers see it and make the call themselves
            raise
        finally:
            if self._leaders.get(key) is leader_future:
                del self._leaders[key]
        if not leader_future.done():
            leader_future.set_result(completion)
        return completion

    async def _make_call(
        self,
        route: _Route,
        model: str,
        kind: str,
        messages: list[Message] | None,
        prompt: str | None,
        params: dict[str, Any],
        timeout: float | None,
        key: str | None,
        sample_index: int | None,
    ) -> Completion:
        accounts = (self.stats, *self._accounts.get())
        reservations = self._reserve(accounts, route, model, messages, prompt, params)
        self._in_flight += 1
        try:
            completion = await self._attempts(route, model, messages, prompt, params, timeout)
        except LLMError:
            for acct in accounts:
                acct.error()
            raise
        finally:
            self._in_flight -= 1
            for acct, reservation in reservations:
                acct.release(reservation)
            if key is None:
                self._maybe_flush()

        usage = completion.usage
        cost = price_cost(route.prices, usage.prompt_tokens, usage.completion_tokens)
        if cost is None:
            cost = completion.cost  # a backend that knows its own price (e.g. simulated profiles)
        completion.cost = cost
        route.completions_seen += 1
        route.completion_tokens_seen += usage.completion_tokens
        for acct in accounts:
            acct.charge(usage.prompt_tokens, usage.completion_tokens, cost)
        if key is not None:
            entry = CacheEntry(
                key=key,
                model=model,
                request={
                    "kind": kind,
                    "messages": messages,
                    "prompt": prompt,
                    "params": generation_params(params),
                    "sample_index": sample_index,
                },
                response=completion.model_dump(mode="json"),
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost=cost,
                latency_s=completion.latency_s,
            )
            with self._lock:
                self._pending[key] = entry
            self._maybe_flush()
        return completion

    def _reserve(
        self,
        accounts: Sequence[Account],
        route: _Route,
        model: str,
        messages: list[Message] | None,
        prompt: str | None,
        params: dict[str, Any],
    ) -> list[tuple[Account, Reservation]]:
        if not any(
            a.budget.max_calls is not None
            or a.budget.max_tokens is not None
            or a.budget.max_cost is not None
            for a in accounts
        ):
            return []
        prompt_tokens = estimate_prompt_tokens(messages, prompt)
        completion_tokens = int(
            params.get("max_tokens")
            or params.get("max_completion_tokens")
            or route.completion_estimate()
        )
        cost = price_cost(route.prices, prompt_tokens, completion_tokens)
        done: list[tuple[Account, Reservation]] = []
        try:
            for acct in accounts:
                done.append((acct, acct.reserve(model, prompt_tokens + completion_tokens, cost)))
        except BudgetExceeded:
            for acct, reservation in done:
                acct.release(reservation)
            raise
        return done

    async def _attempts(
        self,
        route: _Route,
        model: str,
        messages: list[Message] | None,
        prompt: str | None,
        params: dict[str, Any],
        timeout: float | None,
    ) -> Completion:
        if route.missing_key_env is not None:  # fails the same way every time: no request
            raise AuthenticationError(
                f"{model}: {route.missing_key_env} is not set (api_key_env of the model's "
                "settings); no request was sent",
                model=model,
            )
        limit_s = float(timeout) if timeout is not None else route.settings.timeout_s
        started = time.perf_counter()
        attempt = 0
        while True:
            if route.rate is not None:
                await route.rate.acquire()
            await route.concurrency.acquire()
            error: LLMError
            try:
                async with asyncio.timeout(limit_s):
                    completion = await route.backend.complete(model, messages, prompt, params)
            except LLMError as exc:
                error = exc
            except TimeoutError:
                error = TimeoutError_(
                    f"{model}: no complete reply within {limit_s:g}s", model=model
                )
            except Exception as exc:  # a backend bug or an unmapped client error: not retried
                error = LLMError(
                    f"{model}: {route.label} backend failed: {type(exc).__name__}: {exc}",
                    model=model,
                )
            else:
                route.concurrency.on_success()
                if not completion.latency_s:
                    completion.latency_s = time.perf_counter() - started
                return completion
            finally:
                route.concurrency.release()

            if isinstance(error, RateLimitError):
                route.concurrency.on_rate_limited(error.retry_after)
            error.attempts = attempt + 1
            error.model = error.model or model
            if not error.retryable or attempt >= route.retry.max_retries:
                log.warning("%s: giving up after %d attempt(s): %s", model, attempt + 1, error)
                raise error
            delay = route.retry.delay(attempt, error.retry_after)
            log.info(
                "%s: attempt %d failed (%s); retrying in %.2fs", model, attempt + 1, error, delay
            )
            await asyncio.sleep(delay)
            attempt += 1

    # --- cache plumbing -----------------------------------------------------------------------
    async def _lookup(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            pending = self._pending.get(key)
        if pending is not None:
            return pending.response
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        queue = self._lookups.setdefault(loop, [])
        queue.append((key, future))
        if len(queue) == 1:  # first of this tick: look every key queued this tick up at once
            loop.call_soon(self._run_lookups, loop)
        result: dict[str, Any] | None = await future
        return result

    def _run_lookups(self, loop: asyncio.AbstractEventLoop) -> None:
        batch = self._lookups.pop(loop, [])
        if not batch:
            return
        assert self.cache is not None
        try:
            found = self.cache.get_many(sorted({k for k, _ in batch}))
        except Exception as exc:  # a broken cache must not fail calls: treat as misses
            log.warning("call cache lookup failed (treated as misses): %s", redact(exc))
            found = {}
        for key, future in batch:
            if not future.done():
                future.set_result(found.get(key))

    def _served_from_cache(self, key: str, response: dict[str, Any]) -> Completion:
        # the reply keeps the cost it was bought for: rows built from it (after a resume, or
        # by a concurrent run) carry that cost and the ``cached`` mark; accounts charge nothing
        completion = Completion.model_validate(response)
        completion.cached = True
        completion.latency_s = 0.0
        for acct in (self.stats, *self._accounts.get()):
            acct.hit()
        with self._lock:
            self._pending_hits[key] += 1
        self._maybe_flush()
        return completion

    def _maybe_flush(self) -> None:
        """Write in batches: at once past ``_FLUSH_ROWS`` rows or ``_FLUSH_SECONDS``, else from a
        short-lived flusher task of the running loop. That task also flushes when it is
        cancelled, which is what ``asyncio.run`` does to leftover tasks as it ends, so a caller
        that makes one call and returns still persists it (an ``atexit`` hook is the last net)."""
        if self.cache is None or not (self._pending or self._pending_hits):
            return
        if (
            len(self._pending) + len(self._pending_hits) >= _FLUSH_ROWS
            or time.monotonic() - self._last_flush >= _FLUSH_SECONDS
        ):
            self.flush()
            return
        loop = asyncio.get_running_loop()
        if loop not in self._flushers:
            self._flushers[loop] = loop.create_task(self._flush_soon(loop))

    async def _flush_soon(self, loop: asyncio.AbstractEventLoop) -> None:
        try:
            await asyncio.sleep(_FLUSH_DELAY)
        finally:
            self._flushers.pop(loop, None)
            self.flush()

    def flush(self) -> None:
        """Write pending cache entries and hit counts now."""
        if self.cache is None:
            return
        with self._lock:
            entries, self._pending = list(self._pending.values()), {}
            hits, self._pending_hits = dict(self._pending_hits), Counter()
            self._last_flush = time.monotonic()
        try:
            if entries:
                for record in list(self._before_cache_writes):
                    record()
                self.cache.put_many(entries)
            if hits:
                self.cache.record_hits(hits)
        except Exception as exc:
            self.cache_write_errors += 1
            log.warning(
                "call cache write failed (%d entries dropped): %s", len(entries), redact(exc)
            )

    async def release_loop(self) -> None:
        """Flush the cache and close HTTP sessions bound to the running loop."""
        self.flush()
        for route in list(self._routes.values()):
            aclose = getattr(route.backend, "aclose", None)
            if aclose is not None:
                await aclose()

    async def aclose(self) -> None:
        await self.release_loop()

    # --- batches ------------------------------------------------------------------------------
    async def complete_many(
        self,
        requests: Iterable[LLMRequest | dict[str, Any] | tuple[Any, ...]],
        *,
        progress: bool = True,
        max_in_flight: int = 512,
        return_exceptions: bool = True,
        description: str = "LLM calls",
        errors: ErrorSink | None = None,
        run_id: str | None = None,
    ) -> list[Completion | LLMError]:
        """Run many calls; results in request order. Each is a :class:`Completion` or, with
        ``return_exceptions`` (default), the :class:`LLMError` that ended it (its reason).
        ``errors`` (e.g. a :class:`judgebench.db.Store`) gets one ``ErrorRecord`` per failed
        request (stage ``llm``, the model as subject, the reason as message, ``run_id``).
        Per-model concurrency is still the adaptive limit; ``max_in_flight`` bounds tasks."""
        items = [LLMRequest.coerce(r) for r in requests]
        results: list[Completion | LLMError | None] = [None] * len(items)
        next_index = 0
        bar = _ProgressBar(description, len(items)) if progress and items else None

        async def worker() -> None:
            nonlocal next_index
            while next_index < len(items):
                i = next_index
                next_index += 1
                req = items[i]
                try:
                    if req.messages is not None:
                        results[i] = await self.complete(req.model, req.messages, **req.params)
                    elif req.prompt is not None:
                        results[i] = await self.complete_text(req.model, req.prompt, **req.params)
                    else:
                        raise LLMError(
                            f"{req.model}: request has neither messages nor prompt", model=req.model
                        )
                except LLMError as exc:
                    results[i] = exc
                    if errors is not None:
                        _record_error(errors, req, exc, run_id)
                if bar is not None:
                    bar.advance(results[i])

        try:
            with bar if bar is not None else nullcontext():
                await asyncio.gather(*(worker() for _ in range(min(max_in_flight, len(items)))))
        finally:
            self.flush()
        out: list[Completion | LLMError] = [r for r in results if r is not None]
        if not return_exceptions:
            for r in out:
                if isinstance(r, LLMError):
                    raise r
        return out

    def complete_many_sync(
        self, requests: Iterable[Any], **kwargs: Any
    ) -> list[Completion | LLMError]:
        items = list(requests)
        return run_sync(lambda: self.complete_many(items, **kwargs))


class ErrorSink(Protocol):
    """Where failed calls are recorded (``judgebench.db.Store`` implements it)."""

    def record_error(self, error: ErrorRecord) -> None: ...


def _record_error(sink: ErrorSink, req: LLMRequest, exc: LLMError, run_id: str | None) -> None:
    reason = f"{exc.reason} (after {exc.attempts} attempt{'s' * (exc.attempts != 1)})"
    try:
        sink.record_error(
            ErrorRecord(stage="llm", subject=req.model, message=reason, run_id=run_id)
        )
    except Exception as failure:  # recording must not turn one failed call into a failed batch
        log.warning("could not record an LLM error (%s): %s", redact(failure), reason)


class _ProgressBar:
    """A rich progress bar counting done calls, cache hits and errors."""

    def __init__(self, description: str, total: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.hits = self.errors = 0
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("cached {task.fields[hits]} · errors {task.fields[errors]}"),
            TimeRemainingColumn(),
            transient=False,
        )
        self.task = self.progress.add_task(description, total=total, hits=0, errors=0)

    def advance(self, result: Any) -> None:
        if isinstance(result, LLMError):
            self.errors += 1
        elif getattr(result, "cached", False):
            self.hits += 1
        self.progress.update(self.task, advance=1, hits=self.hits, errors=self.errors)

    def __enter__(self) -> _ProgressBar:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()


def _make_sim_backend() -> Backend:
    from judgebench.sim import SimBackend

    backend: Backend = SimBackend()
    return backend


def backend_kind(model: str, cfg: ModelSettings) -> Literal["direct", "sim", "litellm"]:
    """Which backend serves ``model`` (absent a registered one): an ``api_base`` that is not
    litellm's is called directly, ``sim/`` names without one are simulated, the rest go
    through litellm. The gateway routes by it and pre-flight checks by it."""
    if cfg.api_base and cfg.backend != "litellm":
        return "direct"
    if model.split("/", 1)[0] == "sim" and not cfg.api_base:
        return "sim"
    return "litellm"


def _backend_prices(backend: Any, model: str) -> tuple[float, float] | None:
    """Prices a backend knows (``backend.prices(model) -> (in, out)`` USD per token), else for
    ``sim/<profile>`` models on any route, the simulated profile's prices (per million)."""
    prices = getattr(backend, "prices", None)
    try:
        if callable(prices):
            value = prices(model)
            if value is not None:
                return float(value[0]), float(value[1])
        if model.startswith("sim/"):
            from judgebench.sim import load_profile

            p = load_profile(model).prices
            return p.input / 1e6, p.output / 1e6
    except Exception:  # unknown model or profile: unknown price
        return None
    return None


# --- the default gateway and the module-level entry points -----------------------------------

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


async def complete_text(model: str, prompt: str, **params: Any) -> Completion:
    return await get_gateway().complete_text(model, prompt, **params)


async def complete_many(requests: Iterable[Any], **kwargs: Any) -> list[Completion | LLMError]:
    return await get_gateway().complete_many(requests, **kwargs)


async def gather_limited(
    factories: Sequence[Callable[[], Awaitable[T]]], limit: int = 32
) -> list[T]:
    sem = asyncio.Semaphore(limit)

    async def one(factory: Callable[[], Awaitable[T]]) -> T:
        async with sem:
            return await factory()

    return list(await asyncio.gather(*(one(f) for f in factories)))


async def _run_and_release(coro_factory: Callable[[], Awaitable[T]]) -> T:
    try:
        return await coro_factory()
    finally:
        for gateway in list(_LIVE):
            try:
                await gateway.release_loop()
            except Exception as exc:  # cleanup must not mask the result
                log.debug("releasing gateway resources failed: %s", redact(exc))


def run_sync(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine from sync code, also inside a running loop (Jupyter), without nest_asyncio.

    Inside a running loop the coroutine runs on a fresh loop in a worker thread. HTTP sessions
    opened on that loop are closed and pending cache writes flushed before returning.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_run_and_release(coro_factory))
    box: dict[str, Any] = {}

    def worker() -> None:
        try:
            box["value"] = asyncio.run(_run_and_release(coro_factory))
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


def complete_text_sync(model: str, prompt: str, **params: Any) -> Completion:
    return run_sync(lambda: complete_text(model, prompt, **params))


def complete_many_sync(requests: Iterable[Any], **kwargs: Any) -> list[Completion | LLMError]:
    items = list(requests)
    return run_sync(lambda: complete_many(items, **kwargs))
