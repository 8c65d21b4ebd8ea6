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

from judgebench.analysis import bradley_terry, combine_orders


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
