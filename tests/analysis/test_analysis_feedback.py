"""Node aggregation and the feedback reports on a planted, known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from judgebench.analysis import (
    OVERALL,
    FeedbackReport,
    difference_report,
    expand_membership,
    failure_modes,
    node_scores,
    parent_map,
    regression_report,
    strengths_weaknesses,
)
from judgebench.errors import DataError

LEAVES = [f"d{d}/c{c}/l{leaf}" for d in range(2) for c in range(5) for leaf in range(5)]
MODELS = [f"m{i}" for i in range(8)]


@pytest.fixture(scope="module")
def planted():
    """m0 is the worst overall but best on d0/c0; m7 is the best overall but worst on d1/c4/l4."""
    rng = np.random.default_rng(0)
    n_queries = 3000
    leaf = rng.integers(0, len(LEAVES), n_queries)
    membership = pd.DataFrame(
        {"query_id": [f"q{i}" for i in range(n_queries)], "node_id": np.array(LEAVES)[leaf]}
    )
    skill = np.linspace(0, 4, len(MODELS))
    rows = []
    for mi, model in enumerate(MODELS):
        base = 3 + skill[mi] + rng.normal(0, 1, n_queries)
        if model == "m0":
            base = base + np.where(membership["node_id"].str.startswith("d0/c0/"), 6.0, 0.0)
        if model == "m7":
            base = base - np.where(membership["node_id"] == "d1/c4/l4", 6.0, 0.0)
        rows.append(
            pd.DataFrame({"query_id": membership["query_id"], "model": model, "score": base})
        )
    scores = pd.concat(rows, ignore_index=True)
    return scores, membership


def test_parent_map_and_expansion_union_descendants():
    tree = parent_map(None, ["a/b/c", "a/d"])
    assert tree == {"a/b/c": "a/b", "a/b": "a", "a": None, "a/d": "a"}
    membership = pd.DataFrame({"query_id": ["q1", "q1", "q2"], "node_id": ["a/b/c", "a/d", "a/d"]})
    expanded = expand_membership(membership)
    # q1 sits under two children of "a": it counts once there
    assert sorted(expanded[expanded["node_id"] == "a"]["query_id"]) == ["q1", "q2"]
    assert set(expanded[expanded["query_id"] == "q1"]["node_id"]) == {"a/b/c", "a/b", "a", "a/d"}
    # explicit parent map with non-path ids
    explicit = expand_membership(
        pd.DataFrame({"query_id": ["q"], "node_id": ["leaf"]}), {"leaf": "root", "root": None}
    )
    assert set(explicit["node_id"]) == {"leaf", "root"}
    with pytest.raises(DataError, match="cycle"):
        expand_membership(pd.DataFrame({"query_id": ["q"], "node_id": ["x"]}), {"x": "y", "y": "x"})


def test_node_scores_means_counts_and_ranks(planted):
    scores, membership = planted
    table = node_scores(scores, membership, n_boot=200)
    overall = table[table["node_id"] == OVERALL].set_index("model")
    assert overall.loc["m7", "rank"] == 1 and overall.loc["m0", "rank"] == 8
    assert overall["count"].eq(3000).all()
    d0c0 = table[table["node_id"] == "d0/c0"].set_index("model")
    assert d0c0.loc["m0", "rank"] == 1
    in_node = membership[membership["node_id"].str.startswith("d0/c0/")]["query_id"]
    expected = scores[(scores["model"] == "m3") & scores["query_id"].isin(in_node)]["score"].mean()
    assert d0c0.loc["m3", "mean"] == pytest.approx(expected)
    assert d0c0.loc["m3", "count"] == len(in_node)
    assert (table["ci_low"] <= table["mean"]).all() and (table["mean"] <= table["ci_high"]).all()
    assert table[table["node_id"] == "d0"]["depth"].iloc[0] == 1
    assert table[table["node_id"] == "d0/c0"]["parent_id"].iloc[0] == "d0"


def test_repeated_samples_are_averaged_per_query():
    scores = pd.DataFrame(
        {"query_id": ["q1", "q1", "q2"], "model": ["m", "m", "m"], "score": [1.0, 3.0, 5.0]}
    )
    membership = pd.DataFrame({"query_id": ["q1", "q2"], "node_id": ["a", "a"]})
    table = node_scores(scores, membership, n_boot=20).set_index("node_id")
    assert table.loc["a", "mean"] == pytest.approx(3.5)
    assert table.loc["a", "count"] == 2


def test_strengths_and_weaknesses_find_the_planted_nodes_with_evidence(planted):
    scores, membership = planted
    report = FeedbackReport(scores, membership, n_boot=300)
    strengths = report.strengths("m0")
    assert "d0/c0" in set(strengths["node_id"])
    row = strengths.set_index("node_id").loc["d0/c0"]
    assert row["node_rank"] == 1 and row["overall_rank"] == 8 and row["gap"] == -7
    assert "m7" in row["separated_from"]
    assert len(row["evidence"]) == 3
    ev_ids = {e["query_id"] for e in row["evidence"]}
    assert ev_ids <= set(membership[membership["node_id"].str.startswith("d0/c0/")]["query_id"])
    assert all(e["score"] > e["others_mean"] for e in row["evidence"])
    weak = report.weaknesses("m7")
    assert set(weak["node_id"]) == {"d1/c4/l4"}
    assert all(e["score"] < e["others_mean"] for e in weak.iloc[0]["evidence"])
    # a middle model has nothing planted: no findings
    assert report.findings[report.findings["model"] == "m4"].empty


def test_gap_without_separation_is_not_a_finding():
    """Rank reversals on a handful of noisy queries are not reported."""
    rng = np.random.default_rng(2)
    membership = pd.DataFrame(
        {"query_id": [f"q{i}" for i in range(60)], "node_id": ["a/x"] * 6 + ["a/y"] * 54}
    )
    rows = []
    for i, model in enumerate(MODELS):
        rows.append(
            pd.DataFrame(
                {
                    "query_id": membership["query_id"],
                    "model": model,
                    "score": i * 0.05 + rng.normal(0, 1, 60),
                }
            )
        )
    scores = pd.concat(rows)
    table = node_scores(scores, membership, n_boot=200)
    loose = strengths_weaknesses(table, threshold=3, require_separation=False, min_count=5)
    strict = strengths_weaknesses(table, threshold=3, min_count=5)
    assert len(loose) > 0
    assert strict.empty


def test_failure_modes_separate_uniform_and_one_child_failures(planted):
    scores, membership = planted
    table = node_scores(scores, membership, n_boot=100)
    modes = failure_modes(table, min_children=5)
    m7 = modes[modes["model"] == "m7"].set_index("node_id")
    # m7 is uniformly best except one leaf of d1/c4: that node's spread is the largest
    assert m7.loc["d1/c4", "kind"] == "occasional"
    assert m7.loc["d1/c4", "outlier_child"] == "d1/c4/l4"
    assert m7.loc["d1/c4", "outlier_gap"] > 0
    m0 = modes[modes["model"] == "m0"].set_index("node_id")
    assert m0.loc["d0/c0", "spread"] == 0.0  # best in every child
    assert set(modes["kind"]) <= {"systematic", "occasional", "mixed"}
    assert (modes["n_children"] >= 5).all()


def test_difference_report_top_fraction(planted):
    scores, membership = planted
    table = node_scores(scores, membership, n_boot=100)
    diff = difference_report(table, ["m0", "m7"], fraction=0.2, measure="range", cutoff="top")
    n_nodes = table[table["node_id"] != OVERALL]["node_id"].nunique()
    assert 0 < len(diff) <= int(np.ceil(n_nodes * 0.2))
    assert diff["spread"].is_monotonic_decreasing
    # d0/c0: m0 first, m7 below it; everywhere else m7 first and m0 last
    assert diff.iloc[0]["spread"] == 7
    assert (diff["rank_diff"].abs() == diff["spread"]).all()
    with pytest.raises(DataError):
        difference_report(table, ["m0"])
    with pytest.raises(DataError, match="not in the table"):
        difference_report(table, ["m0", "nope"])


def test_regression_report_flags_only_the_degraded_node(planted):
    scores, membership = planted
    before = scores[scores["model"] == "m3"][["query_id", "score"]]
    hit = before["query_id"].isin(
        membership[membership["node_id"].str.startswith("d1/c2/")]["query_id"]
    )
    after = before.assign(score=before["score"] - np.where(hit, 1.0, 0.0))
    report = regression_report(before, after, membership, n_boot=400).set_index("node_id")
    assert report.loc["d1/c2", "change"] == "regression"
    assert report.loc["d1/c2", "delta"] == pytest.approx(-1.0)
    assert report.loc["d1/c2", "ci_high"] < 0
    assert report.loc["d0/c1", "change"] == "unchanged"
    assert report.loc["d0", "delta"] == 0.0
    assert report.loc[OVERALL, "n"] == 3000
    # only paired queries count
    partial = regression_report(before.iloc[:100], after, membership, n_boot=50)
    assert partial.set_index("node_id").loc[OVERALL, "n"] == 100


def test_a_gap_must_exceed_t_unless_at_least():
    """Feedbacker flags ``diff > threshold`` (strict); ``at_least=True`` also counts a gap of T."""
    rows = []
    for rank, model in enumerate(["a", "b", "c", "d"], start=1):
        rows.append(
            {
                "node_id": OVERALL,
                "model": model,
                "mean": 10 - rank,
                "ci_low": 9.5 - rank,
                "ci_high": 10.5 - rank,
                "rank": rank,
                "count": 50,
            }
        )
    # at node x the order is reversed: a drops from 1st to 4th (gap 3), d rises from 4th to 1st
    for rank, model in enumerate(["d", "c", "b", "a"], start=1):
        rows.append(
            {
                "node_id": "x",
                "model": model,
                "mean": 10 - rank,
                "ci_low": 9.9 - rank,
                "ci_high": 10.1 - rank,
                "rank": rank,
                "count": 50,
            }
        )
    assert strengths_weaknesses(pd.DataFrame(rows), threshold=3).empty
    for found in (
        strengths_weaknesses(pd.DataFrame(rows), threshold=2),
        strengths_weaknesses(pd.DataFrame(rows), threshold=3, at_least=True),
    ):
        found = found.set_index("model")
        assert found.loc["a", "kind"] == "weakness" and found.loc["a", "gap"] == 3
        assert found.loc["d", "kind"] == "strength"
        assert found.loc["d", "separated_from"] == ["a", "b", "c"]
    assert strengths_weaknesses(pd.DataFrame(rows), threshold=4, at_least=True).empty
