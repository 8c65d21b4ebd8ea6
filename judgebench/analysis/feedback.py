"""Feedback reports over a node table (METHODS §9): strengths and weaknesses, failure modes,
differences between chosen models, and run-vs-run regressions.

Every function takes the table :func:`judgebench.analysis.node_scores` returns (and, where
evidence is listed, the per-query scores and membership it was built from).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from judgebench.analysis.aggregate import (
    OVERALL,
    Parents,
    expand_membership,
    node_scores,
    parent_map,
    query_means,
)
from judgebench.analysis.bootstrap import (
    DEFAULT_BOOT,
    DEFAULT_LEVEL,
    bootstrap_group_means,
    bootstrap_p_value,
)
from judgebench.errors import DataError

DEFAULT_THRESHOLD = 3
FINDING_COLUMNS = [
    "model",
    "node_id",
    "kind",
    "node_rank",
    "overall_rank",
    "gap",
    "mean",
    "ci_low",
    "ci_high",
    "count",
    "separated_from",
    "evidence",
]


def _overall(table: pd.DataFrame) -> pd.DataFrame:
    overall = table[table["node_id"] == OVERALL]
    if overall.empty:
        raise DataError("the node table has no overall rows: build it with include_overall=True")
    return overall.set_index("model")


def relative_query_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per (query, model): score, mean of the other models on that query, and the difference."""
    per_query = query_means(scores)
    totals = per_query.groupby("query_id")["score"].agg(["sum", "size"])
    joined = per_query.join(totals, on="query_id")
    others = joined["size"] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        joined["others_mean"] = np.where(
            others > 0, (joined["sum"] - joined["score"]) / others, np.nan
        )
    joined["relative"] = joined["score"] - joined["others_mean"]
    return joined[["query_id", "model", "score", "others_mean", "relative"]]


