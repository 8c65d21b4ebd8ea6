"""Cascade routing: escalation by score and on errors, decisions logged and stored, and the
offline threshold calibration."""

from __future__ import annotations

import asyncio
import math

import pytest

from judgebench.db import Store
from judgebench.db.routing import SqlRoutingLog, routed_requests, routing_summary
from judgebench.errors import DataError
from judgebench.judges import MetaRankingJudge
from judgebench.llm import BadRequestError, ScriptedBackend, get_gateway
from judgebench.routing import CalibrationItem, CascadeRouter, RoutingError, StageOutcome
from judgebench.routing.calibration import calibrate_thresholds

MATH = [{"role": "user", "content": "A farmer has 12 cows and buys 7 more. How many cows now?"}]


def _judge(refs):
    return MetaRankingJudge("sim/judge", refs, n_references=2)


def test_models_are_ordered_by_price(refs):
    router = CascadeRouter(["sim/large", "sim/small", "sim/generalist"], _judge(refs))
    assert router.models == ["sim/small", "sim/generalist", "sim/large"]
    with pytest.raises(ValueError, match="need 2 thresholds"):
        CascadeRouter(["sim/small", "sim/generalist", "sim/large"], _judge(refs), [0.1])


def test_low_threshold_accepts_the_cheapest_high_threshold_reaches_the_last(refs):
    accept_all = CascadeRouter(["sim/small", "sim/large"], _judge(refs), [-math.inf])
    out = accept_all.complete_sync(MATH)
    assert out.model == "sim/small"
    [stage] = out.decision.stages
    assert stage.status == "accepted" and stage.score is not None and stage.judge_cost > 0

    never = CascadeRouter(
        ["sim/small", "sim/generalist", "sim/large"], _judge(refs), [math.inf, math.inf]
    )
    out = never.complete_sync(MATH)
    assert out.model == "sim/large"
    assert [s.status for s in out.decision.stages] == ["escalated", "escalated", "accepted"]
    assert out.decision.stages[-1].score is None  # the last stage is accepted unjudged
    assert "≤ threshold" in out.decision.stages[0].reason
    assert out.decision.cost == pytest.approx(
        sum(s.cost for s in out.decision.stages)
        + sum(s.judge_cost or 0 for s in out.decision.stages)
    )
    assert len(never.log.decisions) == 1


class SlowBackend:
    async def complete(self, model, messages, prompt, params):  # type: ignore[no-untyped-def]
        await asyncio.sleep(5)
        raise AssertionError("should have timed out")


def test_errors_and_timeouts_escalate(refs):
    # a model error (not retried: a 400) and a model that hangs both escalate to the next stage
    get_gateway().register_backend(
        "scripted", ScriptedBackend(responder=lambda p, m: BadRequestError("boom"))
    )
    get_gateway().register_backend("slow", SlowBackend())
    hangs = CascadeRouter(
        ["slow/model", "sim/generalist"],
        _judge(refs),
        [-math.inf],
        order_by_cost=False,
        timeout_s=0.2,
    )
    out = hangs.complete_sync(MATH)
    assert out.model == "sim/generalist" and out.decision.stages[0].reason == "timed out after 0.2s"
    router = CascadeRouter(
        ["scripted/broken", "sim/generalist"], _judge(refs), [-math.inf], order_by_cost=False
    )
    out = router.complete_sync(MATH)
    assert out.model == "sim/generalist"
    first = out.decision.stages[0]
    assert first.status == "error" and "boom" in first.reason and first.score is None

    both_broken = CascadeRouter(
        ["scripted/a", "scripted/b"], _judge(refs), [0.0], order_by_cost=False
    )
    with pytest.raises(RoutingError, match="every stage failed") as err:
        both_broken.complete_sync(MATH)
    assert err.value.decision.status == "error" and len(both_broken.log.decisions) == 1


