"""Bradley–Terry ratings against FastChat's MLE.

Reference: lm-sys/FastChat, fastchat/serve/monitor/elo_analysis.py, ``compute_mle_elo`` (the
same function Arena-Hard's show_result.py uses): battles duplicated, a tie counted as one win
for each side, an unpenalised logistic regression without intercept on ±log(BASE) features,
rating = SCALE · coef + INIT_RATING. Transcribed below. Ratings are compared after removing the
mean (FastChat's free constant is whatever the solver lands on; ours is centred at 1000).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from judgebench.analysis import bradley_terry, combine_orders, elo
from judgebench.analysis.pairwise import bt_win_probability
from judgebench.errors import DataError


def fastchat_compute_mle_elo(df, SCALE=400, BASE=10, INIT_RATING=1000):
    from sklearn.linear_model import LogisticRegression

    models = pd.concat([df["model_a"], df["model_b"]]).unique()
    models = pd.Series(np.arange(len(models)), index=models)
    df = pd.concat([df, df], ignore_index=True)  # duplicate battles
    p = len(models.index)
    n = df.shape[0]
    X = np.zeros([n, p])
    X[np.arange(n), models[df["model_a"]]] = +math.log(BASE)
    X[np.arange(n), models[df["model_b"]]] = -math.log(BASE)
    Y = np.zeros(n)  # one A win => two A wins
    Y[df["winner"] == "model_a"] = 1.0
    tie_idx = (df["winner"] == "tie").to_numpy().copy()  # one tie => one A win + one B win
    tie_idx[len(tie_idx) // 2 :] = False
    Y[tie_idx] = 1.0
    # FastChat passes penalty=None; scikit-learn 1.8 spells "no penalty" C=np.inf
    lr = LogisticRegression(fit_intercept=False, C=np.inf, tol=1e-8, max_iter=1000)
    lr.fit(X, Y)
    elo_scores = SCALE * lr.coef_[0] + INIT_RATING
    return pd.Series(elo_scores, index=models.index)


WINNER = {1.0: "model_a", 0.0: "model_b", 0.5: "tie"}


def centred(ratings: pd.Series) -> pd.Series:
    return (ratings - ratings.mean()).sort_index()


def random_battles(seed: int, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    strength = {"a": 0.8, "b": 0.3, "c": 0.0, "d": -0.6}
    names = list(strength)
    rows = []
    for i in range(n):
        x, y = rng.choice(names, 2, replace=False)
        p = 1 / (1 + math.exp(-(strength[x] - strength[y])))
        u = rng.random()
        outcome = 0.5 if abs(u - p) < 0.1 else float(u < p)
        rows.append((f"q{i}", x, y, outcome))
    return pd.DataFrame(rows, columns=["query_id", "model_a", "model_b", "outcome"])


@pytest.mark.parametrize("seed", [0, 1])
def test_default_ratings_equal_fastchat_mle(seed):
    pairs = random_battles(seed)
    battles = pairs.assign(winner=pairs["outcome"].map(WINNER))
    expected = centred(fastchat_compute_mle_elo(battles))
    ours = bradley_terry(pairs, n_boot=0).set_index("model")["rating"]
    assert centred(ours).to_numpy() == pytest.approx(expected.to_numpy(), abs=0.05)


def test_only_the_two_orders_are_merged_repeats_stay_separate_votes():
    # one pair judged twice (two runs), each time in both orders
    rows = [
        ("q1", "x", "y", 1.0),
        ("q1", "y", "x", 0.0),  # run 1: x wins in both orders
        ("q1", "x", "y", 1.0),
        ("q1", "y", "x", 1.0),  # run 2: the verdict flips with the order -> a tie
        ("q2", "y", "z", 1.0),
        ("q2", "z", "y", 0.0),
        ("q3", "z", "x", 1.0),
        ("q3", "x", "z", 1.0),
    ]
    pairs = pd.DataFrame(rows, columns=["query_id", "model_a", "model_b", "outcome"])
    merged = combine_orders(pairs)
    assert sorted(merged.loc[merged["query_id"] == "q1", "outcome"]) == [0.5, 1.0]
    assert (merged["n_orders"] == 2).all()
    assert combine_orders(pairs, merge_repeats=True).query("query_id == 'q1'")[
        "outcome"
    ].item() == (0.75)
    # FastChat on those votes (one battle per run): x beats y once, ties once; y beats z; a
    # tie between z and x
    battles = pd.DataFrame(
        [("x", "y", "model_a"), ("x", "y", "tie"), ("y", "z", "model_a"), ("x", "z", "tie")],
        columns=["model_a", "model_b", "winner"],
    )
    expected = centred(fastchat_compute_mle_elo(battles))
    ours = bradley_terry(pairs, n_boot=0).set_index("model")["rating"]
    assert centred(ours).to_numpy() == pytest.approx(expected.to_numpy(), abs=0.05)


def fastchat_compute_elo(battles, K=4, SCALE=400, BASE=10, INIT_RATING=1000):
    """FastChat elo_analysis.py ``compute_elo`` (online Elo, ties score 0.5), transcribed."""
    from collections import defaultdict

    rating = defaultdict(lambda: INIT_RATING)
    for model_a, model_b, winner in battles:
        ra, rb = rating[model_a], rating[model_b]
        ea = 1 / (1 + BASE ** ((rb - ra) / SCALE))
        eb = 1 / (1 + BASE ** ((ra - rb) / SCALE))
        sa = {"model_a": 1, "model_b": 0, "tie": 0.5}[winner]
        rating[model_a] += K * (sa - ea)
        rating[model_b] += K * (1 - sa - eb)
    return dict(rating)


def test_online_elo_equals_fastchat_compute_elo_in_game_order():
    pairs = random_battles(3, n=120)
    battles = list(
        zip(pairs["model_a"], pairs["model_b"], pairs["outcome"].map(WINNER), strict=True)
    )
    expected = fastchat_compute_elo(battles)
    ours = elo(pairs).set_index("model")["elo"]
    assert ours.to_dict() == pytest.approx(expected, abs=1e-9)


def test_rating_gap_is_400_log10_of_the_odds():
    # two models, x beats y 3 times in 4 (no ties): the BT MLE has P(x > y) = 3/4, so on
    # FastChat's scale (BASE 10, SCALE 400) the gap is 400·log10(3) ≈ 190.85, centred on 1000
    rows = [
        ("q1", "x", "y", 1.0),
        ("q2", "x", "y", 1.0),
        ("q3", "y", "x", 0.0),
        ("q4", "y", "x", 1.0),
    ]
    pairs = pd.DataFrame(rows, columns=["query_id", "model_a", "model_b", "outcome"])
    ratings = bradley_terry(pairs, n_boot=0).set_index("model")["rating"]
    gap = 400 * math.log10(3)
    assert ratings["x"] - ratings["y"] == pytest.approx(gap, abs=1e-6)
    assert ratings.mean() == pytest.approx(1000.0)
    assert bt_win_probability(ratings["x"], ratings["y"]) == pytest.approx(0.75)


def test_all_ties_give_every_model_the_anchor_and_a_degenerate_ci():
    # every battle a tie: the likelihood is maximal at equal strengths, so all sit at 1000;
    # each bootstrap replicate is still all ties, so the interval collapses onto 1000
    rows = [
        (f"q{i}", a, b, 0.5) for i, (a, b) in enumerate([("a", "b"), ("b", "c"), ("a", "c")] * 3)
    ]
    pairs = pd.DataFrame(rows, columns=["query_id", "model_a", "model_b", "outcome"])
    out = bradley_terry(pairs, n_boot=50)
    assert out["rating"].to_numpy() == pytest.approx([1000.0] * 3)
    assert out["ci_low"].to_numpy() == pytest.approx([1000.0] * 3)
    assert out["ci_high"].to_numpy() == pytest.approx([1000.0] * 3)
    assert (out["rank"] == 1).all() and not out.isna().any().any()


def test_no_usable_outcome_gives_an_empty_table_not_nan_rows():
    pairs = pd.DataFrame(
        [("q1", "a", "b", float("nan"))], columns=["query_id", "model_a", "model_b", "outcome"]
    )
    assert bradley_terry(pairs, n_boot=10).empty
    assert elo(pairs).empty


def test_anchor_pins_one_model_as_arena_hard_does():
    # lmarena/arena-hard-auto show_result.py compute_mle_elo: after the fit,
    # ``if "gpt-4-0314" in models.index: elo_scores += 1000 - elo_scores[models["gpt-4-0314"]]``
    # — inside every bootstrap round too, so the anchor's interval is the point itself
    pairs = random_battles(4, n=300)
    battles = pairs.assign(winner=pairs["outcome"].map(WINNER))
    fastchat = fastchat_compute_mle_elo(battles)
    expected = (fastchat + (1000 - fastchat["c"])).sort_index()
    ours = bradley_terry(pairs, n_boot=40, anchor=("c", 1000.0)).set_index("model").sort_index()
    assert ours["rating"].to_numpy() == pytest.approx(expected.to_numpy(), abs=0.05)
    assert ours.loc["c", "ci_low"] == pytest.approx(1000.0)
    assert ours.loc["c", "ci_high"] == pytest.approx(1000.0)
    assert (ours["ci_high"] - ours["ci_low"]).drop("c").gt(0).all()
    with pytest.raises(DataError, match="anchor"):
        bradley_terry(pairs, n_boot=0, anchor=("nobody", 1000.0))
