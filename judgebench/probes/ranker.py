"""The Language Ranker computation (METHODS.md §7), in numpy, on pooled hidden states.

For a language X with n parallel pairs (e_i, x_i) and pooled states at layers 1..L:

* ``raw[l]``      = mean_i cos(e_i, x_i) at layer l (the paper's similarity);
* ``baseline[l]`` = mean over all mismatched pairs i≠j of cos(e_i, x_j): the anisotropy of the
  representation space (unrelated sentences are not at cosine 0);
* ``score[l]``    = raw[l] − baseline[l].

All three are means over pairs of per-pair terms (``m_i`` = mean_j≠i cos(e_i, x_j) is computed in
O(n·d) from the sum of unit vectors), so one bootstrap over pairs gives the CI of each, and the
same resampling weights are shared by all languages (a paired bootstrap: rank differences are
not blurred by independent resampling noise). The language score over a layer set is the mean
of the per-pair terms over those layers, bootstrapped the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from judgebench.errors import UserError


@dataclass
class LayerScores:
    """Per-layer arrays (index 0 = layer 1) and the aggregate over the chosen layer set."""

    raw: np.ndarray
    baseline: np.ndarray
    score: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    raw_ci_low: np.ndarray
    raw_ci_high: np.ndarray
    n_pairs: int
    layers: tuple[int, ...]
    agg_raw: float
    agg_baseline: float
    agg_score: float
    agg_ci: tuple[float, float]
    agg_raw_ci: tuple[float, float]


def parse_layers(spec: str | None, n_layers: int) -> tuple[int, ...]:
    """``all`` (default), ``last``, or a comma list of layers and ranges: ``1-3,6,-1`` (1-based;
    negative counts from the last layer; the embedding layer is not a layer here)."""
    if spec is None or spec.strip().lower() in ("", "all"):
        return tuple(range(1, n_layers + 1))
    chosen: list[int] = []

    def one(token: str) -> int:
        try:
            value = int(token)
        except ValueError:
            raise UserError(f"layer {token!r} is not an integer", where="--layers") from None
        if value < 0:
            value = n_layers + 1 + value
        if not 1 <= value <= n_layers:
            raise UserError(
                f"layer {token} out of range 1..{n_layers} (embedding layer excluded)",
                where="--layers",
            )
        return value

    for part in spec.split(","):
        part = part.strip()
        if part.lower() == "last":
            chosen.append(n_layers)
        elif "-" in part[1:]:
            start, end = part[0] + part[1:].split("-", 1)[0], part[1:].split("-", 1)[1]
            low, high = one(start), one(end)
            if low > high:
                raise UserError(f"empty layer range {part!r}", where="--layers")
            chosen.extend(range(low, high + 1))
        elif part:
            chosen.append(one(part))
    if not chosen:
        raise UserError("no layers chosen", where="--layers")
    return tuple(sorted(set(chosen)))


def format_layers(layers: tuple[int, ...] | list[int]) -> str:
    """A layer set written back compactly (``parse_layers``' inverse): ``1-6`` or ``2,4,6``."""
    layers = tuple(layers)
    if len(layers) > 2 and layers == tuple(range(layers[0], layers[-1] + 1)):
        return f"{layers[0]}-{layers[-1]}"
    return ",".join(map(str, layers))


def bootstrap_weights(n_pairs: int, n_boot: int, seed: int) -> np.ndarray:
    """Resampling weights [n_boot, n_pairs]: multinomial counts / n, so ``W @ v`` is the resampled mean."""
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(n_pairs, np.full(n_pairs, 1.0 / n_pairs), size=n_boot)
    return (counts / n_pairs).astype(np.float64)


def _unit(states: np.ndarray) -> np.ndarray:
    states = states.astype(np.float64, copy=False)
    norms = np.linalg.norm(states, axis=-1, keepdims=True)
    return states / np.maximum(norms, 1e-12)


def pair_terms(english: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer, per-pair matched cosines ``c`` and mean mismatched cosines ``m``, each [L, n]."""
    if english.shape != other.shape:
        raise ValueError(f"state shapes differ: {english.shape} vs {other.shape}")
    n = english.shape[1]
    if n < 2:
        raise UserError("need at least 2 parallel pairs (the baseline uses mismatched pairs)")
    e, x = _unit(english), _unit(other)
    matched = np.einsum("lnd,lnd->ln", e, x)
    total = x.sum(axis=1)  # [L, D]
    mismatched = (np.einsum("lnd,ld->ln", e, total) - matched) / (n - 1)
    return matched, mismatched


def _percentile_ci(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(samples, [tail, 100.0 - tail], axis=0)
    return low, high


def language_scores(
    english: np.ndarray,
    other: np.ndarray,
    *,
    layers: tuple[int, ...],
    weights: np.ndarray,
    confidence: float = 0.95,
) -> LayerScores:
    """Scores of one language from pooled states [L, n, D] of English and of X."""
    matched, mismatched = pair_terms(english, other)
    corrected = matched - mismatched
    if weights.shape[1] != matched.shape[1]:
        raise ValueError("bootstrap weights were drawn for another number of pairs")
    picked = [layer - 1 for layer in layers]
    agg_matched = matched[picked].mean(axis=0)
    agg_corrected = corrected[picked].mean(axis=0)
    # One matrix product resamples every layer and the aggregate at once.
    boot = weights @ np.concatenate(
        [corrected.T, matched.T, agg_corrected[:, None], agg_matched[:, None]], axis=1
    )
    n_layers = matched.shape[0]
    low, high = _percentile_ci(boot, confidence)
    return LayerScores(
        raw=matched.mean(axis=1),
        baseline=mismatched.mean(axis=1),
        score=corrected.mean(axis=1),
        ci_low=low[:n_layers],
        ci_high=high[:n_layers],
        raw_ci_low=low[n_layers : 2 * n_layers],
        raw_ci_high=high[n_layers : 2 * n_layers],
        n_pairs=matched.shape[1],
        layers=layers,
        agg_raw=float(agg_matched.mean()),
        agg_baseline=float(mismatched[picked].mean()),
        agg_score=float(agg_corrected.mean()),
        agg_ci=(float(low[-2]), float(high[-2])),
        agg_raw_ci=(float(low[-1]), float(high[-1])),
    )


@dataclass
class Correlation:
    rho: float
    p_value: float
    n: int
    missing: list[str]


def spearman(scores: Mapping[str, float], reference: Mapping[str, float]) -> Correlation:
    """Spearman correlation over the languages both sides have."""
    from scipy.stats import spearmanr

    common = sorted(set(scores) & set(reference))
    missing = sorted(set(scores) - set(reference))
    if len(common) < 3:
        raise UserError(
            f"only {len(common)} languages in common with the reference figures (need 3)"
        )
    result = spearmanr([scores[c] for c in common], [reference[c] for c in common])
    return Correlation(
        rho=float(result.statistic), p_value=float(result.pvalue), n=len(common), missing=missing
    )


def read_reference_csv(path: str) -> dict[str, float]:
    """A CSV of ``language,value`` (a header row is allowed)."""
    import csv
    from pathlib import Path

    from judgebench.errors import DataError

    file = Path(path)
    if not file.is_file():
        raise DataError("reference CSV not found", where=path)
    values: dict[str, float] = {}
    with file.open(encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.reader(handle), 1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 2:
                raise DataError(f"line {number}: expected language,value", where=path)
            try:
                values[row[0].strip()] = float(row[1])
            except ValueError:
                if number == 1:
                    continue  # header
                raise DataError(
                    f"line {number}: value {row[1]!r} is not a number", where=path
                ) from None
    if not values:
        raise DataError("empty reference CSV", where=path)
    return values
