"""Judge cost: PC² versus all-pairs pairwise judging (with swap) for M = 2…10 evaluated models.

Real queries (MT-Bench's 80 first-turn questions from ../shared/data, or built-in ones when
absent) are answered by M simulated models; then every model is judged on every query

- by PC2Judge: a one-off per query (K = 3 auxiliary answers, the criteria call, the baseline
  critique) plus one judge call per (model, query);
- by PairwiseJudge on all C(M, 2) pairs, both orders.

Both go through the real judges, templates, simulator handlers and parser (repairs included).
Every judgment records its own usage, so one run with 10 models gives the exact cost of every
M ≤ 10 (the first M models); the totals are cross-checked against the gateway's accounting.

    python bench/judge_cost.py                 # 20 queries
    python bench/judge_cost.py --queries 80

Ends with the headline lines ``ratio_at_10`` (pairwise tokens ÷ PC² tokens at 10 models) and
``crossover_models`` (the smallest M where pairwise costs more tokens than PC²), see BENCH.md.
Judges and evaluated models are simulated: token counts come from the simulator's tokenizer.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from itertools import combinations
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHARED = Path(os.environ.get("JUDGEBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))
PROFILES = ["large", "coder", "writer", "generalist", "small", "judge", "noisy-judge"]
JUDGE = "sim/judge"
AUX = ["sim/large", "sim/generalist", "sim/small"]
FALLBACK_QUERIES = [
    "Write a Python function that merges two sorted lists into one sorted list.",
    "Explain how vaccines train the immune system, with examples.",
    "Compose a short poem about autumn leaves falling in an empty park.",
    "Solve the equation 3x + 7 = 22 for x and explain each step.",
    "Compare the economic theories of Keynes and Hayek.",
]


def load_queries(n: int) -> tuple[list[str], str]:
    path = SHARED / "mt_bench" / "question.jsonl"
    if not path.is_file():
        found = (
            sorted((SHARED / "mt_bench").rglob("question.jsonl"))
            if (SHARED / "mt_bench").is_dir()
            else []
        )
        path = found[0] if found else path
    if path.is_file():
        rows = [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").split("\n")
            if line.strip()
        ]
        return [r["turns"][0] for r in rows][:n], f"MT-Bench ({path.relative_to(SHARED)})"
    return (FALLBACK_QUERIES * (n // len(FALLBACK_QUERIES) + 1))[
        :n
    ], "built-in queries (shared data absent)"


async def run(n_queries: int, max_models: int) -> dict:
    from judgebench.judges import PairwiseJudge, PC2Judge
    from judgebench.llm import gather_limited, get_gateway
    from judgebench.records import Query, Response

    gateway = get_gateway()
    texts, source = load_queries(n_queries)
    queries = [Query(text=t, source="bench") for t in texts]
    models = [f"sim/{PROFILES[i % len(PROFILES)]}" for i in range(max_models)]

    async def answer(i: int, q: Query) -> Response:
        # distinct models: profile i mod 7, sampled (temperature 0.7, sample index i)
        c = await gateway.complete(
            models[i], [{"role": "user", "content": q.text}], temperature=0.7, sample_index=i
        )
        return Response(
            query_id=q.id, model=f"{models[i]}#{i}", text=c.text, params={"sample_index": i}
        )

    responses = await gather_limited(
        [lambda i=i, q=q: answer(i, q) for i in range(max_models) for q in queries]
    )
    by = {(r.model, r.query_id): r for r in responses}
    labels = [f"{models[i]}#{i}" for i in range(max_models)]

    pc2 = PC2Judge(JUDGE, aux_models=AUX)
    t0 = time.perf_counter()
    with gateway.account("pc2") as pc2_account:
        pc2_j = await pc2.evaluate_many([(q, by[(m, q.id)]) for q in queries for m in labels])
    pc2_s = time.perf_counter() - t0
    prepared = [await pc2.prepare(q) for q in queries]  # from the store: no calls

    pairwise = PairwiseJudge(JUDGE)
    pairs = [(q, by[(a, q.id)], by[(b, q.id)]) for q in queries for a, b in combinations(labels, 2)]
    t0 = time.perf_counter()
    with gateway.account("pairwise") as pw_account:
        pw_j = await pairwise.evaluate_pairs(pairs)
    pw_s = time.perf_counter() - t0

    one_off_tokens = sum(p.usage.total_tokens for p in prepared)
    one_off_calls = sum(len(p.aux_models) + len(p.raw_replies) for p in prepared)
    rows = []
    for m in range(2, max_models + 1):
        first = set(labels[:m])
        pc2_sel = [j for j in pc2_j if j.model in first]
        pw_sel = [j for j in pw_j if j.model in first and j.model_b in first]
        pc2_tokens = one_off_tokens + sum(j.usage.total_tokens for j in pc2_sel)
        pw_tokens = sum(j.usage.total_tokens for j in pw_sel)
        rows.append(
            dict(
                models=m,
                pc2_calls=one_off_calls + sum(len(j.raw_replies) for j in pc2_sel),
                pc2_tokens=pc2_tokens,
                pairwise_calls=sum(len(j.raw_replies) for j in pw_sel),
                pairwise_tokens=pw_tokens,
                ratio=pw_tokens / pc2_tokens,
            )
        )
    return dict(
        source=source,
        queries=len(queries),
        rows=rows,
        one_off_tokens_per_query=one_off_tokens / len(queries),
        pc2_tokens_per_judgment=sum(j.usage.total_tokens for j in pc2_j) / len(pc2_j),
        pairwise_tokens_per_pair=sum(j.usage.total_tokens for j in pw_j) / len(pw_j),
        pc2_invalid=sum(not j.ok for j in pc2_j) / len(pc2_j),
        pairwise_invalid=sum(not j.ok for j in pw_j) / len(pw_j),
        accounted=(pc2_account.total_tokens, pw_account.total_tokens),
        recorded=(rows[-1]["pc2_tokens"], rows[-1]["pairwise_tokens"]),
        wall=(pc2_s, pw_s),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--max-models", type=int, default=10)
    args = parser.parse_args()
    from judgebench.llm import run_sync

    out = run_sync(lambda: run(args.queries, args.max_models))
    print(f"Judge cost, PC² vs all-pairs pairwise with swap — SIMULATED judge {JUDGE}, aux {AUX}")
    print(f"queries: {out['queries']} from {out['source']}")
    print(
        f"per query one-off PC² tokens {out['one_off_tokens_per_query']:.0f}; "
        f"per PC² judgment {out['pc2_tokens_per_judgment']:.0f}; per pair (both orders) {out['pairwise_tokens_per_pair']:.0f}"
    )
    print(f"invalid rate: PC² {out['pc2_invalid']:.3f}, pairwise {out['pairwise_invalid']:.3f}")
    print(f"gateway-accounted tokens {out['accounted']} vs recorded in judgments {out['recorded']}")
    print(
        f"\n{'M':>3} {'PC² calls':>10} {'PC² tokens':>11} {'pair calls':>11} {'pair tokens':>12} {'ratio':>6}"
    )
    for r in out["rows"]:
        print(
            f"{r['models']:>3} {r['pc2_calls']:>10} {r['pc2_tokens']:>11} {r['pairwise_calls']:>11} "
            f"{r['pairwise_tokens']:>12} {r['ratio']:>6.2f}"
        )
    crossover = next((r["models"] for r in out["rows"] if r["ratio"] > 1.0), None)
    at_10 = next((r["ratio"] for r in out["rows"] if r["models"] == 10), out["rows"][-1]["ratio"])
    print("\n(paper, Feedbacker: pairwise dearer from ~5 models, 2.04x at 8, 2.62x at 10, counting")
    print(" one order per pair; judgebench judges both orders, so its ratio is about twice that)")
    print(f"ratio_at_10: {at_10:.2f}")
    print(f"ratio_at_10_one_order: {at_10 / 2:.2f}")
    print(f"crossover_models: {crossover}")


if __name__ == "__main__":
    main()
