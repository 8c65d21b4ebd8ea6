"""``sampling: adaptive`` in a job: judge in rounds where the answer is still undecided.

With ``sampling: full`` (the default) every judge judges every query × model (× pair). With
``adaptive``, responses are still generated for every query, and each adaptive-capable judge
(pointwise, reliability, pairwise shapes) is run through
:class:`judgebench.analysis.adaptive.AdaptiveSampler`:

* **arms**: each model (pointwise, reliability, pairwise against a ``baseline``) or each model
  pair (pairwise, all pairs). **Items**: the run's queries, stratified by their top taxonomy node.
* **Outcomes** in [0, 1]: a pointwise score rescaled by the judge's scale (``params.scale``), 1/0
  for reliable/unreliable, and for a pair (a, b) 1 when a wins, 0.5 for a tie.
* **Rounds**: the sampler proposes a batch of (arm, query) draws; each arm's draws run as one
  ordinary judgment shard of a job restricted to the arm's models (the same natural keys,
  cache, budget and executor as ``full``, Ray included); the stored judgments are the outcomes.
  A draw whose judgment failed or was invalid is dropped from the arm's population.
* **Resume and rerun**: the sampler's draws depend only on its seed and the outcomes, which are
  stored, so a rerun replays the same rounds and finds every judgment done (zero calls); a
  killed run resumes at the round it was in.

Each judged draw is recorded in ``adaptive_draws`` with its Horvitz–Thompson weight (the
inverse of its sampling probability at the end of the run), its stratum and round; the run's
config says, per judge, why sampling stopped, how many judgments it made of how many a full
run needs, and the reweighted estimates with their intervals. Likelihood and listwise judges
run in full (a log-prob is unbounded; a ranking covers every model of a query at once).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from judgebench.records import VERDICT_OUTCOME

ADAPTIVE_SHAPES = ("pointwise", "reliability", "pairwise")
UNASSIGNED = "(unassigned)"


class TargetSpec(BaseModel):
    """When adaptive sampling may stop (see :class:`judgebench.analysis.adaptive.AdaptiveTarget`)."""

    model_config = ConfigDict(extra="forbid")
    ranking_ci: Literal["separated"] | None = "separated"
    max_ci_width: Annotated[float, Field(gt=0, lt=1)] | None = None
    per_node: bool = False
    tie_width: Annotated[float, Field(ge=0, lt=1)] = 0.02
    min_per_node: Annotated[int, Field(ge=1)] = 2
    min_per_arm: Annotated[int, Field(ge=1)] = 20
    confidence: Annotated[float, Field(gt=0, lt=1)] = 0.95

    @model_validator(mode="after")
    def _some_target(self) -> TargetSpec:
        if self.ranking_ci is None and self.max_ci_width is None:
            raise ValueError("an adaptive target needs ranking_ci: separated or max_ci_width")
        return self


class SamplingSpec(BaseModel):
    """``sampling: full`` (default) or ``adaptive`` with its target, batch size and seed."""

    model_config = ConfigDict(extra="forbid")
    mode: Literal["full", "adaptive"] = "full"
    target: TargetSpec = Field(default_factory=TargetSpec)
    batch_size: Annotated[int, Field(ge=1)] = 64
    seed: int = 0
    # all: every query's responses first (findings for every query stay possible); sampled:
    # a response is asked for only when a judgment needs it (saves the models' calls too)
    responses: Literal["all", "sampled"] = "all"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"mode": value} if isinstance(value, str) else value


@dataclass(frozen=True)
class Arm:
    """One estimate a judge's adaptive sampling targets: the models it judges together."""

    models: tuple[str, ...]

    @property
    def label(self) -> str:
        return " vs ".join(self.models)


def judge_arms(job: Any, spec: Any) -> list[Arm]:
    """A pointwise or reliability judge: one arm per model; pairwise: one per compared pair."""
    from judgebench.jobs.stages import judge_groups

    return [Arm(tuple(m.name for m in group)) for group in judge_groups(job, spec)]


def score_range(judgment: Any) -> tuple[float, float] | None:
    """The range a pointwise judgment's score can take: the judge's ``params.scale``, times
    the criteria's total weight when the score is a weighted sum of criterion scores (PC²'s
    S = Σ wᵢ·sᵢ with weights summing to 100 lies in [100·low, 100·high])."""
    scale = judgment.params.get("scale")
    if not scale or len(scale) != 2 or not scale[1] > scale[0]:
        return None
    weights = sum(c.weight for c in judgment.criteria if c.weight is not None)
    factor = float(weights) if weights else 1.0
    return factor * float(scale[0]), factor * float(scale[1])


