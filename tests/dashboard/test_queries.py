"""The SQL aggregation behind the dashboard, checked against an independent pandas computation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from judgebench.dashboard.sample import HUMAN, JUDGE, PAIR_JUDGE, SAMPLE_MODELS
from judgebench.db import queries as q
from judgebench.records import Judgment, Query, Response


def _pointwise_frame(store) -> pd.DataFrame:
    """Every ok pointwise judgment with the leaf nodes of its query, via the Store API."""
    queries = {x.id: x.node_ids for x in store.get_queries()}
    rows = [
        dict(query_id=j.query_id, model=j.model, score=j.score)
        for j in store.get_judgments(judge=JUDGE, status="ok")
    ]
    frame = pd.DataFrame(rows)
    frame["nodes"] = frame["query_id"].map(queries)
    return frame


def test_node_means_match_independent_computation(sample_store):
    from judgebench.analysis.feedback import summary_report

    frame = _pointwise_frame(sample_store)
    scores = q.node_scores(sample_store, q.Filters(judge=JUDGE)).set_index(["node_id", "model"])
    # one judge picked: bootstrap intervals, from the report the CLI summary builds on the same
    # per-query scores; every judge mixed: the normal approximation from the sums
    membership = frame[["query_id", "nodes"]].explode("nodes").rename(columns={"nodes": "node_id"})
    report = summary_report(frame, membership.drop_duplicates(), frame["model"].nunique())
    boot = report.table.set_index(["node_id", "model"])
    mixed = q.node_scores(sample_store, q.Filters()).set_index(["node_id", "model"])
    for domain in ["coding", "writing"]:
        in_domain = frame[
            frame["nodes"].map(lambda ns, d=domain: any(n.split("/")[0] == d for n in ns))
        ]
        for model, g in in_domain.groupby("model"):
            row = scores.loc[(domain, model)]
            assert row["n_scored"] == len(g)
            assert row["mean"] == pytest.approx(g["score"].mean())
            assert row["ci_method"] == "bootstrap"
            assert row["ci_low"] == pytest.approx(boot.loc[(domain, model), "ci_low"])
            assert row["ci_high"] == pytest.approx(boot.loc[(domain, model), "ci_high"])
            assert row["ci_low"] <= row["mean"] <= row["ci_high"]
            assert mixed.loc[(domain, model), "ci_method"] == "normal"
    overall = scores.xs(q.ROOT, level="node_id")
    assert overall["n_scored"].sum() == len(frame)


def test_win_rate_intervals_stay_inside_zero_one():
    # Wilson (1927), JASA 22:209, score interval (p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n),
    # z = 1.96, worked by hand: 0 of 10 → [0, 0.2775]; 1 of 10 → [0.01787, 0.4042];
    # 10 of 10 → [0.7225, 1] (Brown, Cai & DasGupta 2001, Stat. Sci. 16:101, give 0/10 → 0.278)
    low, high = q.wilson_interval(np.array([0.0, 1.0, 10.0]), np.array([10, 10, 10]))
    assert low == pytest.approx([0.0, 0.017875, 0.722467], abs=1e-5)
    assert high == pytest.approx([0.277533, 0.404150, 1.0], abs=1e-5)
    # the normal approximation would go below 0 here (the issue saw [−0.094, 0.316])
    p, n = 0.111, 9
    assert p - q.Z95 * math.sqrt(p * (1 - p) / n) < 0 < q.wilson_interval(p * n, n)[0]


def test_query_in_two_leaves_counts_once_for_their_parent(sample_store):
    two_leaf = [x for x in sample_store.get_queries() if len(x.node_ids) == 2]
    assert two_leaf, "the sample must contain a multi-leaf query"
    leaf_a, leaf_b = two_leaf[0].node_ids
    parent = leaf_a.split("/")[0]
    nodes = q.taxonomy_nodes(sample_store).set_index("node_id")["n_queries"]
    leaves = [n for n in nodes.index if n.startswith(parent + "/")]
    assert nodes[parent] == sum(nodes[n] for n in leaves) - 1
    assert nodes[q.ROOT] == len(sample_store.get_queries())


def test_ranks_order_models_by_mean(sample_store):
    board = q.leaderboard(sample_store, q.Filters(judge=JUDGE))
    assert list(board["rank"]) == sorted(board["rank"])
    assert board["mean"].is_monotonic_decreasing
    assert board.iloc[0]["model"] == "sim/strong"  # the sample's strongest profile
    assert set(board["model"]) == set(SAMPLE_MODELS)
    assert board["simulated"].sum() == sum(m.startswith("sim/") for m in SAMPLE_MODELS)
    assert (board["cost"] > 0).all()


def test_invalid_rate_and_pairwise_win_rate(sample_store):
    everything = sample_store.get_judgments(judge=JUDGE)
    board = q.leaderboard(sample_store, q.Filters(judge=JUDGE)).set_index("model")
    for model in SAMPLE_MODELS:
        mine = [j for j in everything if j.model == model]
        invalid = sum(j.status != "ok" for j in mine) / len(mine)
        assert board.loc[model, "invalid_rate"] == pytest.approx(invalid)
    pairs = sample_store.get_judgments(judge=PAIR_JUDGE, status="ok")
    a, b = SAMPLE_MODELS[:2]
    points = sum(
        (1 if j.verdict == "A" else 0.5 if j.verdict == "tie" else 0) for j in pairs if j.model == a
    )
    points += sum(
        (1 if j.verdict == "B" else 0.5 if j.verdict == "tie" else 0)
        for j in pairs
        if j.model_b == a
    )
    wins = q.leaderboard(sample_store, q.Filters(judge=PAIR_JUDGE)).set_index("model")
    assert wins.loc[a, "win_rate"] == pytest.approx(points / len(pairs))
    assert wins.loc[a, "win_rate"] + wins.loc[b, "win_rate"] == pytest.approx(1.0)


def test_judge_health_counts_flags_and_humans(sample_store):
    health = q.judge_health(sample_store).set_index("judge")
    pairs = sample_store.get_judgments(judge=PAIR_JUDGE)
    flagged = sum("position_inconsistent" in j.flags for j in pairs)
    assert health.loc[PAIR_JUDGE, "n_position_inconsistent"] == flagged
    assert health.loc[PAIR_JUDGE, "position_consistency"] == pytest.approx(1 - flagged / len(pairs))
    injections = sum(
        any(f.startswith("injection") for f in j.flags)
        for j in sample_store.get_judgments(judge=JUDGE)
    )
    assert injections > 0 and health.loc[JUDGE, "n_injection"] == injections
    assert bool(health.loc[HUMAN, "human"]) and not bool(health.loc[JUDGE, "human"])
    hist = q.score_distribution(sample_store, [JUDGE])
    assert hist["n"].sum() == len(sample_store.get_judgments(judge=JUDGE, status="ok"))


def test_human_agreement_mirrors_swapped_order(sample_store):
    agreement = q.human_agreement(sample_store).set_index("judge")
    humans = {
        (j.query_id, j.response_id, j.response_b_id): j.verdict
        for j in sample_store.get_judgments(judge=HUMAN)
    }
    mirror = {"A": "B", "B": "A", "tie": "tie"}
    hits = total = 0
    for j in sample_store.get_judgments(judge=PAIR_JUDGE, status="ok"):
        if (j.query_id, j.response_id, j.response_b_id) in humans:
            total += 1
            hits += humans[(j.query_id, j.response_id, j.response_b_id)] == j.verdict
        elif (j.query_id, j.response_b_id, j.response_id) in humans:
            total += 1
            hits += humans[(j.query_id, j.response_b_id, j.response_id)] == mirror[j.verdict]
    assert agreement.loc[PAIR_JUDGE, "n"] == total
    assert agreement.loc[PAIR_JUDGE, "accuracy"] == pytest.approx(hits / total)


def test_run_filter_and_trend(sample_store):
    runs = q.list_runs(sample_store)
    assert len(runs) == 2
    first = q.leaderboard(sample_store, q.Filters(judge=JUDGE, run_id=runs.id[0])).set_index(
        "model"
    )
    mine = [
        j
        for j in sample_store.get_judgments(judge=JUDGE, run_id=runs.id[0], status="ok")
        if j.model == "sim/coder"
    ]
    assert first.loc["sim/coder", "mean"] == pytest.approx(np.mean([j.score for j in mine]))
    trend = q.run_trend(sample_store, judge=JUDGE, job_name="nightly")
    coder = trend[trend["model"] == "sim/coder"].sort_values("started_at")
    assert (
        len(coder) == 2 and coder["mean"].iloc[1] < coder["mean"].iloc[0]
    )  # the sample's regression


def test_drilldown_reads_are_limited_and_complete(sample_store):
    rows = q.node_queries(sample_store, "coding/python", q.Filters(judge=JUDGE), limit=4)
    assert len(rows) == 4 and all("[coding/python]" in t for t in rows["text"])
    assert set(SAMPLE_MODELS) <= set(rows.columns)
    worst = q.worst_queries(sample_store, "coding", "sim/weak", q.Filters(judge=JUDGE), limit=5)
    assert len(worst) == 5 and worst["score"].is_monotonic_increasing
    detail = q.query_detail(sample_store, rows["query_id"][0])
    assert {r["model"] for r in detail["responses"]} == set(SAMPLE_MODELS)
    judged = [j for r in detail["responses"] for j in r["judgments"] if j["judge"] == JUDGE]
    assert judged and all(j["raw_replies"] for j in judged)
    assert q.query_detail(sample_store, "nope") is None


def test_summary_refreshes_only_after_writes(tmp_path):
    from judgebench.db import Store

    store = Store(tmp_path / "s.db")
    assert q.refresh_summary(store) is True
    assert q.refresh_summary(store) is False
    query = Query(text="what is 2+2?", node_ids=["mathematics/arithmetic"])
    resp = Response(query_id=query.id, model="m1", text="4")
    store.put_queries([query])
    store.put_responses([resp])
    store.put_judgments(
        [
            Judgment(
                judge="j",
                judge_model="jm",
                query_id=query.id,
                response_id=resp.id,
                model="m1",
                template_name="t",
                template_hash="h",
                score=4.0,
            )
        ]
    )
    assert q.refresh_summary(store) is True
    board = q.leaderboard(store)
    assert (
        list(board["model"]) == ["m1"]
        and board["mean"][0] == 4.0
        and math.isnan(board["ci_low"][0])
    )
    assert set(q.taxonomy_nodes(store)["node_id"]) == {"", "mathematics", "mathematics/arithmetic"}


def test_empty_store_gives_empty_frames(empty_store):
    q.refresh_summary(empty_store)
    assert q.list_models(empty_store) == []
    assert q.leaderboard(empty_store).empty
    assert q.node_scores(empty_store).empty
    assert q.judge_health(empty_store).empty
    assert q.human_agreement(empty_store).empty
    assert q.run_trend(empty_store).empty
    assert q.node_queries(empty_store, "coding").empty
    assert q.worst_queries(empty_store, "coding", "m").empty
    assert q.default_judge(empty_store) is None


def test_run_that_reuses_judgments_counts_them(tmp_path):
    """A rerun reuses stored judgments (natural keys) and links them in run_items: its per-run
    numbers include them, and the run that wrote them keeps them too."""
    from judgebench.db import Store
    from judgebench.records import Run

    store = Store(tmp_path / "r.db")
    first, second = (
        Run(kind="job", name="first", job_name="j"),
        Run(kind="job", name="second", job_name="j"),
    )
    store.put_run(first)
    store.put_run(second)
    query = Query(text="q", node_ids=["coding/python"])
    store.put_queries([query])
    judgments = []
    for model, score in [("m1", 3.0), ("m2", 5.0)]:
        resp = Response(query_id=query.id, model=model, text="a")
        store.put_responses([resp])
        judgments.append(
            Judgment(
                judge="j",
                judge_model="jm",
                query_id=query.id,
                response_id=resp.id,
                model=model,
                template_name="t",
                template_hash="h",
                score=score,
                run_id=first.id,
            )
        )
    store.put_judgments(judgments)
    store.link_run_items(
        first.id, "judgment", [j.id for j in judgments]
    )  # its own: not double counted
    store.link_run_items(second.id, "judgment", [judgments[0].id])  # the rerun reused m1's judgment
    q.refresh_summary(store)
    one = q.leaderboard(store, q.Filters(run_id=first.id)).set_index("model")
    two = q.leaderboard(store, q.Filters(run_id=second.id)).set_index("model")
    assert list(one["n_scored"]) == [1, 1] and one.loc["m2", "mean"] == 5.0
    assert (
        list(two.index) == ["m1"]
        and two.loc["m1", "n_scored"] == 1
        and two.loc["m1", "mean"] == 3.0
    )
    assert q.judge_health(store, second.id)["n"].tolist() == [1]
    assert q.leaderboard(store).set_index("model").loc["m1", "n_scored"] == 1  # all runs: once


def test_worst_queries_same_answer_on_both_plans(sample_store, monkeypatch):
    small = q.worst_queries(sample_store, "writing", "sim/coder", q.Filters(judge=JUDGE), limit=6)
    monkeypatch.setattr(q, "SMALL_NODE", -1)  # force the score-ordered walk used for large nodes
    large = q.worst_queries(sample_store, "writing", "sim/coder", q.Filters(judge=JUDGE), limit=6)
    pd.testing.assert_frame_equal(small, large)
    assert small["score"].is_monotonic_increasing and len(small) == 6


def test_background_refresh_picks_up_new_data(tmp_path):
    import time as _time

    from judgebench.db import Store

    store = Store(tmp_path / "bg.db")
    cache = q.SummaryCache(store, ttl_s=0.05)
    cache.ensure()
    cache.start()
    try:
        query = Query(text="new", node_ids=["writing/poetry"])
        resp = Response(query_id=query.id, model="late-model", text="x")
        store.put_queries([query])
        store.put_responses([resp])
        store.put_judgments(
            [
                Judgment(
                    judge="j",
                    judge_model="jm",
                    query_id=query.id,
                    response_id=resp.id,
                    model="late-model",
                    template_name="t",
                    template_hash="h",
                    score=2.0,
                )
            ]
        )
        deadline = _time.time() + 10
        while "late-model" not in q.list_models(store) and _time.time() < deadline:
            _time.sleep(0.05)
        assert q.list_models(store) == ["late-model"] and cache.last_error is None
    finally:
        cache.stop()


def test_background_refresh_failure_is_logged_once(tmp_path, monkeypatch, caplog):
    import time as _time

    from judgebench.db import Store

    def broken(store):  # type: ignore[no-untyped-def]
        raise RuntimeError("database is locked")

    cache = q.SummaryCache(Store(tmp_path / "broken.db"), ttl_s=0.02)
    monkeypatch.setattr(q, "refresh_summary", broken)
    with caplog.at_level("WARNING", logger="judgebench.dashboard"):
        cache.start()
        try:
            deadline = _time.time() + 10
            while cache.last_error is None and _time.time() < deadline:
                _time.sleep(0.02)
            _time.sleep(0.1)  # several more failed rounds
        finally:
            cache.stop()
    assert cache.last_error == "RuntimeError: database is locked"
    # (another test's background cache in this worker may log its own, different failure)
    failures = [
        r
        for r in caplog.records
        if "summary refresh failed" in r.getMessage() and "database is locked" in r.getMessage()
    ]
    assert len(failures) == 1


def test_findings_table_leaves_out_unsure_assignments_as_the_cli_does(sample_url, tmp_path):
    import shutil

    from sqlalchemy import update

    from judgebench.db import Store
    from judgebench.db.models import QueryNodeRow
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    path = tmp_path / "unsure.db"
    shutil.copy(sample_url.removeprefix("sqlite:///"), path)
    store = Store(path)
    before = q.node_table(store, "pc2").set_index(["node_id", "model"])["count"]
    leaf = "coding/python"
    victim = next(x for x in store.get_queries() if x.node_ids == [leaf])
    with store.session() as s:
        s.execute(
            update(QueryNodeRow)
            .where(QueryNodeRow.query_id == victim.id)
            .values(confidence=DEFAULT_MIN_CONFIDENCE / 2)
        )
    q.refresh_summary(store, force=True)
    after = q.node_table(store, "pc2").set_index(["node_id", "model"])["count"]
    scored = {
        j.model for j in store.get_judgments(judge="pc2", status="ok") if j.query_id == victim.id
    }
    for model in scored:
        assert after[(leaf, model)] == before[(leaf, model)] - 1  # the unsure query left out
        assert after[("coding", model)] == before[("coding", model)] - 1
    # the map and leaderboard still count every assigned query
    assert q.taxonomy_nodes(store).set_index("node_id").loc[leaf, "n_queries"] == 6


def test_costs_split_responses_and_judging_per_model(sample_store):
    costs = q.model_costs(sample_store).set_index("model")
    for model in SAMPLE_MODELS:
        judging = sum(
            j.cost or 0.0
            for j in sample_store.get_judgments(model=model)
            if not q.is_human_judge(j.judge, j.judge_model)
        )
        responses = sum(r.cost or 0.0 for r in sample_store.get_responses() if r.model == model)
        assert costs.loc[model, "judge_cost"] == pytest.approx(judging) and judging > 0
        assert costs.loc[model, "cost"] == pytest.approx(responses)