def strengths_weaknesses(
    table: pd.DataFrame,
    scores: pd.DataFrame | None = None,
    membership: pd.DataFrame | None = None,
    parents: Parents = None,
    *,
    threshold: int = DEFAULT_THRESHOLD,
    min_count: int = 5,
    require_separation: bool = True,
    evidence: int = 3,
    models: Collection[str] | None = None,
    at_least: bool = False,
) -> pd.DataFrame:
    """Nodes where a model ranks more than ``threshold`` places away from its overall rank.

    A *weakness* (node rank more than T places worse than overall, as Feedbacker's
    ``AutomatedWeaknessReporter``: ``diff > threshold``; paper T = 3 — the dashboard's view uses
    this function; ``at_least=True`` counts a gap of exactly T too) is kept only when, at that node,
    some model the model outranks overall has a bootstrap interval entirely above the model's
    (the reversal is statistically separated); a *strength* symmetrically. ``separated_from``
    names those models. With ``scores``/``membership`` each finding lists ``evidence``: the
    model's worst (weakness) or best (strength) queries at the node, by score relative to the
    other models on the same query. ``models`` limits the findings (not the rivals) to those
    models. Sorted by |gap|, largest first (ties in node, then table, order).

    Vectorised (one self-join per node) so a dashboard callback can afford it at a few hundred
    nodes × models.
    """
    overall_rank = _overall(table)["rank"]
    nodes = table[(table["node_id"] != OVERALL) & (table["count"] >= min_count)]
    # findings keep the nodes' first-appearance order, then the table's, before the gap sort
    ranked = nodes.assign(
        overall_rank=nodes["model"].map(overall_rank), order=pd.factorize(nodes["node_id"])[0]
    )
    ranked = ranked[ranked["overall_rank"].notna()]  # a model without an overall row: skipped
    ranked = ranked.assign(
        overall_rank=ranked["overall_rank"].astype(int), rank=ranked["rank"].astype(int)
    )
    ranked = ranked.assign(gap=ranked["rank"] - ranked["overall_rank"])
    gap = ranked["gap"].abs()
    mine = ranked[gap >= threshold if at_least else gap > threshold]
    if models is not None:
        mine = mine[mine["model"].isin(list(models))]
    mine = mine.reset_index(drop=True)  # positional row ids (the table's index may repeat)
    columns = ["node_id", "model", "overall_rank", "ci_low", "ci_high"]
    pairs = (
        mine[[*columns, "gap"]]
        .rename_axis("row")
        .reset_index()
        .merge(ranked[columns], on="node_id", suffixes=("", "_rival"))
    )
    pairs = pairs[pairs["model"] != pairs["model_rival"]]
    beaten = (  # a weakness: beaten here by models it outranks overall
        (pairs["gap"] > 0)
        & (pairs["overall_rank_rival"] > pairs["overall_rank"])
        & (pairs["ci_low_rival"] > pairs["ci_high"])
    )
    beats = (  # a strength: beats here models that outrank it overall
        (pairs["gap"] < 0)
        & (pairs["overall_rank_rival"] < pairs["overall_rank"])
        & (pairs["ci_high_rival"] < pairs["ci_low"])
    )
    rivals = pairs[beaten | beats].groupby("row")["model_rival"].agg(lambda ms: sorted(ms))
    separated_from = [rivals.get(i, []) for i in range(len(mine))]
    if require_separation:
        keep = np.array([bool(r) for r in separated_from], dtype=bool)
        mine = mine[keep]
        separated_from = [r for r, k in zip(separated_from, keep, strict=True) if k]
    if mine.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS)
    order = np.lexsort((np.arange(len(mine)), mine["order"].to_numpy(), -mine["gap"].abs()))
    mine = mine.iloc[order]
    separated_from = [separated_from[i] for i in order]
    kinds = np.where(mine["gap"] > 0, "weakness", "strength")
    rel = expanded = None
    if scores is not None and membership is not None and evidence > 0:
        rel = relative_query_scores(scores)
        expanded = expand_membership(membership, parents)
    out = pd.DataFrame(
        {
            "model": mine["model"].to_numpy(),
            "node_id": mine["node_id"].to_numpy(),
            "kind": kinds,
            "node_rank": mine["rank"].to_numpy(np.int64),
            "overall_rank": mine["overall_rank"].to_numpy(np.int64),
            "gap": mine["gap"].to_numpy(np.int64),
            "mean": mine["mean"].to_numpy(float),
            "ci_low": mine["ci_low"].to_numpy(float),
            "ci_high": mine["ci_high"].to_numpy(float),
            "count": mine["count"].to_numpy(np.int64),
            "separated_from": separated_from,
            "evidence": [
                _evidence(rel, expanded, m, n, k, evidence)
                for m, n, k in zip(mine["model"], mine["node_id"], kinds, strict=True)
            ],
        },
        columns=FINDING_COLUMNS,
    )
    return out


def _evidence(
    rel: pd.DataFrame | None,
    expanded: pd.DataFrame | None,
    model: str,
    node_id: str,
    kind: str,
    k: int,
) -> list[dict[str, float | str]]:
    if rel is None or expanded is None or k <= 0:
        return []
    in_node = expanded.loc[expanded["node_id"] == node_id, "query_id"]
    mine = rel[(rel["model"] == model) & rel["query_id"].isin(in_node) & rel["relative"].notna()]
    picked = mine.nsmallest(k, "relative") if kind == "weakness" else mine.nlargest(k, "relative")
    return [
        {"query_id": str(r.query_id), "score": float(r.score), "others_mean": float(r.others_mean)}
        for r in picked.itertuples()
    ]


