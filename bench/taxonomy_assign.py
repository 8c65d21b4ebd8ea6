"""Taxonomy assignment: each method and the combined assigner, on labelled prompts.

(a) Arena-Hard v2.0 categories (or any ``--data`` JSONL): a seeded, stratified split; the train
part's prompts are the labelled examples, the held-out part is assigned and scored.
(b) Arena-Hard v0.1's 250 topic clusters, two prompts each: one prompt per cluster is held out
in turn (the other is the cluster's only example), 250-way.

Per method: accuracy, macro-F1, and coverage at precision 0.9 (the largest share of queries,
most confident first, whose precision stays >= 0.9). Baselines measured in the same run: the
majority class, MiniLM kNN-15 (a), MiniLM 1-nearest-neighbour (b), and the previous
``EmbeddingAssigner``. Embeddings are cached on disk (``--cache-dir``), so reruns encode nothing.

    .venv/bin/python bench/taxonomy_assign.py
    .venv/bin/python bench/taxonomy_assign.py --data my.jsonl --text-field text --label-field label

Headlines: accuracy (combined, held-out part of (a)), accuracy_lexical (combined, lexical encoder
only), accuracy_knn15, macro_f1, coverage_at_p90, ece (expected calibration error),
precision_at_min_confidence,
coverage_at_min_confidence, prompts_per_s, clusters_accuracy, clusters_knn1_accuracy,
clusters_coverage_at_p90; (c) the share of Arena-Hard v0.1 prompts put in ``roleplay`` on the
default taxonomy without examples (none of them is a roleplay request), per assigner.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
ARENA = SHARED / "arena_hard" / "v2.0" / "question.jsonl"
ARENA_V01 = SHARED / "arena_hard" / "v0.1" / "question.jsonl"
PRECISION = 0.9

Rows = list[tuple[str, str]]
# a method: (taxonomy, ids, train rows, test texts) → (predicted labels, confidences)
Method = Callable[..., tuple[list[str], np.ndarray]]


def load_rows(path: Path, text_field: str, label_field: str) -> Rows:
    from judgebench.errors import DataError

    rows = []
    # split on "\n" only: some prompts hold U+2028 inside strings
    for number, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            raise DataError(f"line {number} is not JSON", where=str(path)) from None
        text, label = item.get(text_field), item.get(label_field)
        if not isinstance(text, str) or label in (None, ""):
            raise DataError(
                f"line {number} lacks {text_field!r} or {label_field!r}", where=str(path)
            )
        rows.append((text, str(label)))
    return rows


def split(rows: Rows, train_fraction: float, seed: int) -> tuple[Rows, Rows]:
    by_label: dict[str, Rows] = defaultdict(list)
    for row in rows:
        by_label[row[1]].append(row)
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted(by_label):
        items = by_label[label][:]
        rng.shuffle(items)
        cut = max(1, int(round(len(items) * train_fraction)))
        train += items[:cut]
        test += items[cut:]
    return train, test


def label_taxonomy(labels: list[str]):  # type: ignore[no-untyped-def]
    from judgebench.taxonomy import Taxonomy

    taxonomy = Taxonomy("labels")
    ids = {label: taxonomy.add("", label.replace("_", " "), slug=None) for label in labels}
    return taxonomy, ids


# --- metrics -------------------------------------------------------------------------------


def macro_f1(truth: list[str], predicted: list[str]) -> float:
    scores = []
    for label in sorted(set(truth)):
        tp = sum(t == label and p == label for t, p in zip(truth, predicted, strict=True))
        fp = sum(t != label and p == label for t, p in zip(truth, predicted, strict=True))
        fn = sum(t == label and p != label for t, p in zip(truth, predicted, strict=True))
        scores.append(2 * tp / max(2 * tp + fp + fn, 1))
    return float(np.mean(scores))


def coverage_at_precision(correct: np.ndarray, confidence: np.ndarray, target: float) -> float:
    """Largest share of queries, most confident first, whose precision is >= ``target``."""
    order = np.argsort(-confidence, kind="stable")
    precision = np.cumsum(correct[order]) / np.arange(1, len(order) + 1)
    ok = np.flatnonzero(precision >= target)
    return float((ok[-1] + 1) / len(order)) if len(ok) else 0.0


def expected_calibration_error(
    correct: np.ndarray, confidence: np.ndarray, bins: int = 10
) -> float:
    """Mean |accuracy − confidence| over equal-width confidence bins, weighted by bin size."""
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    gaps = [
        abs(correct[which == b].mean() - confidence[which == b].mean()) * (which == b).mean()
        for b in range(bins)
        if (which == b).any()
    ]
    return float(sum(gaps))


def score(truth: list[str], predicted: list[str], confidence: np.ndarray) -> dict[str, float]:
    correct = np.array([t == p for t, p in zip(truth, predicted, strict=True)])
    return {
        "accuracy": float(correct.mean()),
        "macro_f1": macro_f1(truth, predicted),
        "coverage_at_p90": coverage_at_precision(correct, confidence, PRECISION),
        "ece": expected_calibration_error(correct, confidence),
    }


# --- methods -------------------------------------------------------------------------------


def combined(encoders, weights=None):  # type: ignore[no-untyped-def]
    """The combined assigner (optionally restricted to some components) as a method."""

    def run(taxonomy, ids, train: Rows, texts: list[str]):  # type: ignore[no-untyped-def]
        from judgebench.taxonomy.combined import CombinedAssigner

        back = {node: label for label, node in ids.items()}
        assigner = CombinedAssigner(
            taxonomy,
            encoders=encoders,
            examples=[(t, ids[label]) for t, label in train],
            nodes=list(ids.values()),
            weights=weights,
            min_confidence=0.0,
        )
        probs = assigner.probabilities(texts)
        best = probs.argmax(axis=1)
        return [back[assigner.top.nodes[j]] for j in best], probs.max(axis=1)

    return run


def nearest_neighbours(encoder, k: int):  # type: ignore[no-untyped-def]
    """Baseline: the majority label of the ``k`` most similar examples (confidence: its share)."""

    def run(taxonomy, ids, train: Rows, texts: list[str]):  # type: ignore[no-untyped-def]
        from judgebench.embed import cosine_top_k

        idx, _ = cosine_top_k(encoder.encode(texts), encoder.encode([t for t, _ in train]), k)
        predicted, confidence = [], []
        for row in idx:
            label, votes = Counter(train[j][1] for j in row).most_common(1)[0]
            predicted.append(label)
            confidence.append(votes / len(row))
        return predicted, np.array(confidence)

    return run


def previous_assigner(encoder):  # type: ignore[no-untyped-def]
    """Baseline: the ``EmbeddingAssigner`` (node text + kNN-15 + prototypes) before this one."""

    def run(taxonomy, ids, train: Rows, texts: list[str]):  # type: ignore[no-untyped-def]
        from judgebench.taxonomy.assign import EmbeddingAssigner

        back = {node: label for label, node in ids.items()}
        examples = [(t, ids[label]) for t, label in train]
        assigner = EmbeddingAssigner(
            taxonomy, encoder=encoder, examples=examples, nodes=list(ids.values())
        )
        result = assigner.assign(texts)
        return [back[a.node_ids[0]] for a in result], np.array([a.margin for a in result])

    return run


def methods(encoders: dict[str, object], knn_k: int) -> dict[str, Method]:
    out: dict[str, Method] = {}
    for fam, enc in encoders.items():
        out[f"names only ({fam})"] = combined([enc], {f"name:{fam}": 1.0})
        out[f"logistic regression ({fam})"] = combined([enc], {f"logreg:{fam}": 1.0})
        out[f"kNN-{knn_k} ({fam})"] = nearest_neighbours(enc, knn_k)
        out[f"previous EmbeddingAssigner ({fam})"] = previous_assigner(enc)
        out[f"combined ({fam} only)"] = combined([enc])
    if len(encoders) > 1:
        out["combined"] = combined(list(encoders.values()))
    return out


def report(name: str, metrics: dict[str, float]) -> None:
    print(
        f"  {name:<40} accuracy {metrics['accuracy']:.3f}  macro-F1 {metrics['macro_f1']:.3f}  "
        f"coverage@p0.9 {metrics['coverage_at_p90']:.3f}"
    )


# --- the two benchmarks --------------------------------------------------------------------


def categories(rows: Rows, args, encoders) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    train, test = split(rows, args.train_fraction, args.seed)
    labels = sorted({label for _, label in rows})
    taxonomy, ids = label_taxonomy(labels)
    truth, texts = [label for _, label in test], [t for t, _ in test]
    majority = Counter(truth).most_common(1)[0][1] / len(test)
    print(f"(a) {len(rows)} prompts, labels {', '.join(labels)}")
    print(f"    split: seed {args.seed}, {len(train)} train (examples) / {len(test)} held out")
    print(f"  {'majority class':<40} accuracy {majority:.3f}")
    results: dict[str, dict[str, float]] = {"majority": {"accuracy": majority}}
    for name, method in methods(encoders, 15).items():
        start = time.perf_counter()
        predicted, confidence = method(taxonomy, ids, train, texts)
        results[name] = score(truth, predicted, confidence)
        results[name]["seconds"] = time.perf_counter() - start
        report(name, results[name])
        if name.startswith("combined"):
            print(f"    expected calibration error: {results[name]['ece']:.3f}")
            results[name].update(at_min_confidence(truth, predicted, confidence))
            per_class = {
                label: np.mean(
                    [p == label for t, p in zip(truth, predicted, strict=True) if t == label]
                )
                for label in labels
            }
            print("    per class: " + ", ".join(f"{k} {v:.3f}" for k, v in per_class.items()))
    return results


def at_min_confidence(
    truth: list[str], predicted: list[str], confidence: np.ndarray
) -> dict[str, float]:
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    kept = confidence >= DEFAULT_MIN_CONFIDENCE
    correct = np.array([t == p for t, p in zip(truth, predicted, strict=True)])
    precision = float(correct[kept].mean()) if kept.any() else 0.0
    coverage = coverage_at_precision(correct, confidence, PRECISION)
    needed = np.sort(confidence)[::-1][max(int(round(coverage * len(truth))) - 1, 0)]
    print(
        f"    at min_confidence {DEFAULT_MIN_CONFIDENCE}: precision {precision:.3f}, "
        f"coverage {kept.mean():.3f} (the rest: unassigned); precision {PRECISION} "
        f"needs min_confidence {needed:.3f}"
    )
    return {
        "precision_at_min_confidence": precision,
        "coverage_at_min_confidence": float(kept.mean()),
    }


def clusters(encoders, only: set[str] | None = None) -> dict[str, dict[str, float]]:  # type: ignore[no-untyped-def]
    """Benchmark (b); ``only``: run just these methods (by name)."""
    rows = load_rows(ARENA_V01, "prompt", "cluster")
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for text, label in rows:
        by_cluster[label].append(text)
    names = sorted(by_cluster)
    taxonomy, ids = label_taxonomy(names)
    print(f"(b) {len(rows)} prompts in {len(names)} clusters; one per cluster held out in turn")
    candidates = {
        "MiniLM 1-NN" if "minilm" in encoders else "lexical 1-NN": nearest_neighbours(
            encoders.get("minilm", encoders["lexical"]), 1
        )
    }
    candidates |= {k: v for k, v in methods(encoders, 1).items() if "kNN" not in k}
    results = {}
    for name, method in candidates.items():
        if only is not None and name not in only:
            continue
        truth: list[str] = []
        predicted: list[str] = []
        confidence: list[float] = []
        for held in (0, 1):
            train = [(by_cluster[n][1 - held], n) for n in names]
            got, conf = method(taxonomy, ids, train, [by_cluster[n][held] for n in names])
            truth += names
            predicted += got
            confidence += list(conf)
        results[name] = score(truth, predicted, np.array(confidence))
        report(name, results[name])
        if name.startswith("combined"):
            print(f"    expected calibration error: {results[name]['ece']:.3f}")
            results[name].update(at_min_confidence(truth, predicted, np.array(confidence)))
    return results


def default_tree(encoders) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """(c) Arena-Hard v0.1 prompts on judgebench's default taxonomy, no examples: how many land
    in ``roleplay`` (none of them asks for a roleplay) or stay unassigned."""
    from judgebench.taxonomy import load_default_taxonomy
    from judgebench.taxonomy.assign import EmbeddingAssigner
    from judgebench.taxonomy.combined import CombinedAssigner

    texts = [t for t, _ in load_rows(ARENA_V01, "prompt", "cluster")]
    tree = load_default_taxonomy()
    print(f"(c) {len(texts)} Arena-Hard v0.1 prompts on the default taxonomy, no examples")
    out = {}
    for fam, enc in encoders.items():
        result = EmbeddingAssigner(tree, encoder=enc).assign(texts)
        out[f"previous_{fam}"] = np.mean([a.node_ids[0].startswith("roleplay") for a in result])
        print(f"  previous EmbeddingAssigner ({fam}): {out[f'previous_{fam}']:.3f} in roleplay")
    result = CombinedAssigner(tree, encoders=list(encoders.values())).assign(texts)
    out["combined"] = np.mean([any(n.startswith("roleplay") for n in a.node_ids) for a in result])
    out["combined_unassigned"] = np.mean([not a.assigned for a in result])
    print(
        f"  combined: {out['combined']:.3f} in roleplay, {out['combined_unassigned']:.3f} unassigned"
    )
    out |= domains_without_examples(tree, encoders)
    return out


def domains_without_examples(tree, encoders) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Arena-Hard v2.0's categories are three of the default taxonomy's six domains: how often
    the combined assigner, with no examples, picks the right domain, and how sure it is."""
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE, CombinedAssigner

    domain = {"coding": "coding", "math": "mathematics", "creative_writing": "writing"}
    rows = load_rows(ARENA, "prompt", "subcategory")
    assigner = CombinedAssigner(tree, encoders=list(encoders.values()), min_confidence=0.0)
    probs = assigner.probabilities([t for t, _ in rows])
    correct = np.array(
        [
            assigner.top.nodes[j] == domain[label]
            for j, (_, label) in zip(probs.argmax(1), rows, strict=True)
        ]
    )
    kept = probs.max(axis=1) >= DEFAULT_MIN_CONFIDENCE
    out = {
        "domain_accuracy": float(correct.mean()),
        "domain_precision_at_min_confidence": float(correct[kept].mean()) if kept.any() else 0.0,
        "domain_coverage_at_min_confidence": float(kept.mean()),
    }
    print(
        f"  Arena-Hard v2.0 prompts, domain chosen without examples: accuracy "
        f"{out['domain_accuracy']:.3f}; at min_confidence {DEFAULT_MIN_CONFIDENCE}: precision "
        f"{out['domain_precision_at_min_confidence']:.3f} on {out['domain_coverage_at_min_confidence']:.3f}"
    )
    return out


