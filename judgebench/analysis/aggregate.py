"""Per model × taxonomy node aggregation: mean score, count, rank, bootstrap CI.

Inputs are plain frames so the library needs neither the store nor the taxonomy package:

* ``scores`` — ``query_id``, ``model``, ``score`` (several rows per query and model, e.g.
  samples, are averaged first: the query is the resampling unit);
* ``membership`` — ``query_id``, ``node_id``: leaf assignments (multi-label allowed);
* ``parents`` — the tree: a mapping node → parent (``None`` for roots), a frame with
  ``node_id``/``parent_id``, or omitted when node ids are paths (``coding/python/async``).

An internal node's query set is the union of its descendants' (a query under two children of the
same node counts once there).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeAlias

import numpy as np
import pandas as pd

from judgebench.analysis.bootstrap import DEFAULT_BOOT, DEFAULT_LEVEL, bootstrap_group_means
from judgebench.errors import DataError

OVERALL = "*"  # pseudo-node holding every scored query
TABLE_COLUMNS = [
    "node_id",
    "parent_id",
    "depth",
    "model",
    "mean",
    "count",
    "ci_low",
    "ci_high",
    "rank",
    "n_models",
]

Parents: TypeAlias = Mapping[str, str | None] | pd.DataFrame | Iterable[str] | None


def _require(frame: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(f"{what} needs columns {list(columns)}; missing {missing}")


def parent_map(parents: Parents, nodes: Iterable[str] = ()) -> dict[str, str | None]:
    """Normalise the tree description to ``{node: parent}`` (path ids give their own parents)."""
    out: dict[str, str | None] = {}
    if isinstance(parents, pd.DataFrame):
        _require(parents, ("node_id", "parent_id"), "parents frame")
        for node, parent in zip(parents["node_id"], parents["parent_id"], strict=True):
            out[str(node)] = None if pd.isna(parent) or parent == "" else str(parent)
    elif isinstance(parents, Mapping):
        out.update({str(k): (None if v in (None, "") else str(v)) for k, v in parents.items()})
    elif parents is not None:
        nodes = list(nodes) + [str(n) for n in parents]
    for node in nodes:
        node = str(node)
        while node not in out:
            parent = node.rsplit("/", 1)[0] if "/" in node else None
            out[node] = parent
            if parent is None:
                break
            node = parent
    for node, parent in list(out.items()):
        if parent is not None and parent not in out:
            out[parent] = parent.rsplit("/", 1)[0] if "/" in parent else None
        if parent == node:
            raise DataError(f"taxonomy node {node!r} is its own parent")
    return out


def ancestors(node: str, parents: Mapping[str, str | None]) -> list[str]:
    """The node and all its ancestors, nearest first (cycles raise a DataError)."""
    chain = [node]
    seen = {node}
    parent = parents.get(node)
    while parent is not None:
        if parent in seen:
            raise DataError(f"taxonomy has a cycle through {parent!r}")
        chain.append(parent)
        seen.add(parent)
        parent = parents.get(parent)
    return chain


def expand_membership(membership: pd.DataFrame, parents: Parents = None) -> pd.DataFrame:
    """Leaf assignments → (query_id, node_id) for every node that contains the query (deduplicated)."""
    _require(membership, ("query_id", "node_id"), "membership")
    tree = parent_map(parents, membership["node_id"].astype(str).unique())
    leaves = membership["node_id"].astype(str).unique()
    lineage = pd.DataFrame(
        [(leaf, anc) for leaf in leaves for anc in ancestors(leaf, tree)],
        columns=["leaf", "node_id"],
    )
    merged = (
        membership[["query_id", "node_id"]]
        .astype({"node_id": str})
        .merge(lineage, left_on="node_id", right_on="leaf", suffixes=("_leaf", ""))
    )
    return merged[["query_id", "node_id"]].drop_duplicates(ignore_index=True)


def query_means(scores: pd.DataFrame) -> pd.DataFrame:
    """One row per (query, model): the mean of its scores (NaN scores dropped)."""
    _require(scores, ("query_id", "model", "score"), "scores")
    frame = scores.loc[scores["score"].notna(), ["query_id", "model", "score"]]
    if frame.duplicated(["query_id", "model"]).any():
        frame = frame.groupby(["query_id", "model"], as_index=False, sort=False)["score"].mean()
    return frame.reset_index(drop=True)


def node_scores(
    scores: pd.DataFrame,
    membership: pd.DataFrame,
    parents: Parents = None,
    *,
    n_boot: int = DEFAULT_BOOT,
    seed: int = 0,
    level: float = DEFAULT_LEVEL,
    include_overall: bool = True,
) -> pd.DataFrame:
    """Mean, count, bootstrap CI and rank among models for every (node, model).

    Rank 1 is the best mean at that node (ties share the better rank). With ``include_overall``
    the pseudo-node ``"*"`` holds every scored query, so a model's overall rank sits in the same
    table. Columns: node_id, parent_id, depth, model, mean, count, ci_low, ci_high, rank, n_models.
    """
    per_query = query_means(scores)
    expanded = expand_membership(membership, parents)
    tree = parent_map(parents, expanded["node_id"].unique())
    # factorise before joining: the joined frame has one row per (query, model, ancestor)
    model_codes, model_labels = pd.factorize(per_query["model"])
    node_codes, node_labels = pd.factorize(expanded["node_id"])
    node_labels = np.append(np.asarray(node_labels, dtype=object), OVERALL)
    left = pd.DataFrame(
        {"query_id": per_query["query_id"], "m": model_codes, "score": per_query["score"]}
    )
    right = pd.DataFrame({"query_id": expanded["query_id"], "n": node_codes})
    rows = left.merge(right, on="query_id")
    if include_overall:
        rows = pd.concat([rows, left.assign(n=len(node_labels) - 1)], ignore_index=True)
    if rows.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    n_models = max(len(model_labels), 1)
    key = rows["n"].to_numpy(np.int64) * n_models + rows["m"].to_numpy(np.int64)
    boot = bootstrap_group_means(
        rows["score"].to_numpy(float), key, n_boot=n_boot, seed=seed, level=level
    )
    keys = boot.groups.to_numpy(np.int64)
    table = pd.DataFrame(
        {
            "node_id": node_labels[keys // n_models],
            "model": np.asarray(model_labels, dtype=object)[keys % n_models],
            "mean": boot.mean,
            "count": boot.count.astype(int),
            "ci_low": boot.low,
            "ci_high": boot.high,
        }
    )
    table["rank"] = table.groupby("node_id")["mean"].rank(ascending=False, method="min").astype(int)
    table["n_models"] = table.groupby("node_id")["model"].transform("size").astype(int)
    table["parent_id"] = table["node_id"].map(lambda n: None if n == OVERALL else tree.get(n))
    table["depth"] = table["node_id"].map(lambda n: 0 if n == OVERALL else len(ancestors(n, tree)))
    return table[TABLE_COLUMNS].sort_values(
        ["depth", "node_id", "rank", "model"], ignore_index=True
    )


def rank_matrix(table: pd.DataFrame, value: str = "rank") -> pd.DataFrame:
    """Nodes × models view of a node table (e.g. ranks or means) for display."""
    return table.pivot(index="node_id", columns="model", values=value)
