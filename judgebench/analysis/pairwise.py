"""Pairwise statistics: win rates, Bradley–Terry ratings with CIs, Elo, length-controlled win rate.

A *pairwise frame* has one row per judged pair: ``query_id``, ``model_a``, ``model_b`` and
``outcome`` — the probability-like score of ``model_a`` winning (1 win, 0 loss, 0.5 tie; a
weighted judge such as AlpacaEval's may give any value in [0, 1]). :func:`combine_orders`
merges the two presentation orders of the same pair into one outcome (a flip becomes a tie), so
both orders are counted once.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from judgebench.analysis.bootstrap import DEFAULT_BOOT, DEFAULT_LEVEL, bootstrap_group_means
from judgebench.errors import DataError

PAIR_COLUMNS = ("query_id", "model_a", "model_b", "outcome")


def _check(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} needs columns {list(columns)}; missing {missing}")


def combine_orders(pairs: pd.DataFrame, *, merge_repeats: bool = False) -> pd.DataFrame:
    """Merge the two presentation orders of each judged pair into one outcome (their mean).

    The result is oriented so that ``model_a`` < ``model_b`` alphabetically; a pair judged
    A-wins in one order and B-wins in the other becomes 0.5 (a tie), as METHODS §4 asks.
    Only the two orders are merged, as FastChat/Arena-Hard count votes: the k-th judgment of a
    (query, pair) in one order goes with the k-th in the other, and repeated judgments of the
    same pair (other runs, samples) stay separate votes. ``merge_repeats=True`` averages every
    judgment of a (query, pair) into one (judgebench's former rule). Extra columns are dropped;
    ``n_orders`` says how many judgments were merged.
    """
    _check(pairs, PAIR_COLUMNS, "combine_orders")
    frame = pairs.loc[pairs["outcome"].notna(), list(PAIR_COLUMNS)]
    swap = frame["model_a"].to_numpy() > frame["model_b"].to_numpy()
    a = np.where(swap, frame["model_b"], frame["model_a"])
    b = np.where(swap, frame["model_a"], frame["model_b"])
    outcome = np.where(
        swap, 1.0 - frame["outcome"].to_numpy(float), frame["outcome"].to_numpy(float)
    )
    oriented = pd.DataFrame(
        {"query_id": frame["query_id"].to_numpy(), "model_a": a, "model_b": b, "outcome": outcome}
    )
    keys = ["query_id", "model_a", "model_b"]
    if not merge_repeats:  # the k-th judgment in each order: one vote per presentation pair
        oriented["repeat"] = oriented.assign(swap=swap).groupby([*keys, "swap"]).cumcount()
        keys.append("repeat")
    out = oriented.groupby(keys, sort=False)["outcome"].agg(["mean", "size"]).reset_index()
    out = out.rename(columns={"mean": "outcome", "size": "n_orders"})
    return out[["query_id", "model_a", "model_b", "outcome", "n_orders"]]


def order_consistency(pairs: pd.DataFrame) -> dict[str, float]:
    """Position consistency from judgments stored one per presentation order.

    Pairs judged in both orders (e.g. MT-Bench's g1/g2 games, imported as two judgments) are
    consistent when both orders give the same oriented outcome. Returns ``n`` (pairs seen in
    both orders), ``consistency`` and ``tie_after_merge`` (share that combine to a tie).
    """
    _check(pairs, PAIR_COLUMNS, "order_consistency")
    frame = pairs.loc[pairs["outcome"].notna(), list(PAIR_COLUMNS)]
    swap = frame["model_a"].to_numpy() > frame["model_b"].to_numpy()
    oriented = pd.DataFrame(
        {
            "query_id": frame["query_id"].to_numpy(),
            "a": np.where(swap, frame["model_b"], frame["model_a"]),
            "b": np.where(swap, frame["model_a"], frame["model_b"]),
            "o": np.where(
                swap, 1.0 - frame["outcome"].to_numpy(float), frame["outcome"].to_numpy(float)
            ),
        }
    )
    stats = oriented.groupby(["query_id", "a", "b"], sort=False)["o"].agg(
        ["size", "min", "max", "mean"]
    )
    both = stats[stats["size"] >= 2]
    if both.empty:
        return {"n": 0, "consistency": float("nan"), "tie_after_merge": float("nan")}
    return {
        "n": int(len(both)),
        "consistency": float((both["max"] - both["min"] < 1e-9).mean()),
        "tie_after_merge": float((both["mean"] == 0.5).mean()),
    }


def _model_index(frame: pd.DataFrame) -> pd.Index:
    """Sorted distinct model names of both columns (unique first: iterating 1M strings is slow)."""
    names = np.concatenate([pd.unique(frame["model_a"]), pd.unique(frame["model_b"])])
    return pd.Index(sorted(set(names.tolist())))


def _long(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each pair seen from both sides: (model, opponent, score for model)."""
    a = pd.DataFrame(
        {
            "model": pairs["model_a"],
            "opponent": pairs["model_b"],
            "score": pairs["outcome"].astype(float),
        }
    )
    b = pd.DataFrame(
        {
            "model": pairs["model_b"],
            "opponent": pairs["model_a"],
            "score": 1.0 - pairs["outcome"].astype(float),
        }
    )
    return pd.concat([a, b], ignore_index=True)


def win_rates(
    pairs: pd.DataFrame,
    *,
    baseline: str | None = None,
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    percent: bool = True,
) -> pd.DataFrame:
    """Each model's win rate (ties as half) with a bootstrap CI over its judged pairs.

    With ``baseline`` only pairs against that model count (the AlpacaEval setting); otherwise
    every opponent counts. Columns: model, win_rate, ci_low, ci_high, n, wins, losses, ties
    (wins/losses/ties round outcomes at 0.5: a weighted preference of 0.7 is a win).
    """
    _check(pairs, ("model_a", "model_b", "outcome"), "win_rates")
    long = _long(pairs.loc[pairs["outcome"].notna()])
    if baseline is not None:
        long = long[(long["opponent"] == baseline) & (long["model"] != baseline)]
    if long.empty:
        return pd.DataFrame(
            columns=["model", "win_rate", "ci_low", "ci_high", "n", "wins", "losses", "ties"]
        )
    boot = bootstrap_group_means(
        long["score"].to_numpy(), long["model"].to_numpy(), n_boot=n_boot, seed=seed, level=level
    )
    scale = 100.0 if percent else 1.0
    out = boot.frame().rename_axis("model").reset_index()
    out = out.rename(columns={"mean": "win_rate", "count": "n"})
    for col in ("win_rate", "ci_low", "ci_high"):
        out[col] = out[col] * scale
    score = long["score"]
    tallies = pd.DataFrame(
        {
            "wins": (score > 0.5).groupby(long["model"]).sum(),
            "losses": (score < 0.5).groupby(long["model"]).sum(),
            "ties": (score == 0.5).groupby(long["model"]).sum(),
        }
    )
    out = out.merge(tallies, left_on="model", right_index=True)
    out["n"] = out["n"].astype(int)
    cols = ["model", "win_rate", "ci_low", "ci_high", "n", "wins", "losses", "ties"]
    return out[cols].sort_values("win_rate", ascending=False, ignore_index=True)


# --- Bradley–Terry ----------------------------------------------------------------------------

_SCALE = 400.0 / math.log(10.0)  # Elo-like display scale: 400 points = 10× odds
_INIT = 1000.0


def _win_matrices(
    codes_a: np.ndarray,
    codes_b: np.ndarray,
    outcome: np.ndarray,
    n_models: int,
    weights: np.ndarray,
) -> np.ndarray:
    """(R, M, M) fractional win counts: W[r, i, j] = wins of i over j in replicate r."""
    cells = codes_a * n_models + codes_b
    reps = weights.shape[0]
    wins = np.zeros((reps, n_models * n_models))
    for r in range(reps):
        wins[r] = np.bincount(cells, weights=weights[r] * outcome, minlength=n_models * n_models)
        wins[r] += np.bincount(
            codes_b * n_models + codes_a,
            weights=weights[r] * (1 - outcome),
            minlength=n_models * n_models,
        )
    return wins.reshape(reps, n_models, n_models)


def _fit_bt(wins: np.ndarray, prior: float, tol: float = 1e-9, max_iter: int = 100) -> np.ndarray:
    """Newton's method on the Bradley–Terry log-likelihood for (R, M, M) win matrices at once.

    Returns log-strengths (mean 0). ``prior`` adds that many virtual tie games per model, spread
    over its opponents, so a model that never loses (or never wins) keeps a finite rating.
    """
    reps, m, _ = wins.shape
    w = wins.copy()
    if prior > 0 and m > 1:
        w += 0.5 * prior / (m - 1) * (1 - np.eye(m))[None]
    games = w + np.transpose(w, (0, 2, 1))
    total_wins = w.sum(axis=2)
    # the gauge fixes the free additive constant; the tiny ridge keeps the solve defined when a
    # rating runs off (no prior and a model that never loses: the curvature vanishes)
    gauge = np.ones((m, m)) / m + 1e-12 * np.eye(m)
    s = np.zeros((reps, m))
    for _ in range(max_iter):
        diff = s[:, :, None] - s[:, None, :]
        prob = 1.0 / (1.0 + np.exp(-diff))
        grad = total_wins - (games * prob).sum(axis=2)
        curv = games * prob * (1 - prob)
        lap = -curv
        idx = np.arange(m)
        lap[:, idx, idx] = curv.sum(axis=2)
        step = np.linalg.solve(lap + gauge[None], grad[:, :, None])[:, :, 0]
        step = np.clip(step, -4.0, 4.0)  # damped: the first steps on lopsided data can overshoot
        s = s + step
        s -= s.mean(axis=1, keepdims=True)
        if np.max(np.abs(step)) < tol:
            break
    return s


def bradley_terry(
    pairs: pd.DataFrame,
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    prior: float = 0.0,
    combine: bool = True,
    merge_repeats: bool = False,
    anchor: tuple[str, float] | None = None,
) -> pd.DataFrame:
    """Bradley–Terry ratings (Elo-like scale, mean 1000) with bootstrap CIs.

    Defaults follow FastChat / Arena-Hard (``compute_mle_elo``: unpenalised logistic
    regression, ties as half a win): ``prior=0`` and only the two presentation orders of a
    judgment merged (``combine``; repeats stay separate votes, ``merge_repeats=True`` averages
    them). Without a prior the MLE does not exist when a model never loses (or never wins):
    its rating then runs off to a very large value, as FastChat's does; ``prior > 0`` adds
    that many virtual tie games per model and keeps every rating finite.
    The bootstrap resamples judged pairs; since a replicate only changes how often each
    (model pair, outcome) cell occurs, it is drawn as multinomial cell counts — exact, and
    independent of the number of judgments. ``anchor=(model, value)`` pins that model's rating
    to ``value`` in the point estimate and in every bootstrap replicate, as Arena-Hard's
    ``compute_mle_elo`` pins gpt-4-0314 at 1000 (its interval is then a point). Columns: model,
    rating, ci_low, ci_high, rank, n (pairs involving the model), win_rate.
    """
    _check(pairs, PAIR_COLUMNS, "bradley_terry")
    frame = (
        combine_orders(pairs, merge_repeats=merge_repeats)
        if combine
        else pairs.loc[pairs["outcome"].notna()]
    )
    if frame.empty:
        return pd.DataFrame(
            columns=["model", "rating", "ci_low", "ci_high", "rank", "n", "win_rate"]
        )
    models = _model_index(frame)
    if anchor is not None and anchor[0] not in models:
        raise DataError(f"bradley_terry anchor {anchor[0]!r} has no usable pairwise outcome")
    ca = models.get_indexer(frame["model_a"])
    cb = models.get_indexer(frame["model_b"])
    outcome = frame["outcome"].to_numpy(float)
    m = len(models)
    # collapse identical (pair, outcome) cells: the bootstrap draws counts over these
    cell_frame = pd.DataFrame({"a": ca, "b": cb, "o": outcome})
    cells = cell_frame.groupby(["a", "b", "o"], sort=False).size().reset_index(name="n")
    cell_a, cell_b = cells["a"].to_numpy(), cells["b"].to_numpy()
    cell_o, cell_n = cells["o"].to_numpy(), cells["n"].to_numpy().astype(float)
    total = int(cell_n.sum())
    rng = np.random.default_rng(seed)
    weights = [cell_n[None, :]]
    if n_boot:
        weights.append(rng.multinomial(total, cell_n / total, size=n_boot).astype(float))
    all_weights = np.concatenate(weights, axis=0)
    logs = np.empty((all_weights.shape[0], m))
    for start in range(0, all_weights.shape[0], 256):
        chunk = all_weights[start : start + 256]
        logs[start : start + 256] = _fit_bt(_win_matrices(cell_a, cell_b, cell_o, m, chunk), prior)
    ratings = _INIT + _SCALE * logs
    if anchor is not None:  # per replicate, as Arena-Hard anchors inside each bootstrap fit
        ratings += anchor[1] - ratings[:, [models.get_loc(anchor[0])]]
    point = ratings[0]
    alpha = (1 - level) / 2
    if n_boot:
        low, high = np.quantile(ratings[1:], [alpha, 1 - alpha], axis=0)
    else:
        low = high = np.full(m, np.nan)
    long = _long(frame)
    counts = long.groupby("model")["score"].agg(["size", "mean"])
    out = pd.DataFrame(
        {
            "model": models,
            "rating": point,
            "ci_low": low,
            "ci_high": high,
            "n": counts["size"].reindex(models).to_numpy(),
            "win_rate": counts["mean"].reindex(models).to_numpy(),
        }
    )
    out["rank"] = out["rating"].rank(ascending=False, method="min").astype(int)
    cols = ["model", "rating", "ci_low", "ci_high", "rank", "n", "win_rate"]
    return out[cols].sort_values("rating", ascending=False, ignore_index=True)


def bt_win_probability(rating_a: float, rating_b: float) -> float:
    """P(a beats b) implied by two Bradley–Terry ratings on the display scale."""
    return 1.0 / (1.0 + math.exp(-(rating_a - rating_b) / _SCALE))


def elo(
    pairs: pd.DataFrame,
    *,
    k: float = 4.0,
    initial: float = _INIT,
    order: str | None = None,
) -> pd.DataFrame:
    """Online Elo, for display only (it depends on the order of games; prefer Bradley–Terry).

    Games are played in frame order, or sorted by ``order`` (e.g. ``"created_at"``).
    """
    _check(pairs, ("model_a", "model_b", "outcome"), "elo")
    frame = pairs.loc[pairs["outcome"].notna()]
    if order is not None:
        frame = frame.sort_values(order, kind="stable")
    models = _model_index(frame)
    ca = models.get_indexer(frame["model_a"]).tolist()
    cb = models.get_indexer(frame["model_b"]).tolist()
    scores = frame["outcome"].astype(float).tolist()
    rating = [initial] * len(models)
    games = [0] * len(models)
    for a, b, s in zip(ca, cb, scores, strict=True):
        expected = 1.0 / (1.0 + 10 ** ((rating[b] - rating[a]) / 400.0))
        delta = k * (s - expected)
        rating[a] += delta
        rating[b] -= delta
        games[a] += 1
        games[b] += 1
    out = pd.DataFrame({"model": models, "elo": rating, "games": games})
    out["rank"] = out["elo"].rank(ascending=False, method="min").astype(int)
    return out.sort_values("elo", ascending=False, ignore_index=True)