def load_encoders(args) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from judgebench.embed import CachedEncoder, LexicalEncoder, MiniLMEncoder, minilm_available

    encoders: dict[str, object] = {}
    for kind in [k.strip() for k in args.encoders.split(",") if k.strip()]:
        if kind == "minilm" and not (minilm_available() or args.minilm_path):
            print("minilm: not installed (the 'local' extra); skipped")
            continue
        inner = (
            MiniLMEncoder(device=args.device, model_path=args.minilm_path)
            if kind == "minilm"
            else LexicalEncoder()
        )
        encoders[kind] = CachedEncoder(inner, cache_dir=args.cache_dir or None)
    return encoders


def throughput(encoders, rows: Rows) -> float:  # type: ignore[no-untyped-def]
    """Prompts per second the combined assigner assigns (new texts: encoding included)."""
    from judgebench.taxonomy.combined import CombinedAssigner

    taxonomy, ids = label_taxonomy(sorted({label for _, label in rows}))
    train, test = split(rows, 0.5, 0)
    assigner = CombinedAssigner(
        taxonomy,
        encoders=list(encoders.values()),
        examples=[(t, ids[label]) for t, label in train],
        nodes=list(ids.values()),
    )
    texts = [f"{t} (variant {time.time()})" for t, _ in test[:100]]  # never in the cache
    start = time.perf_counter()
    assigner.assign(texts)
    return len(texts) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", type=Path, default=ARENA, help="labelled JSONL (default: Arena-Hard v2.0)"
    )
    parser.add_argument(
        "--text-field", default=None, help="default: 'prompt' for Arena-Hard, else 'text'"
    )
    parser.add_argument(
        "--label-field", default=None, help="default: 'subcategory' for Arena-Hard, else 'label'"
    )
    parser.add_argument("--train-fraction", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--encoders", default="minilm,lexical")
    parser.add_argument(
        "--cache-dir",
        default=str(REPO / ".tmp" / "embed-cache"),
        help="embedding cache ('' for none)",
    )
    parser.add_argument(
        "--minilm-path", default=None, help="a MiniLM folder (default: the installed package's)"
    )
    parser.add_argument(
        "--device", default=None, help="torch device for MiniLM (default: cuda when available)"
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    arena = args.data == ARENA
    if not args.data.is_file():
        print(f"data not found: {args.data} (bench skipped)")
        return 0
    rows = load_rows(
        args.data,
        args.text_field or ("prompt" if arena else "text"),
        args.label_field or ("subcategory" if arena else "label"),
    )
    encoders = load_encoders(args)
    first = categories(rows, args, encoders)
    second = clusters(encoders) if arena and ARENA_V01.is_file() else {}
    third = default_tree(encoders) if arena and ARENA_V01.is_file() else {}
    headlines(first, second, throughput(encoders, rows))
    for name, value in third.items():
        prefix = "" if name.startswith("domain") else "roleplay_share_"
        print(f"{prefix}{name}: {value:.4f}")
    return 0


def headlines(first, second, per_s: float) -> None:  # type: ignore[no-untyped-def]
    main_name = (
        "combined" if "combined" in first else next(k for k in first if k.startswith("combined"))
    )
    lines = {
        "accuracy": first[main_name]["accuracy"],
        "accuracy_lexical": first.get("combined (lexical only)", {}).get("accuracy"),
        "accuracy_knn15": first.get("kNN-15 (minilm)", first.get("kNN-15 (lexical)", {})).get(
            "accuracy"
        ),
        "macro_f1": first[main_name]["macro_f1"],
        "coverage_at_p90": first[main_name]["coverage_at_p90"],
        "ece": first[main_name]["ece"],
        "precision_at_min_confidence": first[main_name]["precision_at_min_confidence"],
        "coverage_at_min_confidence": first[main_name]["coverage_at_min_confidence"],
        "majority_baseline": first["majority"]["accuracy"],
    }
    if second:
        knn1 = next(v for k, v in second.items() if "1-NN" in k)
        lines |= {
            "clusters_accuracy": second[main_name]["accuracy"],
            "clusters_knn1_accuracy": knn1["accuracy"],
            "clusters_gain_points": 100 * (second[main_name]["accuracy"] - knn1["accuracy"]),
            "clusters_macro_f1": second[main_name]["macro_f1"],
            "clusters_coverage_at_p90": second[main_name]["coverage_at_p90"],
            "clusters_ece": second[main_name]["ece"],
            "clusters_precision_at_min_confidence": second[main_name][
                "precision_at_min_confidence"
            ],
        }
    for name, value in lines.items():
        if value is not None:
            print(f"{name}: {value:.4f}")
    print(f"prompts_per_s: {per_s:.1f}")


if __name__ == "__main__":
    raise SystemExit(main())
