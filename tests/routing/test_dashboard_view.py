"""The dashboard's Router page reads the routed-request log through db.routing."""

from __future__ import annotations

import json
import math

from judgebench.dashboard.registry import DashboardContext
from judgebench.dashboard.views import router as view
from judgebench.db import Store
from judgebench.db.routing import SqlRoutingLog
from judgebench.judges import MetaRankingJudge
from judgebench.routing import CascadeRouter


def test_router_page_shows_decisions(tmp_path, refs):
    store = Store(tmp_path / "jb.db")
    ctx = DashboardContext(store)
    assert "judgebench router serve" in json.dumps(
        view.layout(ctx, {}).to_plotly_json(), default=str
    )
    judge = MetaRankingJudge("sim/judge", refs, n_references=2)
    router = CascadeRouter(
        ["sim/small", "sim/large"], judge, [math.inf], log=SqlRoutingLog(store), name="r"
    )
    for q in ("What is 2 + 2?", "What is 3 * 3?"):
        router.complete_sync([{"role": "user", "content": q}])
    summary = view.summary_frame(ctx, "r")
    assert summary["final_model"].tolist() == ["sim/large (simulated)"] and summary[
        "requests"
    ].tolist() == [2]
    recent = view.recent_frame(ctx, None)
    assert len(recent) == 2 and recent["stages"].str.contains("sim/small escalated").all()
    scores = view.scores_figure(ctx, "r")
    assert scores.data and scores.data[0].name == "sim/small (simulated)"
    assert view.share_figure(ctx, "r").data[0].y[0] == 2
    assert "router-name" in json.dumps(
        view.layout(ctx, {"router": "r"}).to_plotly_json(), default=str
    )
