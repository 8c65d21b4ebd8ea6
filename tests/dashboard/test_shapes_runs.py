"""Every judge shape read its own way, and the runs page (status, cost split, regressions)."""

from __future__ import annotations

import random
import shutil

import pandas as pd
import pytest

from judgebench.dashboard.registry import DashboardContext
from judgebench.dashboard.sample import PAIR_JUDGE
from judgebench.dashboard.views import runs, shapes
from judgebench.db import Store
from judgebench.db import queries as q
from judgebench.records import Judgment


@pytest.fixture(scope="module")
def shaped(sample_url, tmp_path_factory) -> Store:
    """The sample store plus a reliability, a listwise and a likelihood judge on every response."""
    path = tmp_path_factory.mktemp("shapes") / "shapes.db"
    shutil.copy(sample_url.removeprefix("sqlite:///"), path)
    store = Store(path)
    rng = random.Random(11)
    added = []
    for r in store.get_responses():
        common = dict(query_id=r.query_id, response_id=r.id, model=r.model, judge_model="sim/judge",
                      template_name="t", template_hash="h", run_id=r.run_id)  # fmt: skip
        vote = rng.random()
        added += [
            Judgment(judge="mr", shape="reliability", score=vote,
                     details={"reliable": vote > 0.4, "tau": 0.4}, **common),
            Judgment(judge="lw", shape="listwise", score=rng.choice([0.0, 0.5, 1.0]),
                     details={"rank": 1}, **common),
            Judgment(judge="tl", shape="likelihood", score=-rng.random() * 5, **common),
        ]  # fmt: skip
    store.put_judgments(added)
    q.refresh_summary(store, force=True)
    return store


def _independent_overall(store: Store, judge: str, value) -> pd.Series:  # type: ignore[no-untyped-def]
    """Per model: mean over taxonomy-placed queries of the per-query mean of ``value(j)``."""
    placed = {x.id for x in store.get_queries() if x.node_ids}
    rows = pd.DataFrame(
        [dict(query_id=j.query_id, model=j.model, v=value(j))
         for j in store.get_judgments(judge=judge, status="ok") if j.query_id in placed]
    )  # fmt: skip
    return rows.groupby(["model", "query_id"])["v"].mean().groupby("model").mean()


def test_every_shape_has_its_own_reading(shaped):
    ctx = DashboardContext(shaped)
    found = q.judge_shapes(shaped)
    assert {found[j] for j in ("mr", "lw", "tl", PAIR_JUDGE)} == {
        "reliability",
        "listwise",
        "likelihood",
        "pairwise",
    }
    expected = {
        "mr": _independent_overall(shaped, "mr", lambda j: float(j.details["reliable"])),
        "lw": _independent_overall(shaped, "lw", lambda j: j.score),
        "tl": _independent_overall(shaped, "tl", lambda j: j.score),
    }
    for judge, want in expected.items():
        table = shapes.shape_table(ctx, judge, None)
        overall = table[table["node"] == "overall"].set_index("model")
        assert overall["value"].to_dict() == pytest.approx(want.to_dict()), judge
        assert (overall["ci_low"] <= overall["value"]).all()
        assert (overall["value"] <= overall["ci_high"]).all()
        fig, metric = shapes.shape_figure(ctx, judge, table)
        assert len(fig.data) == 1 and metric == shapes.METRICS[found[judge]]
    assert expected["mr"].min() >= 0 and expected["mr"].max() <= 1  # a share, not a score


def test_pairwise_shape_shows_verdicts_and_bounded_win_rates(shaped):
    ctx = DashboardContext(shaped)
    table = shapes.shape_table(ctx, PAIR_JUDGE, None)
    overall = table[table["node"] == "overall"].set_index("model")
    assert ((overall["ci_low"] >= 0) & (overall["ci_high"] <= 1)).all()
    # wins + ties/2 over decided comparisons is the win rate shown
    rate = (overall["wins"] + overall["ties"] / 2) / overall[["wins", "ties", "losses"]].sum(1)
    assert rate.to_dict() == pytest.approx(overall["value"].to_dict())
    fig, _ = shapes.shape_figure(ctx, PAIR_JUDGE, table)
    assert [t.name for t in fig.data] == ["wins", "ties", "losses"]


def test_runs_page_shows_status_counts_and_cost_split(shaped):
    from judgebench.db.jobs import add_usage, part_usage_key
    from judgebench.db.models import RunRow

    run_id = str(q.list_runs(shaped)["id"].iloc[-1])
    add_usage(shaped, part_usage_key(run_id, "responses"), {"cost": 0.25, "calls": 3})
    add_usage(shaped, part_usage_key(run_id, "judgments"), {"cost": 1.5, "calls": 9})
    add_usage(shaped, run_id, {"cost": 1.75, "calls": 12})
    with shaped.session() as s:
        row = s.get(RunRow, run_id)
        row.status, row.reason = "partial", "2 judgments invalid beyond max_error_rate 0"
        row.counts = {"judgments": {"ok": 40, "invalid": 2, "error": 0, "skipped": 0}}
    table = runs.runs_table(DashboardContext(shaped))
    latest = table.iloc[0]
    assert latest["status"] == "partial" and "max_error_rate" in latest["reason"]
    assert latest["counts"] == "judgments: ok 40, invalid 2"
    assert (latest["responses $"], latest["judges $"], latest["total $"]) == (0.25, 1.5, 1.75)


def test_run_over_run_regression_flags_the_sample_regression(shaped):
    table = runs.regression_table(DashboardContext(shaped), "pc2", "nightly")
    coder = table[(table["model"] == "sim/coder (simulated)") & (table["node"] == "overall")]
    assert len(coder) == 1 and coder["change"].iloc[0] == "regression"
    assert coder["delta"].iloc[0] < 0 and coder["ci_high"].iloc[0] < 0
    assert set(table["change"]) <= {"regression", "improvement", "unchanged"}
    assert runs.regression_table(DashboardContext(shaped), "pc2", "no-such-job").empty
