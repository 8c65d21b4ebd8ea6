"""APGR / CPT against RouteLLM's own evaluation procedure (arXiv 2406.18665).

The expected values are computed here by RouteLLM's code path, transcribed:
lm-sys/RouteLLM routellm/evals/benchmarks.py ``GSM8K.evaluate`` (route ``score >= threshold``
to the strong model, ``score > threshold`` at the last threshold) and
routellm/evals/evaluate.py ``generate_results`` (``apgr_metric``: trapezoid area of accuracy
over strong-call share, minus the weak area, over the strong − weak area; ``pct_call_metric``:
``np.interp`` of the target quality on the (accuracy, share) points). RouteLLM takes its
thresholds from ``pd.qcut`` deciles; using every distinct score as a threshold gives the full
curve, which is what ``gap_curve`` computes.
"""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.routing import gap_curve


def routellm_points(scores, weak, strong):
    """(strong share, accuracy) per threshold, as benchmarks.py's evaluate loop yields them."""
    # every distinct score is an edge (``>=``: that score and above go strong), and like qcut's
    # edges the list ends at the maximum once more, where the strict ``>`` routes no one
    thresholds = np.r_[np.unique(scores), scores.max()]
    points = []
    for i, threshold in enumerate(thresholds):
        selection = scores >= threshold if i != len(thresholds) - 1 else scores > threshold
        results = np.where(selection, strong, weak)
        points.append((selection.mean(), results.mean()))
    return sorted(points)


def routellm_apgr(points, weak_acc, strong_acc):
    share = np.array([p[0] for p in points])
    acc = np.array([p[1] for p in points])
    auc = np.trapezoid(acc, share)
    weak_auc = np.trapezoid(np.full(len(share), weak_acc), share)
    strong_auc = np.trapezoid(np.full(len(share), strong_acc), share)
    return (auc - weak_auc) / (strong_auc - weak_auc)


def routellm_cpt(points, pct, weak_acc, strong_acc):
    share = np.array([p[0] for p in points])
    acc = np.array([p[1] for p in points])
    return float(np.interp(pct * (strong_acc - weak_acc) + weak_acc, acc, share))


def test_constant_score_is_the_random_router_in_any_row_order():
    weak = np.array([0.0] * 15 + [1.0] * 5)
    strong = np.array([1.0] * 17 + [0.0] * 3)
    for rows in (np.arange(20), np.arange(20)[::-1]):
        curve = gap_curve(np.zeros(20), weak[rows], strong[rows])
        points = routellm_points(np.zeros(20), weak, strong)  # [(0, weak), (1, strong)]
        assert curve.apgr == pytest.approx(routellm_apgr(points, weak.mean(), strong.mean()))
        assert curve.apgr == pytest.approx(0.5)
        assert curve.cpt50 == pytest.approx(0.5) and curve.cpt80 == pytest.approx(0.8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tied_scores_match_routellm_thresholds(seed):
    rng = np.random.default_rng(seed)
    n = 60
    scores = rng.integers(0, 4, n).astype(float)  # four distinct values: heavy ties
    weak = (rng.random(n) < 0.3).astype(float)
    strong = (rng.random(n) < 0.3 + 0.15 * scores).astype(float)  # the score is informative
    points = routellm_points(scores, weak, strong)
    expected = routellm_apgr(points, weak.mean(), strong.mean())
    shuffled = rng.permutation(n)
    for rows in (np.arange(n), shuffled):
        curve = gap_curve(scores[rows], weak[rows], strong[rows])
        assert curve.apgr == pytest.approx(expected, abs=1e-12)
    accuracy = [p[1] for p in points]
    if all(b >= a for a, b in zip(accuracy, accuracy[1:], strict=False)):  # np.interp needs it
        for pct, got in ((0.5, curve.cpt50), (0.8, curve.cpt80)):
            assert got == pytest.approx(routellm_cpt(points, pct, weak.mean(), strong.mean()))
