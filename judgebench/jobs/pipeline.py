"""The pipelined engine: one shard is a chunk of queries taken through responses AND judgments,
with no barrier between them.

A judge's work on a query starts as soon as the responses it needs exist: PC² criteria and
auxiliary answers as soon as the query is read, a pointwise judgment as soon as its model's
response is back, a pairwise one when both are, a ranking when all are (a likelihood judge
scores its chunk in one batch once the chunk's responses are in, since a local model wants
batches). Nothing here bounds calls: every call of every stage (responses, auxiliary answers,
criteria, judgments, synthesis) waits only for its endpoint's slot in the gateway's adaptive
limit, which the runner caps at the job's ``concurrency`` per model
(:meth:`judgebench.llm.Gateway.endpoint_cap`), so a slow or rate-limited provider holds up only
the work that needs it and a job has at most ``concurrency`` × endpoints calls in flight. While
an endpoint is full its callers wait by priority (:data:`PREPARE` before :data:`WORK`, then
older chunks first), so the busiest endpoint is never starved of work another one holds back.

Finished rows go to a :class:`Committer`: one transaction per batch of finished items (not per
stage chunk), in the order they finished, after the call cache is flushed — so a judgment is
never stored before the response it used, and a kill leaves only whole batches. Memory is
bounded by the window of chunks in flight (:func:`chunks_in_flight`): a chunk's tasks are
spawned when it starts, none beyond the window. Usage is written before each cache write
(:func:`usage_logs`). Everything else — natural keys, zero-call reruns, budgets, run links,
errors as rows — is shared with the staged engine (:mod:`judgebench.jobs.stages`).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import itertools
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

from judgebench.jobs.stages import (
    JobContext,
    Shard,
    ShardResult,
    _Stop,
    _Unit,
    ask_response,
    build_judge,
    ensure_gateway,
    judge_groups,
    preparation_failed,
    response_key,
    settle,
    units_per_query,
)
from judgebench.jobs.usage import UsageLog, usage_keys
from judgebench.llm.limits import call_priority, set_call_priority
from judgebench.records import ErrorRecord, Judgment, Query, Response

STAGES = ("responses", "judgments")
# Call priorities at every endpoint (lower first), then the chunk's sequence number: what
# unblocks a query's judgments (its preparation) first, then older chunks' work first, so a
# chunk finishes and frees its place in the window for the next one.
PREPARE, WORK = 0, 1
_CHUNKS = itertools.count()
COMMIT_ROWS = 200  # rows per transaction
COMMIT_EVERY_S = 1.0  # and at least this often while rows wait


@dataclass
class _Batch:
    responses: list[Response] = field(default_factory=list)
    judgments: list[Judgment] = field(default_factory=list)
    comparisons: list[Judgment] = field(default_factory=list)
    reused: dict[str, list[str]] = field(default_factory=dict)  # item kind -> ids to link
    errors: list[ErrorRecord] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.responses) + len(self.judgments) + len(self.comparisons)


class Committer:
    """Batches finished rows into transactions: ``COMMIT_ROWS`` rows or ``COMMIT_EVERY_S``,
    whichever comes first, in the order they finished."""

    def __init__(self, store: Any, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.batch = _Batch()
        self._last = time.monotonic()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, **rows: list[Any]) -> None:
        for name, items in rows.items():
            getattr(self.batch, name).extend(items)
        if len(self.batch) >= COMMIT_ROWS or time.monotonic() - self._last >= COMMIT_EVERY_S:
            self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(COMMIT_EVERY_S, self.flush)

    def link(self, kind: str, ids: list[str]) -> None:
        self.batch.reused.setdefault(kind, []).extend(ids)

    def flush(self) -> None:
        """One transaction for the batch (the call cache first: never rows whose calls were
        not recorded)."""
        from judgebench.llm import get_gateway

        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self.batch, self._last = self.batch, _Batch(), time.monotonic()
        if not len(batch) and not batch.reused and not batch.errors:
            return
        get_gateway().flush()
        store, run = self.store, self.run_id
        with store.session() as s:
            store.put_responses(batch.responses, session=s)
            store.put_judgments([*batch.judgments, *batch.comparisons], session=s)
            links = {
                "response": [r.id for r in batch.responses],
                "judgment": [j.id for j in batch.judgments],
                "comparison": [j.id for j in batch.comparisons],
            }
            for kind, ids in batch.reused.items():
                links[kind] = links.get(kind, []) + ids
            for kind, ids in links.items():
                if ids:
                    store.link_run_items(run, kind, ids, session=s)
            for e in batch.errors:
                store.record_error(e, session=s)


def chunks_in_flight(concurrency: int, chunk_size: int) -> int:
    """How many chunks a process pipelines at once: at least three (the next chunk's calls
    start while the previous chunk's slowest finish), and enough queries that every endpoint
    can fill its ``concurrency`` slots twice over even when chunks are small. This window is
    the only bound the pipeline adds, and it bounds memory, not calls."""
    return max(3, -(-2 * concurrency // max(chunk_size, 1)) + 1)


@contextlib.contextmanager
def usage_logs(gateway: Any, store: Any, run_id: str) -> Iterator[dict[str, UsageLog]]:
    """One usage log per part of the run (responses, judgments; every chunk and label of the
    part shares it), written before each write of the call cache: the usage of every stored
    reply is recorded, so a kill loses only the usage of calls whose replies were not stored."""
    logs = {part: UsageLog(store, usage_keys(run_id, part)) for part in STAGES}

    def record() -> None:
        for log in logs.values():
            log.flush()

    try:
        with gateway.recording_first(record):
            yield logs
    finally:
        for log in logs.values():
            log.close()


def _account(gateway: Any, ctx: JobContext, label: str, log: UsageLog, seq: int) -> tuple[Any, Any]:
    """(context to run a label's tasks in, its account): calls made by those tasks are charged
    to the label, and written to ``log`` (its part of the run: responses or judgments), with
    the priority of chunk ``seq``'s work."""
    with gateway.account(f"{ctx.run_id}:{label}", on_change=log) as acct:
        context = contextvars.copy_context()
    context.run(set_call_priority, WORK, seq)
    return context, acct


class _Labelled:
    """The tasks, counters and account of one model (responses[i]) or one judge (judgments[j])."""

    def __init__(self, gateway, ctx, label, log, on_items, seq) -> None:
        self.label = label
        self.result = ShardResult(label, usage_recorded=True)
        self.context, self.acct = _account(gateway, ctx, label, log, seq)
        self.on_items = on_items
        self.tasks: list[asyncio.Task[Any]] = []

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, context=self.context)
        self.tasks.append(task)
        return task

    def advance(self, n: int) -> None:
        if n and self.on_items:
            self.on_items(self.label, n)

    def finish(self, stop: _Stop) -> ShardResult:
        a = self.acct
        self.result.usage = {
            "calls": a.calls,
            "cache_hits": a.cache_hits,
            "errors": a.errors,
            "prompt_tokens": a.prompt_tokens,
            "completion_tokens": a.completion_tokens,
            "cost": a.cost,
            "calls_without_price": a.calls_without_price,
        }
        self.result.stopped = stop.reason
        return self.result


async def run_pipeline(
    ctx: JobContext,
    shard: Shard,
    *,
    store: Any,
    stop: _Stop | None = None,
    on_items: Callable[[str, int], None] | None = None,
    logs: dict[str, UsageLog] | None = None,
) -> list[ShardResult]:
    """Run one chunk through every model and judge; one result per model and per judge.
    ``logs``: the run's :func:`usage_logs` (shared by the chunks in flight), else its own."""
    gateway = ensure_gateway(store)
    own = usage_logs(gateway, store, ctx.run_id) if logs is None else contextlib.nullcontext(logs)
    with own as parts:
        return await _run_chunk(ctx, shard, gateway, store, stop or _Stop(), on_items, parts)


async def _run_chunk(ctx, shard, gateway, store, stop, on_items, logs) -> list[ShardResult]:
    """The chunk's tasks: responses and judgments, each started as soon as it can be."""
    job = ctx.job
    committer = Committer(store, ctx.run_id)
    run = _ChunkRun(ctx, shard, store, stop, committer)
    models = [
        _Labelled(gateway, ctx, f"responses[{i}]", logs["responses"], on_items, run.seq)
        for i in range(len(job.models))
    ]
    which = range(len(job.judges)) if shard.judges is None else shard.judges
    judges = {
        j: _Labelled(gateway, ctx, f"judgments[{j}]", logs["judgments"], on_items, run.seq)
        for j in which
    }
    try:
        plans = {j: run.plan_judge(j, lab) for j, lab in judges.items()}
        needed = {
            run.rkeys[(qid, m)] for plan in plans.values() for _, qid, ms in plan[2] for m in ms
        }
        futures = run.start_responses(models, needed)
        for j, lab in judges.items():
            run.start_judge(lab, plans[j], futures)
        await asyncio.gather(*(t for lab in [*models, *judges.values()] for t in lab.tasks))
    finally:
        committer.flush()  # the usage logs first (usage_logs)
    return [lab.finish(stop) for lab in [*models, *judges.values()]]


class _ChunkRun:
    """One chunk's responses and judgments, as tasks that wait only on what they need."""

    def __init__(self, ctx, shard, store, stop, committer) -> None:
        self.ctx, self.job, self.store = ctx, ctx.job, store
        self.stop, self.committer = stop, committer
        self.seq = next(_CHUNKS)  # chunks start in order: an older chunk's calls go first
        self.queries = {q.id: q for q in store.get_queries(ids=list(shard.query_ids))}
        self.query_ids = [qid for qid in shard.query_ids if qid in self.queries]
        self.n_queries = len(shard.query_ids)
        self.rkeys = {
            (qid, m.name): response_key(qid, m, ctx.sample_index)
            for qid in shard.query_ids
            for m in self.job.models
        }

    # --- responses -------------------------------------------------------------------------
    def start_responses(
        self, labs: list[_Labelled], needed: set[str]
    ) -> dict[tuple[str, str], asyncio.Future[Any]]:
        """A future per (query, model): the stored response (read only when a judgment still
        needs it), or one being asked for."""
        from judgebench.db.models import ResponseRow

        existing = self.store.existing_ids(ResponseRow, self.rkeys.values())
        stored = {r.id: r for r in self.store.get_responses(ids=list(existing & needed))}
        loop = asyncio.get_running_loop()
        futures: dict[tuple[str, str], asyncio.Future[Any]] = {}
        for i, (model, lab) in enumerate(zip(self.job.models, labs, strict=True)):
            reused = [self.rkeys[(q, model.name)] for q in self.query_ids]
            reused = [k for k in reused if k in existing]
            self.committer.link("response", reused)
            lab.result.items = len(self.query_ids)
            lab.result.reused = len(reused)
            lab.advance(len(reused) + self.n_queries - len(self.query_ids))
            for qid in self.query_ids:
                key = self.rkeys[(qid, model.name)]
                fut: asyncio.Future[Any] = loop.create_future()
                futures[(qid, model.name)] = fut
                if key in existing:
                    r = stored.get(key)  # None when no judgment needs it any more
                    fut.set_result(r if r is not None and r.status == "ok" else None)
                else:
                    lab.spawn(self._respond(i, lab, self.queries[qid], fut))
        return futures

    async def _respond(
        self, i: int, lab: _Labelled, query: Query, fut: asyncio.Future[Any]
    ) -> None:
        model = self.job.models[i]
        errors: list[ErrorRecord] = []
        response = None
        try:
            if self.stop.reason is None:
                response = await ask_response(self.ctx, model, query, self.stop, errors)
            if response is not None:  # queued before any judgment that uses it can be
                lab.result.new_rows += 1
                self.committer.add(responses=[response])
            if errors:
                lab.result.errors += len(errors)
                self.committer.add(errors=errors)
        finally:
            fut.set_result(response)
            lab.advance(1)

    # --- judgments -------------------------------------------------------------------------
    def plan_judge(self, j: int, lab: _Labelled) -> tuple[Any, Any, list[Any]]:
        """(spec, judge, units still to judge: (keys, query id, model names)); what is done
        is linked to the run."""
        from judgebench.db.models import JudgmentRow

        spec = self.job.judges[j]
        judge = build_judge(spec, self.store, self.job.concurrency)
        units = []
        for qid in self.query_ids:
            for group in judge_groups(self.job, spec):
                rids = [self.rkeys[(qid, m.name)] for m in group]
                units.append((judge.unit_keys(qid, rids), qid, [m.name for m in group]))
        existing = self.store.existing_ids(JudgmentRow, [k for keys, _, _ in units for k in keys])
        todo = [u for u in units if not all(k in existing for k in u[0])]
        reused = [k for keys, _, _ in units if all(k in existing for k in keys) for k in keys]
        self.committer.link("judgment", reused)
        lab.result.reused = len(reused)
        lab.result.items = sum(len(keys) for keys, _, _ in units)
        lab.advance(
            len(reused) + (self.n_queries - len(self.query_ids)) * units_per_query(self.job, spec)
        )
        return spec, judge, todo

    def start_judge(self, lab: _Labelled, plan: Any, futures: dict[tuple[str, str], Any]) -> None:
        spec, judge, todo = plan
        todo = [(keys, qid, [futures[(qid, m)] for m in ms]) for keys, qid, ms in todo]
        if todo:
            lab.spawn(self._judge_all(spec, judge, lab, todo))

    async def _judge_all(self, spec, judge, lab, todo) -> None:
        def error(subject: str, message: str) -> None:
            lab.result.errors += 1
            self.committer.add(
                errors=[
                    ErrorRecord(
                        stage="job.judgments",
                        subject=f"{spec.label} on {subject}",
                        message=message,
                        run_id=self.ctx.run_id,
                    )
                ]
            )

        try:
            with call_priority(PREPARE, self.seq):  # a calibration: every judgment waits on it
                await judge.prepare_run()
        except Exception as exc:  # e.g. a calibration cut short: nothing is judged with it
            failure = preparation_failed(exc, self.stop)
            if failure:
                error("run preparation", failure)
            lab.advance(sum(len(keys) for keys, _, _ in todo))
            return
        prepared: dict[str, asyncio.Task[Any]] = {}
        for _, qid, _ in todo:  # per-query work (PC² criteria) starts now, with the responses
            if qid not in prepared:
                prepared[qid] = asyncio.ensure_future(self._prepare(judge, self.queries[qid]))
        if judge.shape == "likelihood":
            await self._judge_batch(spec, judge, lab, todo, error)
            return
        await asyncio.gather(
            *(self._judge_one(spec, judge, lab, unit, prepared[unit[1]], error) for unit in todo)
        )

    async def _prepare(self, judge: Any, query: Query) -> Any:
        """A query's preparation (PC² auxiliary answers, criteria, baseline critique): its calls
        go first at each endpoint, since every judgment of the query waits on them while the
        endpoint may be busy with responses (a model under test that is also an aux model)."""
        with call_priority(PREPARE, self.seq):
            return await self._unless_stopped(judge.prepare_query(query))

    async def _unless_stopped(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """``coro``'s result, or None without running it once the budget stopped the run."""
        if self.stop.reason is not None:
            coro.close()
            return None
        return await coro

    async def _judge_one(self, spec, judge, lab, unit, prepared, error) -> None:
        from judgebench.jobs.stages import _judge_units

        keys, qid, futs = unit
        try:
            responses = [await f for f in futs]
            await prepared
            if any(r is None for r in responses):
                return  # a response it needs is missing: skipped (counted by the run)
            u = _Unit(keys, self.queries[qid], responses)
            judged = (await _judge_units(judge, [u], lambda f: self._unless_stopped(f())))[0]
            main, rest = settle(self.ctx, spec, u, judged, self.stop, error)
            if main:
                lab.result.new_rows += len(main)
                self.committer.add(judgments=main, comparisons=rest)
        finally:
            lab.advance(len(keys))

    async def _judge_batch(self, spec, judge, lab, todo, error) -> None:
        from judgebench.jobs.stages import _judge_units

        ready = []
        for keys, qid, futs in todo:
            responses = [await f for f in futs]
            if all(r is not None for r in responses):
                ready.append(_Unit(keys, self.queries[qid], responses))
            else:
                lab.advance(len(keys))
        outcomes = await _judge_units(judge, ready, lambda f: self._unless_stopped(f()))
        for u, judged in zip(ready, outcomes, strict=True):
            main, rest = settle(self.ctx, spec, u, judged, self.stop, error)
            lab.result.new_rows += len(main)
            self.committer.add(judgments=main, comparisons=rest)
            lab.advance(len(u.keys))