def test_last_stage_failure_falls_back_to_the_best_earlier_answer(refs):
    get_gateway().register_backend(
        "scripted", ScriptedBackend(responder=lambda p, m: BadRequestError("down"))
    )
    router = CascadeRouter(
        ["sim/generalist", "scripted/strong"], _judge(refs), [math.inf], order_by_cost=False
    )
    out = router.complete_sync(MATH)
    assert out.model == "sim/generalist" and "fallback" in out.decision.details


def test_decisions_are_stored(tmp_path, refs):
    store = Store(tmp_path / "jb.db")
    log = SqlRoutingLog(store, flush_every=2)
    router = CascadeRouter(["sim/small", "sim/large"], _judge(refs), [math.inf], log=log, name="r1")
    for q in ("What is 3 + 4?", "What is 10 - 2?", "What is 5 * 5?"):
        router.complete_sync([{"role": "user", "content": q}])
    assert len(routed_requests(store)) == 2  # the third is still buffered
    log.flush()
    rows = routed_requests(store, router="r1")
    assert len(rows) == 3 and all(
        r["final_model"] == "sim/large" and r["n_stages"] == 2 for r in rows
    )
    assert rows[0]["stages"][0]["threshold"] is None or math.isinf(
        rows[0]["stages"][0]["threshold"]
    )
    [summary] = routing_summary(store)
    assert summary["requests"] == 3 and summary["share"] == 1.0 and summary["mean_stages"] == 2
    # every score can be audited: the answers and the full judgments are in the store too
    stage = rows[0]["stages"][0]
    [judgment] = [
        j for j in store.get_judgments(judge="meta_ranking") if j.id == stage["judgment_id"]
    ]
    assert judgment.model == "sim/small" and judgment.raw_replies and judgment.template_hash
    assert judgment.score == stage["score"] and judgment.response_id == stage["response_id"]
    assert (
        len(store.get_responses(model="sim/large")) == 3
        and len(store.get_queries(source="router")) == 3
    )


def test_a_failed_flush_writes_nothing_and_keeps_the_batch(tmp_path, refs, monkeypatch):
    from judgebench.db.routing import RoutedRequestRow

    store = Store(tmp_path / "jb.db")
    log = SqlRoutingLog(store, flush_every=100)
    router = CascadeRouter(["sim/small", "sim/large"], _judge(refs), [math.inf], log=log)
    router.complete_sync([{"role": "user", "content": "What is 3 + 4?"}])
    insert = store.insert_ignore

    def failing(session, table, rows):  # type: ignore[no-untyped-def]
        if table is RoutedRequestRow:
            raise RuntimeError("disk full")
        return insert(session, table, rows)

    monkeypatch.setattr(store, "insert_ignore", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        log.flush()
    assert store.get_queries(source="router") == [] and store.get_responses() == []
    monkeypatch.setattr(store, "insert_ignore", insert)
    assert log.flush() == 1 and len(store.get_queries(source="router")) == 1


def test_routing_reads_do_not_wait_for_a_writer(tmp_path, refs):
    """The dashboard and `router log` read while the server writes: no write lock taken."""
    import threading

    from judgebench.db.models import QueryRow
    from judgebench.db.routing import router_names

    store = Store(tmp_path / "jb.db")
    router = CascadeRouter(
        ["sim/small", "sim/large"], _judge(refs), [math.inf], log=SqlRoutingLog(store), name="r"
    )
    router.complete_sync([{"role": "user", "content": "What is 3 + 4?"}])
    result: list[object] = []
    with store.session() as writer:  # BEGIN IMMEDIATE: the write lock is held until the end
        writer.add(
            QueryRow(id="x", text="pending", source="user", node_ids=[], provenance={}, meta={})
        )
        writer.flush()

        def read() -> None:
            result.append(router_names(store))
            result.append(len(routed_requests(store)))
            result.append(routing_summary(store)[0]["requests"])

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout=5)
        assert not reader.is_alive(), "a read waited for the writer's lock"
    assert result == [["r"], 1, 1]


