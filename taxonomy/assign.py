"""Assigning queries to taxonomy nodes: by LLM (multi-label) and by embeddings (kNN + nearest node).

- :class:`EmbeddingAssigner`: cosine similarity of the query to each candidate node's text
  (its path of names and description) mixed with a kNN vote over labelled example queries.
  No LLM; a few milliseconds per query; the cheap first pass and the fallback.
- :class:`LLMAssigner`: the model sees the tree rendered with ids and returns node ids, for
  ``batch_size`` queries per prompt; ids not in the tree are rejected and that query retried,
  then it is *unassigned* with the reason (or handed to the embedding fallback, which is
  recorded as such).
- :class:`HybridAssigner`: a cheap assigner first; only the queries it is unsure of go to the
  LLM.
- :class:`judgebench.taxonomy.combined.CombinedAssigner` (own module): every cheap score mixed,
  with calibrated confidence and abstention; the default.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from judgebench.embed import Encoder, cosine_top_k, get_encoder, l2_normalize
from judgebench.errors import DataError
from judgebench.llm import gather_limited, run_sync
from judgebench.prompts import load_template
from judgebench.taxonomy.asking import Asker
from judgebench.taxonomy.decisions import Decision, DecisionLog
from judgebench.taxonomy.replies import ReplyError, parse_json_object
from judgebench.taxonomy.tree import Taxonomy


@dataclass
class Assignment:
    text: str
    node_ids: list[str]
    method: str  # embedding | llm | embedding-fallback | none
    status: str = "assigned"  # assigned | unassigned
    reason: str | None = None
    score: float | None = None
    margin: float | None = None
    replies: list[str] = field(default_factory=list)
    # calibrated probabilities (combined assigner): of the least sure chosen node, and per node
    confidence: float | None = None
    node_confidence: dict[str, float] = field(default_factory=dict)

    @property
    def assigned(self) -> bool:
        return self.status == "assigned"


def node_text(taxonomy: Taxonomy, node_id: str) -> str:
    """What a node "means" for embedding: its path of names, then its description."""
    text = " > ".join(taxonomy.path_names(node_id))
    description = taxonomy.description_of(node_id)
    return f"{text}: {description}" if description else text


def check_example_labels(taxonomy: Taxonomy, examples: Sequence[tuple[str, str]]) -> None:
    """Refuse labelled examples (text, node id) whose label is not a node of ``taxonomy``."""
    unknown = sorted({n for _, n in examples if n not in taxonomy})
    if unknown:
        raise DataError(f"example label {unknown[0]!r} is not a node of taxonomy {taxonomy.name!r}")


def most_specific(taxonomy: Taxonomy, node_ids: Sequence[str]) -> list[str]:
    """Drop ids whose descendant is also chosen (an internal node's set is its descendants' union)."""
    chosen = list(dict.fromkeys(node_ids))
    return [n for n in chosen if not any(o != n and o.startswith(n + "/") for o in chosen)]


class CheapAssigner(Protocol):
    """What the LLM assigner can fall back to: a synchronous, LLM-free assigner."""

    def assign(self, texts: Sequence[str]) -> list[Assignment]: ...


class EmbeddingAssigner:
    """Nearest node by node-text similarity plus labelled examples (kNN vote and per-node
    prototypes, equally weighted).

    ``examples`` are ``(text, node_id)`` pairs; their node ids must exist. ``alpha`` weighs the
    node-text similarity against the kNN vote (defaults: 1.0 without examples, 0.25 with).
    Candidate nodes are the leaves plus every node that has examples (``nodes`` overrides).
    """

    def __init__(
        self,
        taxonomy: Taxonomy,
        *,
        encoder: Encoder | str = "auto",
        examples: Sequence[tuple[str, str]] = (),
        k: int = 15,
        alpha: float | None = None,
        nodes: Sequence[str] | None = None,
        temperature: float = 0.05,
        prototype_temperature: float = 0.02,
    ) -> None:
        self.taxonomy = taxonomy
        self.encoder = get_encoder(encoder) if isinstance(encoder, str) else encoder
        self.k = k
        self.temperature = temperature
        self.prototype_temperature = prototype_temperature
        self._proto: np.ndarray | None = None
        self._has_examples = np.zeros(0, dtype=bool)
        check_example_labels(taxonomy, examples)
        self.alpha = alpha if alpha is not None else (0.25 if examples else 1.0)
        labelled = list(dict.fromkeys(n for _, n in examples))
        self.nodes = (
            list(nodes)
            if nodes is not None
            else list(dict.fromkeys([*taxonomy.leaves(), *labelled]))
        )
        if not self.nodes:
            raise DataError(f"taxonomy {taxonomy.name!r} has no nodes to assign to")
        self._index = {n: i for i, n in enumerate(self.nodes)}
        self.node_vectors = self.encoder.encode([node_text(taxonomy, n) for n in self.nodes])
        self.example_labels = np.array([self._label_index(n) for _, n in examples], dtype=np.int64)
        self.example_vectors = self.encoder.encode([t for t, _ in examples]) if examples else None

    def _label_index(self, node_id: str) -> int:
        if node_id not in self._index:  # an example on an internal node not among the candidates
            self._index[node_id] = len(self.nodes)
            self.nodes.append(node_id)
        return self._index[node_id]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Scores (rows: texts, columns: ``self.nodes``) in [0, 1]-ish; higher is better."""
        queries = self.encoder.encode(list(texts))
        node_vectors = self.node_vectors
        if node_vectors.shape[0] < len(self.nodes):  # nodes added by examples
            extra = self.encoder.encode(
                [node_text(self.taxonomy, n) for n in self.nodes[node_vectors.shape[0] :]]
            )
            node_vectors = self.node_vectors = np.vstack([node_vectors, extra])
        node_sims = queries @ node_vectors.T
        if self.example_vectors is None or self.alpha >= 1.0:
            return node_sims
        idx, sims = cosine_top_k(queries, self.example_vectors, self.k)
        weights = np.exp((sims - sims[:, :1]) / self.temperature)
        votes = np.zeros((len(texts), len(self.nodes)), dtype=np.float32)
        rows = np.repeat(np.arange(len(texts)), idx.shape[1])
        np.add.at(votes, (rows, self.example_labels[idx].ravel()), weights.ravel())
        votes /= np.maximum(votes.sum(axis=1, keepdims=True), 1e-9)
        # prototypes (mean example vector per node) are robust where single neighbours are
        # noisy (long prompts under the lexical encoder); softmax puts them on the votes' scale
        proto = queries @ self._prototypes().T
        proto = np.where(self._has_examples[None, :], proto, -np.inf)
        proto = np.exp((proto - proto.max(axis=1, keepdims=True)) / self.prototype_temperature)
        proto /= proto.sum(axis=1, keepdims=True)
        examples_score = 0.5 * votes + 0.5 * proto
        return self.alpha * node_sims + (1.0 - self.alpha) * examples_score

    def _prototypes(self) -> np.ndarray:
        if self._proto is None or self._proto.shape[0] != len(self.nodes):
            assert self.example_vectors is not None
            sums = np.zeros((len(self.nodes), self.example_vectors.shape[1]), dtype=np.float32)
            np.add.at(sums, self.example_labels, self.example_vectors)
            self._has_examples = np.bincount(self.example_labels, minlength=len(self.nodes)) > 0
            self._proto = l2_normalize(sums)
        return self._proto

    def assign(
        self,
        texts: Sequence[str],
        *,
        max_labels: int = 1,
        within: float = 0.0,
        batch_size: int = 256,
    ) -> list[Assignment]:
        """The best node per text (and up to ``max_labels`` within ``within`` of the best)."""
        out: list[Assignment] = []
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            scores = self.scores(chunk)
            order = np.argsort(-scores, axis=1, kind="stable")
            for row, text in enumerate(chunk):
                best = float(scores[row, order[row, 0]])
                second = float(scores[row, order[row, 1]]) if scores.shape[1] > 1 else 0.0
                picked = [
                    self.nodes[j]
                    for j in order[row, :max_labels]
                    if float(scores[row, j]) >= best - within
                ]
                out.append(
                    Assignment(
                        text=text,
                        node_ids=most_specific(self.taxonomy, picked),
                        method="embedding",
                        score=best,
                        margin=best - second,
                    )
                )
        return out


