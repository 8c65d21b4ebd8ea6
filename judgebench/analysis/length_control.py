"""Length-controlled win rate, as defined for AlpacaEval 2 (Dubois et al., 2024).

For one model against a fixed baseline, a logistic GLM is fitted to the per-instruction
preference ``p_i`` (probability that the model beats the baseline; soft labels allowed)::

    logit p_i = θ + φ · tanh(Δlen_i / sd(Δlen)) + ψ · γ_i

``θ`` is the model term, ``Δlen_i`` the output length difference (model − baseline, in
characters) normalised by its standard deviation — the mediator —, and ``γ_i`` the instruction
difficulty. The length-controlled win rate is the mean predicted preference with the length term
zeroed: ``mean_i σ(θ + ψ·γ_i)``. The fit is regularised towards the baseline as upstream
(tatsu-lab/alpaca_eval ``metrics/glm_winrate.py``) with the baseline's verbose and concise
variants when their preferences are available, else by adding each instruction once more as
"baseline vs itself" (features ``[0, 0, γ_i]``, preference ½, weight
``regularize_to_baseline``). Upstream fits with an L1 penalty whose strength is chosen by 5-fold
cross-validation; here a fixed L2 penalty (``l2``) keeps the fit a deterministic few Newton steps
(docs/analysis.md gives its agreement with the official leaderboard).

Upstream ships a difficulty vector estimated from many models; offline we estimate it from the
annotations at hand (:func:`instruction_difficulty`: a joint logistic model with a term per
model and per instruction, fitted on every model's preferences, lengths not needed).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from judgebench.errors import DataError


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def fit_soft_logistic(
    features: np.ndarray,
    targets: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    l2: float = 1.0,
    max_iter: int = 100,
    tol: float = 1e-10,
) -> np.ndarray:
    """L2-penalised logistic regression with soft targets in [0, 1], by Newton's method."""
    x = np.asarray(features, float)
    y = np.asarray(targets, float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, float)
    beta = np.zeros(x.shape[1])
    eye = np.eye(x.shape[1])
    for _ in range(max_iter):
        p = _sigmoid(x @ beta)
        grad = x.T @ (w * (p - y)) + l2 * beta
        hess = (x * (w * p * (1 - p))[:, None]).T @ x + l2 * eye
        step = np.linalg.solve(hess, grad)
        beta -= step
        if np.max(np.abs(step)) < tol:
            break
    return beta