def _item(scores, correct, costs=(1.0, 10.0), judge=0.5):
    return CalibrationItem(
        query="q",
        stages=[
            StageOutcome(
                model="cheap", score=scores[0], correct=correct[0], cost=costs[0], judge_cost=judge
            ),
            StageOutcome(model="strong", correct=correct[1], cost=costs[1]),
        ],
    )


def test_calibration_targets_and_curve():
    # the judge's score separates the cheap model's right answers (high) from wrong ones (low)
    items = [_item([0.5 + i / 100, -1], [True, True]) for i in range(30)]
    items += [_item([-0.5 + i / 100, -1], [False, True]) for i in range(20)]
    items += [_item([0.6, -1], [False, False]) for _ in range(10)]  # nobody gets these right
    quality = calibrate_thresholds(items, "quality", 50 / 60)
    assert quality.met
    # the best: every right cheap answer kept, every wrong one escalated, hopeless ones not
    assert quality.chosen.quality == pytest.approx(
        50 / 60
    ) and quality.chosen.strong_share == pytest.approx(20 / 60)
    share = calibrate_thresholds(items, "strong_share", 0.1)
    assert share.chosen.strong_share <= 0.1
    budget = calibrate_thresholds(items, "cost", 2.0)
    assert budget.chosen.cost <= 2.0
    impossible = calibrate_thresholds(items, "quality", 0.99)
    assert not impossible.met and impossible.chosen.quality == max(
        p.quality for p in impossible.curve
    )
    costs = [p.cost for p in quality.curve]
    qualities = [p.quality for p in quality.curve]
    assert costs == sorted(costs) and qualities == sorted(qualities)
    assert quality.single_models == {
        "cheap": {"quality": 0.5, "cost": 1.0},
        "strong": {"quality": 50 / 60, "cost": 10.0},
    }
    assert "cost–quality curve" in quality.format()


def test_calibration_rejects_bad_items():
    with pytest.raises(DataError, match="no correctness label"):
        calibrate_thresholds(
            [
                CalibrationItem(
                    query="q",
                    stages=[
                        StageOutcome(model="a", score=0.1),
                        StageOutcome(model="b", correct=True),
                    ],
                )
            ],
            "quality",
            0.5,
        )
    with pytest.raises(DataError, match="unknown calibration target"):
        calibrate_thresholds([_item([0.1, 0], [True, True])], "speed", 1)  # type: ignore[arg-type]
    unpriced = [_item([0.1, 0], [True, True], costs=(None, 1.0))]
    with pytest.raises(DataError, match="known prices"):
        calibrate_thresholds(unpriced, "cost", 1.0)


def test_collect_and_calibrate_end_to_end(refs):
    router = CascadeRouter(["sim/small", "sim/large"], _judge(refs))
    queries = [
        f"What is {a} + {b}? Show the steps."
        for a, b in [(3, 4), (12, 9), (25, 17), (8, 8), (40, 2), (7, 6)]
    ]
    items = router.collect_sync(queries, lambda q, m, a: m == "sim/large")
    assert len(items) == 6 and all(
        i.stages[0].score is not None and i.stages[1].score is None for i in items
    )
    report = router.calibrate(items, "quality", 1.0)
    assert report.chosen.quality == 1.0 and router.thresholds == report.thresholds


def test_cascade_escalates_at_s_equal_tau_as_the_judge_calls_it_unreliable(refs):
    # the judge's own rule is s > τ; a threshold equal to the score must escalate, not accept
    judge = _judge(refs)
    router = CascadeRouter(["sim/small", "sim/large"], judge, [-math.inf])
    first = router.complete_sync(MATH).decision.stages[0]
    score = first.score
    assert score is not None
    at_tau = CascadeRouter(["sim/small", "sim/large"], _judge(refs), [score])
    out = at_tau.complete_sync(MATH)
    judgment = out.decision.judgments[0]
    assert judgment.score == score  # same answer, same references: the same s
    judge.tau = score
    assert judge.is_reliable(judgment) is False
    assert out.decision.stages[0].status == "escalated" and out.model == "sim/large"