def split_assignments(reply: str, count: int) -> list[Any]:
    """A batched reply's answer (a JSON object) for each of queries 1..``count``; a
    ``ReplyError`` in place of a query answered twice, not at all, or without ``node_ids``."""
    data = parse_json_object(reply, required=("assignments",))
    items = data["assignments"]
    if not isinstance(items, list):
        raise ReplyError("'assignments' must be a list")
    found: dict[int, list[Any]] = {}
    for item in items:
        number = item.get("query") if isinstance(item, dict) else None
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number)
        if isinstance(number, int) and not isinstance(number, bool):
            found.setdefault(number, []).append(item)
    parts: list[Any] = []
    for number in range(1, count + 1):
        answers = found.get(number, [])
        if not answers:
            parts.append(ReplyError(f"no answer for query {number} in the reply"))
        elif any(a != answers[0] for a in answers[1:]):
            parts.append(ReplyError(f"query {number} answered twice, differently"))
        elif "node_ids" not in answers[0]:
            parts.append(ReplyError(f"the answer for query {number} lacks 'node_ids'"))
        else:
            parts.append(answers[0]["node_ids"])
    return parts


class LLMAssigner:
    """Multi-label assignment by an LLM that sees the rendered tree and answers node ids.

    ``batch_size`` queries share one prompt (``taxonomy:assign_batch``; 1: one prompt per query
    with ``taxonomy:assign``); each query's part of the reply is validated, retried and logged
    on its own. ``top_down`` (default: on for trees over 300 nodes) asks in two stages: the
    nodes down to ``top_down_depth``, then the subtrees under the chosen ones (queries that
    chose the same nodes share batches); both answers are validated against what was shown.
    """

    def __init__(
        self,
        model: str,
        taxonomy: Taxonomy,
        *,
        log: DecisionLog | str | Path | None = None,
        attempts: int = 3,
        max_labels: int = 4,
        fallback: CheapAssigner | None = None,
        render_depth: int | None = None,
        concurrency: int = 16,
        template: str | Path | None = None,
        params: dict[str, Any] | None = None,
        top_down: bool | None = None,
        top_down_depth: int = 2,
        batch_size: int = 10,
    ) -> None:
        self.taxonomy = taxonomy
        self.log = log if isinstance(log, DecisionLog) else DecisionLog(log)
        self.asker = Asker(model, self.log, attempts=attempts, params=params)
        self.max_labels = max_labels
        self.fallback = fallback
        self.concurrency = concurrency
        self.batch_size = max(1, batch_size)
        default = "taxonomy:assign" if self.batch_size == 1 else "taxonomy:assign_batch"
        self.template = load_template(template or default)
        self.tree_text = taxonomy.render(max_depth=render_depth)
        self._tree_hash = taxonomy.content_hash()
        # large trees are shown in two stages (upper levels, then the chosen subtrees), which
        # keeps each prompt a few hundred tokens instead of the whole tree
        self.top_down = len(taxonomy) > 300 if top_down is None else top_down
        self.top_down_depth = top_down_depth
        self._order = {n: i for i, n in enumerate(taxonomy.ids())}

    def _valid_ids(self, raw: Any, allowed: set[str] | None) -> list[str]:
        """Answered ids → the most specific ones; ids outside the tree (or the shown part)
        rejected."""
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw:
            raise ReplyError("'node_ids' must be a non-empty list")
        ids = [str(x).strip().strip("`\"' ").lstrip("- ").strip() for x in raw]
        unknown = [
            x for x in ids if x not in self.taxonomy or (allowed is not None and x not in allowed)
        ]
        if unknown:
            raise ReplyError(f"unknown node ids: {', '.join(repr(u) for u in unknown[:5])}")
        return most_specific(self.taxonomy, ids)[: self.max_labels]

    def _parser(self, allowed: set[str] | None):
        """Reply → most specific valid ids."""

        def parse(reply: str) -> list[str]:
            data = parse_json_object(reply, required=("node_ids",))
            return self._valid_ids(data["node_ids"], allowed)

        return parse

    def _subject(self, text: str, stage: str, shown: list[str] | None) -> dict[str, Any]:
        return {
            "query": text,
            "taxonomy": self._tree_hash,
            "max_labels": self.max_labels,
            "stage": stage,
            "shown": shown,
        }

    async def _ask(self, text: str, stage: str, shown: list[str] | None) -> Decision:
        tree_text = self.tree_text if shown is None else self._render(shown)

        def values(fence):
            return {
                "tree": fence(tree_text, "TAXONOMY"),
                "query": fence(text, "QUERY"),
                "max_labels": self.max_labels,
            }

        subject = self._subject(text, stage, shown)
        allowed = None if shown is None else set(shown)
        return await self.asker.ask("assign", self.template, subject, values, self._parser(allowed))

    async def _ask_batch(
        self, texts: list[str], stage: str, shown: list[str] | None
    ) -> list[Decision]:
        """One prompt for ``texts`` (at most ``batch_size``); a decision per text."""
        tree_text = self.tree_text if shown is None else self._render(shown)

        def values(fence, items):
            return {
                "tree": fence(tree_text, "TAXONOMY"),
                "queries": [
                    {"text": fence(texts[i], "QUERY"), "previous_error": why} for i, why in items
                ],
                "max_labels": self.max_labels,
            }

        allowed = None if shown is None else set(shown)
        subjects = [self._subject(t, stage, shown) for t in texts]
        return await self.asker.ask_batch(
            "assign",
            self.template,
            subjects,
            values,
            split_assignments,
            partial(self._valid_ids, allowed=allowed),
        )

    async def _ask_many(
        self, texts: list[str], stage: str, shown: list[str] | None
    ) -> list[Decision]:
        """``texts`` in batches of ``batch_size``, the batches run concurrently."""
        size = self.batch_size
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        done = await gather_limited(
            [partial(self._ask_batch, c, stage, shown) for c in chunks], limit=self.concurrency
        )
        return [d for chunk in done for d in chunk]

    def _render(self, shown: list[str]) -> str:
        lines = []
        for node_id in shown:
            text = f"{'  ' * (self.taxonomy.depth_of(node_id) - 1)}- {node_id} ({self.taxonomy.name_of(node_id)})"
            if self.taxonomy.description_of(node_id):
                text += f": {self.taxonomy.description_of(node_id)}"
            lines.append(text)
        return "\n".join(lines)

    def _upper(self) -> list[str]:
        return [n for n in self.taxonomy.ids() if self.taxonomy.depth_of(n) <= self.top_down_depth]

    def _below(self, chosen: list[str]) -> list[str] | None:
        """What the second stage shows: the chosen nodes and their subtrees (None: all leaves)."""
        below = [d for c in chosen for d in self.taxonomy.descendants(c)]
        if not below:
            return None
        shown = list(dict.fromkeys([*chosen, *below]))
        shown.sort(key=self._order.__getitem__)
        return shown

    def _result(self, text: str, decision: Decision) -> Assignment:
        """The assignment a settled decision gives (the fallback's answer when it failed)."""
        if decision.ok:
            return Assignment(
                text=text, node_ids=list(decision.value), method="llm", replies=decision.replies
            )
        reason = decision.reason or decision.status
        if self.fallback is not None:
            fallback = self.fallback.assign([text])[0]
            fallback.method = "embedding-fallback"
            fallback.reason = f"LLM assignment failed: {reason}"
            fallback.replies = decision.replies
            return fallback
        return Assignment(
            text=text,
            node_ids=[],
            method="none",
            status="unassigned",
            reason=reason,
            replies=decision.replies,
        )

    async def assign_one(self, text: str) -> Assignment:
        """One query, one prompt per stage (the ``batch_size=1`` path)."""
        if self.top_down:
            # stage 1: the upper levels; stage 2: the subtrees under the chosen nodes
            decision = await self._ask(text, "upper", self._upper())
            shown = self._below(list(decision.value)) if decision.ok else None
            if shown is not None:
                second = await self._ask(text, "lower", shown)
                second.replies = decision.replies + second.replies
                decision = second
        else:
            decision = await self._ask(text, "all", None)
        return self._result(text, decision)

    async def _assign_batched(self, texts: list[str]) -> list[Assignment]:
        if not self.top_down:
            decisions = await self._ask_many(texts, "all", None)
            return [self._result(t, d) for t, d in zip(texts, decisions, strict=True)]
        first = await self._ask_many(texts, "upper", self._upper())
        decisions = list(first)
        groups: dict[tuple[str, ...], list[int]] = {}  # queries that chose the same subtrees
        for i, decision in enumerate(first):
            shown = self._below(list(decision.value)) if decision.ok else None
            if shown is not None:
                groups.setdefault(tuple(shown), []).append(i)
        seconds = await gather_limited(
            [
                partial(self._ask_many, [texts[i] for i in idx], "lower", list(shown))
                for shown, idx in groups.items()
            ],
            limit=self.concurrency,
        )
        for idx, got in zip(groups.values(), seconds, strict=True):
            for i, second in zip(idx, got, strict=True):
                second.replies = first[i].replies + second.replies
                decisions[i] = second
        return [self._result(t, d) for t, d in zip(texts, decisions, strict=True)]

    async def assign(self, texts: Sequence[str]) -> list[Assignment]:
        if self.batch_size > 1:
            return await self._assign_batched(list(texts))
        return await gather_limited(
            [partial(self.assign_one, t) for t in texts], limit=self.concurrency
        )

    def assign_sync(self, texts: Sequence[str]) -> list[Assignment]:
        items = list(texts)
        return run_sync(lambda: self.assign(items))


class HybridAssigner:
    """A cheap assigner first (embedding or combined); queries it leaves unassigned, or whose
    margin is below ``min_margin``, go to the LLM, which falls back to the cheap answer
    (recorded as such) when it fails."""

    def __init__(
        self, embedding: CheapAssigner, llm: LLMAssigner, *, min_margin: float = 0.05
    ) -> None:
        self.embedding = embedding
        self.llm = llm
        self.llm.fallback = embedding
        self.min_margin = min_margin

    async def assign(self, texts: Sequence[str]) -> list[Assignment]:
        first = self.embedding.assign(list(texts))
        unsure = [
            i for i, a in enumerate(first) if not a.assigned or (a.margin or 0.0) < self.min_margin
        ]
        second = await self.llm.assign([texts[i] for i in unsure])
        for i, result in zip(unsure, second, strict=True):
            first[i] = result
        return first


def throughput(assigner: EmbeddingAssigner, texts: Sequence[str]) -> tuple[list[Assignment], float]:
    """Assign and measure prompts per second (encoding included)."""
    start = time.perf_counter()
    result = assigner.assign(list(texts))
    return result, len(texts) / max(time.perf_counter() - start, 1e-9)
