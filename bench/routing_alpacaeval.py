"""Learned routing on AlpacaEval 2 (real data): does a selector trained on judged preferences
beat the best single model on held-out instructions?

Per instruction, each candidate's quality is the GPT-4-turbo judge's preference for it over the
gpt4_1106_preview baseline (``p_b`` of the imported weighted annotations, in [0, 1]). Features:
the instruction's MiniLM embedding (lexical encoder without torch) and its AlpacaEval
sub-dataset as the taxonomy node. Train on a seeded 70 % of the 805 instructions (λ and the
target temperature chosen on a validation fifth of the training part), test on 30 %.

Cost = tokens of the model's own output (len/4) × the stated price table (USD per 1M output
tokens, typical hosted prices, 2024); used for the cheapest model and the cost columns.

    .venv/bin/python bench/routing_alpacaeval.py [--encoder auto|minilm|lexical] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "alpaca_eval"
BASELINE = "gpt4_1106_preview"
# USD per 1M output tokens (stated, not measured): hosted open models vs API models.
PRICES = {
    "FuseChat-Gemma-2-9B-Instruct": 0.30,
    "FuseChat-Qwen-2.5-7B-Instruct": 0.30,
    "FuseChat-Llama-3.2-1B-Instruct": 0.06,
    "claude-2": 24.0,
    "gpt-3.5-turbo-1106": 2.0,
    "gemma-7b-it": 0.20,
    "vicuna-13b-v1.5": 0.30,
}
CANDIDATES = list(PRICES)
OUTPUTS: dict = {}  # (query id, model) -> Response with the model's real output


def load(candidates: list[str]):  # type: ignore[no-untyped-def]
    from judgebench.importers import parse
    from judgebench.routing import judged_scores, score_matrix

    batch = parse(
        "alpaca-eval-annotations", DATA / "annotations_weighted_alpaca_eval_gpt4_turbo.csv"
    )
    scores = judged_scores(batch.judgments.values(), candidates, BASELINE)
    queries, quality = score_matrix(list(batch.queries.values()), scores, candidates)
    lengths = {}
    global OUTPUTS
    for model in candidates:
        outputs = parse("alpaca-eval-outputs", DATA / "model_outputs" / f"{model}.json.gz")
        for r in outputs.responses.values():
            lengths[(r.query_id, model)] = len(r.text or "") / 4  # ≈ tokens
            OUTPUTS[(r.query_id, model)] = r
    cost = np.array(
        [[lengths.get((q.id, m), np.nan) * PRICES[m] / 1e6 for m in candidates] for q in queries]
    )
    return queries, quality, cost


def judged_top2(queries, weights, quality) -> float:  # type: ignore[no-untyped-def]
    """Quality of ``topk-judge`` with k=2 and a RubricJudge on sim/judge (simulated) reading the
    real outputs; a query whose judgments failed keeps its top-weighted answer."""
    from judgebench.judges import RubricJudge

    order = np.argsort(-weights, axis=1)[:, :2]
    items, owners = [], []
    for i, q in enumerate(queries):
        for j in order[i]:
            if weights[i, j] > 0:
                items.append((q, OUTPUTS[(q.id, CANDIDATES[j])]))
                owners.append((i, j))
    judgments = RubricJudge("sim/judge").evaluate_many_sync(items)
    best: dict[int, tuple[float, int]] = {}
    for (i, j), jd in zip(owners, judgments, strict=True):
        score = jd.score if jd.status == "ok" and jd.score is not None else -1.0
        if i not in best or score > best[i][0]:
            best[i] = (score, j)
    return float(np.mean([quality[i, best[i][1]] for i in range(len(queries))]))


def fit(queries, quality, settings, encoder):  # type: ignore[no-untyped-def]
    from judgebench.routing import SelectionModel

    return SelectionModel.train(queries, quality, CANDIDATES, encoder=encoder, settings=settings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"shared data not found at {DATA}: nothing to measure")
        return 0
    from judgebench.routing import (
        SelectorSettings,
        evaluate_selection,
        gap_curve,
        paired_bootstrap_ci,
    )
    from judgebench.routing.selector import usage

    start = time.perf_counter()
    queries, quality, cost = load(CANDIDATES)
    n = len(queries)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(n)
    train, test = order[: int(0.7 * n)], order[int(0.7 * n) :]
    tr_q = [queries[i] for i in train]
    te_q = [queries[i] for i in test]
    print(
        f"{n} instructions with a judged preference for all {len(CANDIDATES)} candidates; train {len(train)}, test {len(test)}"
    )
    print(f"price table (USD per 1M output tokens, stated): {PRICES}")

    # choose λ and the target temperature on a validation fifth of the training part
    inner = rng.permutation(len(train))
    fit_i, val_i = inner[: int(0.8 * len(train))], inner[int(0.8 * len(train)) :]
    best = None
    for balance in (0.0, 0.3, 1.0):
        for temperature in (0.05, 0.1, 0.2):
            settings = SelectorSettings(balance=balance, temperature=temperature, seed=args.seed)
            model = fit([tr_q[i] for i in fit_i], quality[train][fit_i], settings, args.encoder)
            w = model.weights([tr_q[i].text for i in val_i], [tr_q[i].node_ids[0] for i in val_i])
            q_val = quality[train][val_i][np.arange(len(val_i)), w.argmax(axis=1)].mean()
            if best is None or q_val > best[0]:
                best = (q_val, settings)
    assert best is not None
    settings = best[1]
    print(
        f"selector settings chosen on validation: balance λ={settings.balance}, temperature={settings.temperature} (val quality {best[0]:.3f})"
    )
    model = fit(tr_q, quality[train], settings, args.encoder)
    print(f"encoder: {model.featurizer.encoder_name}")
    texts, nodes = [q.text for q in te_q], [q.node_ids[0] if q.node_ids else None for q in te_q]
    raw = model.network.weights(model.features(texts, nodes))
    top1 = raw.argmax(axis=1)
    q_test, c_test = quality[test], cost[test]
    rows = np.arange(len(test))
    routed_q = q_test[rows, top1]
    strategies = evaluate_selection(
        model.network.selected(model.features(texts, nodes)),
        q_test,
        c_test,
        CANDIDATES,
        k=2,
        seed=args.seed,
    )
    base = {k: v for k, v in strategies.items() if not k.startswith("top-")}
    judged = judged_top2(te_q, model.network.selected(model.features(texts, nodes)), q_test)
    best_model = int(q_test.mean(axis=0).argmax())
    train_best = int(quality[train].mean(axis=0).argmax())

    print("\nheld-out quality (mean judged preference vs gpt4_1106_preview) and cost per query:")
    print(f"  {'strategy':<50} {'quality':>8} {'cost (USD)':>12}")
    for r in strategies.values():
        print(f"  {r.name:<50} {r.quality:8.3f} {r.cost:12.6f}")
    print(f"  {'top-2 best-of by sim/judge (SIMULATED judge)':<50} {judged:8.3f}   + judging")
    print(
        "  top-1 picks: "
        + ", ".join(f"{CANDIDATES[j]} {s:.1%}" for j, s in enumerate(usage(raw)) if s > 0)
    )
    diff, lo, hi = paired_bootstrap_ci(routed_q, q_test[:, train_best], n_boot=5000, seed=args.seed)
    print(
        f"\ntop-1 minus the best single model on training ({CANDIDATES[train_best]}): {diff:+.4f} (95 % bootstrap CI {lo:+.4f} .. {hi:+.4f})"
    )
    verdict = "beats" if lo > 0 else ("is worse than" if hi < 0 else "does NOT significantly beat")
    print(f"=> learned routing {verdict} the best single model on held-out instructions")

    # RouteLLM metrics between the cheapest and the strongest model
    cheap = int(np.nanargmin([PRICES[m] for m in CANDIDATES]))
    strong = train_best
    need_strong = raw[:, strong] / (raw[:, strong] + raw[:, cheap])
    multi = gap_curve(need_strong, q_test[:, cheap], q_test[:, strong])
    # RouteLLM trains its routers for the pair: the same selector fitted on the two models only
    from judgebench.routing import SelectionModel

    pair = [CANDIDATES[cheap], CANDIDATES[strong]]
    duo = SelectionModel.train(
        tr_q, quality[train][:, [cheap, strong]], pair, encoder=args.encoder, settings=settings
    )
    curve = gap_curve(
        duo.network.weights(duo.features(texts, nodes))[:, 1], q_test[:, cheap], q_test[:, strong]
    )
    rand = gap_curve(
        np.random.default_rng(args.seed).random(len(test)), q_test[:, cheap], q_test[:, strong]
    )
    print(
        f"\nRouteLLM metrics, weak = {CANDIDATES[cheap]} (quality {curve.weak_quality:.3f}), strong = {CANDIDATES[strong]} ({curve.strong_quality:.3f}):"
    )
    print(
        f"  two-model selector: APGR {curve.apgr:.3f}, CPT(50%) {curve.cpt50}, CPT(80%) {curve.cpt80}"
    )
    print(
        f"  {len(CANDIDATES)}-model selector's pair weights: APGR {multi.apgr:.3f}, CPT(50%) {multi.cpt50}, CPT(80%) {multi.cpt80}"
    )
    print(f"  random:   APGR {rand.apgr:.3f}, CPT(50%) {rand.cpt50}, CPT(80%) {rand.cpt80}")

    # the penalty's effect on real data
    free = fit(tr_q, quality[train], settings.model_copy(update={"balance": 0.0}), args.encoder)
    heavy = fit(tr_q, quality[train], settings.model_copy(update={"balance": 3.0}), args.encoder)
    for label, m in (("λ=0", free), ("λ=3", heavy)):
        w = m.network.weights(m.features(texts, nodes))
        share = usage(w)
        print(
            f"  load balance {label}: models used for ≥5 % of queries {int((share >= 0.05).sum())}, top-1 quality {q_test[rows, w.argmax(axis=1)].mean():.3f}"
        )
    print(f"\n({time.perf_counter() - start:.1f} s)")
    print(f"top1_quality: {routed_q.mean():.4f}")
    print(f"best_single_quality: {q_test[:, train_best].mean():.4f}")
    print(f"best_single_on_test_quality: {q_test[:, best_model].mean():.4f}")
    print(f"random_quality: {base['random'].quality:.4f}")
    print(f"oracle_quality: {base['oracle'].quality:.4f}")
    print(f"top2_best_of_upper_bound_quality: {strategies['top-2'].quality:.4f}")
    print(f"top2_best_of_sim_judge_quality: {judged:.4f}")
    print(f"top1_minus_best_ci: {diff:+.4f} [{lo:+.4f}, {hi:+.4f}]")
    print(f"apgr: {curve.apgr:.4f}")
    print(f"cpt50: {curve.cpt50}")
    print(f"cpt80: {curve.cpt80}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
