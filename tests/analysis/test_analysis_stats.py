"""Bootstrap, pairwise statistics and agreement metrics against known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from judgebench.analysis import (
    bootstrap_group_means,
    bootstrap_p_value,
    bradley_terry,
    bt_win_probability,
    classification_report,
    cohen_kappa,
    combine_order_verdicts,
    combine_orders,
    elo,
    fleiss_kappa,
    instruction_difficulty,
    length_controlled_win_rates,
    majority_label,
    pairwise_agreement,
    pairwise_kappa,
    position_consistency,
    score_correlation,
    win_rates,
)
from judgebench.errors import DataError


def test_bootstrap_is_seeded_and_covers_the_mean():
    rng = np.random.default_rng(3)
    values = rng.normal(5.0, 2.0, 400)
    groups = np.repeat(["a", "b"], 200)
    one = bootstrap_group_means(values, groups, n_boot=500, seed=7)
    two = bootstrap_group_means(values, groups, n_boot=500, seed=7)
    other = bootstrap_group_means(values, groups, n_boot=500, seed=8)
    np.testing.assert_array_equal(one.replicates, two.replicates)
    assert not np.array_equal(one.replicates, other.replicates)
    assert list(one.groups) == ["a", "b"]
    np.testing.assert_allclose(one.mean, [values[:200].mean(), values[200:].mean()])
    # percentile CI width ≈ 2·1.96·sd/√n
    expected = 2 * 1.96 * values[:200].std() / np.sqrt(200)
    assert (one.high[0] - one.low[0]) == pytest.approx(expected, rel=0.15)
    assert one.low[0] < one.mean[0] < one.high[0]


def test_bootstrap_distinct_value_path_matches_row_resampling_distribution():
    rng = np.random.default_rng(0)
    values = rng.choice([0.0, 0.5, 1.0], size=3000, p=[0.3, 0.2, 0.5])  # multinomial path
    fast = bootstrap_group_means(values, n_boot=2000, seed=1)
    # textbook bootstrap for comparison
    idx = rng.integers(0, len(values), size=(2000, len(values)))
    slow = values[idx].mean(axis=1)
    assert fast.replicates[0].std() == pytest.approx(slow.std(), rel=0.1)
    assert fast.replicates[0].mean() == pytest.approx(values.mean(), abs=0.002)


def test_bootstrap_handles_singletons_constants_and_nan():
    res = bootstrap_group_means([1.0, np.nan, 2.0, 2.0, 2.0], ["x", "x", "y", "y", "y"], n_boot=50)
    frame = res.frame()
    assert frame.loc["x", "count"] == 1 and frame.loc["x", "ci_low"] == 1.0
    assert frame.loc["y", "ci_low"] == frame.loc["y", "ci_high"] == 2.0


def test_bootstrap_p_value_two_sided():
    reps = np.array([np.linspace(0.1, 1.0, 100), np.linspace(-1, 1, 100)])
    p = bootstrap_p_value(reps)
    assert p[0] == 0.0
    assert p[1] == pytest.approx(1.0)


def _pairs(rows):
    return pd.DataFrame(rows, columns=["query_id", "model_a", "model_b", "outcome"])


def test_combine_orders_turns_flips_into_ties_and_counts_once():
    pairs = _pairs(
        [
            ("q1", "x", "y", 1.0),
            ("q1", "y", "x", 1.0),  # flip: x won first, y won when swapped → tie
            ("q2", "x", "y", 1.0),
            ("q2", "y", "x", 0.0),  # consistent: x wins both orders
            ("q3", "y", "x", 0.5),
        ]
    )
    combined = combine_orders(pairs).set_index("query_id")
    assert len(combined) == 3
    assert (combined["model_a"] == "x").all()
    assert combined.loc["q1", "outcome"] == 0.5
    assert combined.loc["q2", "outcome"] == 1.0
    assert combined.loc["q2", "n_orders"] == 2
    assert combined.loc["q3", "outcome"] == 0.5


def test_win_rates_ties_as_half_and_against_a_baseline():
    pairs = _pairs(
        [
            ("q1", "base", "m", 0.0),
            ("q2", "base", "m", 0.5),
            ("q3", "base", "m", 1.0),
            ("q4", "base", "m", 0.0),
        ]
        + [("q1", "base", "n", 1.0)]
    )
    wr = win_rates(pairs, baseline="base", n_boot=200).set_index("model")
    assert wr.loc["m", "win_rate"] == pytest.approx(100 * (1 + 0.5 + 0 + 1) / 4)
    assert (wr.loc["m", ["wins", "losses", "ties"]].tolist()) == [2, 1, 1]
    assert wr.loc["n", "win_rate"] == 0.0
    assert "base" not in wr.index
    assert wr.loc["m", "ci_low"] <= wr.loc["m", "win_rate"] <= wr.loc["m", "ci_high"]


def test_bradley_terry_recovers_strengths_and_orders_ci():
    rng = np.random.default_rng(11)
    strength = {"weak": -1.0, "mid": 0.0, "strong": 1.0}
    names = list(strength)
    rows = []
    for i in range(6000):
        a, b = rng.choice(names, 2, replace=False)
        p = 1 / (1 + np.exp(-(strength[a] - strength[b])))
        rows.append((f"q{i}", a, b, float(rng.random() < p)))
    bt = bradley_terry(_pairs(rows), n_boot=200, seed=0).set_index("model")
    assert list(bt.sort_values("rank").index) == ["strong", "mid", "weak"]
    assert bt.loc["strong", "rank"] == 1
    # ratings are 400·log10 odds: strong vs weak should be ≈ e² odds
    p = bt_win_probability(bt.loc["strong", "rating"], bt.loc["weak", "rating"])
    assert p == pytest.approx(1 / (1 + np.exp(-2.0)), abs=0.03)
    assert (bt["ci_low"] < bt["rating"]).all() and (bt["rating"] < bt["ci_high"]).all()
    assert bt.loc["weak", "ci_high"] < bt.loc["mid", "ci_low"]


def test_bradley_terry_is_finite_for_an_unbeaten_model_with_a_prior():
    pairs = _pairs([("q1", "a", "b", 1.0), ("q2", "a", "b", 1.0), ("q3", "b", "c", 1.0)])
    bt = bradley_terry(pairs, n_boot=50, prior=1.0)
    assert np.isfinite(bt["rating"]).all() and bt["rating"].max() < 1500
    assert bt.iloc[0]["model"] == "a"
    # without a prior (FastChat's default) the MLE does not exist: the rating runs off
    unpenalised = bradley_terry(pairs, n_boot=0).set_index("model")["rating"]
    assert unpenalised["a"] - unpenalised["b"] > 1000


def test_elo_moves_towards_the_winner():
    pairs = _pairs([("q", "a", "b", 1.0)] * 50)
    out = elo(pairs).set_index("model")
    assert out.loc["a", "elo"] > 1000 > out.loc["b", "elo"]
    assert out.loc["a", "elo"] + out.loc["b", "elo"] == pytest.approx(2000)


def test_length_controlled_win_rate_removes_a_pure_length_effect():
    """Two models of equal quality; one writes longer answers and the judge likes length."""
    rng = np.random.default_rng(5)
    queries = [f"q{i}" for i in range(800)]
    difficulty = rng.normal(0, 1, len(queries))
    rows = []
    for model, extra_len in (("plain", 0.0), ("verbose", 600.0), ("other", 100.0)):
        delta = rng.normal(extra_len, 300, len(queries))
        logit = -0.5 + 0.8 * difficulty + 1.5 * np.tanh(delta / 300)
        p = 1 / (1 + np.exp(-logit))
        rows.append(
            pd.DataFrame({"query_id": queries, "model": model, "outcome": p, "length_delta": delta})
        )
    prefs = pd.concat(rows, ignore_index=True)
    # with three models the difficulty must be estimated with the length term (see docs)
    out = length_controlled_win_rates(
        prefs, instruction_difficulty(prefs, length_aware=True)
    ).set_index("model")
    raw_gap = out.loc["verbose", "win_rate"] - out.loc["plain", "win_rate"]
    lc_gap = out.loc["verbose", "lc_win_rate"] - out.loc["plain", "lc_win_rate"]
    assert raw_gap > 15
    assert abs(lc_gap) < raw_gap / 4
    assert out.loc["verbose", "length_coef"] > 0.5


def test_instruction_difficulty_orders_instructions():
    prefs = pd.DataFrame(
        {
            "query_id": ["easy"] * 3 + ["hard"] * 3 + ["mid"] * 3,
            "model": ["a", "b", "c"] * 3,
            "outcome": [0.9, 0.8, 0.95, 0.1, 0.2, 0.05, 0.5, 0.4, 0.6],
        }
    )
    gamma = instruction_difficulty(prefs)
    assert gamma["easy"] > gamma["mid"] > gamma["hard"]
    assert gamma.mean() == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(DataError, match="outcome"):
        instruction_difficulty(prefs.drop(columns="outcome"))


def test_cohen_kappa_matches_scipy_free_reference():
    a = ["A", "A", "B", "B", "tie", "A", "B", "A"]
    b = ["A", "B", "B", "B", "tie", "A", "A", "A"]
    # by hand: po = 6/8; pe = (4·4 + 3·3 + 1·1)/64
    po, pe = 6 / 8, (4 * 4 + 3 * 3 + 1 * 1) / 64
    assert cohen_kappa(a, b) == pytest.approx((po - pe) / (1 - pe))
    assert cohen_kappa(a, a) == 1.0


def test_fleiss_kappa_known_example():
    # Fleiss (1971)-style small table: 3 raters, perfect agreement except one item
    ratings = pd.DataFrame({"r1": [1, 2, 3, 1], "r2": [1, 2, 3, 2], "r3": [1, 2, 3, 1]})
    counts = np.array([[3, 0, 0], [0, 3, 0], [0, 0, 3], [2, 1, 0]])
    p_i = (counts * (counts - 1)).sum(1) / 6
    p_j = counts.sum(0) / 12
    expected = (p_i.mean() - (p_j**2).sum()) / (1 - (p_j**2).sum())
    assert fleiss_kappa(ratings) == pytest.approx(expected)
    with pytest.raises(DataError):
        fleiss_kappa(pd.DataFrame({"r1": [1, None], "r2": [1, 2]}))


def test_pairwise_kappa_and_majority():
    ann = pd.DataFrame({"a1": [1, 1, 2, 0], "a2": [1, 2, 2, 0], "a3": [1, 1, 0, 2]})
    table = pairwise_kappa(ann)
    assert len(table) == 3 and set(table["rater_a"]) == {"a1", "a2"}
    assert majority_label(ann).tolist() == [1, 1, 2, 0]
    assert majority_label(pd.DataFrame({"x": [1], "y": [2]}), on_tie="none").tolist() == ["none"]


def test_agreement_counts_invalid_as_wrong_and_reports_them():
    gold = ["A", "B", "tie", "A", "B"]
    pred = ["A", None, "tie", "B", "B"]
    out = pairwise_agreement(pred, gold)
    assert out["invalid"] == 1
    assert out["accuracy_with_ties"] == pytest.approx(3 / 5)
    assert out["n_without_ties"] == 4  # the None is not a tie: it stays, as wrong
    assert out["accuracy_without_ties"] == pytest.approx(2 / 4)
    report = classification_report(pred, gold)
    assert report["invalid"] == 1 and report["n_valid"] == 4
    assert report["accuracy"] == pytest.approx(3 / 5)
    assert report["accuracy_valid"] == pytest.approx(3 / 4)
    # recall per class: A 1/2, B 1/2, tie 1 → macro 2/3
    assert report["recall_macro"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)


def test_score_correlation_matches_scipy():
    x = [1, 2, 3, 4, 5, 6]
    y = [2, 1, 4, 3, 6, 5]
    out = score_correlation(x, y)
    assert out["spearman"] == pytest.approx(stats.spearmanr(x, y).statistic)
    assert out["kendall"] == pytest.approx(stats.kendalltau(x, y).statistic)


def test_position_consistency_and_order_combination():
    first = ["A", "A", "B", "tie", None]
    swapped = [
        "B",
        "A",
        "A",
        "tie",
        "A",
    ]  # consistent, inconsistent (prefers slot A), consistent, consistent
    out = position_consistency(first, swapped)
    assert out["n"] == 4 and out["excluded_invalid"] == 1
    assert out["consistency"] == pytest.approx(3 / 4)
    assert out["prefers_first"] == 1.0
    assert combine_order_verdicts(first, swapped) == ["A", "tie", "B", "tie", None]
    assert combine_order_verdicts(first, swapped, keep_single_order=True)[-1] == "B"


def test_order_consistency_from_one_judgment_per_order():
    from judgebench.analysis import order_consistency

    pairs = _pairs(
        [
            ("q1", "x", "y", 1.0),
            ("q1", "y", "x", 0.0),  # consistent: x wins both
            ("q2", "x", "y", 1.0),
            ("q2", "y", "x", 1.0),  # flip
            ("q3", "x", "y", 0.5),  # one order only: not counted
        ]
    )
    out = order_consistency(pairs)
    assert out == {"n": 2, "consistency": 0.5, "tie_after_merge": 0.5}


def test_a_model_too_small_to_fit_keeps_its_row_with_the_reason():
    """Two usable instructions cannot fit three coefficients: the model is reported, not dropped."""
    rng = np.random.default_rng(3)
    queries = [f"q{i}" for i in range(60)]
    big = pd.DataFrame(
        {
            "query_id": queries,
            "model": "big",
            "outcome": rng.uniform(0, 1, len(queries)),
            "length_delta": rng.normal(0, 200, len(queries)),
        }
    )
    small = pd.DataFrame(
        {"query_id": queries[:2], "model": "small", "outcome": [1.0, 0.0], "length_delta": [5, 9]}
    )
    out = length_controlled_win_rates(pd.concat([big, small], ignore_index=True))
    assert list(out["model"]) == ["big", "small"]  # the unfitted row sorts last
    row = out.set_index("model").loc["small"]
    assert row["n"] == 2 and row["win_rate"] == pytest.approx(50.0)
    assert np.isnan(row["lc_win_rate"]) and "not fitted" in row["regularized_with"]
    assert not np.isnan(out.set_index("model").loc["big", "lc_win_rate"])
