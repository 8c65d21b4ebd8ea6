"""Per-node confidence in reports: counts, the unassigned bucket, confident-only findings, jobs."""

from __future__ import annotations

import math

import pandas as pd

from judgebench.analysis.confidence import (
    UNASSIGNED,
    assignment_counts,
    assignment_lines,
    assignment_summary,
    confident_membership,
    tentative_membership,
)
from judgebench.records import Query

QUERIES = [
    Query(
        text="a",
        node_ids=["coding/langs/python", "coding/tasks/debugging"],
        node_confidence={"coding/langs/python": 0.9, "coding/tasks/debugging": 0.65},
    ),
    Query(text="b", node_ids=["coding/langs/python"], node_confidence={"coding/langs/python": 0.7}),
    Query(text="c", node_ids=["writing/poetry"]),  # a hand label: confidence unknown
    Query(text="d", node_ids=[], node_confidence={"coding/langs/rust": 0.3}),  # unassigned
    Query(text="e", node_ids=[]),
]


def test_counts_per_node_roll_up_and_the_unassigned_bucket():
    counts = assignment_counts(QUERIES, min_confidence=0.8).set_index("node_id")
    # query a counts once for coding although two of its leaves are there
    assert counts.loc["coding"].tolist() == [2, 1, 1]  # queries, confident, tentative
    assert counts.loc["coding/langs/python"].tolist() == [2, 1, 0]
    assert counts.loc["coding/tasks/debugging"].tolist() == [1, 0, 0]
    assert counts.loc["coding/langs/rust"].tolist() == [0, 0, 1]
    assert counts.loc["writing/poetry"].tolist() == [1, 1, 0]  # unknown counts as confident
    assert counts.loc[UNASSIGNED, "queries"] == 2
    lenient = assignment_counts(QUERIES, min_confidence=0.6).set_index("node_id")
    assert lenient.loc["coding", "confident"] == 2


def test_counts_from_a_queries_frame_match_the_records():
    frame = pd.DataFrame(
        [
            {"id": q.id, "node_ids": q.node_ids, "node_confidence": q.node_confidence or None}
            for q in QUERIES
        ]
    )
    frame.loc[4, "node_confidence"] = math.nan  # as a JSON NULL reads back
    assert assignment_counts(frame, 0.8).equals(assignment_counts(QUERIES, 0.8))


def test_summary_and_its_printed_line():
    summary = assignment_summary(QUERIES, 0.8)
    assert summary["unassigned"] == 2
    assert [n["node_id"] for n in summary["nodes"]] == ["coding", "writing"]
    [line] = assignment_lines(summary)
    assert "coding 1/2 (+1 tentative)" in line and "writing 1/1" in line
    assert line.endswith("unassigned 2")
    assert assignment_lines({}) == []


def test_findings_can_be_restricted_to_confident_assignments():
    membership = pd.DataFrame(
        {
            "query_id": ["a", "a", "b", "c"],
            "node_id": ["x", "y", "x", "z"],
            "confidence": [0.9, 0.5, 0.7, math.nan],
        }
    )
    kept = confident_membership(membership, 0.7)
    assert list(zip(kept["query_id"], kept["node_id"], strict=True)) == [
        ("a", "x"),
        ("b", "x"),
        ("c", "z"),
    ]
    assert confident_membership(membership[["query_id", "node_id"]], 0.7).shape == (4, 2)
    guesses = tentative_membership(QUERIES)
    assert guesses.to_dict("records") == [
        {"query_id": QUERIES[3].id, "node_id": "coding/langs/rust", "confidence": 0.3}
    ]


def test_a_job_with_the_combined_assigner_stores_and_reports_confidence(tmp_path):
    from judgebench.db import Store
    from judgebench.jobs import JobRunner, parse_job
    from tests.jobs.conftest import fresh_gateway, job_dict, write_queries

    queries = write_queries(tmp_path / "q.jsonl", 6)
    data = job_dict(
        f"sqlite:///{tmp_path / 'jb.db'}", queries, models=("sim/coder",), pairwise=False
    )
    data["queries"] |= {"assign": "combined", "min_confidence": 0.5}
    job = parse_job(data)
    store = Store(job.store)
    fresh_gateway(store)
    result = JobRunner(job, store=store).run()
    assert result.status == "ok"
    stored = store.get_queries()
    unassigned = [q for q in stored if not q.node_ids]
    for q in stored:
        if q.node_ids:
            assert set(q.node_confidence) == set(q.node_ids)
            assert all(0.5 <= p <= 1 for p in q.node_confidence.values())
        else:  # its best guess, below the threshold, is kept for the report
            assert len(q.node_confidence) == 1 and max(q.node_confidence.values()) < 0.5
    summary = result.summary["assignment"]
    assert summary["min_confidence"] == 0.5 and summary["unassigned"] == len(unassigned)
    assigned = sum(n["queries"] for n in summary["nodes"])
    assert assigned == len(stored) - len(unassigned)  # one domain per assigned query
    assert all(n["confident"] == n["queries"] for n in summary["nodes"])


def test_job_findings_are_confident_only_or_all_with_best_guesses(tmp_path):
    from judgebench.jobs import parse_job
    from judgebench.jobs.summary import _assignment
    from tests.jobs.conftest import job_dict

    frame = pd.DataFrame(
        [
            {"id": q.id, "node_ids": q.node_ids, "node_confidence": q.node_confidence}
            for q in QUERIES
        ]
    )
    membership = pd.DataFrame(
        {
            "query_id": [QUERIES[0].id, QUERIES[0].id],
            "node_id": ["coding/langs/python", "coding/tasks/debugging"],
            "confidence": [0.9, 0.65],
        }
    )
    data = job_dict("sqlite:///x.db", tmp_path / "q.jsonl")
    data["queries"] |= {"assign": "combined", "min_confidence": 0.8}
    summary, kept = _assignment(frame, membership, parse_job(data))
    assert summary["unassigned"] == 2
    assert kept["node_id"].tolist() == ["coding/langs/python"]  # 0.65 < 0.8: not a finding
    data["queries"]["findings"] = "all"
    _, widened = _assignment(frame, membership, parse_job(data))
    assert widened["node_id"].tolist() == [
        "coding/langs/python",
        "coding/tasks/debugging",
        "coding/langs/rust",
    ]
