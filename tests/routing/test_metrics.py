"""RouteLLM metrics on constructed cases where the right answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.routing import baselines, gap_curve, paired_bootstrap_ci


def test_perfect_router_recovers_the_gap_with_few_strong_calls():
    # strong helps on exactly 30 % of the queries; a router that knows which gets there at 0.3
    n = 1000
    weak = np.zeros(n)
    strong = np.zeros(n)
    strong[:300] = 1.0
    perfect = gap_curve(strong - weak, weak, strong)
    assert perfect.cpt50 == pytest.approx(0.15, abs=0.011)
    assert perfect.cpt80 == pytest.approx(0.24, abs=0.011)
    assert perfect.apgr > 0.8
    rng = np.random.default_rng(0)
    rand = gap_curve(rng.random(n), weak, strong)
    assert 0.4 < rand.apgr < 0.6  # random routing recovers the gap linearly: area ≈ ½
    assert rand.cpt80 > 0.7
    inverted = gap_curve(-(strong - weak), weak, strong)
    assert inverted.apgr < rand.apgr < perfect.apgr
    assert perfect.pgr[0] == pytest.approx(0) and perfect.pgr[-1] == pytest.approx(1)


def test_baselines_and_oracle():
    quality = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0]])
    cost = np.array([[1.0, 10.0]] * 4)
    out = baselines(quality, cost, ["cheap", "strong"])
    assert out["always-strongest"].quality == 0.75 and out["always-strongest"].cost == 10
    assert out["always-cheapest"].quality == 0.5
    assert out["oracle"].quality == 1.0
    assert out["oracle"].picks == {"cheap": 0.5, "strong": 0.5}  # ties go to the cheaper model


def test_paired_bootstrap_ci_covers_the_difference():
    rng = np.random.default_rng(3)
    a = rng.normal(0.1, 1, 500)
    b = rng.normal(0.0, 1, 500)
    mean, lo, hi = paired_bootstrap_ci(a, b, n_boot=500)
    assert lo < mean < hi and lo < 0.1 < hi + 0.2
    same = paired_bootstrap_ci(a, a, n_boot=100)
    assert same == (0.0, 0.0, 0.0)


def test_evaluate_selection_top_k_is_an_upper_bound_and_costs_all_k():
    from judgebench.routing import evaluate_selection

    quality = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    cost = np.array([[1.0, 2.0, 4.0]] * 3)
    weights = np.array([[0.6, 0.4, 0.0], [0.7, 0.3, 0.0], [0.5, 0.5, 0.0]])  # model 2 dropped
    out = evaluate_selection(weights, quality, cost, ["a", "b", "c"], k=2)
    assert out["top-1"].quality == pytest.approx(1 / 3) and out["top-1"].cost == pytest.approx(1.0)
    assert out["top-2"].quality == pytest.approx(2 / 3) and out["top-2"].cost == pytest.approx(3.0)
    assert out["oracle"].quality == 1.0 and {"always-strongest", "random"} <= set(out)
