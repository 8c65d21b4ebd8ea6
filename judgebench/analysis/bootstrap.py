"""Seeded, vectorised bootstrap confidence intervals for group means.

The resampling unit is one row (one query's score for one model at one node, one pairwise
outcome, one per-query difference). Two exact strategies, chosen per group:

* **distinct values** — resampling ``n`` rows with replacement from a group whose values take
  only ``K`` distinct values is the same as drawing category counts from
  ``Multinomial(n, frequencies)``. That costs ``B·K`` instead of ``B·n`` and is what makes
  bootstrap on a million pairwise outcomes or integer scores take well under a second.
* **rows** — otherwise every replicate draws ``n`` row indices per group; all groups are done at
  once per replicate (one ``bincount``), in chunks of replicates to bound memory.

Both give the same distribution as the textbook bootstrap; percentile intervals are returned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_BOOT = 1000
DEFAULT_LEVEL = 0.95
# a group uses the multinomial path when it has at most this many distinct values and fewer
# distinct values than rows / 4 (a binomial draw costs a few index draws)
_MAX_DISTINCT = 64
_CHUNK_ELEMENTS = 4_000_000


@dataclass(frozen=True)
class BootstrapResult:
    """Point estimates, percentile intervals and the replicate matrix (groups × B)."""

    groups: pd.Index
    mean: np.ndarray
    count: np.ndarray
    low: np.ndarray
    high: np.ndarray
    replicates: np.ndarray

    def frame(self) -> pd.DataFrame:
        out = pd.DataFrame(
            {"mean": self.mean, "count": self.count, "ci_low": self.low, "ci_high": self.high},
            index=self.groups,
        )
        return out


def _rng(seed: int | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def bootstrap_group_means(
    values: np.ndarray | pd.Series,
    groups: np.ndarray | pd.Series | None = None,
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int | np.random.Generator | None = 0,
    level: float = DEFAULT_LEVEL,
) -> BootstrapResult:
    """Bootstrap the mean of ``values`` within each group (rows resampled within their group).

    Returns per-group mean, count, percentile interval at ``level`` and the ``(G, n_boot)``
    replicate means (useful for differences, ranks and p-values). NaN values are dropped.
    """
    vals = np.asarray(values, dtype=float)
    if groups is None:
        codes = np.zeros(len(vals), dtype=np.int64)
        labels = pd.Index([0])
    else:
        codes, labels = pd.factorize(pd.Series(groups).reset_index(drop=True), sort=True)
        labels = pd.Index(labels)
    keep = ~np.isnan(vals) & (codes >= 0)
    vals, codes = vals[keep], codes[keep]
    n_groups = len(labels)
    rng = _rng(seed)
    counts = np.bincount(codes, minlength=n_groups)
    sums = np.bincount(codes, weights=vals, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts
    reps = np.full((n_groups, n_boot), np.nan)
    if len(vals):
        order = np.argsort(codes, kind="stable")
        vals, codes = vals[order], codes[order]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        distinct_path = np.zeros(n_groups, dtype=bool)
        for g in np.flatnonzero(counts):
            seg = vals[starts[g] : starts[g] + counts[g]]
            uniq, freq = np.unique(seg, return_counts=True)
            if len(uniq) == 1:
                reps[g] = uniq[0]
                distinct_path[g] = True
            elif len(uniq) <= _MAX_DISTINCT and len(uniq) * 4 < counts[g]:
                draws = rng.multinomial(counts[g], freq / counts[g], size=n_boot)
                reps[g] = draws @ uniq / counts[g]
                distinct_path[g] = True
        rows = ~distinct_path[codes]
        if rows.any():
            reps_rows = _resample_rows(vals[rows], codes[rows], n_groups, n_boot, rng)
            todo = ~distinct_path & (counts > 0)
            reps[todo] = reps_rows[todo]
    alpha = (1.0 - level) / 2.0
    with np.errstate(invalid="ignore"):
        low, high = (
            (np.nanquantile if np.isnan(reps).any() else np.quantile)(
                reps, [alpha, 1 - alpha], axis=1
            )
            if n_groups and n_boot
            else (np.full(n_groups, np.nan), np.full(n_groups, np.nan))
        )
    empty = counts == 0
    low = np.where(empty, np.nan, low)
    high = np.where(empty, np.nan, high)
    return BootstrapResult(labels, means, counts, low, high, reps)


def _resample_rows(
    vals: np.ndarray, codes: np.ndarray, n_groups: int, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Index resampling within groups, all groups per replicate at once (rows sorted by group)."""
    counts = np.bincount(codes, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    row_start = starts[codes]
    row_n = counts[codes].astype(float)
    out = np.full((n_groups, n_boot), np.nan)
    chunk = max(1, _CHUNK_ELEMENTS // max(len(vals), 1))
    for b0 in range(0, n_boot, chunk):
        b1 = min(n_boot, b0 + chunk)
        u = rng.random((b1 - b0, len(vals)))
        idx = row_start + (u * row_n).astype(np.int64)
        sampled = vals[idx]
        for j in range(b1 - b0):
            out[:, b0 + j] = np.bincount(codes, weights=sampled[j], minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        return out / counts[:, None]


def bootstrap_p_value(replicates: np.ndarray, null: float = 0.0) -> np.ndarray:
    """Two-sided bootstrap p-value that the statistic differs from ``null`` (per row)."""
    reps = np.atleast_2d(replicates)
    n = np.sum(~np.isnan(reps), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        below = np.sum(reps <= null, axis=1) / n
        above = np.sum(reps >= null, axis=1) / n
        return np.minimum(1.0, 2.0 * np.minimum(below, above))