def outcome(judgment: Any) -> float | None:
    """A stored judgment as a value in [0, 1], or None (not ok, or no usable value)."""
    if judgment.status != "ok":
        return None
    if judgment.shape == "pairwise" or judgment.kind == "pairwise":
        return VERDICT_OUTCOME.get(judgment.verdict or "")
    if judgment.shape == "reliability":
        reliable = judgment.details.get("reliable")
        return None if reliable is None else float(bool(reliable))
    if judgment.score is None:
        return None
    bounds = score_range(judgment)
    if bounds is not None:
        low, high = bounds
        return min(max((judgment.score - low) / (high - low), 0.0), 1.0)
    return judgment.score if 0.0 <= judgment.score <= 1.0 else None


def stratum_of(query: Any) -> str:
    """A query's stratum: the top-level node of its first assignment (domain, as Feedbacker)."""
    nodes = query.node_ids or []
    return nodes[0].split("/", 1)[0] if nodes else UNASSIGNED


def arm_job(job: Any, spec_index: int, arm: Arm) -> dict[str, Any]:
    """The job restricted to one arm's models and one judge, as a config dict: its shard
    stores exactly that arm's judgments, under the same natural keys as the full job."""
    config = job.model_dump(mode="json", by_alias=True)
    wanted = set(arm.models)
    config["models"] = [m for m in config["models"] if m["name"] in wanted]
    config["judges"] = [config["judges"][spec_index]]
    config.pop("assert", None)  # assertions name models outside the arm; the run checks them
    return config


