"""Agreement between judges and human (or gold) labels, and between annotators.

Labels are any hashable values (pairwise verdicts ``"A"``/``"B"``/``"tie"``, classes, ...).
A prediction may be missing (``None``/NaN): that is an *invalid* judgment. It counts as wrong
in accuracy (it is never dropped silently nor defaulted) and is reported separately.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from judgebench.errors import DataError

TIE = "tie"


def _labels(values: Sequence[Any] | pd.Series) -> pd.Series:
    series = pd.Series(list(values), dtype=object)
    return series.where(series.notna(), None)


def _paired(
    pred: Sequence[Any] | pd.Series, gold: Sequence[Any] | pd.Series
) -> tuple[pd.Series, pd.Series]:
    p, g = _labels(pred), _labels(gold)
    if len(p) != len(g):
        raise DataError(f"predictions ({len(p)}) and labels ({len(g)}) differ in length")
    return p, g


def confusion(
    pred: Sequence[Any], gold: Sequence[Any], labels: Sequence[Any] | None = None
) -> pd.DataFrame:
    """Counts with gold labels as rows and predictions as columns (invalid as ``"invalid"``)."""
    p, g = _paired(pred, gold)
    p = p.where(p.notna(), "invalid")
    classes = (
        list(labels)
        if labels is not None
        else sorted(set(g.dropna()) | set(p) - {"invalid"}, key=str)
    )
    cols = classes + (["invalid"] if (p == "invalid").any() else [])
    table = pd.crosstab(
        pd.Categorical(g, categories=classes), pd.Categorical(p, categories=cols), dropna=False
    )
    table.index.name, table.columns.name = "gold", "predicted"
    return table


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's κ over items both raters labelled; classes are the union of both label sets."""
    x, y = _paired(a, b)
    both = x.notna() & y.notna()
    x, y = x[both], y[both]
    if x.empty:
        return float("nan")
    classes = sorted(set(x) | set(y), key=str)
    xi = pd.Categorical(x, categories=classes).codes
    yi = pd.Categorical(y, categories=classes).codes
    k = len(classes)
    table = np.bincount(xi * k + yi, minlength=k * k).reshape(k, k) / len(x)
    observed = np.trace(table)
    expected = float(table.sum(axis=1) @ table.sum(axis=0))
    if expected >= 1.0:
        return 1.0 if observed >= 1.0 else float("nan")
    return float((observed - expected) / (1.0 - expected))


def fleiss_kappa(ratings: pd.DataFrame | np.ndarray) -> float:
    """Fleiss' κ for items (rows) × raters (columns) of categorical labels (same rater count)."""
    frame = pd.DataFrame(ratings)
    if frame.isna().any().any():
        raise DataError("fleiss_kappa needs every rater to label every item")
    n_raters = frame.shape[1]
    if n_raters < 2 or frame.empty:
        return float("nan")
    classes = sorted(set(frame.to_numpy().ravel()), key=str)
    counts = np.stack([(frame == c).sum(axis=1).to_numpy() for c in classes], axis=1)
    p_item = ((counts * (counts - 1)).sum(axis=1)) / (n_raters * (n_raters - 1))
    p_bar = p_item.mean()
    p_class = counts.sum(axis=0) / counts.sum()
    p_e = float((p_class**2).sum())
    return float((p_bar - p_e) / (1 - p_e)) if p_e < 1 else float("nan")


def pairwise_kappa(annotations: pd.DataFrame) -> pd.DataFrame:
    """Cohen's κ for every pair of annotator columns (long form: rater_a, rater_b, kappa, n)."""
    rows = []
    for a, b in combinations(annotations.columns, 2):
        both = annotations[a].notna() & annotations[b].notna()
        rows.append(
            {
                "rater_a": a,
                "rater_b": b,
                "kappa": cohen_kappa(annotations[a], annotations[b]),
                "n": int(both.sum()),
            }
        )
    return pd.DataFrame(rows, columns=["rater_a", "rater_b", "kappa", "n"])


def majority_label(annotations: pd.DataFrame, *, on_tie: Any = None) -> pd.Series:
    """Most frequent label per row; rows with no single most frequent label get ``on_tie``."""

    def pick(row: pd.Series) -> Any:
        counts = row.dropna().value_counts()
        if counts.empty or (len(counts) > 1 and counts.iloc[0] == counts.iloc[1]):
            return on_tie
        return counts.index[0]

    return annotations.apply(pick, axis=1)


def classification_report(
    pred: Sequence[Any], gold: Sequence[Any], labels: Sequence[Any] | None = None
) -> dict[str, float]:
    """Accuracy, macro precision / recall / F1 over the gold classes, Cohen's κ, invalid count.

    An invalid prediction (missing) counts as wrong for accuracy and recall; κ is over valid
    predictions only (and says so through ``n_valid``).
    """
    p, g = _paired(pred, gold)
    keep = g.notna()
    p, g = p[keep], g[keep]
    classes = list(labels) if labels is not None else sorted(set(g), key=str)
    correct = (p == g) & p.notna()
    precision, recall, f1 = [], [], []
    for c in classes:
        tp = float(((p == c) & (g == c)).sum())
        predicted = float((p == c).sum())
        actual = float((g == c).sum())
        prec = tp / predicted if predicted else 0.0
        rec = tp / actual if actual else 0.0
        precision.append(prec)
        recall.append(rec)
        f1.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    valid = p.notna()
    return {
        "n": int(len(g)),
        "n_valid": int(valid.sum()),
        "invalid": int((~valid).sum()),
        "accuracy": float(correct.mean()) if len(g) else float("nan"),
        "accuracy_valid": float(correct[valid].mean()) if valid.any() else float("nan"),
        "precision_macro": float(np.mean(precision)) if classes else float("nan"),
        "recall_macro": float(np.mean(recall)) if classes else float("nan"),
        "f1_macro": float(np.mean(f1)) if classes else float("nan"),
        "kappa": cohen_kappa(p[valid], g[valid]) if valid.any() else float("nan"),
    }


