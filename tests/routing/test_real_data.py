"""Routing on real data (skipped without ../shared/data): a Meta-Ranking cascade over simulated
models with GSM8K's labelled solutions as references, and a selector on AlpacaEval 2."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from tests.conftest import shared_path

pytestmark = pytest.mark.real_data


def test_cascade_with_gsm8k_references_calibrates_and_prints_the_curve(capsys):
    from judgebench.judges import MetaRankingJudge, ReferenceStore
    from judgebench.routing import CascadeRouter
    from judgebench.sim.assess import visible_quality

    path = shared_path("gsm8k_labelled_solutions", "model_solutions_flat.jsonl")
    rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    ids = sorted({r["question_idx"] for r in rows})
    random.Random(0).shuffle(ids)
    routed, ref_ids = ids[:40], set(ids[40:120])
    refs = ReferenceStore()
    for r in rows:
        if r["question_idx"] in ref_ids:
            refs.add_example(r["question"], r["solution"], bool(r["is_correct"]))
    questions = [next(r["question"] for r in rows if r["question_idx"] == i) for i in routed]
    router = CascadeRouter(
        ["sim/small", "sim/generalist", "sim/large"],
        MetaRankingJudge("sim/small", refs, n_references=2),
    )

    def label(query: str, model: str, answer: str) -> bool:  # the simulator's noise-free reading
        return visible_quality(query, answer, None) >= 0.6

    items = router.collect_sync(questions, label)
    # the judge's score carries signal: accepted-worthy answers score higher than the others
    judged = [
        (s.score, s.correct) for item in items for s in item.stages[:-1] if s.score is not None
    ]
    good = [s for s, ok in judged if ok]
    bad = [s for s, ok in judged if not ok]
    assert good and bad and np.mean(good) > np.mean(bad) + 0.1
    report = router.calibrate(items, "quality", 0.85)
    with capsys.disabled():
        print("\n" + report.format())
    assert report.met and report.chosen.quality >= 0.85
    assert (
        report.chosen.cost < report.single_models["sim/large"]["cost"]
    )  # cheaper than always-strong


def test_selector_on_alpaca_eval_beats_random_and_trails_the_oracle():
    from judgebench.importers import parse
    from judgebench.routing import (
        SelectionModel,
        SelectorSettings,
        baselines,
        gap_curve,
        judged_scores,
        score_matrix,
    )

    csv = shared_path("alpaca_eval", "annotations_weighted_alpaca_eval_gpt4_turbo.csv")
    models = [
        "FuseChat-Gemma-2-9B-Instruct",
        "FuseChat-Qwen-2.5-7B-Instruct",
        "FuseChat-Llama-3.2-1B-Instruct",
        "gpt-3.5-turbo-1106",
    ]
    batch = parse("alpaca-eval-annotations", csv)
    queries, quality = score_matrix(
        list(batch.queries.values()),
        judged_scores(batch.judgments.values(), models, "gpt4_1106_preview"),
        models,
    )
    assert len(queries) == 805 and all(q.node_ids[0].startswith("alpaca_eval/") for q in queries)
    order = np.random.default_rng(0).permutation(len(queries))
    train, test = order[:563], order[563:]
    model = SelectionModel.train(
        [queries[i] for i in train],
        quality[train],
        models,
        encoder="lexical",
        settings=SelectorSettings(epochs=200, balance=0.3),
    )
    w = model.weights([queries[i].text for i in test], [queries[i].node_ids[0] for i in test])
    routed = quality[test][np.arange(len(test)), w.argmax(axis=1)].mean()
    base = baselines(quality[test], None, models)
    assert base["random"].quality + 0.15 < routed < base["oracle"].quality
    assert routed > base["always-strongest"].quality - 0.05  # close to the best single model
    curve = gap_curve(w[:, 0] / (w[:, 0] + w[:, 2]), quality[test][:, 2], quality[test][:, 0])
    assert 0.0 <= curve.apgr <= 1.0 and curve.cpt80 is not None
