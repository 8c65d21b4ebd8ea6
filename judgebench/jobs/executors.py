"""Where shards run: this process (asyncio) or a Ray cluster.

Both executors run the same shards (:func:`judgebench.jobs.pipeline.run_pipeline`, or
:func:`judgebench.jobs.stages.run_shard` for ``engine: staged``), so their results are
identical; Ray needs a store every worker can reach (PostgreSQL). The gateway's calls in flight
are capped per endpoint (model) at the job's ``concurrency``
(:meth:`judgebench.llm.Gateway.endpoint_cap`): by the runner for the whole run in this process,
by each Ray task in its worker process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from judgebench.jobs.pipeline import chunks_in_flight, run_pipeline, usage_logs
from judgebench.jobs.stages import JobContext, Shard, ShardResult, _Stop, run_shard

# Staged shards in flight at once in one process: the next chunk's calls start while the
# previous chunk's slowest calls finish, so a chunk boundary does not drain the concurrency.
_SHARDS_IN_FLIGHT = 3


class LocalExecutor:
    """Shards in this process; at most ``concurrency`` LLM calls in flight per endpoint, shared
    by every stage (staged shards: also ``concurrency`` work items in all)."""

    async def run(
        self,
        ctx: JobContext,
        shards: Sequence[Shard],
        *,
        store: Any,
        budget: Callable[[], Any],
        progress: Any,
        on_result: Callable[[ShardResult], None],
    ) -> list[ShardResult]:
        from judgebench.jobs.stages import ensure_gateway

        gateway = ensure_gateway(store)
        job = ctx.job
        calls = asyncio.Semaphore(job.concurrency)  # staged shards' work items
        pipelined = any(s.stage == "pipeline" for s in shards)
        window = chunks_in_flight(job.concurrency, job.chunk_size) if pipelined else 0
        shard_slots = asyncio.Semaphore(max(window, _SHARDS_IN_FLIGHT))
        stop = _Stop()
        results: list[ShardResult] = []

        async def one(shard: Shard) -> None:
            async with shard_slots:
                if stop.reason is not None:
                    return
                if shard.stage == "pipeline":
                    done = await run_pipeline(
                        ctx, shard, store=store, stop=stop, on_items=progress.advance, logs=logs
                    )
                else:
                    done = [
                        await run_shard(
                            ctx,
                            shard,
                            store=store,
                            semaphore=calls,
                            stop=stop,
                            on_items=lambda n, key=shard.label: progress.advance(key, n),
                        )
                    ]
                for result in done:
                    results.append(result)
                    on_result(result)

        # the runner caps calls per endpoint at job.concurrency around the whole run
        with (
            gateway.account(f"{ctx.run_id}:budget", budget()),
            usage_logs(gateway, store, ctx.run_id) as logs,
        ):
            await asyncio.gather(*(one(s) for s in shards))
        return results


class RayExecutor:
    """Shards as Ray tasks (``address``: a running cluster, or None for a local one started
    on 127.0.0.1). Each worker opens the store by URL and uses its call cache."""

    def __init__(
        self,
        address: str | None = None,
        *,
        num_cpus: int | None = None,
        temp_dir: str | None = None,
        max_in_flight: int = 8,
    ) -> None:
        self.address = address
        self.num_cpus = num_cpus
        self.temp_dir = temp_dir
        self.max_in_flight = max_in_flight

    def _init(self) -> Any:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        os.environ.setdefault("RAY_DISABLE_IMPORT_WARNING", "1")
        try:
            import ray
        except ImportError:
            from judgebench.errors import ConfigError

            raise ConfigError(
                "--executor ray needs the ray extra: pip install 'judgebench[ray]'"
            ) from None
        if ray.is_initialized():
            return ray
        if self.address:
            ray.init(address=self.address, log_to_driver=False)
            return ray
        bootstrap = Path.home() / "ray_bootstrap_config.yaml"
        if not bootstrap.exists():  # stops Ray probing cloud metadata addresses
            bootstrap.write_text("provider: {type: local}\n", encoding="utf-8")
        ray.init(
            address="local",
            num_cpus=self.num_cpus or 2,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            _temp_dir=self.temp_dir,
            log_to_driver=False,
            configure_logging=False,
        )
        return ray

    async def run(
        self,
        ctx: JobContext,
        shards: Sequence[Shard],
        *,
        store: Any,
        budget: Callable[[], Any],
        progress: Any,
        on_result: Callable[[ShardResult], None],
    ) -> list[ShardResult]:
        from judgebench.errors import ConfigError

        if store.dialect == "sqlite" and self.address:
            raise ConfigError(
                "--executor ray with a remote cluster needs a shared store (postgresql://...)"
            )
        ray = self._init()
        remote = ray.remote(_ray_shard)
        results: list[ShardResult] = []
        pending: dict[Any, Shard] = {}
        queue = list(shards)
        stopped: str | None = None
        while queue or pending:
            while queue and len(pending) < self.max_in_flight and stopped is None:
                shard = queue.pop(0)
                # a task's part of what is left: split between the tasks that can be in flight
                # together (one per chunk when pipelined: few shards get bigger parts)
                share = _share(budget(), min(self.max_in_flight, len(shards)))
                pending[remote.remote(ctx, shard, share)] = shard
            if not pending:
                break
            done, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1)
            for ref in done:
                pending.pop(ref)
                for found in await asyncio.to_thread(ray.get, ref):
                    result = ShardResult(**found)
                    results.append(result)
                    on_result(result)
                    progress.advance(result.shard_label, result.items + result.errors)
                    stopped = stopped or result.stopped
        return results


def _share(budget: Any, parts: int) -> Any:
    """A task's part of what is left, so that tasks in flight together stay under the cap."""
    from judgebench.llm import Budget

    def part(value):
        if value is None:
            return None
        return value / parts if isinstance(value, float) else max(value // parts, 0)

    return Budget(
        max_cost=part(budget.max_cost),
        max_tokens=part(budget.max_tokens),
        max_calls=part(budget.max_calls),
    )


def _ray_shard(ctx: JobContext, shard: Shard, budget: Any) -> list[dict[str, Any]]:
    """A Ray task: one shard in the worker's own event loop, gateway and store (a pipelined
    shard pipelines internally and reports one result per model and judge)."""
    from judgebench.jobs.stages import ensure_gateway, worker_store
    from judgebench.llm import run_sync

    store = worker_store(ctx.store_url)
    gateway = ensure_gateway(store)

    async def go() -> list[ShardResult]:
        with (
            gateway.endpoint_cap(ctx.job.concurrency),
            gateway.account(f"{ctx.run_id}:budget", budget),
        ):
            if shard.stage == "pipeline":
                return await run_pipeline(ctx, shard, store=store)
            return [await run_shard(ctx, shard, store=store)]

    return [r.as_dict() for r in run_sync(go)]