def pairwise_agreement(
    pred: Sequence[Any], gold: Sequence[Any], *, tie: Any = TIE
) -> dict[str, float]:
    """Judge-vs-human agreement for pairwise verdicts.

    ``accuracy_with_ties`` counts every labelled item (a tie must be predicted as a tie);
    ``accuracy_without_ties`` only items where neither the gold label nor the judge is a tie
    (MT-Bench's "w/o tie" setting); invalid verdicts count as wrong in both and are reported.
    """
    p, g = _paired(pred, gold)
    keep = g.notna()
    p, g = p[keep], g[keep]
    correct = (p == g) & p.notna()
    no_tie = (g != tie) & (p != tie)
    valid = p.notna()
    return {
        "n": int(len(g)),
        "invalid": int((~valid).sum()),
        "invalid_rate": float((~valid).mean()) if len(g) else float("nan"),
        "accuracy_with_ties": float(correct.mean()) if len(g) else float("nan"),
        "n_without_ties": int(no_tie.sum()),
        "accuracy_without_ties": float(correct[no_tie].mean()) if no_tie.any() else float("nan"),
        "kappa": cohen_kappa(p[valid], g[valid]) if valid.any() else float("nan"),
    }


def score_correlation(pred: Sequence[float], gold: Sequence[float]) -> dict[str, float]:
    """Spearman ρ and Kendall τ (b) between judge scores and human scores (pairs with both)."""
    frame = pd.DataFrame(
        {
            "p": pd.to_numeric(pd.Series(list(pred)), errors="coerce"),
            "g": pd.to_numeric(pd.Series(list(gold)), errors="coerce"),
        }
    ).dropna()
    if len(frame) < 2:
        return {
            "n": len(frame),
            "spearman": float("nan"),
            "spearman_p": float("nan"),
            "kendall": float("nan"),
            "kendall_p": float("nan"),
        }
    rho = stats.spearmanr(frame["p"], frame["g"])
    tau = stats.kendalltau(frame["p"], frame["g"])
    return {
        "n": int(len(frame)),
        "spearman": float(rho.statistic),
        "spearman_p": float(rho.pvalue),
        "kendall": float(tau.statistic),
        "kendall_p": float(tau.pvalue),
    }


FLIP = {"A": "B", "B": "A", "tie": "tie"}


def position_consistency(
    first: Sequence[Any], swapped: Sequence[Any], *, flip: Mapping[Any, Any] = FLIP
) -> dict[str, float]:
    """Share of pairs whose verdict survives swapping the two responses.

    ``first`` are verdicts in the original order, ``swapped`` the verdicts with the responses
    presented the other way round (so a consistent judge answers ``flip[first]``). Pairs where
    either verdict is invalid are excluded and counted. Also reports which slot the judge leans
    to when inconsistent (``prefers_first``: share of inconsistent pairs won by slot A twice).
    """
    a, b = _paired(first, swapped)
    valid = a.notna() & b.notna()
    a, b = a[valid], b[valid]
    consistent = a.map(lambda v: flip.get(v, v)) == b
    inconsistent = ~consistent
    both_first = (a == "A") & (b == "A")
    both_second = (a == "B") & (b == "B")
    n_incons = int(inconsistent.sum())
    return {
        "n": int(len(a)),
        "excluded_invalid": int((~valid).sum()),
        "consistency": float(consistent.mean()) if len(a) else float("nan"),
        "prefers_first": float(both_first.sum() / n_incons) if n_incons else 0.0,
        "prefers_second": float(both_second.sum() / n_incons) if n_incons else 0.0,
    }


def combine_order_verdicts(
    first: Sequence[Any],
    swapped: Sequence[Any],
    *,
    flip: Mapping[Any, Any] = FLIP,
    keep_single_order: bool = False,
) -> list[Any]:
    """One verdict per pair from both orders (original orientation): a flip becomes a tie.

    A pair invalid in either order is ``None`` (invalid), as MT-Bench drops a pair whose g1 or
    g2 judgment is an error (FastChat ``show_result.py`` ``display_result_pairwise``) and as
    ``PairwiseJudge`` records it. ``keep_single_order=True`` takes the one valid order's verdict
    instead (it has not been checked for position bias).
    """
    out: list[Any] = []
    for x, y in zip(_labels(first), _labels(swapped), strict=True):
        y_back = flip.get(y, y) if y is not None else None
        if x is None or y_back is None:
            out.append((y_back if x is None else x) if keep_single_order else None)
        elif x == y_back:
            out.append(x)
        else:
            out.append(TIE)
    return out
