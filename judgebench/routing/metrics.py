"""RouteLLM's evaluation (METHODS.md §8) and the baselines every routing result is read against.

A two-model router gives each query a score "how much the strong model is needed"; routing the
top share c of queries (by that score) to the strong model gives quality q(c). With q_weak and
q_strong the two models' qualities alone:

- PGR(c) = (q(c) − q_weak) / (q_strong − q_weak), the share of the gap recovered;
- APGR = the mean PGR over strong-call shares c ∈ [0, 1] (area under the PGR curve);
- CPT(x) = the smallest strong-call share with PGR ≥ x.

RouteLLM (lm-sys/RouteLLM, routellm/evals/benchmarks.py) routes ``score >= threshold`` to the
strong model, so queries with equal scores always switch together; the curve here does the same.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel


class GapCurve(BaseModel):
    shares: list[float]  # strong-call share
    quality: list[float]
    pgr: list[float]
    apgr: float
    cpt50: float | None  # None: never recovered 50 % of the gap
    cpt80: float | None
    weak_quality: float
    strong_quality: float


def _gain_by_count(need_strong: np.ndarray, gain: np.ndarray) -> np.ndarray:
    """Cumulative quality gain when the first m queries (by score) go to the strong model,
    m = 0..n, with TIED scores routed as one group (RouteLLM routes by a threshold on the score,
    ``score >= t``, so tied queries switch together); between group boundaries the curve is the
    straight line RouteLLM's interpolation draws, i.e. each tied query gets its group's mean gain.
    """
    order = np.argsort(-need_strong, kind="stable")
    sorted_scores, sorted_gain = need_strong[order], gain[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    sizes = np.diff(np.r_[starts, len(sorted_gain)])
    group_mean = np.add.reduceat(sorted_gain, starts) / sizes
    return np.concatenate([[0.0], np.cumsum(np.repeat(group_mean, sizes))])


def _first_share_reaching(pgr_at_count: np.ndarray, x: float) -> float | None:
    """The smallest strong-call share where the piecewise-linear PGR curve reaches ``x``."""
    n = len(pgr_at_count) - 1
    hit = np.flatnonzero(pgr_at_count >= x - 1e-12)
    if not len(hit):
        return None
    m = int(hit[0])
    if m == 0:
        return 0.0
    lo, hi = pgr_at_count[m - 1], pgr_at_count[m]
    return float((m - 1 + (x - lo) / (hi - lo)) / n)  # hi > x > lo: crossed inside the step


def gap_curve(
    need_strong: np.ndarray, weak_quality: np.ndarray, strong_quality: np.ndarray, steps: int = 101
) -> GapCurve:
    """RouteLLM curve for one router score ``need_strong`` (higher = send to strong) over
    held-out queries with both models' per-query qualities.

    Ties in the score are averaged (a constant score is the random router: APGR ½); APGR is the
    exact area under the piecewise-linear curve and CPT the exact crossing, both independent of
    the row order. ``shares``/``quality``/``pgr`` sample the same curve on ``steps`` points.
    """
    need_strong = np.asarray(need_strong, dtype=float)
    weak_quality = np.asarray(weak_quality, dtype=float)
    strong_quality = np.asarray(strong_quality, dtype=float)
    n = len(need_strong)
    by_count = weak_quality.mean() + _gain_by_count(need_strong, strong_quality - weak_quality) / n
    shares = np.linspace(0.0, 1.0, steps)
    quality = np.interp(shares * n, np.arange(n + 1), by_count)
    qw, qs = float(weak_quality.mean()), float(strong_quality.mean())
    gap = qs - qw
    if abs(gap) <= 1e-12:
        nan = np.full_like(quality, np.nan)
        return GapCurve(
            shares=shares.tolist(),
            quality=quality.tolist(),
            pgr=nan.tolist(),
            apgr=math.nan,
            cpt50=None,
            cpt80=None,
            weak_quality=qw,
            strong_quality=qs,
        )
    pgr_at_count = (by_count - qw) / gap
    return GapCurve(
        shares=shares.tolist(),
        quality=quality.tolist(),
        pgr=((quality - qw) / gap).tolist(),
        apgr=float(np.trapezoid(pgr_at_count, np.arange(n + 1) / n)),
        cpt50=_first_share_reaching(pgr_at_count, 0.5),
        cpt80=_first_share_reaching(pgr_at_count, 0.8),
        weak_quality=qw,
        strong_quality=qs,
    )


class StrategyResult(BaseModel):
    name: str
    quality: float
    cost: float | None
    picks: dict[str, float]  # share of queries per model


def strategy_result(
    name: str, chosen: np.ndarray, quality: np.ndarray, cost: np.ndarray | None, models: list[str]
) -> StrategyResult:
    """Quality/cost of choosing model ``chosen[i]`` (an index) for query i."""
    rows = np.arange(len(chosen))
    return StrategyResult(
        name=name,
        quality=float(quality[rows, chosen].mean()),
        cost=None if cost is None else float(cost[rows, chosen].mean()),
        picks={m: float((chosen == j).mean()) for j, m in enumerate(models) if (chosen == j).any()},
    )


def baselines(
    quality: np.ndarray, cost: np.ndarray | None, models: list[str], seed: int = 0
) -> dict[str, StrategyResult]:
    """Always-strongest (best mean quality), always-cheapest (with costs), random and oracle on
    ``quality`` (queries × models)."""
    n, m = quality.shape
    best = int(quality.mean(axis=0).argmax())
    cheapest = int(np.nanargmin(cost.mean(axis=0))) if cost is not None else 0
    rng = np.random.default_rng(seed)
    out = {
        "always-strongest": strategy_result(
            f"always {models[best]}", np.full(n, best), quality, cost, models
        )
    }
    if cost is not None:  # without prices there is no "cheapest"
        out["always-cheapest"] = strategy_result(
            f"always {models[cheapest]}", np.full(n, cheapest), quality, cost, models
        )
    out["random"] = strategy_result(
        "random", np.asarray(rng.integers(0, m, n)), quality, cost, models
    )
    # oracle: the best model per query, cheapest among ties
    tie_break = quality - 1e-9 * (cost if cost is not None else 0.0)
    out["oracle"] = strategy_result("oracle", tie_break.argmax(axis=1), quality, cost, models)
    return out


def paired_bootstrap_ci(
    a: np.ndarray, b: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean of a − b over paired queries with a percentile bootstrap interval."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(diff), size=(n_boot, len(diff)))
    means = diff[idx].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(diff.mean()), float(lo), float(hi)


def evaluate_selection(
    weights: np.ndarray,
    quality: np.ndarray,
    cost: np.ndarray | None,
    models: list[str],
    *,
    k: int = 2,
    seed: int = 0,
) -> dict[str, StrategyResult]:
    """Held-out quality and cost of the selection strategies next to the baselines.

    ``weights`` are the selector's (already thresholded) weights per query and model. ``top-k
    best-of`` queries the k highest-weighted models (those with weight > 0) and keeps the best
    answer by the held-out quality itself: what a perfect judge would pick, an upper bound for
    ``topk-judge`` (whose judging cost is not counted here); its cost is all k answers."""
    n = len(weights)
    rows = np.arange(n)
    out = {"top-1": strategy_result("learned top-1", weights.argmax(axis=1), quality, cost, models)}
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]
    asked = np.zeros_like(weights, dtype=bool)
    asked[rows[:, None], order] = True
    asked &= weights > 0
    best = np.where(asked, quality, -np.inf).argmax(axis=1)
    result = strategy_result(
        f"top-{k} best-of (perfect judge, upper bound)", best, quality, None, models
    )
    if cost is not None:
        result.cost = float(np.where(asked, cost, 0.0).sum(axis=1).mean())
    result.picks = {m: float(asked[:, j].mean()) for j, m in enumerate(models) if asked[:, j].any()}
    out[f"top-{k}"] = result
    out.update(baselines(quality, cost, models, seed=seed))
    return out