def failure_modes(
    table: pd.DataFrame,
    parents: Parents = None,
    *,
    min_children: int = 5,
    fraction: float = 0.2,
    cutoffs: Literal["all_models", "per_model"] = "all_models",
) -> pd.DataFrame:
    """How uniform a model's standing is across the children of each large node.

    For every node with at least ``min_children`` scored children and every model, the gaps
    ``child rank − node rank`` are collected; their spread (population standard deviation) says
    whether the node-level result holds everywhere below it. Spreads in the bottom ``fraction``
    are ``systematic`` (the same in every child), in the top ``fraction`` ``occasional``
    (driven by a few children, named in ``outlier_child``); the rest ``mixed``. The cut-offs
    are Feedbacker's (``FailureModeExplorer.run``): order statistics ``sorted[int(n·f)]`` and
    ``sorted[int(n·(1−f))]`` of the spreads of ALL models' nodes together, so one model can have
    more systematic nodes than another; ``cutoffs="per_model"`` (judgebench's former default)
    takes interpolated quantiles of each model's own spreads (every model then gets about the
    same share of each kind).
    """
    tree = parent_map(parents, table.loc[table["node_id"] != OVERALL, "node_id"].unique())
    nodes = table[table["node_id"] != OVERALL]
    ranks = nodes.set_index(["node_id", "model"])["rank"]
    overall = _overall(table)["rank"]
    children: dict[str, list[str]] = {}
    for node in nodes["node_id"].unique():
        parent = tree.get(node)
        if parent is not None:
            children.setdefault(parent, []).append(node)
    rows = []
    for parent, kids in children.items():
        if len(kids) < min_children:
            continue
        for model in nodes.loc[nodes["node_id"] == parent, "model"]:
            kid_ranks = ranks.reindex([(k, model) for k in kids]).dropna()
            if len(kid_ranks) < min_children:
                continue
            parent_rank = int(ranks[(parent, model)])
            gaps = kid_ranks.to_numpy(float) - parent_rank
            worst = int(np.argmax(np.abs(gaps)))
            rows.append(
                {
                    "model": model,
                    "node_id": parent,
                    "n_children": len(kid_ranks),
                    "node_rank": parent_rank,
                    "overall_rank": int(overall.get(model, np.nan))
                    if model in overall.index
                    else None,
                    "mean_gap": float(gaps.mean()),
                    "spread": float(gaps.std()),
                    "outlier_child": kid_ranks.index[worst][0],
                    "outlier_gap": float(gaps[worst]),
                }
            )
    out = pd.DataFrame(
        rows,
        columns=[
            "model",
            "node_id",
            "n_children",
            "node_rank",
            "overall_rank",
            "mean_gap",
            "spread",
            "outlier_child",
            "outlier_gap",
        ],
    )
    if out.empty:
        return out.assign(kind=pd.Series(dtype=str))
    if cutoffs == "per_model":
        low = out.groupby("model")["spread"].transform(lambda s: s.quantile(fraction))
        high = out.groupby("model")["spread"].transform(lambda s: s.quantile(1 - fraction))
    else:
        low = _order_cutoff(out["spread"], fraction)
        high = _order_cutoff(out["spread"], 1 - fraction)
    out["kind"] = np.where(
        out["spread"] <= low, "systematic", np.where(out["spread"] >= high, "occasional", "mixed")
    )
    return out.sort_values(["model", "spread"], ignore_index=True)


def _order_cutoff(values: pd.Series, share: float) -> float:
    """``sorted(values)[int(n · share)]`` (Feedbacker's cut-off; clipped to the last value)."""
    ordered = np.sort(values.to_numpy(float))
    return float(ordered[min(len(ordered) - 1, math.floor(len(ordered) * share + 1e-9))])


