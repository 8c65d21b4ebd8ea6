"""Offline threshold search for a cascade: replay collected stage outcomes under every
threshold combination of a grid, keep the cost–quality curve, pick thresholds for a target.

Each :class:`CalibrationItem` holds, for one labelled query, what every stage answered: the
judge's score (not for the last stage), whether the answer was correct, the answer's cost and
the judging cost. A threshold vector τ sends the query to the first stage k with score > τ_k
(the judge's own rule, ``is_reliable_score``; an error or a missing score never accepts); its
cost is every answer and judgment up to there.
"""

from __future__ import annotations

import itertools
import math
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from judgebench.errors import DataError
from judgebench.judges.meta_ranking import is_reliable_score

Target = Literal["quality", "strong_share", "cost"]


class StageOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str
    score: float | None = None
    correct: bool | None = None
    cost: float | None = None
    judge_cost: float | None = None
    error: str | None = None


class CalibrationItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: str
    stages: list[StageOutcome]


class CurvePoint(BaseModel):
    thresholds: list[float | None]  # None: the stage is skipped (no answer, no judging)
    quality: float
    cost: float | None  # mean USD per query; None when some price was unknown
    strong_share: float  # share of queries that reached the last stage
    pareto: bool = False


class CascadeCalibration(BaseModel):
    target: Target
    value: float
    met: bool  # False: nothing met the target; the closest point was chosen
    thresholds: list[float | None]
    chosen: CurvePoint
    curve: list[CurvePoint]  # the Pareto front (cost ↑, quality ↑)
    single_models: dict[str, dict[str, float | None]] = Field(default_factory=dict)
    n_items: int

    def format(self) -> str:
        lines = [
            f"cascade calibration on {self.n_items} labelled queries: target {self.target} "
            f"{'≥' if self.target == 'quality' else '≤'} {self.value:g} "
            f"({'met' if self.met else 'NOT met: closest point chosen'})",
            f"  thresholds {[_show(t) for t in self.thresholds]}: quality {self.chosen.quality:.3f}, "
            f"cost/query {_money(self.chosen.cost)}, strong share {self.chosen.strong_share:.2f}",
            "  single models: "
            + ", ".join(
                f"{m} quality {v['quality']:.3f} cost {_money(v['cost'])}"
                for m, v in self.single_models.items()
            ),
            "  cost–quality curve (Pareto front):",
            "    cost/query    quality  strong share  thresholds",
        ]
        for p in self.curve:
            lines.append(
                f"    {_money(p.cost):>10}  {p.quality:8.3f}  {p.strong_share:12.2f}  "
                f"{[_show(t) for t in p.thresholds]}"
            )
        return "\n".join(lines)


def _show(t: float | None) -> str:
    return "skip" if t is None else ("never" if math.isinf(t) else f"{t:.3f}")


def _money(v: float | None) -> str:
    return "unknown" if v is None or not math.isfinite(v) else f"${v:.6f}"


def _arrays(items: list[CalibrationItem]) -> tuple[np.ndarray, ...]:
    n, k = len(items), len(items[0].stages)
    scores = np.full((n, k), -np.inf)
    correct = np.zeros((n, k))
    cost = np.zeros((n, k))
    judge = np.zeros((n, k))
    for i, item in enumerate(items):
        if len(item.stages) != k:
            raise DataError(f"calibration item {i} has {len(item.stages)} stages, expected {k}")
        for j, st in enumerate(item.stages):
            if st.error is None and st.correct is None:
                raise DataError(f"calibration item {i}, stage {st.model}: no correctness label")
            scores[i, j] = st.score if st.score is not None else -np.inf
            correct[i, j] = 1.0 if st.correct else 0.0  # an error answers nothing: wrong
            cost[i, j] = np.nan if (st.error is None and st.cost is None) else (st.cost or 0.0)
            judge[i, j] = (
                np.nan
                if (j < k - 1 and st.error is None and st.judge_cost is None)
                else (st.judge_cost or 0.0)
            )
    return scores, correct, cost, judge


