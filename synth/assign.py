"""Adapters from the taxonomy's assigners to what synthesis needs: texts → node path ids.

Seeds without nodes are assigned before sampling; kept queries are re-assigned after dedup
(Feedbacker re-tags every synthesized query). ``embedding`` needs no LLM; ``llm`` asks a model
with the rendered tree and falls back to embeddings when its replies never validate.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

from judgebench.errors import ConfigError
from judgebench.records import Query


class TaxonomyAssigner:
    """Wraps ``judgebench.taxonomy.assign`` assigners (sync or async, returning ``Assignment``s)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def assign(self, texts: list[str]) -> list[list[str]]:
        if not texts:
            return []
        result = self.inner.assign(list(texts))
        if inspect.isawaitable(result):
            result = await result
        return [list(getattr(a, "node_ids", a)) for a in result]


def make_assigner(
    taxonomy: Any,
    mode: str,
    *,
    encoder: Any = "auto",
    model: str | None = None,
    examples: Sequence[Query] = (),
) -> TaxonomyAssigner | None:
    """``none`` → None; ``embedding`` → nearest node + kNN over labelled seeds; ``llm`` → the
    model sees the tree (embedding fallback)."""
    if mode == "none":
        return None
    from judgebench.taxonomy.assign import EmbeddingAssigner, LLMAssigner

    pairs = [(q.text, n) for q in examples for n in q.node_ids if n in taxonomy]
    embedding = EmbeddingAssigner(taxonomy, encoder=encoder, examples=pairs)
    if mode == "embedding":
        return TaxonomyAssigner(embedding)
    if mode == "llm":
        if not model:
            raise ConfigError("reassign=llm needs a model (the synthesis judge is used by default)")
        return TaxonomyAssigner(LLMAssigner(model, taxonomy, fallback=embedding))
    raise ConfigError(f"unknown reassign mode {mode!r}: use none, embedding or llm")
