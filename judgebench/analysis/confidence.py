"""How sure the taxonomy assignment is, per node: a finding rests on which queries a node holds.

Queries carry ``node_ids`` (what they were assigned) and ``node_confidence`` (the assigner's
calibrated probability per node; for a query left ``unassigned``, its best guess below
``min_confidence``). A node's queries are *confident* when their probability is at least
``min_confidence`` or unknown (hand labels, LLM assignment); *tentative* are unassigned
queries whose best guess is the node. Counts roll up the tree by path id (``a/b/c`` is in
``a/b`` and ``a``), each query counted once per node.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

UNASSIGNED = "unassigned"


def _ancestry(node_id: str) -> list[str]:
    parts = node_id.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _rows(
    queries: pd.DataFrame | Iterable[Any],
) -> Iterable[tuple[str, list[str], dict[str, float]]]:
    """(id, node_ids, node_confidence) from a queries frame or :class:`Query` records."""
    if isinstance(queries, pd.DataFrame):
        for row in queries.to_dict("records"):
            nodes, confidence = row.get("node_ids"), row.get("node_confidence")
            yield (
                str(row["id"]),
                list(nodes) if isinstance(nodes, list) else [],
                dict(confidence) if isinstance(confidence, dict) else {},
            )
    else:
        for q in queries:
            yield q.id, list(q.node_ids), dict(q.node_confidence)


def _confident(confidence: Mapping[str, float], node: str, min_confidence: float) -> bool:
    value = confidence.get(node)
    return value is None or value >= min_confidence


def assignment_counts(queries: pd.DataFrame | Iterable[Any], min_confidence: float) -> pd.DataFrame:
    """Per node: ``queries`` assigned, how many ``confident``, and ``tentative`` (unassigned,
    best guess under the node); plus an ``unassigned`` row. Columns: node_id, queries,
    confident, tentative; sorted by node id, ``unassigned`` last."""
    members: dict[str, set[str]] = defaultdict(set)
    sure: dict[str, set[str]] = defaultdict(set)
    guesses: dict[str, set[str]] = defaultdict(set)
    unassigned = 0
    for query_id, nodes, confidence in _rows(queries):
        if not nodes:
            unassigned += 1
            for guess in confidence:
                for node in _ancestry(guess):
                    guesses[node].add(query_id)
            continue
        for leaf in nodes:
            for node in _ancestry(leaf):
                members[node].add(query_id)
                if _confident(confidence, leaf, min_confidence):
                    sure[node].add(query_id)
    rows = [
        (node, len(members[node]), len(sure[node]), len(guesses[node]))
        for node in sorted(set(members) | set(guesses))
    ]
    rows.append((UNASSIGNED, unassigned, 0, 0))
    return pd.DataFrame(rows, columns=["node_id", "queries", "confident", "tentative"])


def confident_membership(membership: pd.DataFrame, min_confidence: float) -> pd.DataFrame:
    """Membership rows whose ``confidence`` is at least ``min_confidence`` or unknown."""
    if "confidence" not in membership.columns:
        return membership
    confidence = pd.to_numeric(membership["confidence"], errors="coerce")
    keep = confidence.isna() | (confidence >= min_confidence)
    return membership.loc[keep].reset_index(drop=True)


def tentative_membership(queries: pd.DataFrame | Iterable[Any]) -> pd.DataFrame:
    """``query_id, node_id, confidence`` of unassigned queries' best guesses (for findings that
    include uncertain assignments)."""
    rows = [
        (query_id, node, p)
        for query_id, nodes, confidence in _rows(queries)
        if not nodes
        for node, p in confidence.items()
    ]
    return pd.DataFrame(rows, columns=["query_id", "node_id", "confidence"])


def assignment_summary(
    queries: pd.DataFrame | Iterable[Any], min_confidence: float, depth: int = 1
) -> dict[str, Any]:
    """For reports: totals and, per node down to ``depth``, queries / confident / tentative."""
    counts = assignment_counts(queries, min_confidence)
    shown = counts[(counts["node_id"] != UNASSIGNED) & (counts["node_id"].str.count("/") < depth)]
    return {
        "min_confidence": min_confidence,
        "unassigned": int(counts.loc[counts["node_id"] == UNASSIGNED, "queries"].iloc[0]),
        "nodes": [
            {k: (v if k == "node_id" else int(v)) for k, v in row.items()}
            for row in shown.to_dict("records")
        ],
    }


def assignment_lines(summary: Mapping[str, Any]) -> list[str]:
    """Printable lines of :func:`assignment_summary`."""
    if not summary or not (summary.get("nodes") or summary.get("unassigned")):
        return []
    if summary.get("assigner") == "embedding":  # it gives no confidence: nothing to count as sure
        counts = ", ".join(f"{n['node_id']} {n['queries']}" for n in summary["nodes"])
        return [
            "assignment (queries per node; assign: embedding gives no confidence, "
            f"assign: combined does): {counts}; unassigned {summary['unassigned']}"
        ]
    parts = [
        f"{n['node_id']} {n['confident']}/{n['queries']}"
        + (f" (+{n['tentative']} tentative)" if n["tentative"] else "")
        for n in summary["nodes"]
    ]
    return [
        f"assignment (confident/assigned at min_confidence {summary['min_confidence']:g}): "
        + ", ".join(parts)
        + f"; unassigned {summary['unassigned']}"
    ]
