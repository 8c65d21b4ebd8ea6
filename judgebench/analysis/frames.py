"""Records → the plain frames the analysis functions take (no store access here)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from judgebench.records import VERDICT_OUTCOME, Judgment, Query, Response


def scores_frame(judgments: Iterable[Judgment]) -> pd.DataFrame:
    """Pointwise judgments with status ok → ``query_id, model, score, judge, run_id``."""
    rows = [
        (j.query_id, j.model, j.score, j.judge, j.run_id)
        for j in judgments
        if j.kind == "pointwise" and j.status == "ok" and j.score is not None
    ]
    return pd.DataFrame(rows, columns=["query_id", "model", "score", "judge", "run_id"])


def pairs_frame(judgments: Iterable[Judgment]) -> pd.DataFrame:
    """Pairwise judgments → ``query_id, model_a, model_b, outcome, verdict, status, judge``.

    ``outcome`` is P(model_a wins): a weighted preference when the judgment carries
    ``details["p_b"]`` (e.g. AlpacaEval's weighted judge), else 1/0/½ from the verdict. Invalid
    and error judgments are kept with a missing outcome, so invalid rates stay visible.
    """
    rows = []
    for j in judgments:
        if j.kind != "pairwise":
            continue
        outcome = None
        if j.status == "ok":
            p_b = j.details.get("p_b")
            outcome = 1.0 - float(p_b) if p_b is not None else VERDICT_OUTCOME.get(j.verdict or "")
        rows.append((j.query_id, j.model, j.model_b, outcome, j.verdict, j.status, j.judge))
    return pd.DataFrame(
        rows, columns=["query_id", "model_a", "model_b", "outcome", "verdict", "status", "judge"]
    )


def membership_frame(queries: Iterable[Query]) -> pd.DataFrame:
    """Queries' leaf node assignments → ``query_id, node_id``."""
    rows = [(q.id, n) for q in queries for n in q.node_ids]
    return pd.DataFrame(rows, columns=["query_id", "node_id"])


def lengths_frame(responses: Iterable[Response]) -> pd.DataFrame:
    """``query_id, model, length`` (characters, as AlpacaEval measures) of ok responses."""
    rows = [
        (r.query_id, r.model, len(r.text))
        for r in responses
        if r.status == "ok" and r.text is not None
    ]
    return pd.DataFrame(rows, columns=["query_id", "model", "length"])


def alpaca_prefs_frame(pairs: pd.DataFrame, lengths: pd.DataFrame, baseline: str) -> pd.DataFrame:
    """Pairs against ``baseline`` → rows for :func:`length_controlled_win_rates`.

    Oriented so ``outcome`` is P(model beats baseline); ``length_delta`` is model − baseline
    output length for the same query (NaN where an output is missing).
    """
    frame = pairs.loc[pairs["outcome"].notna()]
    as_b = frame[frame["model_a"] == baseline]
    as_a = frame[frame["model_b"] == baseline]
    prefs = pd.concat(
        [
            pd.DataFrame(
                {
                    "query_id": as_b["query_id"],
                    "model": as_b["model_b"],
                    "outcome": 1.0 - as_b["outcome"],
                }
            ),
            pd.DataFrame(
                {"query_id": as_a["query_id"], "model": as_a["model_a"], "outcome": as_a["outcome"]}
            ),
        ],
        ignore_index=True,
    )
    length = lengths.drop_duplicates(["query_id", "model"]).set_index(["query_id", "model"])[
        "length"
    ]
    own = length.reindex(pd.MultiIndex.from_arrays([prefs["query_id"], prefs["model"]])).to_numpy(
        float
    )
    base = length.reindex(
        pd.MultiIndex.from_arrays([prefs["query_id"], [baseline] * len(prefs)])
    ).to_numpy(float)
    prefs["length_delta"] = own - base
    return prefs
