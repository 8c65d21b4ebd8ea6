"""Cascade router (Meta Ranking cascade, METHODS.md §5): cheapest model first, escalate while
the judge's reliability score of the answer is under that stage's threshold.

Stage k answers; unless it is the last stage, a :class:`~judgebench.judges.MetaRankingJudge`
scores (query, answer) against labelled references from other queries; it accepts the answer
by the judge's own rule (``is_reliable_score``: score > τ_k, s = τ_k escalates),
anything else — a lower score, an invalid judgment, a model error or timeout — escalates. The
last stage is accepted as is. ``collect`` + ``calibrate`` choose the τ_k on labelled data.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

from judgebench.judges import MetaRankingJudge
from judgebench.judges.meta_ranking import is_reliable_score
from judgebench.llm.types import Message
from judgebench.records import Judgment, Query, Response
from judgebench.routing.calibration import CalibrationItem, StageOutcome
from judgebench.routing.pricing import order_by_price
from judgebench.routing.records import StageRecord, sum_costs
from judgebench.routing.router import (
    RoutedCompletion,
    Router,
    RoutingError,
    RoutingLog,
    call_model,
    keep_response,
)

Labeller = Callable[[str, str, str], bool | None]  # (query, model, answer) -> correct?


class CascadeRouter(Router):
    """``models`` (ordered by price unless ``order_by_cost=False``) with one threshold per
    stage but the last; a threshold of None skips that stage (calibration may choose that)."""

    kind = "cascade"

    def __init__(
        self,
        models: Sequence[str],
        judge: MetaRankingJudge,
        thresholds: Sequence[float | None] | None = None,
        *,
        name: str = "cascade",
        order_by_cost: bool = True,
        timeout_s: float | None = 60.0,
        params: dict[str, Any] | None = None,
        log: RoutingLog | None = None,
    ) -> None:
        super().__init__(name, log)
        if len(models) < 2:
            raise ValueError("a cascade needs at least two models")
        self._models = order_by_price(models) if order_by_cost else list(models)
        self.judge = judge
        self.thresholds = (
            list(thresholds) if thresholds is not None else [judge.tau] * (len(models) - 1)
        )
        if len(self.thresholds) != len(self._models) - 1:
            raise ValueError(
                f"{len(self._models)} models need {len(self._models) - 1} thresholds, got {len(self.thresholds)}"
            )
        self.timeout_s = timeout_s
        self.params = dict(params or {})

    @property
    def models(self) -> list[str]:
        return list(self._models)

    async def _judge(self, query: Query, answer: Response | str) -> Judgment:
        return await self.judge.evaluate(query, answer)

    @staticmethod
    def _read(judgment: Judgment) -> tuple[float | None, float | None, str | None]:
        """(score, judging cost, reason when there is no score)."""
        if judgment.status != "ok" or judgment.score is None:
            return None, judgment.cost, f"judgment {judgment.status}: {judgment.reason}"
        return float(judgment.score), judgment.cost, None

    async def _route(
        self, messages: Sequence[Message], query: Query, **params: Any
    ) -> RoutedCompletion:
        decision = self.new_decision(query, "cascade")
        call_params = {**self.params, **params}
        answered: list[tuple[float, Any, StageRecord]] = []  # (score, completion, stage)
        for k, model in enumerate(self._models):
            last = k == len(self._models) - 1
            if not last and self.thresholds[k] is None:  # calibrated away: not worth its cost
                decision.stages.append(StageRecord(model=model, status="skipped"))
                continue
            reply, stage = await call_model(model, messages, self.timeout_s, call_params)
            decision.stages.append(stage)
            if reply is None:
                continue  # an error or a timeout escalates
            response = keep_response(decision, stage, reply, call_params)
            if last:
                stage.status = "accepted"
                return self._finish(decision, reply, model)
            stage.threshold = self.thresholds[k]
            start = time.perf_counter()
            judgment = await self._judge(query, response)
            decision.judgments.append(judgment)
            stage.judgment_id = judgment.id
            score, judge_cost, reason = self._read(judgment)
            stage.latency_s += time.perf_counter() - start
            stage.score, stage.judge_cost = score, judge_cost
            if score is not None and is_reliable_score(score, self.thresholds[k]):
                stage.status = "accepted"
                return self._finish(decision, reply, model)
            stage.status = "escalated"
            stage.reason = reason or f"score {score:.3f} ≤ threshold {self.thresholds[k]:.3f}"
            answered.append((score if score is not None else float("-inf"), reply, stage))
        if answered:  # the last stage failed: the best-scored earlier answer is better than none
            _, reply, stage = max(answered, key=lambda item: item[0])
            stage.status = "accepted"
            decision.details["fallback"] = f"last stage failed; kept {stage.model}'s answer"
            return self._finish(decision, reply, stage.model)
        decision.status, decision.reason = (
            "error",
            "every stage failed: " + "; ".join(f"{s.model}: {s.reason}" for s in decision.stages),
        )
        decision.cost = sum_costs([s.cost for s in decision.stages])
        raise RoutingError(decision.reason, decision)

    def _finish(self, decision: Any, reply: Any, model: str) -> RoutedCompletion:
        decision.final_model = model
        decision.cost = sum_costs(
            [s.cost for s in decision.stages if s.status not in ("error", "skipped")]
            + [s.judge_cost for s in decision.stages if s.threshold is not None]  # judged stages
        )
        return RoutedCompletion(reply, decision)

    # --- calibration --------------------------------------------------------------------------
    async def collect(
        self,
        queries: Sequence[str],
        label: Labeller,
        *,
        concurrency: int = 16,
    ) -> list[CalibrationItem]:
        """Run EVERY stage on each labelled query (answer, judge score, correctness, costs), so
        ``calibrate`` can replay any thresholds offline without another call."""
        gate = asyncio.Semaphore(concurrency)

        async def one(text: str) -> CalibrationItem:
            async with gate:
                query = Query(text=text)
                messages = [{"role": "user", "content": text}]
                outcomes = []
                for k, model in enumerate(self._models):
                    reply, stage = await call_model(model, messages, self.timeout_s, self.params)
                    if reply is None:
                        outcomes.append(StageOutcome(model=model, error=stage.reason))
                        continue
                    score = judge_cost = None
                    if k < len(self._models) - 1:
                        score, judge_cost, _ = self._read(await self._judge(query, reply.text))
                    outcomes.append(
                        StageOutcome(
                            model=model,
                            score=score,
                            correct=label(text, model, reply.text),
                            cost=reply.cost,
                            judge_cost=judge_cost,
                        )
                    )
                return CalibrationItem(query=text, stages=outcomes)

        return list(await asyncio.gather(*(one(q) for q in queries)))

    def collect_sync(
        self, queries: Sequence[str], label: Labeller, **kw: Any
    ) -> list[CalibrationItem]:
        from judgebench.llm import run_sync

        return run_sync(lambda: self.collect(queries, label, **kw))

    def calibrate(self, items: Sequence[CalibrationItem], target: str, value: float, **kw: Any):
        """Choose and SET the thresholds for ``target`` (``quality`` ≥ value, ``strong_share`` ≤
        value, or mean ``cost`` ≤ value); returns the report with the cost–quality curve."""
        from judgebench.routing.calibration import calibrate_thresholds

        report = calibrate_thresholds(items, target, value, **kw)  # type: ignore[arg-type]
        if [s.model for s in items[0].stages] != self._models:
            raise ValueError("calibration items were collected for other models")
        self.thresholds = list(report.thresholds)
        return report