class AdaptiveJudging:
    """The rounds of one judge of one run (see the module doc)."""

    def __init__(self, runner: Any, ctx: Any, spec_index: int, query_ids: list[str]) -> None:
        from judgebench.analysis.adaptive import AdaptiveSampler, AdaptiveTarget

        job = runner.job
        self.runner, self.ctx, self.index = runner, ctx, spec_index
        self.spec = job.judges[spec_index]
        self.arms = {arm.label: arm for arm in judge_arms(job, self.spec)}
        queries = runner.store.get_queries(ids=query_ids)
        strata = {q.id: stratum_of(q) for q in queries}
        population: dict[Hashable, dict[Hashable, list[str]]] = {}
        for label in self.arms:
            cells: dict[Hashable, list[str]] = defaultdict(list)
            for qid in query_ids:
                if qid in strata:
                    cells[strata[qid]].append(qid)
            population[label] = dict(cells)
        target = job.sampling.target
        reference = 0.5 if self.spec.shape == "pairwise" and self.spec.baseline is None else None
        self.sampler = AdaptiveSampler(
            population,
            AdaptiveTarget(**target.model_dump(), reference=reference),
            batch_size=job.sampling.batch_size,
            seed=job.sampling.seed,
        )
        self.draws: list[tuple[str, str, str, int, str]] = []  # arm, query, stratum, round, id
        self.handed = 0  # draws proposed (judged, invalid or failed)
        self.bounds: tuple[float, float] | None = None  # a pointwise judge's score range
        self.responses_needed: set[tuple[str, str]] = set()  # (model, query) of every draw

    async def run(self, budget: Callable[[], Any], on_result: Callable[[Any], None]) -> str | None:
        """Judge round after round; returns the budget's reason if a call was refused."""
        from judgebench.jobs.stages import Shard

        progress = _Relabel(self.runner.progress, self.index)
        while batch := self.sampler.next_batch():
            self.handed += len(batch)
            self.responses_needed |= {
                (m, str(d.item)) for d in batch for m in self.arms[str(d.arm)].models
            }
            by_arm: dict[str, list[Any]] = defaultdict(list)
            for draw in batch:
                by_arm[str(draw.arm)].append(draw)

            async def one(label: str, draws: list[Any]) -> Any:
                config = arm_job(self.runner.job, self.index, self.arms[label])
                ctx = replace(self.ctx, config=config)
                items = tuple(d.item for d in draws)
                run = self.runner.executor.run
                if self.runner.job.sampling.responses == "sampled":
                    models = range(len(config["models"]))
                    asked = await run(
                        ctx,
                        [Shard("responses", i, items) for i in models],
                        store=self.runner.store,
                        budget=budget,
                        progress=_Quiet(),
                        on_result=on_result,
                    )
                    if any(r.stopped for r in asked):
                        return asked
                return await run(
                    ctx,
                    [Shard("judgments", 0, items)],
                    store=self.runner.store,
                    budget=budget,
                    progress=progress,
                    on_result=lambda done: on_result(progress.result(done)),
                )

            results = await asyncio.gather(*(one(a, d) for a, d in by_arm.items()))
            stopped = next((r.stopped for rs in results for r in rs if r.stopped), None)
            self._observe(batch)
            if stopped:
                return stopped
        return None

    def _observe(self, batch: list[Any]) -> None:
        """Feed each draw's stored judgment back (dropping draws with no usable outcome)."""
        store, job = self.runner.store, self.runner.job
        from judgebench.jobs.stages import build_judge, response_key

        judge = build_judge(self.spec, store, job.concurrency)
        models = {m.name: m for m in job.models}
        keys = {}
        for draw in batch:
            arm = self.arms[str(draw.arm)]
            rids = [response_key(draw.item, models[m], self.ctx.sample_index) for m in arm.models]
            keys[(draw.arm, draw.item)] = judge.unit_keys(draw.item, rids)[0]
        found = {j.id: j for j in store.get_judgments(ids=list(keys.values()))}
        for draw in batch:
            key = keys[(draw.arm, draw.item)]
            value = outcome(found[key]) if key in found else None
            if value is not None and self.bounds is None and found[key].shape == "pointwise":
                self.bounds = score_range(found[key])
            if value is None:
                self.sampler.skip(draw.arm, draw.item)
            else:
                self.sampler.observe(draw.arm, draw.item, value)
                self.draws.append((str(draw.arm), draw.item, str(draw.stratum), draw.round, key))

    def report(self) -> dict[str, Any]:
        """Why it stopped, judgments made vs a full run, and the reweighted estimates."""
        full = self.sampler.population_size
        judged = self.sampler.judged
        return {
            "judge": self.spec.label,
            "stop_reason": self.sampler.stop_reason() or "budget",
            "rounds": self.sampler.rounds,
            "judged": judged,
            "full": full,
            "saved": max(full - judged, 0),
            "score_range": list(self.bounds) if self.bounds else None,
            "estimates": {
                str(arm): {
                    "mean": round(e.mean, 6),
                    "lo": round(max(e.lo, 0.0), 6),
                    "hi": round(min(e.hi, 1.0), 6),
                    "n": e.n,
                }
                for arm, e in self.sampler.estimates().items()
            },
        }

    def weights(self) -> list[dict[str, Any]]:
        """One row per judged draw with its Horvitz–Thompson weight (for ``adaptive_draws``)."""
        w = self.sampler.weights()
        return [
            {
                "judgment_id": key,
                "judge": self.spec.label,
                "arm": arm,
                "query_id": qid,
                "stratum": stratum,
                "round": rnd,
                "weight": w[(arm, stratum)],
            }
            for arm, qid, stratum, rnd, key in self.draws
        ]


class _Quiet:
    """No progress display (responses asked for on demand have no bar of their own)."""

    def advance(self, key: str, n: int = 1) -> None:
        pass


class _Relabel:
    """An arm's job has its one judge at index 0: its shards' progress and results are
    relabelled with the judge's index in the whole job."""

    def __init__(self, progress: Any, index: int) -> None:
        self.progress, self.label = progress, f"judgments[{index}]"

    def advance(self, key: str, n: int = 1) -> None:
        self.progress.advance(self.label, n)

    def result(self, result: Any) -> Any:
        result.shard_label = self.label
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.progress, name)


def adaptive_lines(summary: dict[str, Any]) -> list[str]:
    """One line per adaptive judge: why it stopped and the judgments it saved."""
    lines = []
    for r in summary.get("adaptive") or []:
        share = 100 * r["saved"] / r["full"] if r["full"] else 0.0
        lines.append(
            f"adaptive {r['judge']}: {r['stop_reason']} after {r['judged']} of {r['full']} "
            f"judgments ({r['saved']} saved, {share:.0f}%; estimates reweighted)"
        )
    return lines
