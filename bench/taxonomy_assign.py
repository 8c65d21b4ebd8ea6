"""Embedding assignment accuracy and speed on labelled prompts (default: Arena-Hard v2.0).

Splits the labelled prompts with a seeded, stratified split; the train half's prompts are the
kNN examples, the held-out half is assigned and scored. Runs MiniLM (when the ``local`` extra
is installed) and the lexical encoder, and two baselines in the same run: the majority class
and nearest-node only (no examples).

    .venv/bin/python bench/taxonomy_assign.py
    .venv/bin/python bench/taxonomy_assign.py --data my.jsonl --text-field text --label-field label

Headlines: accuracy (MiniLM, or lexical when MiniLM is absent), accuracy_lexical, prompts_per_s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parents[1]
ARENA = REPO.parent / "shared" / "data" / "arena_hard" / "v2.0" / "question.jsonl"


def load_rows(path: Path, text_field: str, label_field: str) -> list[tuple[str, str]]:
    from judgebench.errors import DataError

    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
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


def split(rows: list[tuple[str, str]], train_fraction: float, seed: int):  # type: ignore[no-untyped-def]
    by_label: dict[str, list[tuple[str, str]]] = defaultdict(list)
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
    ids = {label: taxonomy.add("", label.replace("_", " "), slug=label) for label in labels}
    return taxonomy, ids


def evaluate(encoder, taxonomy, ids, train, test, use_examples: bool = True):  # type: ignore[no-untyped-def]
    from judgebench.taxonomy.assign import EmbeddingAssigner

    back = {node: label for label, node in ids.items()}
    examples = [(t, ids[label]) for t, label in train] if use_examples else []
    start = time.perf_counter()
    assigner = EmbeddingAssigner(
        taxonomy, encoder=encoder, examples=examples, nodes=list(ids.values())
    )
    fit_s = time.perf_counter() - start
    texts = [t for t, _ in test]
    start = time.perf_counter()
    result = assigner.assign(texts)
    assign_s = time.perf_counter() - start
    per_class: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (_, label), assignment in zip(test, result, strict=True):
        predicted = back.get(assignment.node_ids[0]) if assignment.node_ids else None
        per_class[label][0] += predicted == label
        per_class[label][1] += 1
    correct = sum(c for c, _ in per_class.values())
    return {
        "accuracy": correct / len(test),
        "per_class": {k: c / n for k, (c, n) in sorted(per_class.items())},
        "prompts_per_s": len(test) / assign_s,
        "fit_s": fit_s,
    }


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
        "--minilm-path", default=None, help="a MiniLM folder (default: the installed package's)"
    )
    parser.add_argument(
        "--device", default=None, help="torch device for MiniLM (default: cuda when available)"
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from judgebench.embed import CachedEncoder, LexicalEncoder, MiniLMEncoder, minilm_available

    arena = args.data == ARENA
    text_field = args.text_field or ("prompt" if arena else "text")
    label_field = args.label_field or ("subcategory" if arena else "label")
    if not args.data.is_file():
        print(f"data not found: {args.data} (bench skipped)")
        return 0
    rows = load_rows(args.data, text_field, label_field)
    train, test = split(rows, args.train_fraction, args.seed)
    labels = sorted({label for _, label in rows})
    taxonomy, ids = label_taxonomy(labels)
    counts = Counter(label for _, label in test)
    majority = counts.most_common(1)[0][1] / len(test)
    print(f"data: {args.data} ({len(rows)} prompts, labels {', '.join(labels)})")
    print(f"split: seed {args.seed}, {len(train)} train (kNN examples) / {len(test)} held out")
    print(f"baseline majority class: {majority:.3f}")

    results = {}
    for kind in [k.strip() for k in args.encoders.split(",") if k.strip()]:
        if kind == "minilm" and not (minilm_available() or args.minilm_path):
            print("minilm: not installed (the 'local' extra); skipped")
            continue
        # cached, so the baseline below reuses the vectors; the timed pass runs first (uncached)
        inner = (
            MiniLMEncoder(device=args.device, model_path=args.minilm_path)
            if kind == "minilm"
            else LexicalEncoder()
        )
        encoder = CachedEncoder(inner)
        encoder.encode(["warm up"])  # model load is not part of the throughput
        knn = evaluate(encoder, taxonomy, ids, train, test)
        zero_shot = evaluate(encoder, taxonomy, ids, train, test, use_examples=False)
        results[kind] = knn
        classes = ", ".join(f"{k} {v:.3f}" for k, v in knn["per_class"].items())
        where = f" on {inner._load().device}" if kind == "minilm" else ""
        print(
            f"{kind}{where}: accuracy {knn['accuracy']:.3f} (nearest node only: {zero_shot['accuracy']:.3f}); "
            f"per class: {classes}; {knn['prompts_per_s']:.1f} prompts/s; examples encoded in {knn['fit_s']:.1f} s"
        )

    main_kind = "minilm" if "minilm" in results else "lexical"
    if main_kind in results:
        print(f"accuracy: {results[main_kind]['accuracy']:.4f}")
    if "lexical" in results:
        print(f"accuracy_lexical: {results['lexical']['accuracy']:.4f}")
    if main_kind in results:
        print(f"prompts_per_s: {results[main_kind]['prompts_per_s']:.1f}")
    if "lexical" in results:
        print(f"prompts_per_s_lexical: {results['lexical']['prompts_per_s']:.1f}")
    print(f"majority_baseline: {majority:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
