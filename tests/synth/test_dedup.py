"""Exact and semantic dedup decisions, thresholds and what is recorded."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.synth.dedup import DedupIndex


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def at_cosine(c: float) -> np.ndarray:
    """A unit vector at cosine ``c`` from (1, 0, 0)."""
    return unit(c, np.sqrt(1 - c * c), 0.0)


@pytest.mark.parametrize(
    ("cosine", "status"), [(0.95, "semantic"), (0.92, "semantic"), (0.90, "unique")]
)
def test_semantic_threshold_is_inclusive(cosine, status):
    index = DedupIndex(threshold=0.92, dim=3)
    index.add("n", ["kept-1"], ["the kept query"], unit(1, 0, 0)[None])
    [decision] = index.check_and_add("n", ["cand"], ["a different text"], at_cosine(cosine)[None])
    assert decision.status == status
    assert decision.similarity == pytest.approx(cosine, abs=1e-3)
    if status == "semantic":
        assert decision.duplicate_of == "kept-1"
        assert index.kept_count("n") == 1
    else:
        assert decision.duplicate_of is None
        assert index.kept_count("n") == 2


def test_exact_duplicates_ignore_case_whitespace_and_punctuation_across_nodes():
    index = DedupIndex(threshold=0.99, dim=3)
    index.add("a", ["q1"], ["Hello, World!  How are you?"], unit(1, 0, 0)[None])
    [decision] = index.check_and_add("b", ["q2"], ["hello world how are you"], unit(0, 1, 0)[None])
    assert decision.status == "exact" and decision.duplicate_of == "q1"


def test_semantic_dedup_is_per_node():
    index = DedupIndex(threshold=0.9, dim=3)
    index.add("a", ["q1"], ["one"], unit(1, 0, 0)[None])
    [decision] = index.check_and_add("b", ["q2"], ["two"], unit(1, 0, 0)[None])
    assert decision.status == "unique"


def test_batch_decisions_are_greedy_in_order():
    """Within a batch, a candidate is checked against the earlier candidates that were kept."""
    index = DedupIndex(threshold=0.9, dim=3)
    vectors = np.stack([unit(1, 0, 0), at_cosine(0.95), unit(0, 0, 1), unit(0, 0.05, 1)])
    decisions = index.check_and_add("n", ["a", "b", "c", "d"], ["ta", "tb", "tc", "td"], vectors)
    assert [d.status for d in decisions] == ["unique", "semantic", "unique", "semantic"]
    assert [d.duplicate_of for d in decisions] == [None, "a", None, "c"]
    # one-at-a-time gives the same answer
    one = DedupIndex(threshold=0.9, dim=3)
    single = [
        one.check_and_add("n", [i], [t], v[None])[0]
        for i, t, v in zip("abcd", ["ta", "tb", "tc", "td"], vectors, strict=True)
    ]
    assert [d.status for d in single] == [d.status for d in decisions]


def test_chunked_batches_match_unchunked(monkeypatch):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 8)).astype(np.float32)
    noisy = base[rng.integers(0, 40, size=300)] + 0.15 * rng.normal(size=(300, 8)).astype(
        np.float32
    )
    vectors = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)
    ids = [f"q{i}" for i in range(300)]
    whole = DedupIndex(0.9, 8).check_and_add("n", ids, ids, vectors)
    monkeypatch.setattr("judgebench.synth.dedup._CHUNK", 7)
    chunked = DedupIndex(0.9, 8).check_and_add("n", ids, ids, vectors)
    assert [d.status for d in whole] == [d.status for d in chunked]
    assert 0 < sum(d.status == "unique" for d in whole) < 300


def test_bad_threshold_and_shape_rejected():
    with pytest.raises(ValueError):
        DedupIndex(threshold=0.0, dim=3)
    with pytest.raises(ValueError, match="shape"):
        DedupIndex(0.9, 3).check_and_add("n", ["a"], ["a"], np.ones((1, 4), dtype=np.float32))