def difference_report(
    table: pd.DataFrame,
    models: Sequence[str],
    *,
    fraction: float = 0.2,
    measure: Literal["std", "range"] = "std",
    cutoff: Literal["percentile", "top"] = "percentile",
) -> pd.DataFrame:
    """Nodes where the chosen models' ranks differ most.

    As Feedbacker's ``AutomatedDifferenceReporter``: ``spread`` is the sample standard
    deviation of the models' ranks at the node, and a node is reported when its spread is at
    least the ``1 − fraction`` percentile (``np.percentile``, linear) of all nodes' spreads
    (ties at the cut-off included), largest first. Nodes where every chosen model has the same
    rank (spread 0) are never reported (Feedbacker would list them when most spreads are 0).
    ``measure="range"`` (best − worst rank) and ``cutoff="top"`` (exactly the top
    ``ceil(n · fraction)`` nodes) give judgebench's former report. ``rank_range`` is always
    there. With two models ``rank_diff`` is ``rank(first) − rank(second)`` (positive: the first
    ranks worse); ``separated`` says whether the best and worst of the chosen models have
    disjoint bootstrap intervals at the node.
    """
    models = list(models)
    if len(models) < 2:
        raise DataError("difference_report needs at least two models")
    missing = [m for m in models if m not in set(table["model"])]
    if missing:
        raise DataError(f"models not in the table: {missing}")
    nodes = table[(table["node_id"] != OVERALL) & table["model"].isin(models)]
    wide = nodes.pivot(
        index="node_id", columns="model", values=["rank", "mean", "ci_low", "ci_high"]
    ).dropna()
    if wide.empty:
        return pd.DataFrame(columns=["node_id", "spread"])
    ranks = wide["rank"][models]
    rank_range = ranks.max(axis=1) - ranks.min(axis=1)
    spread = rank_range if measure == "range" else ranks.std(axis=1, ddof=1)
    best = ranks.idxmin(axis=1)
    worst = ranks.idxmax(axis=1)
    lows = wide["ci_low"]
    highs = wide["ci_high"]
    separated = [
        bool(lows.at[node, best[node]] > highs.at[node, worst[node]]) for node in wide.index
    ]
    out = pd.DataFrame(
        {
            "node_id": wide.index,
            "spread": spread.to_numpy(),
            "rank_range": rank_range.to_numpy().astype(int),
            "best": best.to_numpy(),
            "worst": worst.to_numpy(),
            "separated": separated,
        }
    )
    for m in models:
        out[f"rank[{m}]"] = ranks[m].to_numpy().astype(int)
        out[f"mean[{m}]"] = wide["mean"][m].to_numpy()
    if len(models) == 2:
        out["rank_diff"] = (ranks[models[0]] - ranks[models[1]]).to_numpy().astype(int)
    out = out.sort_values(["spread", "node_id"], ascending=[False, True], kind="stable")
    if cutoff == "top":
        out = out.head(max(1, math.ceil(len(out) * fraction)))
    else:
        cut = np.percentile(out["spread"], 100 * (1 - fraction))
        out = out[out["spread"] >= cut - 1e-9]  # equal spreads may differ in the last bits
    return out[out["spread"] > 0].reset_index(drop=True)