def _mediator(frame: pd.DataFrame) -> np.ndarray:
    """tanh of the per-model standardised length difference; 0 where no length is known."""
    if "length_delta" not in frame.columns:
        return np.zeros(len(frame))
    delta = frame["length_delta"].astype(float)
    sd = delta.groupby(frame["model"]).transform(lambda d: d.std(ddof=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        med = np.tanh(delta / sd).to_numpy()
    return np.nan_to_num(med, nan=0.0)


def instruction_difficulty(
    prefs: pd.DataFrame,
    *,
    length_aware: bool = False,
    l2: float = 1.0,
    iterations: int = 300,
    tol: float = 1e-8,
) -> pd.Series:
    """Per-instruction difficulty from every model's preferences against the same baseline.

    Fits ``logit p_mi = θ_m + γ_i`` (L2 on ``γ``, which is centred) by alternating Newton
    steps, vectorised over models and instructions. ``prefs`` needs ``query_id``, ``model`` and
    ``outcome`` (P(model beats baseline)). With ``length_aware`` a per-model length term
    ``φ_m·tanh(Δlen_mi / sd_m)`` is fitted too (rows need ``length_delta``; rows without one
    contribute through ``θ_m`` only), which keeps verbosity out of ``γ`` when only a few models
    are available. On AlpacaEval's 58 models the plain form tracks the official LC win rates
    more closely (docs/analysis.md), so it is the default. Higher ``γ`` = easier to win.
    """
    for col in ("query_id", "model", "outcome"):
        if col not in prefs.columns:
            raise DataError(f"instruction_difficulty needs column {col!r}")
    frame = prefs.loc[prefs["outcome"].notna()]
    qi, queries = pd.factorize(frame["query_id"])
    mi, _models = pd.factorize(frame["model"])
    y = frame["outcome"].to_numpy(float)
    med = _mediator(frame) if length_aware else np.zeros(len(frame))
    n_models, n_queries = mi.max() + 1, qi.max() + 1
    theta = np.zeros(n_models)
    phi = np.zeros(n_models)
    gamma = np.zeros(n_queries)
    for _ in range(iterations):
        p = _sigmoid(theta[mi] + phi[mi] * med + gamma[qi])
        g_step = (np.bincount(qi, y - p, n_queries) - l2 * gamma) / (
            np.bincount(qi, p * (1 - p), n_queries) + l2
        )
        gamma += g_step
        p = _sigmoid(theta[mi] + phi[mi] * med + gamma[qi])
        r, c = y - p, p * (1 - p)
        g_t, g_p = np.bincount(mi, r, n_models), np.bincount(mi, r * med, n_models)
        h_tt = np.bincount(mi, c, n_models) + 1e-9
        h_tp = np.bincount(mi, c * med, n_models)
        h_pp = np.bincount(mi, c * med * med, n_models) + 1e-9
        det = h_tt * h_pp - h_tp**2
        t_step = (h_pp * g_t - h_tp * g_p) / det
        p_step = (h_tt * g_p - h_tp * g_t) / det
        theta += t_step
        phi += p_step
        if max(np.max(np.abs(g_step)), np.max(np.abs(t_step)), np.max(np.abs(p_step))) < tol:
            break
    gamma -= gamma.mean()
    return pd.Series(gamma, index=pd.Index(queries, name="query_id"), name="difficulty")


VARIANT_SUFFIXES = ("_verbose", "_concise")


def _standardised_tanh(delta: np.ndarray) -> np.ndarray:
    sd = delta.std(ddof=1) if len(delta) > 1 else 0.0
    return np.tanh(delta / sd) if sd > 0 else np.zeros_like(delta)


def _usable_rows(group: pd.DataFrame, difficulty: pd.Series) -> tuple[pd.DataFrame, np.ndarray]:
    """Rows with an outcome, a length difference and a known difficulty, and their ``γ``."""
    group = group.loc[group["outcome"].notna() & group["length_delta"].notna()]
    gamma = difficulty.reindex(group["query_id"]).to_numpy(float)
    known = ~np.isnan(gamma)
    return group.loc[known], gamma[known]


def baseline_variant_rows(
    prefs: pd.DataFrame, baseline: str | None, difficulty: pd.Series, weight: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Upstream's regularisation data: the baseline's own verbose/concise variants judged
    against it (models ``<baseline>_verbose`` / ``<baseline>_concise`` in ``prefs``), as rows
    ``[0, tanh(Δlen/sd), γ]`` with their preferences, each variant weighted ``weight / 2``
    (alpaca_eval ``_get_featurized_data``: "divided by 2 because there are two gamed
    baselines"). None when the baseline or either variant is missing."""
    if baseline is None:
        return None
    parts = []
    for suffix in VARIANT_SUFFIXES:
        group, gamma = _usable_rows(prefs.loc[prefs["model"] == baseline + suffix], difficulty)
        if group.empty:
            return None
        mediator = _standardised_tanh(group["length_delta"].to_numpy(float))
        x = np.column_stack([np.zeros(len(group)), mediator, gamma])
        parts.append((x, group["outcome"].to_numpy(float)))
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return x, y, np.full(len(y), weight / len(parts))


MIN_FIT_ROWS = 3  # fewer usable instructions than GLM coefficients: no fit


def _unfitted_row(model: object, group: pd.DataFrame, scale: float) -> dict[str, object]:
    """The row of a model with too few usable instructions to fit: NaN where a fit would be."""
    nan = float("nan")
    return {
        "model": model,
        "n": len(group),
        "win_rate": group["outcome"].mean() * scale if len(group) else nan,
        "lc_win_rate": nan,
        "intercept": nan,
        "length_coef": nan,
        "difficulty_coef": nan,
        "regularized_with": f"not fitted: {len(group)} usable instructions (< {MIN_FIT_ROWS})",
    }


def length_controlled_win_rates(
    prefs: pd.DataFrame,
    difficulty: pd.Series | None = None,
    *,
    baseline: str | None = None,
    regularize_to_baseline: float = 0.2,
    l2: float = 1.0,
    percent: bool = True,
) -> pd.DataFrame:
    """Raw and length-controlled win rate per model against one baseline.

    ``prefs`` has one row per (instruction, model): ``query_id``, ``model``, ``outcome``
    (P(model beats baseline), in [0, 1]) and ``length_delta`` (model output length − baseline
    output length). Rows without a length difference are left out of the fit. ``difficulty``
    defaults to :func:`instruction_difficulty` of ``prefs`` itself (pass your own series, e.g.
    one estimated from more models, or ``instruction_difficulty(prefs, length_aware=True)``).

    Regularisation towards the baseline (weight ``regularize_to_baseline``): as upstream when
    ``baseline`` is named and ``prefs`` holds its ``_verbose`` and ``_concise`` variants (see
    :func:`baseline_variant_rows`); otherwise the fallback adds every instruction once more as
    "baseline vs itself" (features ``[0, 0, γ]``, preference ½). Column ``regularized_with``
    says which. Other columns: model, n, win_rate, lc_win_rate, intercept, length_coef,
    difficulty_coef. A model with fewer than :data:`MIN_FIT_ROWS` usable instructions keeps its
    row, with NaN where the fit would be and ``regularized_with`` saying why (sorted last).
    """
    for col in ("query_id", "model", "outcome", "length_delta"):
        if col not in prefs.columns:
            raise DataError(f"length_controlled_win_rates needs column {col!r}")
    if difficulty is None:
        difficulty = instruction_difficulty(prefs)
    scale = 100.0 if percent else 1.0
    variants = baseline_variant_rows(prefs, baseline, difficulty, regularize_to_baseline)
    rows = []
    for model, raw in prefs.groupby("model", sort=True):
        group, gamma = _usable_rows(raw, difficulty)
        if len(group) < MIN_FIT_ROWS:
            # said, not dropped: the raw rate stands, the length-controlled one is unknown
            rows.append(_unfitted_row(model, group, scale))
            continue
        mediator = _standardised_tanh(group["length_delta"].to_numpy(float))
        y = group["outcome"].to_numpy(float)
        n = len(group)
        x = np.column_stack([np.ones(n), mediator, gamma])
        w = np.ones(n)
        if regularize_to_baseline > 0:
            if variants is not None:
                reg_x, reg_y, reg_w = variants
            else:
                reg_x = np.column_stack([np.zeros(n), np.zeros(n), gamma])
                reg_y, reg_w = np.full(n, 0.5), np.full(n, regularize_to_baseline)
            x, y, w = np.vstack([x, reg_x]), np.concatenate([y, reg_y]), np.concatenate([w, reg_w])
        beta = fit_soft_logistic(x, y, w, l2=l2)
        controlled = _sigmoid(beta[0] + beta[2] * gamma)
        rows.append(
            {
                "model": model,
                "n": n,
                "win_rate": group["outcome"].mean() * scale,
                "lc_win_rate": controlled.mean() * scale,
                "intercept": beta[0],
                "length_coef": beta[1],
                "difficulty_coef": beta[2],
                "regularized_with": "baseline variants"
                if variants is not None
                else "baseline vs itself",
            }
        )
    out = pd.DataFrame(
        rows,
        columns=[
            "model",
            "n",
            "win_rate",
            "lc_win_rate",
            "intercept",
            "length_coef",
            "difficulty_coef",
            "regularized_with",
        ],
    )
    return out.sort_values("lc_win_rate", ascending=False, ignore_index=True, na_position="last")
