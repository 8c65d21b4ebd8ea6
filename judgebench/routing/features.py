"""Query features for the selector: the text embedding (``judgebench.embed``: MiniLM, or the
lexical encoder without torch) and the query's taxonomy node as a one-hot block.

A query that arrives without a node (a live request) gets the majority node of its nearest
training queries, so serving needs no LLM and no taxonomy assigner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from judgebench.embed import get_encoder


class QueryFeaturizer:
    def __init__(self, encoder: str = "auto", node_scale: float = 0.5, knn: int = 7) -> None:
        self.encoder_kind = encoder
        self.node_scale = node_scale  # the embedding rows have norm 1; the node block this much
        self.knn = knn
        self.nodes: list[str] = []
        self._train_vectors: np.ndarray | None = None
        self._train_nodes: list[str | None] = []

    @property
    def encoder(self):
        return get_encoder(self.encoder_kind)

    @property
    def encoder_name(self) -> str:
        return self.encoder.name

    def fit(self, texts: Sequence[str], nodes: Sequence[str | None]) -> np.ndarray:
        """Learn the node vocabulary and the kNN memory; returns the training feature matrix."""
        self.nodes = sorted({n for n in nodes if n})
        vectors = self.encoder.encode(list(texts))
        self._train_vectors = vectors
        self._train_nodes = list(nodes)
        return self._assemble(vectors, list(nodes))

    def infer_nodes(self, vectors: np.ndarray) -> list[str | None]:
        if self._train_vectors is None or not self.nodes:
            return [None] * len(vectors)
        sims = vectors @ self._train_vectors.T
        k = min(self.knn, sims.shape[1])
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        out: list[str | None] = []
        for row in top:
            votes = Counter(self._train_nodes[j] for j in row if self._train_nodes[j])
            out.append(votes.most_common(1)[0][0] if votes else None)
        return out

    def transform(
        self, texts: Sequence[str], nodes: Sequence[str | None] | None = None
    ) -> np.ndarray:
        vectors = self.encoder.encode(list(texts))
        given = list(nodes) if nodes is not None else [None] * len(texts)
        guessed = self.infer_nodes(vectors) if any(n is None for n in given) else given
        return self._assemble(vectors, [g or h for g, h in zip(given, guessed, strict=True)])

    def _assemble(self, vectors: np.ndarray, nodes: list[str | None]) -> np.ndarray:
        onehot = np.zeros((len(vectors), len(self.nodes)), dtype=np.float64)
        index = {n: i for i, n in enumerate(self.nodes)}
        for row, node in enumerate(nodes):
            if node in index:
                onehot[row, index[node]] = self.node_scale
        return np.hstack([vectors.astype(np.float64), onehot])

    def state(self) -> dict:
        return {
            "encoder": self.encoder_kind,
            "encoder_name": self.encoder_name,
            "node_scale": self.node_scale,
            "knn": self.knn,
            "nodes": self.nodes,
            "train_nodes": self._train_nodes,
        }

    @classmethod
    def from_state(cls, state: dict, train_vectors: np.ndarray) -> QueryFeaturizer:
        f = cls(state["encoder"], state["node_scale"], state["knn"])
        f.nodes = list(state["nodes"])
        f._train_nodes = list(state["train_nodes"])
        f._train_vectors = train_vectors.astype(np.float32)
        return f
