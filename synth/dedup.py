"""Exact and semantic deduplication of synthesized queries.

Exact: the normalised text (``judgebench.records.normalize_text``) hashed, across every node.
Semantic: cosine against everything already kept *for the same node*, over L2-normalised vectors
held in one growing float32 matrix per node, so checking a batch is one matrix product (BLAS)
against the node's matrix plus one within the batch. Decisions are greedy in batch order, exactly
as if the candidates had been checked one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from judgebench.records import normalize_text, text_hash

DedupStatus = Literal["unique", "exact", "semantic"]
_CHUNK = 1024  # candidates per matrix product: bounds memory at chunk × kept floats


@dataclass(frozen=True)
class DedupDecision:
    status: DedupStatus
    duplicate_of: str | None = None  # id of the kept query it duplicates
    similarity: float | None = None  # highest cosine against the node's kept queries

    def as_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "duplicate_of": self.duplicate_of,
            "similarity": self.similarity,
        }


def exact_key(text: str) -> str:
    return text_hash(normalize_text(text))


class _NodeVectors:
    """A node's kept vectors, with amortised O(1) appends."""

    def __init__(self, dim: int) -> None:
        self._matrix = np.empty((16, dim), dtype=np.float32)
        self.ids: list[str] = []

    @property
    def matrix(self) -> np.ndarray:
        return self._matrix[: len(self.ids)]

    def append(self, ids: list[str], vectors: np.ndarray) -> None:
        need = len(self.ids) + len(ids)
        if need > self._matrix.shape[0]:
            grown = np.empty(
                (max(need, 2 * self._matrix.shape[0]), self._matrix.shape[1]), dtype=np.float32
            )
            grown[: len(self.ids)] = self.matrix
            self._matrix = grown
        self._matrix[len(self.ids) : need] = vectors
        self.ids.extend(ids)


class DedupIndex:
    def __init__(self, threshold: float, dim: int) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"dedup threshold must be in (0, 1], got {threshold}")
        self.threshold = threshold
        self.dim = dim
        self._exact: dict[str, str] = {}
        self._nodes: dict[str, _NodeVectors] = {}

    def kept_count(self, node: str) -> int:
        entry = self._nodes.get(node)
        return len(entry.ids) if entry else 0

    def add(self, node: str, ids: list[str], texts: list[str], vectors: np.ndarray) -> None:
        """Register already-kept queries (e.g. when resuming) without checking them."""
        for query_id, text in zip(ids, texts, strict=True):
            self._exact.setdefault(exact_key(text), query_id)
        if ids:
            self._nodes.setdefault(node, _NodeVectors(self.dim)).append(
                ids, _rows(vectors, self.dim)
            )

    def check_and_add(
        self, node: str, ids: list[str], texts: list[str], vectors: np.ndarray
    ) -> list[DedupDecision]:
        """Decide each candidate in order; the unique ones are added to the index."""
        vectors = _rows(vectors, self.dim)
        decisions: list[DedupDecision] = []
        for start in range(0, len(ids), _CHUNK):
            stop = start + _CHUNK
            decisions.extend(
                self._check_chunk(node, ids[start:stop], texts[start:stop], vectors[start:stop])
            )
        return decisions

    def _check_chunk(
        self, node: str, ids: list[str], texts: list[str], vectors: np.ndarray
    ) -> list[DedupDecision]:
        kept_rows = self.kept_count(node)
        if len(ids) * (kept_rows + len(ids)) < _SMALL_PRODUCT:
            # small products: BLAS threads cost more than they save, and on a busy machine
            # their spin-waits made per-node checks 20× slower
            with _single_blas_thread():
                return self._decide_chunk(node, ids, texts, vectors)
        return self._decide_chunk(node, ids, texts, vectors)

    def _decide_chunk(
        self, node: str, ids: list[str], texts: list[str], vectors: np.ndarray
    ) -> list[DedupDecision]:
        entry = self._nodes.setdefault(node, _NodeVectors(self.dim))
        kept = entry.matrix
        n = len(ids)
        # best match among already-kept queries, for the whole chunk in one product
        if len(kept):
            sims = vectors @ kept.T
            best_idx = sims.argmax(axis=1)
            best_sim = sims[np.arange(n), best_idx]
            best_ids: list[str | None] = [entry.ids[int(k)] for k in best_idx]
        else:
            best_sim = np.full(n, -np.inf, dtype=np.float32)
            best_ids = [None] * n
        within = vectors @ vectors.T  # candidates against each other, used greedily below
        decisions: list[DedupDecision] = []
        accepted: list[int] = []
        for i in range(n):
            sim_i, dup_of = float(best_sim[i]), best_ids[i]
            if accepted:
                row = within[i, accepted]
                j = int(row.argmax())
                if row[j] > sim_i:
                    sim_i, dup_of = float(row[j]), ids[accepted[j]]
            similarity = round(sim_i, 4) if dup_of is not None else None
            key = exact_key(texts[i])
            if key in self._exact:
                decisions.append(DedupDecision("exact", self._exact[key], similarity))
            elif dup_of is not None and sim_i >= self.threshold:
                decisions.append(DedupDecision("semantic", dup_of, similarity))
            else:
                decisions.append(DedupDecision("unique", None, similarity))
                self._exact[key] = ids[i]
                accepted.append(i)
        if accepted:
            entry.append([ids[i] for i in accepted], vectors[accepted])
        return decisions


_SMALL_PRODUCT = 4_000_000  # chunk rows × node rows below which one BLAS thread is used
_controller = None


def _single_blas_thread():
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


def _rows(vectors: np.ndarray, dim: int) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dim:
        raise ValueError(f"expected vectors of shape (n, {dim}), got {vectors.shape}")
    return vectors
