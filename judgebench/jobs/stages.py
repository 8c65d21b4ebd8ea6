"""The work of a job, in shards an executor can run anywhere (this process or a Ray worker).

A shard is one model (responses) or one judge (judgments) over a bounded chunk of query ids.
Running a shard reads what already exists by natural key, asks only for what is missing,
writes the new rows in one transaction per chunk and links every row it used to the run.
Prompts carry nonces seeded by the item's natural key, so a rerun sends byte-identical
requests: anything whose reply reached the call cache is never asked again.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from judgebench.jobs.config import JobConfig, JudgeSpec, ModelSpec
from judgebench.jobs.usage import UsageLog, usage_keys
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
    stage: str  # responses | judgments | pipeline (every model and judge of the chunk)
    index: int  # model index (responses) or judge index (judgments)
    query_ids: tuple[str, ...]
    judges: tuple[int, ...] | None = None  # pipeline: the judges it runs (None: all)

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
    usage_recorded: bool = False  # already in job_usage (written per call by a UsageLog)

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
    """Judgments a judge stores per query: one per pair (pairwise), else one per model."""
    return len(model_pairs(job, spec)) if spec.shape == "pairwise" else len(job.models)


def judge_groups(job: JobConfig, spec: JudgeSpec) -> list[tuple[ModelSpec, ...]]:
    """The models whose responses a judge takes together, per query: a pair (pairwise), every
    model (listwise: one ranking per query), or each model alone (the other shapes)."""
    if spec.shape == "pairwise":
        return [tuple(pair) for pair in model_pairs(job, spec)]
    if spec.shape == "listwise":
        return [tuple(job.models)]
    return [(m,) for m in job.models]


# --- judges ---------------------------------------------------------------------------------------


def build_judge(spec: JudgeSpec, store: Any, concurrency: int) -> Any:
    """Any registered judge from its validated settings, with the store's artefact table.
    Likelihood judges are built once per worker (a local model loads once, not per chunk)."""
    from judgebench.db.criteria import SqlCriteriaStore
    from judgebench.judges.base import JobResources
    from judgebench.judges.registry import JUDGES

    key = content_key("judge", store.url, spec.model_dump(mode="json"), concurrency)
    if key in _LOADED_JUDGES:
        return _LOADED_JUDGES[key]
    resources = JobResources(
        concurrency=concurrency, artefacts=_CacheFirst(SqlCriteriaStore(store)), store=store
    )
    judge = JUDGES.get(spec.kind).from_settings(spec.settings, resources)
    if judge.shape == "likelihood":
        if len(_LOADED_JUDGES) >= 4:  # a few models at most stay loaded
            _LOADED_JUDGES.pop(next(iter(_LOADED_JUDGES)))
        _LOADED_JUDGES[key] = judge
    return judge


_LOADED_JUDGES: dict[str, Any] = {}
_ABSENT = object()  # a remembered miss of _CacheFirst


class _CacheFirst:
    """An artefact store whose writes first flush the gateway's call cache: artefacts are
    stored the moment they exist, and a kill must not leave ones whose calls were not recorded.
    The latest ``keep`` artefacts stay in memory (each of a query's judgments reads its
    criteria: a read from the store per judgment was a job's largest cost after the calls), and
    so do recent misses: PC² looks a key up again under its lock right after a miss, and this
    wrapper lives for one chunk, where nothing but its own ``put_criteria`` writes the chunk's
    keys (were another process to, its row would still win: see ``put_criteria``)."""

    def __init__(self, inner: Any, keep: int = 2048) -> None:
        self.inner = inner
        self.keep = keep
        self._recent: OrderedDict[str, Any] = OrderedDict()

    def get_criteria(self, key: str) -> Any:
        if key in self._recent:
            self._recent.move_to_end(key)
            found = self._recent[key]
            return None if found is _ABSENT else found
        found = self.inner.get_criteria(key)
        self._remember(key, _ABSENT if found is None else found)
        return found

    def put_criteria(self, key: str, query_id: str, judge_model: str, payload: Any) -> None:
        from judgebench.llm import get_gateway

        get_gateway().flush()
        if self.inner.put_criteria(key, query_id, judge_model, payload):
            self._remember(key, payload)  # stored as given: no read back
        else:  # insert-or-ignore: a concurrent writer's row won (or the store does not say)
            self._recent.pop(key, None)

    def _remember(self, key: str, payload: Any) -> None:
        self._recent[key] = payload
        if len(self._recent) > self.keep:
            self._recent.popitem(last=False)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


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
    result = ShardResult(shard.label, usage_recorded=True)
    # usage reaches job_usage as calls are made: a shard killed mid-way keeps its calls' usage
    usage_log = UsageLog(store, usage_keys(ctx.run_id, shard.stage))
    with gateway.account(f"{ctx.run_id}:{shard.label}", on_change=usage_log) as acct:
        try:
            if shard.stage == "responses":
                await _responses(ctx, job, shard, store, semaphore, stop, result, on_items)
            else:
                await _judgments(ctx, job, shard, store, semaphore, stop, result, on_items)
        finally:
            usage_log.close()
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


async def ask_response(
    ctx: JobContext, model: ModelSpec, query: Query, stop: _Stop, errors: list[ErrorRecord]
) -> Response | None:
    """One model's response to one query; None after a budget refusal (``stop`` says why)
    or a failed call (an ErrorRecord in ``errors``, retried by the next run)."""
    from judgebench.llm import BudgetExceeded, LLMError, get_gateway

    try:
        c = await get_gateway().complete(
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
    return Response(
        query_id=query.id,
        model=model.name,
        text=c.text,
        params=model.params,
        sample_index=ctx.sample_index,
        usage=c.usage,
        latency_s=c.latency_s,
        cost=c.cost,
        cached=c.cached,
        run_id=ctx.run_id,
    )


async def _responses(ctx, job, shard, store, semaphore, stop, result, on_items) -> None:
    from judgebench.db.models import ResponseRow

    model = job.models[shard.index]
    keys = {qid: response_key(qid, model, ctx.sample_index) for qid in shard.query_ids}
    existing = store.existing_ids(ResponseRow, keys.values())
    missing = [qid for qid, key in keys.items() if key not in existing]
    queries = {q.id: q for q in store.get_queries(ids=missing)} if missing else {}
    errors: list[ErrorRecord] = []

    async def ask(query: Query) -> Response | None:
        try:
            return await ask_response(ctx, model, query, stop, errors)
        finally:
            if on_items:
                on_items(1)

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


@dataclass
class _Unit:
    """Responses a judge takes together for one query, and the keys of what that stores."""

    keys: list[str]
    query: Query
    responses: list[Response]


def _units(ctx, job, spec, judge, shard, store) -> list[_Unit]:
    """Every unit of the shard whose responses all exist (the others are skipped)."""
    groups = judge_groups(job, spec)
    wanted = list({m.name: m for group in groups for m in group}.values())
    queries = {q.id: q for q in store.get_queries(ids=list(shard.query_ids))}
    rkeys = {
        (qid, m.name): response_key(qid, m, ctx.sample_index)
        for qid in shard.query_ids
        for m in wanted
    }
    found = {r.id: r for r in store.get_responses(ids=list(rkeys.values()))}
    responses = {k: found[v] for k, v in rkeys.items() if v in found and found[v].status == "ok"}
    units = []
    for qid in shard.query_ids:
        q = queries.get(qid)
        if q is None:
            continue
        for group in groups:
            rs = [responses.get((qid, m.name)) for m in group]
            if all(r is not None for r in rs):
                ok = [r for r in rs if r is not None]
                units.append(_Unit(judge.unit_keys(qid, [r.id for r in ok]), q, ok))
    return units


async def _judge_units(judge: Any, units: list[_Unit], gate: Any) -> list[list[Judgment]]:
    """Each unit's judgments, by the judge's shape (its contract in judgebench.judges.base);
    ``gate(factory)`` runs one unit within the job's concurrency and budget stop."""
    from judgebench.prompts import seeded_nonces

    shape = judge.shape
    if shape == "likelihood":  # one batch: a local model scores many pairs per forward pass
        items = [(u.query, u.responses[0]) for u in units]
        with seeded_nonces(content_key("likelihood", *(u.keys[0] for u in units))):
            scored = await gate(lambda: judge.score_many(items))
        return [[j] for j in scored] if scored is not None else [[] for _ in units]

    async def one(u: _Unit) -> list[Judgment]:
        with seeded_nonces(u.keys[0]):
            if shape == "pairwise":
                return [await judge.evaluate_pair(u.query, *u.responses)]
            if shape == "listwise":
                ranked = await judge.rank(u.query, u.responses)
                return [*ranked.judgments, *ranked.comparisons]
            return [await judge.evaluate(u.query, u.responses[0])]

    done = await asyncio.gather(*(gate(lambda u=u: one(u)) for u in units))
    return [d or [] for d in done]


def settle(ctx, spec, unit, judged, stop, error) -> tuple[list[Judgment], list[Judgment]]:
    """What a judged unit stores: (its judgments, extra rows such as a ranking's
    comparisons), stamped with the run; nothing after a budget refusal, or after a failed call
    (``error(subject, message)`` records it; the next run retries it)."""
    if not judged or _stopped_by_budget(judged, stop):
        return [], []
    failed = next((j for j in judged if j.status == "error"), None)
    if failed is not None:
        # every item of the unit failed with it (a ranking: each candidate), one row each, so
        # the run's error count says how many items failed and none reads as "skipped"
        for item in judged[: len(unit.keys)] or [failed]:
            error(f"{item.model} query {unit.query.id}", failed.reason or "error")
        return [], []
    main, rest = judged[: len(unit.keys)], judged[len(unit.keys) :]
    if [j.id for j in main] != unit.keys:  # pragma: no cover - a judge changed its keys
        raise RuntimeError(f"judgment keys drifted for {spec.label}: {unit.keys}")
    stamp = {"run_id": ctx.run_id, "taxonomy_version": ctx.taxonomy_version}
    return [j.model_copy(update=stamp) for j in main], [j.model_copy(update=stamp) for j in rest]


def preparation_failed(exc: Exception, stop: _Stop) -> str | None:
    """A judge's ``prepare_run`` raised: a budget refusal stops the stage (None is returned);
    anything else is returned as the error to record."""
    message = f"{type(exc).__name__}: {exc}"
    if STOP_MARK in message:
        stop.reason = stop.reason or message.split(f"{STOP_MARK}: ", 1)[-1]
        return None
    return message


def _stopped_by_budget(judgments: list[Judgment], stop: _Stop) -> bool:
    for j in judgments:
        if j.status == "error" and STOP_MARK in (j.reason or ""):
            stop.reason = stop.reason or (j.reason or "").split(f"{STOP_MARK}: ", 1)[-1]
            return True
    return False


async def _judgments(ctx, job, shard, store, semaphore, stop, result, on_items) -> None:
    from judgebench.db.models import JudgmentRow

    spec = job.judges[shard.index]
    judge = build_judge(spec, store, job.concurrency)
    units = _units(ctx, job, spec, judge, shard, store)
    existing = store.existing_ids(JudgmentRow, [k for u in units for k in u.keys])
    todo = [u for u in units if not all(k in existing for k in u.keys)]
    reused = [k for u in units if u not in todo for k in u.keys]
    skipped = len(shard.query_ids) * units_per_query(job, spec) - sum(len(u.keys) for u in units)
    if on_items and (len(reused) + skipped):
        on_items(len(reused) + skipped)
    errors: list[ErrorRecord] = []

    def error(subject: str, message: str) -> None:
        errors.append(
            ErrorRecord(
                stage="job.judgments",
                subject=f"{spec.label} on {subject}",
                message=message,
                run_id=ctx.run_id,
            )
        )

    if todo:
        try:
            await judge.prepare_run()
        except Exception as exc:  # e.g. a calibration cut short: nothing is judged with it
            failure = preparation_failed(exc, stop)
            if failure:
                error("run preparation", failure)
            todo = []

    async def gate(factory: Any) -> Any:
        return await _bounded(semaphore, stop, factory)

    # per-query work shared by every unit of the query (PC² criteria) goes first
    need = list({u.query.id: u.query for u in todo}.values())
    await asyncio.gather(*(gate(lambda q=q: judge.prepare_query(q)) for q in need))
    outcomes = await _judge_units(judge, todo, gate)
    new: list[Judgment] = []
    extra: list[Judgment] = []  # what a ranking stores besides its candidates (comparisons)
    for u, judged in zip(todo, outcomes, strict=True):
        if on_items:
            on_items(len(u.keys))
        main, rest = settle(ctx, spec, u, judged, stop, error)
        new += main
        extra += rest
    _commit(store, ctx, "judgment", new, reused, errors, extra=extra)
    result.items = sum(len(u.keys) for u in units)
    result.new_rows = len(new)
    result.reused = len(reused)
    result.errors = len(errors)


def _commit(store, ctx, kind, new, reused_ids, errors, extra=()) -> None:
    """New rows and their run links in one transaction (a kill leaves all or none);
    ``extra``: judgments stored with them but not work items of their own (a ranking's
    comparisons, linked as ``comparison``)."""
    from judgebench.llm import get_gateway

    # the replies these rows came from reach the call cache first: a kill between the two
    # leaves cached replies (a rerun reuses them), never rows whose calls were not recorded
    get_gateway().flush()
    with store.session() as s:
        if kind == "response":
            store.put_responses(new, session=s)
        else:
            store.put_judgments([*new, *extra], session=s)
        store.link_run_items(ctx.run_id, kind, [*(x.id for x in new), *reused_ids], session=s)
        if extra:
            store.link_run_items(ctx.run_id, "comparison", [x.id for x in extra], session=s)
        for e in errors:
            store.record_error(e, session=s)


def epoch_sample_index(epoch: str | None) -> int:
    """A stable sample identity for a scheduled execution (fits a 32-bit column)."""
    if not epoch:
        return 0
    return int(content_key("epoch", epoch)[:7], 16)
