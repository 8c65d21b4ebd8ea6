"""The dashboard's SQL gives the same numbers on PostgreSQL as on SQLite."""

from __future__ import annotations

import pandas as pd
import pytest

from judgebench.dashboard.sample import JUDGE, PAIR_JUDGE, build_sample_store
from judgebench.db import queries as q

pytestmark = pytest.mark.postgres


@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_postgres_matches_sqlite(store_url, sample_store):
    pg = build_sample_store(store_url, queries_per_leaf=6)
    assert q.refresh_summary(pg) is True and q.refresh_summary(pg) is False
    for judge in (JUDGE, PAIR_JUDGE):
        a = (
            q.node_scores(pg, q.Filters(judge=judge))
            .sort_values(["node_id", "model"])
            .reset_index(drop=True)
        )
        b = (
            q.node_scores(sample_store, q.Filters(judge=judge))
            .sort_values(["node_id", "model"])
            .reset_index(drop=True)
        )
        pd.testing.assert_frame_equal(a, b, check_dtype=False)
        # the stored bootstrap table (summary_report) is the same on both backends
        pd.testing.assert_frame_equal(q.node_table(pg, judge), q.node_table(sample_store, judge))
    health = ["judge", "n", "n_invalid", "n_position_inconsistent", "n_injection"]
    pd.testing.assert_frame_equal(
        q.judge_health(pg)[health], q.judge_health(sample_store)[health], check_dtype=False
    )
    pd.testing.assert_frame_equal(
        q.human_agreement(pg), q.human_agreement(sample_store), check_dtype=False
    )
    runs = q.list_runs(pg)
    assert len(q.leaderboard(pg, q.Filters(judge=JUDGE, run_id=runs.id[1]))) == 5
    worst = q.worst_queries(pg, "writing", "sim/coder", q.Filters(judge=JUDGE))
    assert list(worst["score"]) == list(
        q.worst_queries(sample_store, "writing", "sim/coder", q.Filters(judge=JUDGE))["score"]
    )
    assert len(q.node_queries(pg, "coding/python", q.Filters(judge=JUDGE))) == 6
    pg.engine.dispose()
