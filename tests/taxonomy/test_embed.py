"""Encoders: the lexical one always, MiniLM when the local extra is installed; the cache."""

from __future__ import annotations

import subprocess
import sys

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
    for i in range(5):  # more calls that compute vectors add rows, not files
        cached.encode([f"extra {i}"])
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [
        "counting.sqlite"
    ]
    fresh_inner = CountingEncoder()
    fresh = CachedEncoder(fresh_inner, cache_dir=tmp_path)
    reloaded = fresh.encode(["a", "bb", "ccc"])
    assert fresh_inner.seen == ["ccc"]  # the first two came from the SQLite store
    assert np.array_equal(reloaded[:2], first[:2])
    assert len(fresh._memory) == 3  # only what was asked for was read, not the 7 stored rows
    small = CachedEncoder(CountingEncoder(), max_items=2)
    small.encode(["a", "bb", "ccc"])
    assert len(small._memory) == 2


_CHILD = """
import sys, numpy as np
from judgebench.embed import CachedEncoder
class Counting:
    name, dim, default_dedup_threshold = "counting", 4, 0.9
    calls = 0
    def encode(self, texts):
        Counting.calls += len(texts)
        out = np.zeros((len(texts), 4), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i] = [len(t), sum(map(ord, t)) % 97, i, 1.0]
        return out
enc = CachedEncoder(Counting(), cache_dir=sys.argv[1])
texts = [f"text {i}" for i in range(int(sys.argv[2]), int(sys.argv[3]))]
for start in range(0, len(texts), 10):
    enc.encode(texts[start : start + 10])
np.save(sys.argv[4], enc.encode(texts))
print(Counting.calls)
"""


def _child(tmp_path, lo: int, hi: int, tag: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD,
            str(tmp_path / "cache"),
            str(lo),
            str(hi),
            str(tmp_path / tag),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def test_cache_is_shared_by_processes_and_survives_them(tmp_path):
    # two processes write overlapping texts at once: every vector lands, none is lost
    a, b = _child(tmp_path, 0, 300, "a.npy"), _child(tmp_path, 150, 450, "b.npy")
    assert a.wait(timeout=60) == 0 and b.wait(timeout=60) == 0
    # each encodes its own 150 texts; the 150 shared ones by either or both (whoever is first)
    calls_a, calls_b = int(a.stdout.read()), int(b.stdout.read())
    assert 150 <= calls_a <= 300 and 150 <= calls_b <= 300 and calls_a + calls_b >= 450
    store = CachedEncoder(CountingEncoder(), cache_dir=tmp_path / "cache").store
    assert store is not None and store.count() == 450
    # a fresh process gets the same vectors without calling its encoder
    again = _child(tmp_path, 0, 450, "c.npy")
    assert again.wait(timeout=60) == 0 and int(again.stdout.read()) == 0
    c = np.load(tmp_path / "c.npy")
    assert np.array_equal(c[:300], np.load(tmp_path / "a.npy"))
    assert np.array_equal(c[150:], np.load(tmp_path / "b.npy"))


def test_disk_cache_cap_evicts_oldest_rows(tmp_path):
    row_mb = 4 * 4 / 2**20  # one 4-d float32 vector
    cached = CachedEncoder(CountingEncoder(), cache_dir=tmp_path, max_disk_mb=3 * row_mb)
    texts = ["a", "bb", "ccc", "dddd", "eeeee"]
    for text in texts:
        cached.encode([text])
    assert cached.store is not None and cached.store.count() == 3
    cached.encode(texts[:2])  # served from memory: no write, the cap still holds
    assert cached.store.count() == 3
    fresh_inner = CountingEncoder()
    CachedEncoder(fresh_inner, cache_dir=tmp_path, max_disk_mb=3 * row_mb).encode(texts)
    assert fresh_inner.seen == ["a", "bb"]  # the two oldest were evicted, the newest three kept
    with pytest.raises(ConfigError, match="size cap"):
        CachedEncoder(CountingEncoder(), cache_dir=tmp_path, max_disk_mb=0)


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
