"""Length-controlled win rate against AlpacaEval's GLM.

Reference: tatsu-lab/alpaca_eval, src/alpaca_eval/metrics/glm_winrate.py —
``_get_featurized_data`` (formula ``np.tanh(std_delta_len) + instruction_difficulty +
not_gamed_baseline.astype(float) - 1``; the gamed baselines' rows with weight
``regularize_to_baseline_lambda / 2``; the test design with ``std_delta_len = 0``),
``fit_LogisticRegressionCV`` with ``is_ytrue_proba=True`` (soft labels by duplicating each row
as y = 1 weighted p and y = 0 weighted 1 − p; ``fit_intercept=False``, liblinear) and
``get_length_controlled_winrate`` (mean predicted preference × 100). The design matrix is built
by hand instead of patsy; ``n_splits=0`` with a very large C stands in for the cross-validated
L1 strength, and our fit gets a negligible L2 penalty, so the two fits are the same MLE.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgebench.analysis import length_controlled_win_rates

BASELINE = "gpt4_1106_preview"
LAMBDA = 0.2


def upstream_lc(model_rows: pd.DataFrame, gamed_rows: pd.DataFrame, difficulty: pd.Series):
    from sklearn.linear_model import LogisticRegression

    def featurize(rows: pd.DataFrame, not_gamed: bool) -> pd.DataFrame:
        std_delta_len = -rows["length_delta"]  # upstream: len(output_1 = baseline) − len(model)
        return pd.DataFrame(
            {
                "np.tanh(std_delta_len)": np.tanh(std_delta_len / std_delta_len.std()),
                "instruction_difficulty": difficulty[rows["query_id"]].to_numpy(),
                "not_gamed_baseline.astype(float)": float(not_gamed),
                "preference": rows["outcome"].to_numpy(),
                "not_gamed_baseline": not_gamed,
            }
        )

    gamed = pd.concat(
        [featurize(g, False) for _, g in gamed_rows.groupby("model")], ignore_index=True
    )
    df = featurize(model_rows, True)
    df_gamed_and_m = pd.concat([gamed, df], axis=0, ignore_index=True)
    sample_weight = (
        df_gamed_and_m["not_gamed_baseline"].astype(float)
        + (LAMBDA * (~df_gamed_and_m["not_gamed_baseline"])).astype(float) / 2
    )
    data = df_gamed_and_m.drop(columns=["not_gamed_baseline"])
    # fit_LogisticRegressionCV(is_ytrue_proba=True, n_splits=0): duplicate with y = 1 and y = 0
    data_1 = data.assign(y=1)
    data_0 = data.assign(y=0, preference=1 - data["preference"])
    data_dup = pd.concat([data_1, data_0], axis=0, ignore_index=True)
    weights = data_dup["preference"] * np.concatenate([sample_weight, sample_weight])
    # upstream passes penalty="l1" (strength by CV); at C = 1e6 any penalty is negligible
    model = LogisticRegression(C=1e6, solver="liblinear", fit_intercept=False, tol=1e-10)
    model.fit(data_dup.drop(columns=["preference", "y"]), data_dup["y"], sample_weight=weights)
    test = df.drop(columns=["preference", "not_gamed_baseline"]).assign(
        **{"np.tanh(std_delta_len)": 0.0}
    )
    return model.predict_proba(test)[:, 1].mean() * 100


def synthetic_prefs(seed: int) -> tuple[pd.DataFrame, pd.Series]:
    """A verbose model, the baseline's verbose/concise variants and a difficulty vector."""
    rng = np.random.default_rng(seed)
    n = 120
    difficulty = pd.Series(rng.normal(0, 1, n), index=[f"i{k}" for k in range(n)])
    rows = []
    for model, skill, verbosity in (
        ("verbose-model", 0.3, 600.0),
        (f"{BASELINE}_verbose", 0.0, 500.0),
        (f"{BASELINE}_concise", 0.0, -400.0),
    ):
        delta = rng.normal(verbosity, 250.0, n)
        logit = skill + 0.8 * np.tanh(delta / 400.0) + 0.7 * difficulty.to_numpy()
        outcome = 1 / (1 + np.exp(-logit)) * 0.8 + 0.1 * rng.random(n)
        rows.append(
            pd.DataFrame(
                {
                    "query_id": difficulty.index,
                    "model": model,
                    "outcome": outcome,
                    "length_delta": delta,
                }
            )
        )
    return pd.concat(rows, ignore_index=True), difficulty


@pytest.mark.parametrize("seed", [0, 1])
def test_lc_with_the_baselines_gamed_variants_matches_upstream(seed):
    prefs, difficulty = synthetic_prefs(seed)
    ours = length_controlled_win_rates(
        prefs, difficulty, baseline=BASELINE, l2=1e-9, regularize_to_baseline=LAMBDA
    ).set_index("model")
    model_rows = prefs[prefs["model"] == "verbose-model"]
    gamed_rows = prefs[prefs["model"] != "verbose-model"]
    expected = upstream_lc(model_rows, gamed_rows, difficulty)
    assert ours.loc["verbose-model", "regularized_with"] == "baseline variants"
    assert ours.loc["verbose-model", "lc_win_rate"] == pytest.approx(expected, abs=0.05)
    # without the variants the documented fallback ("baseline vs itself") is used, and differs
    fallback = length_controlled_win_rates(
        model_rows, difficulty, baseline=BASELINE, l2=1e-9
    ).set_index("model")
    assert fallback.loc["verbose-model", "regularized_with"] == "baseline vs itself"
    assert abs(fallback.loc["verbose-model", "lc_win_rate"] - expected) > 0.05
