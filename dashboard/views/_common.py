"""Helpers shared by the built-in views (not a view: not listed in VIEW_MODULES)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from judgebench.dashboard.components import model_label

ROOT_KEY = "__root__"  # the whole taxonomy, where a component needs a non-empty id


def node_key(node_id: str | None) -> str:
    return node_id or ROOT_KEY


def node_from_key(key: str | None) -> str:
    return "" if key in (None, "", ROOT_KEY) else str(key)


def with_metric(frame: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """Pick the metric a frame is ranked by: mean score, or pairwise win rate when nothing is scored.

    Adds ``value``, ``lo``, ``hi`` (95 % CI) and ``label`` (model name, marked when simulated).
    """
    frame = frame.copy()
    scored = frame["n_scored"].fillna(0).sum() > 0 if len(frame) else True
    if scored:
        frame["value"], frame["lo"], frame["hi"] = frame["mean"], frame["ci_low"], frame["ci_high"]
        name = "mean score"
    else:
        frame["value"], frame["lo"], frame["hi"] = (
            frame["win_rate"],
            frame["win_low"],
            frame["win_high"],
        )
        name = "win rate (ties ½, Wilson CI)"
    frame["label"] = frame["model"].map(model_label)
    return frame, name


def node_label(node_id: str, names: dict[str, str] | None = None) -> str:
    if not node_id:
        return "All queries"
    if names and node_id in names:
        return names[node_id]
    return node_id.rsplit("/", 1)[-1]


def analysis_table(frame: pd.DataFrame) -> pd.DataFrame:
    """A ``db.queries.node_scores`` frame in the shape ``judgebench.analysis`` reports take.

    The metric is the one ``with_metric`` picks (mean score, or win rate for pairwise judges);
    the whole taxonomy (node ``""``) becomes the library's overall pseudo-node.
    """
    from judgebench.analysis.aggregate import OVERALL

    frame, _ = with_metric(frame[frame["n"] > 0])
    count = frame["n_scored"].where(frame["n_scored"] > 0, frame["n_pair"])
    out = pd.DataFrame(
        {
            "node_id": frame["node_id"].where(frame["node_id"] != "", OVERALL),
            "model": frame["model"],
            "mean": frame["value"],
            "count": count.astype(int),
            "ci_low": frame["lo"],
            "ci_high": frame["hi"],
            "rank": frame["rank"],
        }
    )
    return out[out["mean"].notna()].reset_index(drop=True)


def parents_of(nodes: pd.DataFrame) -> dict[str, str | None]:
    """node → parent for the analysis library (top-level domains have no parent)."""
    return {n: (p or None) for n, p in zip(nodes["node_id"], nodes["parent_id"], strict=True) if n}


def confident_text(n_confident: Any, n_queries: Any) -> str:
    """ "confident: 37 of 52": how many of a node's queries are confidently assigned (the CLI's
    rule at the default min_confidence; ``db.queries.taxonomy_nodes``'s ``n_confident``)."""
    return f"confident: {int(n_confident or 0):,} of {int(n_queries or 0):,}"


def confident_by_node(nodes: pd.DataFrame) -> dict[str, str]:
    """node id → :func:`confident_text`, from a ``db.queries.taxonomy_nodes`` frame."""
    return {
        n: confident_text(c, t)
        for n, c, t in zip(nodes["node_id"], nodes["n_confident"], nodes["n_queries"], strict=True)
    }
