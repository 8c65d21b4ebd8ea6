"""Encoders: the lexical one always, MiniLM when the local extra is installed; the cache."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.embed import (
    CachedEncoder,
    Encoder,
    LexicalEncoder,
    MiniLMEncoder,
    cosine_top_k,
    get_encoder,
    minilm_available,
    resolve_kind,
)
from judgebench.errors import ConfigError

TEXTS = [
    "Write a Python function that sorts a list of numbers",
    "write a python function to sort a list of integers",
    "Compose a sonnet about the autumn sea",
]


def test_lexical_rows_are_normalised_deterministic_and_meaningful():
    enc = LexicalEncoder(dim=2048)
    assert isinstance(enc, Encoder)
    a = enc.encode(TEXTS)
    assert a.dtype == np.float32 and a.shape == (3, 2048)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, LexicalEncoder(dim=2048).encode(TEXTS))
    sims = a @ a.T
    assert sims[0, 1] > 0.5 > 0.2 > sims[0, 2]  # a paraphrase is far closer than another task
    near_duplicate = enc.encode(["write a Python function that sorts a list of numbers!"])
    assert float(near_duplicate[0] @ a[0]) > enc.default_dedup_threshold > sims[0, 1]
    assert enc.encode([]).shape == (0, 2048)


def test_lexical_fit_changes_weights_and_name():
    enc = LexicalEncoder(dim=1024)
    before, name = enc.encode(TEXTS), enc.name
    enc.fit(TEXTS * 3 + ["the the the"])
    assert enc.name != name and "idf" in enc.name
    assert not np.allclose(before, enc.encode(TEXTS))
    with pytest.raises(ConfigError):
        LexicalEncoder().fit([])


class CountingEncoder:
    name = "counting"
    dim = 4
    default_dedup_threshold = 0.9

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts):
        self.seen += texts
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % 4] = 1.0
        return out


def test_cache_memory_and_disk(tmp_path):
    inner = CountingEncoder()
    cached = CachedEncoder(inner, cache_dir=tmp_path)
    first = cached.encode(["a", "bb", "a"])
    assert inner.seen == ["a", "bb"]  # duplicates within a call encoded once
    again = cached.encode(["bb", "a"])
    assert inner.seen == ["a", "bb"] and cached.hits >= 2
    assert np.array_equal(again, first[[1, 0]])
    fresh_inner = CountingEncoder()
    reloaded = CachedEncoder(fresh_inner, cache_dir=tmp_path).encode(["a", "bb", "ccc"])
    assert fresh_inner.seen == ["ccc"]  # the first two came from the .npy shard
    assert np.array_equal(reloaded[:2], first[:2])
    assert list((tmp_path / "counting").glob("*.npy"))
    small = CachedEncoder(CountingEncoder(), max_items=2)
    small.encode(["a", "bb", "ccc"])
    assert len(small._memory) == 2


def test_factory_and_top_k(monkeypatch):
    with pytest.raises(ConfigError, match="unknown encoder 'bert'"):
        get_encoder("bert")
    monkeypatch.setenv("JUDGEBENCH_ENCODER", "lexical")
    assert resolve_kind("auto") == "lexical"
    enc = get_encoder("lexical")
    assert enc is get_encoder("lexical") and enc.name.startswith("lexical")
    q = np.eye(3, dtype=np.float32)
    c = np.array([[0, 1, 0], [1, 0, 0], [0.9, 0.1, 0]], dtype=np.float32)
    idx, sims = cosine_top_k(q, c, 2)
    assert idx[0].tolist() == [1, 2] and sims[0, 0] == pytest.approx(1.0)


@pytest.mark.local
@pytest.mark.skipif(
    not minilm_available(), reason="the 'local' extra (sentence-transformers) is not installed"
)
def test_minilm_paraphrases_are_close():
    enc = MiniLMEncoder()
    vectors = enc.encode(TEXTS)
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    sims = vectors @ vectors.T
    assert sims[0, 1] > 0.8 > sims[0, 2]
