"""Query synthesis at taxonomy scale, and the dedup index at 20,000 × 20,000.

Part 1 synthesizes ``--per-node`` queries for every leaf of the default taxonomy on the
simulated models (labelled as such), seeded with real queries (Arena-Hard v0.1 + v2.0 and the
AlpacaEval set from ``../shared/data``, assigned to leaves by embeddings; without the shared
data, one seed per leaf written from its name). It reports queries kept, LLM calls and tokens
per kept query, the dedup rate and wall time, then reruns the same synthesis to show that
finished work makes zero LLM calls.

Part 2 checks the semantic dedup index at scale: 20,000 candidates (a share of them
near-duplicates) against 20,000 kept vectors of MiniLM's size (384-d, L2-normalised), once
with every kept query in one node (the worst case) and once spread over the taxonomy's leaves
(per-node indexes, as synthesis uses them). Baseline in the same run: the same decisions made
one candidate at a time (no batching), timed on a sample and extrapolated.

    python bench/synth_scale.py [--per-node 5] [--encoder lexical|minilm|auto] [--data DIR]

Ends with ``kept``, ``calls_per_kept``, ``tokens_per_kept``, ``dedup_rate``, ``wall_s``,
``second_run_calls``, ``dedup_20k_one_node_s``, ``dedup_20k_per_node_s``, ``dedup_batch_speedup``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from judgebench.llm import Gateway, set_gateway
from judgebench.llm.cache import MemoryCallCache
from judgebench.records import Query
from judgebench.synth import JsonlJournal, SynthConfig, Synthesizer
from judgebench.synth.assign import make_assigner
from judgebench.synth.dedup import DedupIndex
from judgebench.synth.seeds import load_seed_file, restrict_to_taxonomy
from judgebench.taxonomy import load_default_taxonomy

MAX_SEED_WORDS = 200  # very long seeds (pasted code, logs) make "at least as long" unreachable


def real_seeds(data: Path) -> list[Query]:
    files = [
        data / "arena_hard" / "v0.1" / "question.jsonl",
        data / "arena_hard" / "v2.0" / "question.jsonl",
        data / "alpaca_eval" / "eval_set.json",
    ]
    seeds: list[Query] = []
    for path in files:
        if path.is_file():
            seeds += [q for q in load_seed_file(path) if len(q.text.split()) <= MAX_SEED_WORDS]
    return list({q.id: q for q in seeds}.values())


def fallback_seeds(taxonomy) -> list[Query]:  # type: ignore[no-untyped-def]
    out = []
    for leaf in taxonomy.leaves():
        node = taxonomy.node(leaf)
        text = f"I need help with {node.name.lower()}: {node.description or 'a concrete task'}. What should I do?"
        out.append(Query(text=text, node_ids=[leaf], source="seed"))
    return out


async def synthesize_once(leaves, seeds, cfg, journal, assigner) -> tuple[object, float, float]:  # type: ignore[no-untyped-def]
    start, cpu = time.perf_counter(), time.process_time()
    report = await Synthesizer(leaves, seeds, cfg, journal=journal, assigner=assigner).run()
    return report, time.perf_counter() - start, time.process_time() - cpu


def part_synthesis(args: argparse.Namespace) -> dict[str, float]:
    taxonomy = load_default_taxonomy()
    leaves = [taxonomy.node(n) for n in taxonomy.leaves()]
    seeds = real_seeds(args.data) if args.data.is_dir() else []
    source = "real (Arena-Hard, AlpacaEval)"
    if not seeds:
        seeds, source = fallback_seeds(taxonomy), "fallback (one per leaf, from node names)"
    seeds, _ = restrict_to_taxonomy(seeds, taxonomy)  # benchmark categories are not our nodes
    cfg = SynthConfig(per_node=args.per_node, encoder=args.encoder, seed=args.seed, concurrency=64)
    print(
        f"# synthesis: {len(leaves)} leaves × {cfg.per_node} queries, {len(seeds)} {source} seeds"
    )
    print(
        f"  generators {cfg.generators}, judge {cfg.judge} — SIMULATED models; encoder {args.encoder}"
    )
    assign_start = time.perf_counter()
    assigner = make_assigner(
        taxonomy, "embedding", encoder=args.encoder, examples=[s for s in seeds if s.node_ids]
    )
    print(
        f"  seed assignment + re-assignment by embeddings (assigner built in {time.perf_counter() - assign_start:.1f} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        journal_path = Path(tmp) / "progress.jsonl"
        gateway = Gateway(cache=MemoryCallCache())
        set_gateway(gateway)
        report, wall, cpu = asyncio.run(
            synthesize_once(leaves, seeds, cfg, JsonlJournal(journal_path), assigner)
        )
        calls = gateway.calls_made
        # the rerun: a fresh process would read the same progress file
        set_gateway(Gateway(cache=MemoryCallCache()))
        rerun, rerun_wall, _ = asyncio.run(
            synthesize_once(leaves, seeds, cfg, JsonlJournal(journal_path), assigner)
        )
    s = report.summary()
    kept = report.kept
    print(f"  attempts by status: {dict(sorted(s['statuses'].items()))}")
    short = report.shortfall
    print(
        f"  leaves at target: {len(leaves) - len(short)}/{len(leaves)}; short: {len(short)} (missing {sum(short.values())})"
    )
    by_generator: dict[str, int] = {}
    for q in report.kept_queries:
        by_generator[q.provenance["generator"]] = by_generator.get(q.provenance["generator"], 0) + 1
    print(f"  kept by generator: {by_generator}")
    statuses = s["statuses"]
    generated = sum(v for k, v in statuses.items() if k not in ("refused", "malformed", "error"))
    print(
        f"  candidates rejected as copies of their own seeds: {statuses.get('copies_seed', 0)} of {generated} generated"
    )
    print(
        f"  LLM calls {calls} (gateway count), tokens {report.tokens}, wall {wall:.1f} s, CPU {cpu:.1f} s"
    )
    print(f"  rerun of finished work: {rerun.calls} calls, {rerun_wall:.1f} s")
    return {
        "kept": kept,
        "calls_per_kept": round(calls / max(kept, 1), 3),
        "tokens_per_kept": round(report.tokens / max(kept, 1), 1),
        "dedup_rate": round(report.dedup_rate, 4),
        "wall_s": round(wall, 2),
        "second_run_calls": rerun.calls,
    }


def clustered_vectors(
    n: int, dim: int, dup_share: float, rng: np.random.Generator, base: np.ndarray | None = None
):  # type: ignore[no-untyped-def]
    """``n`` unit vectors; ``dup_share`` of them are small perturbations of ``base`` rows."""
    fresh = rng.standard_normal((n, dim)).astype(np.float32)
    if base is not None:
        dup = rng.random(n) < dup_share
        picks = rng.integers(0, len(base), size=int(dup.sum()))
        fresh[dup] = base[picks] * np.sqrt(dim) + 0.25 * rng.standard_normal(
            (int(dup.sum()), dim)
        ).astype(np.float32)
    return fresh / np.linalg.norm(fresh, axis=1, keepdims=True)


def part_dedup(n: int, nodes: int, seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    dim, threshold = 384, 0.92
    kept = clustered_vectors(n, dim, 0.0, rng)
    candidates = clustered_vectors(n, dim, 0.2, rng, base=kept)
    ids = [f"c{i}" for i in range(n)]
    kept_ids = [f"k{i}" for i in range(n)]
    print(f"\n# dedup index: {n:,} candidates vs {n:,} kept, {dim}-d, threshold {threshold}")

    def run(node_of) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
        index = DedupIndex(threshold, dim)
        groups: dict[str, list[int]] = {}
        for i in range(n):
            groups.setdefault(node_of(i), []).append(i)
        for node, rows in groups.items():  # texts are unique: only the semantic path decides
            index.add(node, [kept_ids[i] for i in rows], [kept_ids[i] for i in rows], kept[rows])
        start, cpu = time.perf_counter(), time.process_time()
        dups = 0
        for node, rows in groups.items():
            decisions = index.check_and_add(
                node, [ids[i] for i in rows], [ids[i] for i in rows], candidates[rows]
            )
            dups += sum(d.status != "unique" for d in decisions)
        return time.perf_counter() - start, time.process_time() - cpu, dups

    one_s, one_cpu, one_dups = run(lambda i: "one")
    per_s, per_cpu, per_dups = run(lambda i: f"leaf{i % nodes}")
    print(
        f"  one node:    {one_s:6.2f} s wall, {one_cpu:6.2f} s CPU (all threads), {one_dups:,} duplicates"
    )
    print(
        f"  {nodes} leaves: {per_s:6.2f} s wall, {per_cpu:6.2f} s CPU (all threads), {per_dups:,} duplicates"
    )
    # baseline: the same similarity search one candidate at a time (a matrix-vector product per
    # candidate against the kept matrix, on one BLAS thread, its fastest setting), no batching
    from threadpoolctl import threadpool_limits

    sample = 300
    times, cpus = [], []
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(sample):
            start, cpu = time.perf_counter(), time.process_time()
            sims = kept @ candidates[i]
            int(sims.argmax()) if sims[sims.argmax()] >= threshold else None
            times.append(time.perf_counter() - start)
            cpus.append(time.process_time() - cpu)
    naive_s = statistics.median(times) * n
    naive_cpu = statistics.median(cpus) * n
    print(
        f"  baseline, one candidate at a time (median of {sample}, extrapolated): {naive_s:.2f} s wall, "
        f"{naive_cpu:.2f} s CPU → batching saves {naive_s / one_s:.1f}× wall, {naive_cpu / max(one_cpu, 1e-9):.1f}× CPU"
    )
    print(
        f"  load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times are shared-machine times)"
    )
    return {
        "dedup_20k_one_node_s": round(one_s, 2),
        "dedup_20k_per_node_s": round(per_s, 2),
        "dedup_batch_speedup": round(naive_s / one_s, 1),
        "dedup_batch_cpu_speedup": round(naive_cpu / max(one_cpu, 1e-9), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--per-node", type=int, default=5)
    parser.add_argument("--encoder", default="lexical", choices=["auto", "minilm", "lexical"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dedup-n", type=int, default=20_000)
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    parser.add_argument("--skip-synthesis", action="store_true")
    parser.add_argument("--skip-dedup", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    headline: dict[str, float] = {}
    if not args.skip_synthesis:
        headline |= part_synthesis(args)
    if not args.skip_dedup:
        headline |= part_dedup(args.dedup_n, len(load_default_taxonomy().leaves()), args.seed)
    print()
    for key, value in headline.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
