"""Calibrating a dedup threshold for an encoder against a reference encoder's decisions.

The method's threshold (cosine ≥ 0.92) is defined for MiniLM. When the lexical encoder stands in,
its cosines live on another scale, so its threshold is the one that best reproduces MiniLM's
decisions on the same pairs:

1. pairs from real queries: each query with a *perturbed copy* (words dropped, neighbours
   swapped, case and punctuation changed, a short phrase added — the edits that make
   near-duplicates), and each query with its nearest other queries (hard negatives that share a
   topic) plus random pairs;
2. labels: reference cosine ≥ reference threshold (MiniLM ≥ 0.92);
3. the candidate threshold maximising F1 of "duplicate" against those labels; precision,
   recall and agreement are reported with it.

Run: ``python -m judgebench.synth.calibrate QUERIES.jsonl [--limit N]`` (needs the local extra).
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import asdict, dataclass

import numpy as np

_ADDITIONS = (
    "Please be detailed.",
    "Thanks in advance!",
    "Answer briefly.",
    "This is urgent.",
    "Explain why.",
)


def perturb(text: str, rng: random.Random) -> str:
    """A near-duplicate of ``text``: the light edits a generator makes when it copies."""
    words = text.split()
    if len(words) > 6:
        drop = max(1, int(len(words) * rng.uniform(0.05, 0.2)))
        for _ in range(drop):
            words.pop(rng.randrange(len(words)))
        for _ in range(rng.randint(0, 2)):
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
    out = " ".join(words)
    if rng.random() < 0.5:
        out = out.lower()
    if rng.random() < 0.5:
        out = re.sub(r"[,.;:!?]", "", out)
    if rng.random() < 0.5:
        out = f"{out} {rng.choice(_ADDITIONS)}"
    return out


@dataclass(frozen=True)
class Calibration:
    threshold: float
    f1: float
    precision: float
    recall: float
    agreement: float
    pairs: int
    positives: int
    reference_threshold: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def build_pairs(
    texts: list[str], reference_vectors: np.ndarray, seed: int = 0, neighbours: int = 3
) -> list[tuple[int, int]]:
    """Index pairs into ``texts + perturbed copies`` (copies follow the originals)."""
    rng = random.Random(seed)
    n = len(texts)
    pairs = [(i, n + i) for i in range(n)]  # each with its perturbed copy
    sims = reference_vectors[:n] @ reference_vectors[:n].T
    np.fill_diagonal(sims, -1.0)
    nearest = np.argsort(-sims, axis=1)[:, :neighbours]
    pairs += [(i, int(j)) for i in range(n) for j in nearest[i]]
    pairs += [(rng.randrange(n), rng.randrange(n)) for _ in range(n)]
    return [(a, b) for a, b in pairs if a != b]


def calibrate_threshold(
    texts: list[str], candidate, reference, reference_threshold: float = 0.92, seed: int = 0
) -> Calibration:
    rng = random.Random(seed)
    texts = list(dict.fromkeys(t.strip() for t in texts if t.strip()))
    everything = texts + [perturb(t, rng) for t in texts]
    ref = reference.encode(everything)
    cand = candidate.encode(everything)
    pairs = build_pairs(texts, ref, seed=seed)
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    labels = np.einsum("ij,ij->i", ref[a], ref[b]) >= reference_threshold
    scores = np.einsum("ij,ij->i", cand[a], cand[b])
    results: list[Calibration] = []
    for threshold in np.round(np.arange(0.50, 0.991, 0.01), 2):
        predicted = scores >= threshold
        tp = int(np.sum(predicted & labels))
        precision = tp / max(int(predicted.sum()), 1)
        recall = tp / max(int(labels.sum()), 1)
        f1 = 2 * precision * recall / max(precision + recall, 1e-9)
        result = Calibration(
            threshold=float(threshold),
            f1=round(f1, 4),
            precision=round(precision, 4),
            recall=round(recall, 4),
            agreement=round(float(np.mean(predicted == labels)), 4),
            pairs=len(pairs),
            positives=int(labels.sum()),
            reference_threshold=reference_threshold,
        )
        results.append(result)
    # among equally good thresholds, the middle one (the widest margin on both sides)
    top = max(r.f1 for r in results)
    tied = [r for r in results if r.f1 == top]
    return tied[len(tied) // 2]


def main() -> None:
    from judgebench.embed import LexicalEncoder, MiniLMEncoder
    from judgebench.synth.seeds import load_seed_file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "queries", nargs="+", help="seed-format files (.jsonl/.csv) of real queries"
    )
    parser.add_argument(
        "--limit", type=int, default=1500, help="queries used (first N of each file)"
    )
    parser.add_argument("--max-words", type=int, default=150, help="skip queries longer than this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    texts = [
        q.text
        for path in args.queries
        for q in load_seed_file(path)[: args.limit]
        if len(q.text.split()) <= args.max_words
    ]
    result = calibrate_threshold(texts, LexicalEncoder(), MiniLMEncoder(), seed=args.seed)
    for key, value in result.as_dict().items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