def _grid(scores: np.ndarray, per_stage: int) -> list[np.ndarray]:
    """Candidate thresholds per judged stage: −inf (accept every scored answer), every
    distinct score (quantiles when many; the largest accepts nothing, as the rule is s > τ),
    and NaN (skip the stage: no answer, no judging)."""
    out = []
    for j in range(scores.shape[1] - 1):
        col = scores[:, j][np.isfinite(scores[:, j])]
        values = np.unique(col)
        if len(values) > per_stage:
            values = np.unique(np.quantile(col, np.linspace(0, 1, per_stage)))
        out.append(np.concatenate([[-np.inf], values, [np.inf, np.nan]]))
    return out


def replay(
    scores: np.ndarray,
    correct: np.ndarray,
    cost: np.ndarray,
    judge: np.ndarray,
    thresholds: np.ndarray,
) -> tuple[float, float, float]:
    """(quality, mean cost, strong share) of one threshold vector."""
    n, k = scores.shape
    run = np.append(~np.isnan(thresholds), True)  # NaN: the stage is skipped
    judged_ok = is_reliable_score(scores[:, :-1], thresholds[None, :])  # the judge's own rule
    accept = np.column_stack([judged_ok, np.ones(n, dtype=bool)])
    final = accept.argmax(axis=1)  # NaN compares False: a skipped stage never accepts
    rows = np.arange(n)
    reached = (np.arange(k)[None, :] <= final[:, None]) & run[None, :]
    judged = reached & (np.arange(k)[None, :] < k - 1)
    spent = np.where(reached, cost, 0.0).sum(axis=1) + np.where(judged, judge, 0.0).sum(axis=1)
    return float(correct[rows, final].mean()), float(spent.mean()), float((final == k - 1).mean())


def calibrate_thresholds(
    items: list[CalibrationItem], target: Target, value: float, *, per_stage: int = 40
) -> CascadeCalibration:
    if not items:
        raise DataError("calibration needs labelled items")
    if target not in ("quality", "strong_share", "cost"):
        raise DataError(f"unknown calibration target {target!r}: quality, strong_share or cost")
    scores, correct, cost, judge = _arrays(list(items))
    grids = _grid(scores, per_stage)
    while math.prod(len(g) for g in grids) > 50_000:  # keep the search quick for long cascades
        per_stage = max(3, per_stage // 2)
        grids = _grid(scores, per_stage)
    points = []
    for combo in itertools.product(*grids):
        t = np.array(combo, dtype=float)
        q, c, share = replay(scores, correct, cost, judge, t)
        points.append(
            CurvePoint(
                thresholds=[None if math.isnan(x) else float(x) for x in t],
                quality=q,
                cost=None if math.isnan(c) else c,
                strong_share=share,
            )
        )
    if target == "cost" and any(p.cost is None for p in points):
        raise DataError("a cost target needs known prices for every model and the judge")
    axis = (
        (lambda p: p.cost)
        if all(p.cost is not None for p in points)
        else (lambda p: p.strong_share)
    )
    front: list[CurvePoint] = []
    for p in sorted(points, key=lambda p: (axis(p), -p.quality)):
        if not front or p.quality > front[-1].quality + 1e-12:
            p.pareto = True
            front.append(p)
    if target == "quality":
        ok = [p for p in front if p.quality >= value - 1e-12]
        chosen = ok[0] if ok else front[-1]
    elif target == "strong_share":
        ok = [p for p in points if p.strong_share <= value + 1e-12]
        chosen = (
            max(ok, key=lambda p: (p.quality, -(p.cost or 0)))
            if ok
            else min(points, key=lambda p: p.strong_share)
        )
    else:
        ok = [p for p in front if p.cost is not None and p.cost <= value + 1e-15]
        chosen = ok[-1] if ok else front[0]
    singles = {  # always that model, no judging: the baselines a cascade must beat
        st.model: {
            "quality": float(correct[:, j].mean()),
            "cost": None if np.isnan(cost[:, j]).any() else float(cost[:, j].mean()),
        }
        for j, st in enumerate(items[0].stages)
    }
    return CascadeCalibration(
        target=target,
        value=value,
        met=bool(ok),
        thresholds=chosen.thresholds,
        chosen=chosen,
        curve=front,
        single_models=singles,
        n_items=len(items),
    )
