"""Real data end to end for Meta Ranking: GSM8K solutions labelled correct/incorrect →
MetaRankingJudge (simulated judge, soft mode) with references from OTHER problems → τ chosen
on one half, precision/recall/F1/AUROC of "unreliable" detection measured on the other half."""

from __future__ import annotations

import json
import random

import pytest

from judgebench.judges import MetaRankingJudge, ReferenceStore, choose_tau
from judgebench.records import Query
from tests.conftest import shared_path


def load_rows() -> list[dict]:
    path = shared_path("gsm8k_labelled_solutions", "model_solutions_flat.jsonl")
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()
    ]


@pytest.mark.real_data
async def test_meta_ranking_on_gsm8k_calibrated_on_held_out_half():
    rows = load_rows()
    refs = ReferenceStore()
    for r in rows:
        if r["question_idx"] < 150:
            refs.add_example(r["question"], r["solution"], bool(r["is_correct"]))
    targets = [r for r in rows if r["question_idx"] >= 150]
    rng = random.Random(0)
    good = rng.sample([r for r in targets if r["is_correct"]], 20)
    bad = rng.sample([r for r in targets if not r["is_correct"]], 20)
    sample = good + bad
    rng.shuffle(sample)

    judge = MetaRankingJudge("sim/judge", refs, soft=True, seed=7)
    judged = await judge.evaluate_many(
        [(Query(text=r["question"], source="gsm8k"), r["solution"]) for r in sample]
    )
    labels = [bool(r["is_correct"]) for r in sample]
    assert sum(j.ok for j in judged) >= 36, [j.reason for j in judged if not j.ok]
    for j, r in zip(judged, sample, strict=True):
        used = {ref["reference"] for ref in j.details.get("references", [])}
        own = {ref.id for ref in refs if ref.query == r["question"]}
        assert not used & own  # references always come from other problems

    pairs = [(j.score, y) for j, y in zip(judged, labels, strict=True) if j.ok]
    fit, held = pairs[::2], pairs[1::2]
    report = judge.calibrate([s for s, _ in fit], [y for _, y in fit])
    flagged = [s <= report.tau for s, _ in held]
    tp = sum(f and not y for f, (_, y) in zip(flagged, held, strict=True))
    precision = tp / max(1, sum(flagged))
    recall = tp / max(1, sum(not y for _, y in held))
    held_report = choose_tau([s for s, _ in held], [y for _, y in held])
    print(
        f"\nGSM8K Meta Ranking (simulated judge): fit tau={report.tau:.3f} F1={report.f1:.3f}; "
        f"held-out precision={precision:.3f} recall={recall:.3f} AUROC={held_report.auroc:.3f}"
    )
    assert judge.tau == report.tau and 0.0 <= report.f1 <= 1.0 and report.auroc is not None
    assert all(-1.0 <= s <= 1.0 for s, _ in pairs)
