"""The work of a job, in shards an executor can run anywhere (this process or a Ray worker).

A shard is one model (responses) or one judge (judgments) over a bounded chunk of query ids.
Running a shard reads what already exists by natural key, asks only for what is missing,
writes the new rows in one transaction per chunk and links every row it used to the run.
Prompts carry nonces seeded by the item's natural key, so a rerun sends byte-identical
requests: anything whose reply reached the call cache is never asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from judgebench.jobs.config import JobConfig, JudgeSpec, ModelSpec
from judgebench.records import ErrorRecord, Judgment, Query, Response, content_key

STOP_MARK = "BudgetExceeded"


@dataclass(frozen=True)
class JobContext:
    """What a worker needs to run shards of one run (picklable: it crosses to Ray workers)."""

    config: dict[str, Any]
    run_id: str
    store_url: str
    sample_index: int = 0
    taxonomy_version: int | None = None

    @property
    def job(self) -> JobConfig:
        return JobConfig.model_validate(self.config)


@dataclass(frozen=True)
class Shard:
    stage: str  # responses | judgments
    index: int  # model index (responses) or judge index (judgments)
    query_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        return f"{self.stage}[{self.index}]"


@dataclass
class ShardResult:
    shard_label: str
    items: int = 0  # work items covered (done now or before)
    new_rows: int = 0
    reused: int = 0
    errors: int = 0
    stopped: str | None = None  # the budget's reason when a call was refused
    usage: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- keys ---------------------------------------------------------------------------------------


def response_key(query_id: str, model: ModelSpec, sample_index: int) -> str:
    return Response.natural_key(query_id, model.name, model.params, sample_index)


def model_pairs(job: JobConfig, spec: JudgeSpec) -> list[tuple[ModelSpec, ModelSpec]]:
    """The pairs a pairwise judge compares: each model against the baseline, or every pair
    (in the job's model order, so adding a model only adds pairs)."""
    if spec.baseline is not None:
        base = next(m for m in job.models if m.name == spec.baseline)
        return [(m, base) for m in job.models if m.name != spec.baseline]
    return list(combinations(job.models, 2))


def units_per_query(job: JobConfig, spec: JudgeSpec) -> int:
    return len(job.models) if spec.kind == "pc2" else len(model_pairs(job, spec))


# --- judges ---------------------------------------------------------------------------------------


def build_judge(spec: JudgeSpec, store: Any, concurrency: int) -> Any:
    from judgebench.judges import PairwiseJudge, PC2Judge

    common = dict(max_repairs=spec.max_repairs, concurrency=concurrency, **spec.options)
    if spec.kind == "pc2":
        from judgebench.db.criteria import SqlCriteriaStore

        return PC2Judge(
            spec.model,
            aux_models=spec.aux_models,
            criteria_store=_CacheFirst(SqlCriteriaStore(store)),
            **common,
        )
    return PairwiseJudge(spec.model, both_orders=spec.both_orders, **common)


class _CacheFirst:
    """A criteria store whose writes first flush the gateway's call cache: criteria are stored
    the moment they exist, and a kill must not leave criteria whose calls were never recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def get_criteria(self, key: str) -> Any:
        return self.inner.get_criteria(key)

    def put_criteria(self, key: str, query_id: str, judge_model: str, payload: Any) -> None:
        from judgebench.llm import get_gateway

        get_gateway().flush()
        self.inner.put_criteria(key, query_id, judge_model, payload)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def judge_template_hash(judge: Any) -> str:
    from judgebench.judges.base import combined_hash

    if judge.name == "pc2":
        return combined_hash(
            judge.template("pc2_criteria"),
            judge.template("pc2_baseline"),
            judge.template("pc2_score"),
        )
    return judge.template("pairwise").hash


# --- the worker side ------------------------------------------------------------------------------

_WORKER_STATE: dict[str, Any] = {}


def worker_store(url: str) -> Any:
    """One Store (and one cached gateway) per worker process and URL."""
    from judgebench.db import Store

    store = _WORKER_STATE.get(url)
    if store is None:
        store = Store(url)
        _WORKER_STATE[url] = store
    return store


def ensure_gateway(store: Any) -> Any:
    """The current gateway, given the store's call cache if it has none (Ray workers)."""
    from judgebench.llm import Gateway, get_gateway, set_gateway

    gateway = get_gateway()
    if gateway.cache is None:
        from judgebench.db.callcache import SQLCallCache

        gateway = Gateway(cache=SQLCallCache(store))
        set_gateway(gateway)
    return gateway


class _Stop:
    """Shared between the items of a stage: once a call is refused by the budget, no new item
    starts (items in flight finish and are kept)."""

    def __init__(self) -> None:
        self.reason: str | None = None


async def run_shard(
    ctx: JobContext,
    shard: Shard,
    *,
    store: Any,
    semaphore: asyncio.Semaphore | None = None,
    stop: _Stop | None = None,
    on_items: Any = None,
) -> ShardResult:
    """Run one shard; returns what it did. ``on_items(n)`` reports progress."""
    job = ctx.job
    gateway = ensure_gateway(store)
    semaphore = semaphore or asyncio.Semaphore(job.concurrency)
    stop = stop or _Stop()
    result = ShardResult(shard.label)
    with gateway.account(f"{ctx.run_id}:{shard.label}") as acct:
        if shard.stage == "responses":
            await _responses(ctx, job, shard, store, semaphore, stop, result, on_items)
        else:
            await _judgments(ctx, job, shard, store, semaphore, stop, result, on_items)
    result.usage = {
        "calls": acct.calls,
        "cache_hits": acct.cache_hits,
        "errors": acct.errors,
        "prompt_tokens": acct.prompt_tokens,
        "completion_tokens": acct.completion_tokens,
        "cost": acct.cost,
        "calls_without_price": acct.calls_without_price,
    }
    result.stopped = result.stopped or stop.reason
    return result


async def _bounded(semaphore: asyncio.Semaphore, stop: _Stop, factory: Any) -> Any:
    async with semaphore:
        if stop.reason is not None:
            return None
        return await factory()


async def _responses(ctx, job, shard, store, semaphore, stop, result, on_items) -> None:  # type: ignore[no-untyped-def]
    from judgebench.db.models import ResponseRow
    from judgebench.llm import BudgetExceeded, LLMError, get_gateway

    model = job.models[shard.index]
    keys = {qid: response_key(qid, model, ctx.sample_index) for qid in shard.query_ids}
    existing = store.existing_ids(ResponseRow, keys.values())
    missing = [qid for qid, key in keys.items() if key not in existing]
    queries = {q.id: q for q in store.get_queries(ids=missing)} if missing else {}
    gateway = get_gateway()
    errors: list[ErrorRecord] = []

    async def ask(query: Query) -> Response | None:
        try:
            c = await gateway.complete(
                model.name,
                [{"role": "user", "content": query.text}],
                **model.params,
                sample_index=ctx.sample_index,
            )
        except BudgetExceeded as exc:
            stop.reason = stop.reason or str(exc)
            return None
        except LLMError as exc:
            errors.append(
                ErrorRecord(
                    stage="job.responses",
                    subject=f"{model.name} on query {query.id}",
                    message=f"{type(exc).__name__}: {exc}",
                    run_id=ctx.run_id,
                )
            )
            return None
        finally:
            if on_items:
                on_items(1)
        return Response(
            query_id=query.id,
            model=model.name,
            text=c.text,
            params=model.params,
            sample_index=ctx.sample_index,
            usage=c.usage,
            latency_s=c.latency_s,
            cost=c.cost,
            run_id=ctx.run_id,
        )

    if on_items and len(existing):
        on_items(len(existing))
    done = await asyncio.gather(
        *(
            _bounded(semaphore, stop, lambda q=queries[qid]: ask(q))
            for qid in missing
            if qid in queries
        )
    )
    new = [r for r in done if r is not None]
    _commit(store, ctx, "response", new, [k for k in keys.values() if k in existing], errors)
    result.items = len(keys)
    result.new_rows = len(new)
    result.reused = len(existing)
    result.errors = len(errors)


async def _judgments(ctx, job, shard, store, semaphore, stop, result, on_items) -> None:  # type: ignore[no-untyped-def]
    from judgebench.db.models import JudgmentRow
    from judgebench.prompts import seeded_nonces

    spec = job.judges[shard.index]
    judge = build_judge(spec, store, job.concurrency)
    template_hash = judge_template_hash(judge)
    params = judge.params()
    queries = {q.id: q for q in store.get_queries(ids=list(shard.query_ids))}
    wanted_models = (
        job.models
        if spec.kind == "pc2"
        else list({m.name: m for pair in model_pairs(job, spec) for m in pair}.values())
    )
    rkeys = {
        (qid, m.name): response_key(qid, m, ctx.sample_index)
        for qid in shard.query_ids
        for m in wanted_models
    }
    responses = {r.id: r for r in store.get_responses(ids=list(rkeys.values()))}
    responses = {
        k: responses[v] for k, v in rkeys.items() if v in responses and responses[v].status == "ok"
    }

    # (judgment id, query, response a, response b)
    items: list[tuple[str, Query, Response, Response | None]] = []
    for qid in shard.query_ids:
        q = queries.get(qid)
        if q is None:
            continue
        if spec.kind == "pc2":
            for m in job.models:
                r = responses.get((qid, m.name))
                if r is not None:
                    jid = Judgment.natural_key(
                        judge.name, judge.model, template_hash, params, qid, r.id
                    )
                    items.append((jid, q, r, None))
        else:
            for a, b in model_pairs(job, spec):
                ra, rb = responses.get((qid, a.name)), responses.get((qid, b.name))
                if ra is not None and rb is not None:
                    jid = Judgment.natural_key(
                        judge.name, judge.model, template_hash, params, qid, ra.id, rb.id
                    )
                    items.append((jid, q, ra, rb))
    existing = store.existing_ids(JudgmentRow, [i[0] for i in items])
    todo = [i for i in items if i[0] not in existing]
    skipped = len(shard.query_ids) * units_per_query(job, spec) - len(items)
    if on_items and (len(existing) + skipped):
        on_items(len(existing) + skipped)
    errors: list[ErrorRecord] = []

    if spec.kind == "pc2":
        # criteria once per query, each under its own key's nonces (whoever computes it first)
        need = list({q.id: q for _, q, _, _ in todo}.values())

        async def prepare(q: Query) -> None:
            from judgebench.judges import CriteriaUnavailable

            # a failure here is recorded by evaluate() as an invalid/error judgment with the reason
            with seeded_nonces(judge.criteria_key(q)), contextlib.suppress(CriteriaUnavailable):
                await judge.prepare(q)

        await asyncio.gather(*(_bounded(semaphore, stop, lambda q=q: prepare(q)) for q in need))

    async def judge_one(jid: str, q: Query, a: Response, b: Response | None) -> Judgment | None:
        try:
            with seeded_nonces(jid):
                if b is None:
                    j = await judge.evaluate(q, a)
                else:
                    j = await judge.evaluate_pair(q, a, b)
        finally:
            if on_items:
                on_items(1)
        if j.status == "error":
            if STOP_MARK in (j.reason or ""):
                stop.reason = stop.reason or (j.reason or "").split(f"{STOP_MARK}: ", 1)[-1]
                return None
            errors.append(
                ErrorRecord(
                    stage="job.judgments",
                    subject=f"{spec.kind}:{spec.model} on {j.model} query {q.id}",
                    message=j.reason or "error",
                    run_id=ctx.run_id,
                )
            )
            return None  # transport failures are retried by the next run, not stored as results
        if j.id != jid:  # pragma: no cover - a judge changed how its natural key is built
            raise RuntimeError(f"judgment key drifted for {spec.kind}: expected {jid}, got {j.id}")
        return j.model_copy(update={"run_id": ctx.run_id, "taxonomy_version": ctx.taxonomy_version})

    done = await asyncio.gather(
        *(_bounded(semaphore, stop, lambda it=it: judge_one(*it)) for it in todo)
    )
    new = [j for j in done if j is not None]
    _commit(store, ctx, "judgment", new, [i[0] for i in items if i[0] in existing], errors)
    result.items = len(items)
    result.new_rows = len(new)
    result.reused = len(existing)
    result.errors = len(errors)


def _commit(store, ctx, kind, new, reused_ids, errors) -> None:  # type: ignore[no-untyped-def]
    """New rows and their run links in one transaction (a kill leaves all or none)."""
    from judgebench.llm import get_gateway

    # the replies these rows came from reach the call cache first: a kill between the two
    # leaves cached replies (a rerun reuses them), never rows whose calls were not recorded
    get_gateway().flush()
    with store.session() as s:
        if kind == "response":
            store.put_responses(new, session=s)
        else:
            store.put_judgments(new, session=s)
        store.link_run_items(ctx.run_id, kind, [*(x.id for x in new), *reused_ids], session=s)
        for e in errors:
            store.record_error(e, session=s)


def epoch_sample_index(epoch: str | None) -> int:
    """A stable sample identity for a scheduled execution (fits a 32-bit column)."""
    if not epoch:
        return 0
    return int(content_key("epoch", epoch)[:7], 16)
