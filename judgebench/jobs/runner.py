"""Run a job: taxonomy → queries → responses → judgments → analysis summary.

Every stage is idempotent (natural keys, insert-or-ignore), responses and judgments stream in
chunks of ``chunk_size`` queries committed one transaction each, and the run's LLM usage is
kept in ``job_usage`` so that a budget cap holds across interruptions and resumes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from judgebench.errors import RunBusy
from judgebench.jobs.config import JobConfig
from judgebench.jobs.gcmode import batch_gc
from judgebench.jobs.stages import (
    JobContext,
    Shard,
    ShardResult,
    epoch_sample_index,
    units_per_query,
)
from judgebench.records import Query, Run, content_key

_ASSIGN_CHUNK = 500
STAGES = ("responses", "judgments")


class Progress(Protocol):
    def start(self, key: str, description: str, total: int) -> None: ...
    def advance(self, key: str, n: int = 1) -> None: ...
    def note(self, text: str) -> None: ...
    def outcomes(self, key: str, errors: int, invalid: int) -> None: ...


class _Quiet:
    def start(self, key: str, description: str, total: int) -> None:
        pass

    def advance(self, key: str, n: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        pass

    def outcomes(self, key: str, errors: int, invalid: int) -> None:
        pass


@dataclass
class JobResult:
    run_id: str
    status: str
    reason: str | None
    queries: int
    usage: dict[str, Any] = field(default_factory=dict)  # this invocation's LLM usage
    summary: dict[str, Any] = field(default_factory=dict)
    stages: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return int(self.usage.get("calls", 0))


def run_id_for(job: JobConfig, epoch: str | None = None) -> str:
    return content_key("job-run", job.identity(), epoch)


class JobRunner:
    """``JobRunner(job).run()``; ``executor``: ``local`` (asyncio in this process) or a
    :class:`judgebench.jobs.executors.RayExecutor`. ``epoch`` names a scheduled execution."""

    def __init__(
        self,
        job: JobConfig,
        *,
        executor: Any = "local",
        epoch: str | None = None,
        progress: Progress | None = None,
        store: Any = None,
        if_running: str = "exit",
    ) -> None:
        self.job = job
        self.epoch = epoch
        self._store = store  # opened on first use: see ``store``
        self.progress = progress or _Quiet()
        self.if_running = if_running  # another process runs the same run: "exit" or "wait"
        self.adaptive_reports: list[dict[str, Any]] = []  # per adaptive judge (sampling.py)
        self.adaptive_expected = 0  # judgments adaptive judges asked for (their "expected")
        self.responses_asked: set[tuple[str, str]] = set()  # (model, query) asked on demand
        self.run_id = run_id_for(job, epoch)
        from judgebench.jobs.config import without_unavailable_judges

        self.job, self.notes = without_unavailable_judges(job)
        self.synthesis_usage: dict[str, Any] = {}  # LLM usage of this invocation's synthesis
        self._errors: dict[str, int] = {}  # failed items per progress bar, this invocation
        self._budget_left: Callable[[], Any] = lambda: None  # set per invocation by arun
        self.sample_index = epoch_sample_index(epoch) if job.reask == "each_run" else 0
        if executor == "local":
            from judgebench.jobs.executors import LocalExecutor

            executor = LocalExecutor()
        self.executor = executor

    @property
    def store(self) -> Any:
        """The job's store, opened (and, when new, created) on first use, after the input
        files are read: a bad query or taxonomy file leaves no store behind."""
        if self._store is None:
            from judgebench.db import Store

            self._store = Store(self.job.store)
        return self._store

    # --- the whole job -------------------------------------------------------------------
    def run(self) -> JobResult:
        from judgebench.llm import run_sync

        return run_sync(self.arun)

    async def arun(self) -> JobResult:
        """Run (or resume) the job, holding its run's lease: one process at a time per run.
        Every LLM call of the run (synthesis, responses, judgments, adaptive rounds) shares one
        limit per endpoint: the job's ``concurrency`` (Gateway.endpoint_cap)."""
        from judgebench.jobs.stages import ensure_gateway

        tree, imported = self._read_inputs()  # every file checked before the first write
        with self._exclusive(), ensure_gateway(self.store).endpoint_cap(self.job.concurrency):
            return await self._arun(tree, imported)

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """Hold ``job:<run id>`` for the run; another holder means exit (``if_running``
        = ``exit``, a one-line RunBusy naming it) or wait for it to finish (``wait``)."""
        from judgebench.db import leases

        name, holder = f"job:{self.run_id}", leases.holder_id()
        while leases.acquire(self.store, name, holder) is None:
            current = leases.read(self.store, name)
            if self.if_running == "exit":
                who = current.holder if current else "another process"
                raise RunBusy(
                    f"job {self.job.name!r} (run {self.run_id}) is already running in {who}; "
                    "wait for it, or rerun with --if-running wait"
                )
            time.sleep(1.0)
        with leases.Held(self.store, name, holder):
            yield

    async def _arun(self, tree: Any, imported: list[Query]) -> JobResult:
        from judgebench.db.jobs import get_usage

        job, store = self.job, self.store
        for note in self.notes:  # judges skipped for a missing install extra
            self.progress.note(note)
        existing = store.get_run(self.run_id)
        run = Run(
            id=self.run_id,
            kind="job",
            name=job.name if not self.epoch else f"{job.name} @ {self.epoch}",
            config={
                "job": job.public_dump(),
                "epoch": self.epoch,
                "identity": job.identity(),
                "simulated": job.simulated,
                "settings": self._settings_file(),
            },
            status="running",
            job_name=job.name,
            started_at=existing.started_at if existing else _now(),
        )
        store.put_run(run)
        usage_before = get_usage(store, self.run_id)
        totals: dict[str, Any] = {}
        self._budget_left = self._remaining(usage_before, totals)  # synthesis is charged too
        stages: dict[str, dict[str, int]] = {}
        empty: list[str] = []  # models / judges that produced no row at all
        try:
            version = self._taxonomy(tree)
            query_ids = await self._queries(tree, version, imported)
            self._charge("synthesis", self.synthesis_usage, totals, recorded=True)
            ctx = JobContext(
                config=job.model_dump(mode="json"),
                run_id=self.run_id,
                store_url=store.url,
                sample_index=self.sample_index,
                taxonomy_version=version,
            )
            stopped = None
            for stage in ("pipeline",) if job.engine == "pipelined" else STAGES:
                shards = list(self._shards(stage, query_ids))
                for part in STAGES if stage == "pipeline" else (stage,):
                    self._start_stage(part, len(query_ids))
                with batch_gc():  # the calls: a young heap churning next to a large old one
                    results = await self.executor.run(
                        ctx,
                        shards,
                        store=store,
                        budget=self._remaining(usage_before, totals),
                        progress=self.progress,
                        on_result=lambda r: self._record(r, totals),
                    )
                for part in STAGES if stage == "pipeline" else (stage,):
                    mine = [r for r in results if r.shard_label.startswith(f"{part}[")]
                    stages[part] = _stage_counts(mine)
                    empty.extend(self._empty_units(part, mine))
                stopped = next((r.stopped for r in results if r.stopped), None)
                if stopped:
                    break
            if not stopped and self.adaptive_judges:
                stopped = await self._adaptive(ctx, query_ids, usage_before, totals, stages)
        except BaseException as exc:
            status = (
                "stopped"
                if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError)
                else "failed"
            )
            store.finish_run(self.run_id, status, f"{type(exc).__name__}: {exc}"[:500])
            raise
        counts = self._outcome_counts(len(query_ids), stages)
        if stopped:
            why = f"budget: {stopped}"
            store.finish_run(self.run_id, "stopped", why[:500], counts)
            self.progress.note(f"stopped before the call that would cross the budget ({stopped})")
            return JobResult(self.run_id, "stopped", why, len(query_ids), totals, {}, counts)
        from judgebench.jobs.outcome import decide
        from judgebench.jobs.summary import build_summary

        status, reason = decide(counts, job.max_error_rate, empty)
        summary = build_summary(store, self.run_id, job, self.adaptive_reports)
        run.config["summary"] = summary
        if self.adaptive_reports:
            run.config["adaptive"] = self.adaptive_reports
        run.status, run.reason, run.counts = status, reason, counts  # type: ignore[assignment]
        store.put_run(run)
        store.finish_run(self.run_id, status, reason and reason[:500], counts)
        return JobResult(self.run_id, status, reason, len(query_ids), totals, summary, counts)

    def _empty_units(self, stage: str, results: list[ShardResult]) -> list[str]:
        """``responses of sim/x`` for each model (judge) whose shards stored nothing."""
        rows: dict[int, int] = {}
        for r in results:
            index = int(r.shard_label.rsplit("[", 1)[1].rstrip("]"))
            rows[index] = rows.get(index, 0) + r.new_rows + r.reused
        if stage == "responses":
            names = [m.name for m in self.job.models]
        else:
            names = [f"{j.kind}:{j.model}" for j in self.job.judges]
        return [f"{stage} of {names[i]}" for i, n in sorted(rows.items()) if n == 0]

    def _outcome_counts(
        self, n_queries: int, stages: dict[str, dict[str, int]]
    ) -> dict[str, dict[str, int]]:
        """ok / invalid / error / skipped per stage, from the rows the run links (a stage
        that never ran, after a budget stop, is all skipped)."""
        from judgebench.db.jobs import linked_status_counts
        from judgebench.jobs.outcome import stage_counts

        full = [j for i, j in enumerate(self.job.judges) if i not in self.adaptive_judges]
        expected = {
            "responses": len(self.responses_asked)
            if self.responses_on_demand
            else n_queries * len(self.job.models),
            # adaptive judges owe the judgments they drew, not every query's
            "judgments": n_queries * sum(units_per_query(self.job, j) for j in full)
            + self.adaptive_expected,
        }
        counts = {
            stage: stage_counts(
                n,
                linked_status_counts(self.store, self.run_id, stage.removesuffix("s")),
                stages.get(stage, {}).get("errors", 0),
            )
            for stage, n in expected.items()
        }
        # a listwise judge's pairwise comparisons: one that never parsed makes the run partial
        # by the same max_error_rate rule as an invalid judgment (their number depends on the
        # method, so what is stored is what was expected; a failed call is a judgment error)
        compared = linked_status_counts(self.store, self.run_id, "comparison")
        if sum(compared.values()):
            counts["comparisons"] = stage_counts(sum(compared.values()), compared, 0)
        return counts

    def _settings_file(self) -> str:
        """The model registry file this run's gateway reads (``<defaults>``: none); the
        store's call cache is attached later (ensure_gateway), so the store is not opened."""
        from judgebench.llm import get_gateway

        return str(get_gateway().settings.source)

    # --- stages ------------------------------------------------------------------------------
    def _read_inputs(self):
        """(taxonomy tree, imported queries), read and checked without writing anything, so
        a bad taxonomy, query or seed file leaves no run row and no taxonomy version."""
        from judgebench.errors import ConfigError
        from judgebench.synth import load_seed_file

        self._settings_file()  # the model registry: a broken judgebench.yaml fails here
        tree = self._read_taxonomy()
        imported = [q for path in self.job.queries.files for q in load_seed_file(path)]
        for judge in self.job.judges:  # e.g. meta_ranking's references file
            judge.settings.check_inputs()
        synth = self.job.queries.synth
        if synth is not None:
            if synth.seeds:
                load_seed_file(synth.seeds)
            unknown = [n for n in synth.under if n not in tree]
            if unknown:
                raise ConfigError(
                    f"queries.synth.under: no node {unknown[0]!r} in taxonomy {tree.name}"
                )
        return tree, imported

    def _taxonomy(self, tree) -> int:
        from judgebench.db.taxonomy import save_taxonomy_version

        version, _ = save_taxonomy_version(self.store, tree)
        return int(version)

    def _read_taxonomy(self):
        from judgebench.db.taxonomy import load_taxonomy_version
        from judgebench.errors import ConfigError
        from judgebench.taxonomy import load_default_taxonomy, load_taxonomy

        spec = self.job.taxonomy
        self.progress.note("taxonomy")
        if spec.source == "default":
            tree = load_default_taxonomy()
        elif spec.source == "db":
            tree = load_taxonomy_version(self.store, spec.version)
        else:
            from pathlib import Path

            if not Path(spec.source).is_file():
                raise ConfigError(
                    "taxonomy file not found", where=f"taxonomy.source: {spec.source}"
                )
            tree = load_taxonomy(spec.source)
        if spec.domains or spec.max_depth or spec.max_children or spec.under:
            tree = tree.slice(
                domains=spec.domains,
                max_depth=spec.max_depth,
                max_children=spec.max_children,
                under=spec.under,
            )
        return tree

    async def _queries(self, tree, version: int, imported: list[Query]) -> list[str]:
        spec = self.job.queries
        ids: list[str] = []
        if imported:
            imported = [q.model_copy(update={"source": "import", "id": ""}) for q in imported]
            imported = [Query.model_validate(q.model_dump(exclude={"id"})) for q in imported]
            repeated = len(imported) - len({q.id for q in imported})
            if repeated:  # the natural key is the text: the rows' own ids do not keep them apart
                self.progress.note(
                    f"{repeated} imported rows repeat an earlier row's text: kept once"
                )
            known = self._assigned(version, [q.id for q in imported])
            fresh = [q for q in imported if q.id not in known]
            if fresh:
                self.progress.note(f"assigning {len(fresh)} imported queries to {tree.name}")
                fresh = self._assign(tree, version, fresh)
                self.store.put_queries(fresh)
            ids.extend(q.id for q in imported)
        if spec.synth is not None:
            ids.extend(await self._synthesize(tree, version))
        ids = sorted(dict.fromkeys(ids))
        if spec.limit:
            ids = ids[: spec.limit]
        self.store.link_run_items(self.run_id, "query", ids)
        self.progress.note(f"{len(ids)} queries")
        return ids

    def _assigned(self, version: int, ids: list[str]) -> set[str]:
        """Queries already stored with nodes of this taxonomy version (no need to assign)."""
        from sqlalchemy import select

        from judgebench.db.models import QueryNodeRow

        found: set[str] = set()
        with self.store.read_session() as s:
            for start in range(0, len(ids), 500):
                found.update(
                    s.scalars(
                        select(QueryNodeRow.query_id).where(
                            QueryNodeRow.taxonomy_version == version,
                            QueryNodeRow.query_id.in_(ids[start : start + 500]),
                        )
                    )
                )
        return found

    def _assign(self, tree, version: int, queries: list[Query]) -> list[Query]:
        from judgebench.synth.seeds import restrict_to_taxonomy

        queries, unknown = restrict_to_taxonomy(queries, tree)
        if unknown:  # e.g. a benchmark's own category column, or a misspelt node id
            shown = ", ".join(repr(n) for n in sorted(unknown)[:3])
            more = f" and {len(unknown) - 3} more" if len(unknown) > 3 else ""
            self.progress.note(
                f"node labels not in taxonomy {tree.name} ({shown}{more}): "
                "ignored, as if unlabelled"
            )
        out = []
        todo = [q for q in queries if not q.node_ids]
        found: dict[str, Any] = {}
        if todo and self.job.queries.assign != "none":
            from judgebench.taxonomy.combined import make_assigner

            examples = [(q.text, n) for q in queries for n in q.node_ids]
            assigner = make_assigner(
                tree,
                self.job.queries.assign,
                self.job.queries.encoder,
                examples,
                self.job.queries.min_confidence,
            )
            if getattr(assigner, "warning", None):
                self.progress.note(assigner.warning)
            for start in range(0, len(todo), _ASSIGN_CHUNK):  # bounded vectors in memory
                part = todo[start : start + _ASSIGN_CHUNK]
                for q, a in zip(part, assigner.assign([q.text for q in part]), strict=True):
                    found[q.id] = a
        for q in queries:
            a = found.get(q.id)
            update = {"node_ids": list(q.node_ids), "taxonomy_version": version}
            if a is not None:  # unassigned: no nodes, its best guess kept in node_confidence
                update |= {"node_ids": list(a.node_ids), "node_confidence": a.node_confidence}
            out.append(q.model_copy(update=update))
        return out

    async def _synthesize(self, tree, version: int) -> list[str]:
        from judgebench.db.synth import StoreJournal
        from judgebench.synth import SynthConfig, Synthesizer, load_seed_file
        from judgebench.synth.assign import make_assigner
        from judgebench.synth.seeds import restrict_to_taxonomy

        spec = self.job.queries.synth
        assert spec is not None
        # settings were validated when the job was read (SynthSpec)
        cfg = SynthConfig(**{"encoder": self.job.queries.encoder, **spec.settings})
        # spec.under was checked against the tree by _read_inputs
        leaf_ids = list(
            dict.fromkeys(leaf for node in (spec.under or [""]) for leaf in tree.leaves(node))
        )
        leaves = [tree.node(n) for n in leaf_ids]
        seeds_path = spec.seeds
        if seeds_path is None:
            from judgebench.jobs.demo import DEMO_SEEDS

            seeds_path = str(DEMO_SEEDS)
        seeds, _ = restrict_to_taxonomy(load_seed_file(seeds_path), tree)
        mode = cfg.reassign
        if mode == "none" and any(not q.node_ids for q in seeds):
            mode = "embedding"
        assigner = make_assigner(tree, mode, encoder=cfg.encoder, model=cfg.judge, examples=seeds)
        key = "synth"
        self.progress.start(key, f"queries: synthesis over {len(leaves)} leaves", len(leaves))

        def on_progress(node, finished: bool) -> None:
            if finished:
                self.progress.advance(key, 1)

        synth = Synthesizer(
            leaves,
            seeds,
            cfg,
            journal=StoreJournal(self.store),
            assigner=assigner,
            taxonomy_version=version,
            on_progress=on_progress,
        )
        from judgebench.db.jobs import usage_of
        from judgebench.jobs.stages import ensure_gateway
        from judgebench.jobs.usage import UsageLog, usage_keys

        # the job's gateway (its call cache), what is left of the job's budget, usage per call
        budget = self._budget_left()
        usage_log = UsageLog(self.store, usage_keys(self.run_id, "synthesis"))
        gateway = ensure_gateway(self.store)
        with gateway.account(f"{self.run_id}:synthesis", budget, on_change=usage_log) as acct:
            try:
                report = await synth.run()
            finally:
                usage_log.close()
        self.synthesis_usage = usage_of(acct)
        kept = StoreJournal(self.store).load_kept(report.run_key)
        return [q.id for q in kept]

    # --- shards and accounting -----------------------------------------------------------------
    def _shards(self, stage: str, query_ids: list[str]) -> Iterator[Shard]:
        size = self.job.chunk_size
        if self.responses_on_demand:  # adaptive rounds ask for each response they need
            return
        if stage == "pipeline":  # one shard per chunk: its responses and judgments
            full = tuple(i for i in range(len(self.job.judges)) if i not in self.adaptive_judges)
            for start in range(0, len(query_ids), size):
                yield Shard(stage, 0, tuple(query_ids[start : start + size]), judges=full)
            return
        count = len(self.job.models) if stage == "responses" else len(self.job.judges)
        skip = set(self.adaptive_judges) if stage == "judgments" else set()
        for start in range(0, len(query_ids), size):
            chunk = tuple(query_ids[start : start + size])
            for index in range(count):
                if index not in skip:  # adaptive judges judge in rounds (_adaptive)
                    yield Shard(stage, index, chunk)

    @property
    def responses_on_demand(self) -> bool:
        """``sampling.responses: sampled`` with every judge adaptive: no response is asked
        for up front (a judge that runs in full needs every response anyway)."""
        sampling = self.job.sampling
        return (
            sampling.mode == "adaptive"
            and sampling.responses == "sampled"
            and len(self.adaptive_judges) == len(self.job.judges)
        )

    @property
    def adaptive_judges(self) -> list[int]:
        """The judges that ``sampling: adaptive`` runs in rounds (the others run in full)."""
        from judgebench.jobs.sampling import ADAPTIVE_SHAPES

        if self.job.sampling.mode != "adaptive":
            return []
        return [i for i, j in enumerate(self.job.judges) if j.shape in ADAPTIVE_SHAPES]

    async def _adaptive(self, ctx, query_ids, usage_before, totals, stages) -> str | None:
        """Each adaptive judge's rounds; their draws and weights go to ``adaptive_draws``."""
        from judgebench.db.adaptive import put_draws
        from judgebench.jobs.sampling import AdaptiveJudging

        for index in self.adaptive_judges:
            judging = AdaptiveJudging(self, ctx, index, query_ids)
            results: list[ShardResult] = []

            def on_result(r: ShardResult, results: list[ShardResult] = results) -> None:
                results.append(r)
                self._record(r, totals)

            stopped = await judging.run(self._remaining(usage_before, totals), on_result)
            put_draws(self.store, self.run_id, judging.weights())
            self.adaptive_reports.append(judging.report())
            self.adaptive_expected += judging.handed
            self.responses_asked |= judging.responses_needed
            for part in STAGES:
                mine = [r for r in results if r.shard_label.startswith(f"{part}[")]
                counts = stages.setdefault(part, _stage_counts([]))
                for key, n in _stage_counts(mine).items():
                    counts[key] = counts.get(key, 0) + n
            if stopped:
                return stopped
        return None

    def _start_stage(self, stage: str, n_queries: int) -> None:
        job = self.job
        if stage == "responses":
            for i, m in enumerate(job.models):
                label = f"responses: {m.name}" + (" (simulated)" if m.simulated else "")
                self.progress.start(f"responses[{i}]", label, n_queries)
        else:
            for i, j in enumerate(job.judges):
                self.progress.start(
                    f"judgments[{i}]",
                    f"judgments: {j.kind} by {j.model}",
                    n_queries * units_per_query(job, j),
                )

    def _record(self, result: ShardResult, totals: dict[str, Any]) -> None:
        part = result.shard_label.split("[", 1)[0]
        self._charge(part, result.usage, totals, recorded=result.usage_recorded)
        self._tally(part, result)

    def _tally(self, stage: str, result: ShardResult) -> None:
        """Errors and invalid items so far, per progress bar (bars count them apart from
        the ok ones). A bar's key is its shards' label."""
        key = result.shard_label
        self._errors[key] = self._errors.get(key, 0) + result.errors
        invalid = 0
        if stage == "judgments":
            from judgebench.db.jobs import invalid_judgments_by_judge

            spec = self.job.judges[int(key.rsplit("[", 1)[1].rstrip("]"))]
            invalid = invalid_judgments_by_judge(self.store, self.run_id).get(
                (spec.kind, spec.model), 0
            )
        self.progress.outcomes(key, self._errors[key], invalid)

    def _charge(
        self, part: str, usage: dict[str, Any], totals: dict[str, Any], *, recorded: bool = False
    ) -> None:
        """Add usage to the run's (what budgets read) and to its ``part``'s (responses,
        judgments or synthesis: what the cost summary splits by), across invocations; with
        ``recorded`` it is already there (written per call) and only this invocation's totals
        grow."""
        from judgebench.db.jobs import add_usage, part_usage_key

        if not recorded:
            add_usage(self.store, self.run_id, usage)
            add_usage(self.store, part_usage_key(self.run_id, part), usage)
        for k, v in usage.items():
            totals[k] = totals.get(k, 0) + (v or 0)

    def _remaining(self, before: dict[str, Any], totals: dict[str, Any]) -> Callable[[], Any]:
        """The budget left for this invocation: caps minus what earlier ones used."""
        from judgebench.llm import Budget

        caps = self.job.budget

        def left() -> Budget:
            def rest(cap, *fields):
                if cap is None:
                    return None
                used = sum((before.get(f) or 0) + (totals.get(f) or 0) for f in fields)
                return max(cap - used, 0)

            return Budget(
                max_cost=rest(caps.max_cost, "cost"),
                max_tokens=rest(caps.max_tokens, "prompt_tokens", "completion_tokens"),
                max_calls=rest(caps.max_calls, "calls"),
            )

        return left


def _stage_counts(results: list[ShardResult]) -> dict[str, int]:
    return {
        "items": sum(r.items for r in results),
        "new": sum(r.new_rows for r in results),
        "reused": sum(r.reused for r in results),
        "errors": sum(r.errors for r in results),
    }


def _now():
    from judgebench.records import utcnow

    return utcnow()
