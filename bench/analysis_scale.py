"""Bootstrap and Bradley–Terry on 1,000,000 judgments, beside textbook baselines.

Synthetic but realistic data (seeded):

* 1,000,000 pointwise judgments: 10 models × 100,000 queries, integer scores 1–10, queries
  spread over a 3-level taxonomy of 216 leaves (6 × 6 × 6) → per model × node mean, rank and
  a 1000-replicate bootstrap CI for 2,590 (node, model) groups (``node_scores``);
* 1,000,000 pairwise judgments among 20 models (Bradley–Terry strengths, 10 % ties), both
  presentation orders merged, ratings with 1000 bootstrap replicates (``bradley_terry``).

Baselines measured in the same run: the textbook bootstrap (draw n row indices per replicate
and group, loop over replicates) on the same pointwise data for a few replicates, extrapolated
linearly to 1000; and a textbook Bradley–Terry bootstrap (refit on resampled rows) likewise.

    python bench/analysis_scale.py               # full size
    python bench/analysis_scale.py --n 200000    # smaller

Ends with ``bootstrap_s`` and ``bradley_terry_s`` (see ../shared/docs/BENCH.md).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import pandas as pd

from judgebench.analysis import bradley_terry, node_scores, win_rates
from judgebench.analysis.pairwise import _fit_bt, _win_matrices


def pointwise(n: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    models = 10
    queries = n // models
    leaves = np.array([f"d{a}/c{b}/l{c}" for a in range(6) for b in range(6) for c in range(6)])
    leaf = rng.integers(0, len(leaves), queries)
    skill = np.linspace(-1, 1, models)
    qq = np.repeat(np.arange(queries), models)
    mm = np.tile(np.arange(models), queries)
    score = np.clip(np.round(5.5 + 1.5 * skill[mm] + rng.normal(0, 2, len(qq))), 1, 10)
    scores = pd.DataFrame(
        {
            "query_id": qq,
            "model": np.array([f"model-{i}" for i in range(models)])[mm],
            "score": score,
        }
    )
    membership = pd.DataFrame({"query_id": np.arange(queries), "node_id": leaves[leaf]})
    return scores, membership


def pairwise(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    models = 20
    strength = np.linspace(-1.5, 1.5, models)
    a = rng.integers(0, models, n)
    b = (a + rng.integers(1, models, n)) % models
    p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
    u = rng.random(n)
    outcome = np.where(u < 0.9 * p, 1.0, np.where(u < 0.9 * p + 0.1, 0.5, 0.0))
    names = np.array([f"model-{i:02d}" for i in range(models)])
    # the same pair of a query is judged in both orders: query ids repeat in twos
    return pd.DataFrame(
        {
            "query_id": np.arange(n) // 2,
            "model_a": names[a],
            "model_b": names[b],
            "outcome": outcome,
        }
    )


def textbook_bootstrap(
    scores: pd.DataFrame, membership: pd.DataFrame, reps: int, seed: int = 0
) -> float:
    """Per (node, model) group: draw n indices with replacement, take the mean; per replicate."""
    from judgebench.analysis.aggregate import expand_membership

    rows = scores.merge(expand_membership(membership), on="query_id")
    groups = [g.to_numpy() for _, g in rows.groupby(["node_id", "model"])["score"]]
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(reps):
        for values in groups:
            values[rng.integers(0, len(values), len(values))].mean()
    return time.perf_counter() - start


def textbook_bt(pairs: pd.DataFrame, reps: int, seed: int = 0) -> float:
    """Refit Bradley–Terry on row-resampled judgments, one replicate at a time."""
    models = pd.Index(sorted(set(pairs["model_a"]) | set(pairs["model_b"])))
    ca = models.get_indexer(pairs["model_a"])
    cb = models.get_indexer(pairs["model_b"])
    outcome = pairs["outcome"].to_numpy()
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    for _ in range(reps):
        idx = rng.integers(0, len(pairs), len(pairs))
        weights = np.ones((1, len(idx)))
        _fit_bt(_win_matrices(ca[idx], cb[idx], outcome[idx], len(models), weights), prior=1.0)
    return time.perf_counter() - start


def timed(fn, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1_000_000, help="judgments of each kind")
    parser.add_argument("--boot", type=int, default=1000, help="bootstrap replicates")
    parser.add_argument("--rounds", type=int, default=3, help="repeats (median reported)")
    parser.add_argument(
        "--baseline-reps", type=int, default=3, help="textbook replicates actually run"
    )
    args = parser.parse_args()

    scores, membership = pointwise(args.n)
    pairs = pairwise(args.n)
    print(
        f"pointwise: {len(scores):,} judgments, {scores['model'].nunique()} models, {membership['node_id'].nunique()} leaves"
    )
    print(
        f"pairwise:  {len(pairs):,} judgments, {pairs['model_a'].nunique()} models, both orders of each pair\n"
    )

    boot_s, table = timed(
        lambda: node_scores(scores, membership, n_boot=args.boot, seed=0), args.rounds
    )
    groups = len(table)
    print(
        f"node_scores (mean, rank, {args.boot}-replicate bootstrap CI, {groups} node×model groups): {boot_s:.2f} s"
    )
    wr_s, _ = timed(lambda: win_rates(pairs, n_boot=args.boot), args.rounds)
    print(
        f"win_rates   ({args.boot}-replicate bootstrap CI per model, ties as half):           {wr_s:.2f} s"
    )
    bt_s, bt = timed(lambda: bradley_terry(pairs, n_boot=args.boot, seed=0), args.rounds)
    print(
        f"bradley_terry ({args.boot}-replicate bootstrap CI, orders merged):                  {bt_s:.2f} s"
    )
    top = bt.iloc[0]
    print(
        f"  top: {top['model']} rating {top['rating']:.1f} [{top['ci_low']:.1f}, {top['ci_high']:.1f}]\n"
    )

    base_boot = (
        textbook_bootstrap(scores, membership, args.baseline_reps) * args.boot / args.baseline_reps
    )
    base_bt = textbook_bt(pairs, args.baseline_reps) * args.boot / args.baseline_reps
    print(
        f"textbook bootstrap, extrapolated from {args.baseline_reps} replicates to {args.boot}: {base_boot:.1f} s "
        f"(×{base_boot / boot_s:.0f} slower)"
    )
    print(
        f"textbook BT bootstrap (refit per replicate), extrapolated:           {base_bt:.1f} s "
        f"(×{base_bt / bt_s:.0f} slower)\n"
    )
    print(f"bootstrap_s: {boot_s:.3f}")
    print(f"bradley_terry_s: {bt_s:.3f}")
    print(f"win_rates_s: {wr_s:.3f}")
    print(f"bootstrap_speedup: {base_boot / boot_s:.1f}")
    print(f"bradley_terry_speedup: {base_bt / bt_s:.1f}")


if __name__ == "__main__":
    main()
