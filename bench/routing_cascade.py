"""Meta-Ranking cascade end to end on SIMULATED models (sim/small → sim/generalist → sim/large),
with a labelled reference set built from real GSM8K model solutions.

- references: GPT-3 solutions to GSM8K test problems with their correctness labels
  (../shared/data/gsm8k_labelled_solutions/model_solutions_flat.jsonl), class-balanced, drawn
  from questions that are NOT routed here;
- routed queries: other GSM8K test questions; calibration on the first half, the chosen
  thresholds then run live on the second half;
- labels of the simulated answers: the simulator's noise-free reading of the answer
  (judgebench.sim.assess.visible_quality ≥ 0.6) — the simulated ground truth, because the
  simulated models do not really solve GSM8K. Results are about the machinery, not real models.

    .venv/bin/python bench/routing_cascade.py [--judge sim/generalist] [--n 120] [--target 0.9]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "gsm8k_labelled_solutions"
MODELS = ["sim/small", "sim/generalist", "sim/large"]


def build(judge_model: str, n_refs: int, n: int, seed: int):  # type: ignore[no-untyped-def]
    from judgebench.judges import ReferenceStore

    rows = [
        json.loads(line)
        for line in (DATA / "model_solutions_flat.jsonl").read_text().split("\n")
        if line.strip()
    ]
    questions = sorted({r["question_idx"] for r in rows})
    rng = random.Random(seed)
    rng.shuffle(questions)
    routed, ref_questions = set(questions[:n]), set(questions[n : n + n_refs])
    refs = ReferenceStore()
    for r in rows:
        if r["question_idx"] in ref_questions:
            refs.add_example(r["question"], r["solution"], bool(r["is_correct"]))
    texts = {r["question_idx"]: r["question"] for r in rows if r["question_idx"] in routed}
    return refs, [texts[i] for i in sorted(texts)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--judge", default="sim/small", help="MR judge: a weak, cheap model (as in the paper)"
    )
    parser.add_argument("--references", type=int, default=4, help="MR references per judgment")
    parser.add_argument(
        "--n", type=int, default=240, help="routed questions (half calibrate, half test)"
    )
    parser.add_argument("--target", type=float, default=0.9, help="target quality")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}: nothing to measure")
        return 0
    from judgebench.judges import MetaRankingJudge
    from judgebench.routing import CascadeRouter
    from judgebench.sim.assess import visible_quality

    start = time.perf_counter()
    refs, questions = build(args.judge, 200, args.n, args.seed)
    calib, held_out = questions[: len(questions) // 2], questions[len(questions) // 2 :]
    correct = sum(r.correct for r in refs)
    print(
        f"references: {len(refs)} labelled GSM8K solutions ({correct} correct) from 200 other questions"
    )
    judge = MetaRankingJudge(args.judge, refs, n_references=args.references)
    router = CascadeRouter(MODELS, judge, name="gsm8k-cascade")

    def label(query: str, model: str, answer: str) -> bool:
        return visible_quality(query, answer, None) >= 0.6  # simulated ground truth

    items = router.collect_sync(calib, label)
    report = router.calibrate(items, "quality", args.target)
    print(
        f"simulated models {MODELS}, MR judge {args.judge} (simulated), N={args.references} references, both orders"
    )
    print(report.format())

    # the chosen thresholds, live, on held-out questions
    outs = [router.complete_sync([{"role": "user", "content": q}]) for q in held_out]
    quality = sum(label(q, o.model, o.text) for q, o in zip(held_out, outs, strict=True)) / len(
        outs
    )
    cost = sum(o.decision.cost for o in outs) / len(outs)
    strong = sum(o.model == MODELS[-1] for o in outs) / len(outs)
    single = report.single_models[MODELS[-1]]
    print(f"\nheld-out ({len(outs)} questions), thresholds {router.thresholds}:")
    print(
        f"  cascade: quality {quality:.3f}, cost/query ${cost:.6f} (answers + judging), strong share {strong:.2f}"
    )
    print(
        f"  always {MODELS[-1]} (calibration half): quality {single['quality']:.3f}, cost/query ${single['cost']:.6f}"
    )
    print(f"\n({time.perf_counter() - start:.1f} s)")
    print(f"cascade_quality: {quality:.4f}")
    print(f"cascade_cost_per_query: {cost:.6f}")
    print(f"cascade_strong_share: {strong:.4f}")
    print(f"strongest_quality: {single['quality']:.4f}")
    print(f"strongest_cost_per_query: {single['cost']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