def regression_report(
    before: pd.DataFrame,
    after: pd.DataFrame,
    membership: pd.DataFrame,
    parents: Parents = None,
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Compare two runs of the same model, paired by query, per node and overall.

    ``before``/``after`` have ``query_id`` and ``score`` (several rows per query are averaged).
    Only queries scored in both runs count. For every node: mean before/after, the mean paired
    difference with a paired bootstrap interval (queries resampled, both runs together) and a
    two-sided bootstrap p-value; ``change`` is ``regression``/``improvement`` when p < ``alpha``.
    """

    def per_query(frame: pd.DataFrame, name: str) -> pd.DataFrame:
        if "query_id" not in frame.columns or "score" not in frame.columns:
            raise DataError(f"{name} needs columns query_id and score")
        return frame.loc[frame["score"].notna()].groupby("query_id")["score"].mean().rename(name)

    paired = pd.concat(
        [per_query(before, "before"), per_query(after, "after")], axis=1, join="inner"
    ).reset_index()
    paired["delta"] = paired["after"] - paired["before"]
    expanded = expand_membership(membership, parents)
    rows = pd.concat(
        [paired.merge(expanded, on="query_id"), paired.assign(node_id=OVERALL)], ignore_index=True
    )
    columns = [
        "node_id",
        "n",
        "mean_before",
        "mean_after",
        "delta",
        "ci_low",
        "ci_high",
        "p_value",
        "change",
    ]
    if rows.empty:
        return pd.DataFrame(columns=columns)
    boot = bootstrap_group_means(
        rows["delta"].to_numpy(), rows["node_id"].to_numpy(), n_boot=n_boot, seed=seed, level=level
    )
    means = rows.groupby("node_id")[["before", "after"]].mean().reindex(boot.groups)
    p_values = bootstrap_p_value(boot.replicates)
    out = pd.DataFrame(
        {
            "node_id": boot.groups,
            "n": boot.count.astype(int),
            "mean_before": means["before"].to_numpy(),
            "mean_after": means["after"].to_numpy(),
            "delta": boot.mean,
            "ci_low": boot.low,
            "ci_high": boot.high,
            "p_value": p_values,
        }
    )
    significant = out["p_value"] < alpha
    out["change"] = np.where(
        significant & (out["delta"] < 0),
        "regression",
        np.where(significant & (out["delta"] > 0), "improvement", "unchanged"),
    )
    return out.sort_values(["p_value", "delta"], ignore_index=True)[columns]


class FeedbackReport:
    """All of §9 for one set of scores: build once, ask for each report.

    >>> report = FeedbackReport(scores, membership)      # doctest: +SKIP
    >>> report.table; report.weaknesses("model-x")       # doctest: +SKIP
    """

    def __init__(
        self,
        scores: pd.DataFrame,
        membership: pd.DataFrame,
        parents: Parents = None,
        *,
        n_boot: int = DEFAULT_BOOT,
        seed: int = 0,
        level: float = DEFAULT_LEVEL,
        threshold: int = DEFAULT_THRESHOLD,
    ) -> None:
        self.scores = scores
        self.membership = membership
        self.parents = parents
        self.threshold = threshold
        self.table = node_scores(scores, membership, parents, n_boot=n_boot, seed=seed, level=level)
        self._findings: pd.DataFrame | None = None

    @property
    def findings(self) -> pd.DataFrame:
        if self._findings is None:
            self._findings = strengths_weaknesses(
                self.table, self.scores, self.membership, self.parents, threshold=self.threshold
            )
        return self._findings

    def strengths(self, model: str) -> pd.DataFrame:
        f = self.findings
        return f[(f["model"] == model) & (f["kind"] == "strength")].reset_index(drop=True)

    def weaknesses(self, model: str) -> pd.DataFrame:
        f = self.findings
        return f[(f["model"] == model) & (f["kind"] == "weakness")].reset_index(drop=True)

    def failure_modes(self, **kwargs) -> pd.DataFrame:
        return failure_modes(self.table, self.parents, **kwargs)

    def differences(self, models: Sequence[str], **kwargs) -> pd.DataFrame:
        return difference_report(self.table, models, **kwargs)


SUMMARY_BOOT = 500  # bootstrap replicates behind a run summary's strengths and weaknesses


def summary_threshold(n_models: int) -> int:
    """The rank gap T of a run summary (a finding needs a gap > T): the paper's 3 needs many
    models; with few, a gap of 4 ranks is impossible, so T shrinks to ``(models − 1) // 2 − 1``
    (at least 0: any gap counts with two or three models)."""
    return max(0, min(DEFAULT_THRESHOLD, (n_models - 1) // 2 - 1))


def summary_report(scores: pd.DataFrame, membership: pd.DataFrame, n_models: int) -> FeedbackReport:
    """The report behind a run's strengths and weaknesses: the CLI summary and the dashboard
    both read their findings from it (or from its ``table``, stored), so they always agree.

    Rows are put in a canonical order first: the bootstrap resamples rows in order, so the same
    rows read back in another order would give (slightly) other intervals.
    """
    scores = scores[["query_id", "model", "score"]].astype({"query_id": str, "model": str})
    membership = membership[["query_id", "node_id"]].astype(str)
    return FeedbackReport(
        scores.sort_values(["query_id", "model"], kind="stable", ignore_index=True),
        membership.sort_values(["query_id", "node_id"], ignore_index=True),
        threshold=summary_threshold(n_models),
        n_boot=SUMMARY_BOOT,
    )
