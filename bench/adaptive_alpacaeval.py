"""Adaptive vs uniform sampling of judgments, replayed on real AlpacaEval 2 judge outputs.

The judge is GPT-4-turbo's per-item preference of each of the 29 shared models over the
gpt4_1106_preview baseline (``p_b`` of the imported weighted annotations, in [0, 1]): every
judgment either design asks for is looked up, none is simulated. The full-data ranking is the
models' mean preference over every item (the leaderboard's win rate).

Per seed, both designs draw judgments (model, instruction) without replacement:
* uniform: every not-yet-judged (model, instruction) equally likely; a model's estimate is its
  sample mean;
* adaptive: :class:`judgebench.analysis.adaptive.AdaptiveSampler` with ``ranking_ci: separated``,
  stratified by the AlpacaEval sub-dataset (the taxonomy node), estimates reweighted by
  inverse inclusion probability (stratified estimator).
After every ``--step`` judgments the Spearman correlation of the estimates with the full-data
ranking is taken; "judgments needed" is the first checkpoint at which it reaches ``--rho``
(0.95). Medians over ``--seeds`` seeds (20), same seeds for both designs; the mean absolute
win-rate error (vs full data) at that point is reported for both.

    .venv/bin/python bench/adaptive_alpacaeval.py [--seeds 20] [--rho 0.95] [--step 50]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "alpaca_eval"
BASELINE = "gpt4_1106_preview"


def load() -> tuple[list[str], dict[str, dict[str, list[str]]], dict[tuple[str, str], float]]:
    """Models, model → node → query ids, and (model, query id) → preference, from the real CSV."""
    from judgebench.importers import parse
    from judgebench.routing import judged_scores

    batch = parse(
        "alpaca-eval-annotations", DATA / "annotations_weighted_alpaca_eval_gpt4_turbo.csv"
    )
    scores = judged_scores(batch.judgments.values(), None, BASELINE)
    node = {q.id: (q.node_ids or ["(none)"])[0] for q in batch.queries.values()}
    outcome: dict[tuple[str, str], float] = {}
    population: dict[str, dict[str, list[str]]] = {}
    for qid, per_model in scores.items():
        for model, value in per_model.items():
            outcome[(model, qid)] = value
            population.setdefault(model, {}).setdefault(node[qid], []).append(qid)
    models = sorted(population)
    return models, population, outcome


def full_means(models, population, outcome) -> np.ndarray:  # type: ignore[no-untyped-def]
    return np.array(
        [np.mean([outcome[(m, q)] for qs in population[m].values() for q in qs]) for m in models]
    )


def _rho(estimate: np.ndarray, truth: np.ndarray) -> float:
    return float(spearmanr(estimate, truth).statistic)


def uniform_trace(models, population, outcome, truth, seed: int, step: int, rho: float):  # type: ignore[no-untyped-def]
    """(judgments, mean abs error) when uniform sampling first reaches ``rho``."""
    index = {m: i for i, m in enumerate(models)}
    cells = [(index[m], q) for m in models for qs in population[m].values() for q in qs]
    order = np.random.default_rng(seed).permutation(len(cells))
    sums = np.zeros(len(models))
    counts = np.zeros(len(models))
    for done, k in enumerate(order, start=1):
        i, q = cells[k]
        sums[i] += outcome[(models[i], q)]
        counts[i] += 1
        if done % step == 0 and counts.min() > 0:
            est = sums / counts
            if _rho(est, truth) >= rho:
                return done, float(np.abs(est - truth).mean())
    return len(cells), 0.0


def adaptive_trace(models, population, outcome, truth, seed, step, rho, min_per_node=1):  # type: ignore[no-untyped-def]
    """(judgments, mean abs error, stop reason, judgments at stop) for the adaptive design."""
    from judgebench.analysis.adaptive import AdaptiveSampler, AdaptiveTarget

    target = AdaptiveTarget(ranking_ci="separated", min_per_node=min_per_node)
    sampler = AdaptiveSampler(population, target, batch_size=step, seed=seed)
    reached: tuple[int, float] | None = None
    while True:
        batch = sampler.next_batch()
        if not batch:
            break
        for draw in batch:
            sampler.observe(draw.arm, draw.item, outcome[(draw.arm, draw.item)])
        if reached is None and sampler.started():
            found = sampler.estimates()
            est = np.array([found[m].mean for m in models])
            if _rho(est, truth) >= rho:
                reached = (sampler.judged, float(np.abs(est - truth).mean()))
    stop = sampler.stop_reason()
    if reached is None:
        reached = (sampler.judged, float("nan"))
    return reached[0], reached[1], stop, sampler.judged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--rho", type=float, default=0.95)
    parser.add_argument("--step", type=int, default=50)
    parser.add_argument("--min-per-node", type=int, default=1)
    args = parser.parse_args(argv)
    if not DATA.exists():
        print(f"skipped: {DATA} is absent (the shared AlpacaEval data)")
        return 0
    started = time.perf_counter()
    models, population, outcome = load()
    truth = full_means(models, population, outcome)
    total = len(outcome)
    print(f"models: {len(models)}  judgments available: {total}  seeds: {args.seeds}")
    print(f"target: Spearman ≥ {args.rho} with the full-data ranking, checked every {args.step}")
    uni, ada = [], []
    for seed in range(args.seeds):
        u = uniform_trace(models, population, outcome, truth, seed, args.step, args.rho)
        a = adaptive_trace(
            models, population, outcome, truth, seed, args.step, args.rho, args.min_per_node
        )
        uni.append(u)
        ada.append(a)
        print(
            f"seed {seed:2d}: uniform {u[0]:6d} (MAE {u[1]:.4f})  adaptive {a[0]:6d} "
            f"(MAE {a[1]:.4f}; stopped by itself after {a[3]} with '{a[2]}')"
        )
    uniform_n = float(np.median([u[0] for u in uni]))
    adaptive_n = float(np.median([a[0] for a in ada]))
    print(f"wall_s: {time.perf_counter() - started:.1f}")
    print(f"adaptive_stop_judgments: {float(np.median([a[3] for a in ada])):.0f}")
    print(f"uniform_judgments: {uniform_n:.0f}")
    print(f"adaptive_judgments: {adaptive_n:.0f}")
    print(f"savings_ratio: {uniform_n / adaptive_n:.2f}")
    print(f"uniform_mae: {float(np.nanmean([u[1] for u in uni])):.4f}")
    print(f"adaptive_mae: {float(np.nanmean([a[1] for a in ada])):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
