"""A run on one query claims no interval: a bootstrap over one judgment is [x, x], which the
summary printed as a 95 % CI of zero width. The figures stay, marked n=1 with no CI; with two
queries or more the intervals come back."""

from __future__ import annotations

import pytest

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.summary import summary_table
from tests.jobs.conftest import fresh_gateway, job_dict, write_queries

JUDGES = [
    {"kind": "rubric", "model": "sim/judge"},
    {"kind": "pairwise", "model": "sim/judge"},
    {"kind": "prp", "model": "sim/judge"},
]


def _summary(tmp_path, n: int) -> dict:  # type: ignore[no-untyped-def]
    queries = write_queries(tmp_path / f"q{n}.jsonl", n)
    data = job_dict(
        f"sqlite:///{tmp_path / f'{n}.db'}",
        queries,
        models=("sim/coder", "sim/small"),
        judges=JUDGES,
    )
    store = Store(data["store"])
    fresh_gateway(store)
    return JobRunner(parse_job(data), store=store).run().summary


def _entries(summary: dict) -> list[dict]:
    return [
        e for m in summary["models"] for key in ("scores", "win_rates") for e in m[key].values()
    ]


def _printed(summary: dict) -> str:
    from rich.console import Console

    console = Console(width=200, record=True)
    console.print(summary_table(summary))
    return console.export_text()


@pytest.mark.parametrize("n", [1, 2])
def test_an_interval_needs_two_values(tmp_path, n):
    summary = _summary(tmp_path, n)
    entries = _entries(summary)
    assert len(entries) == 6  # rubric score, pairwise and prp win rates, for both models
    for e in entries:
        assert e["n"] >= n
        if e["n"] < 2:
            assert e["ci_low"] is None and e["ci_high"] is None
        else:
            assert e["ci_low"] is not None and e["ci_high"] is not None
    text = _printed(summary)
    assert ("no CI" in text) == (n == 1)


@pytest.mark.parametrize("assign", ["embedding", "combined"])
def test_the_assignment_line_claims_confidence_only_where_it_was_measured(tmp_path, assign):
    from judgebench.analysis.confidence import assignment_lines

    queries = write_queries(tmp_path / "q.jsonl", 3)
    data = job_dict(
        f"sqlite:///{tmp_path / 'a.db'}",
        queries,
        models=("sim/coder",),
        judges=[{"kind": "rubric", "model": "sim/judge"}],
    )
    data["queries"]["assign"] = assign
    store = Store(data["store"])
    fresh_gateway(store)
    summary = JobRunner(parse_job(data), store=store).run().summary
    [line] = assignment_lines(summary["assignment"])
    # the embedding assigner stores no confidence; the line said "confident/assigned at
    # min_confidence 0.6: coding 3/3" all the same
    assert ("confident" in line) == (assign == "combined")
    assert ("assign: embedding gives no confidence" in line) == (assign == "embedding")
