"""Training targets from stored judgments: per query, each candidate model's judged score.

- pointwise judgments (rubric scores, correctness 1/0): the score, rescaled to [0, 1] with the
  judgment's ``params.scale`` when it has one;
- pairwise judgments against a baseline (AlpacaEval): the candidate's preference probability
  (``details.p_b`` when the candidate is B, 1 − p_b when it is A), else 1 / ½ / 0 from the verdict.

Judgments that are not ``ok`` are left out (never a default score); repeated judgments of one
(query, model) are averaged.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from judgebench.records import VERDICT_OUTCOME, Judgment, Query


def _pointwise(j: Judgment) -> float | None:
    if j.score is None:
        return None
    scale = j.params.get("scale")
    if isinstance(scale, (list, tuple)) and len(scale) == 2 and scale[1] > scale[0]:
        return (float(j.score) - scale[0]) / (scale[1] - scale[0])
    return float(j.score)


def _pairwise(j: Judgment, candidate_is_b: bool) -> float | None:
    p_b = j.details.get("p_b")
    if p_b is None:
        a_outcome = VERDICT_OUTCOME.get(j.verdict or "")
        if a_outcome is None:
            return None
        p_b = 1.0 - a_outcome
    return float(p_b) if candidate_is_b else 1.0 - float(p_b)


def judged_scores(
    judgments: Iterable[Judgment], models: Sequence[str] | None = None, baseline: str | None = None
) -> dict[str, dict[str, float]]:
    """query id → model → mean judged score in [0, 1] (for the wanted ``models``)."""
    wanted = set(models) if models else None
    sums: dict[tuple[str, str], list[float]] = defaultdict(list)
    for j in judgments:
        if j.status != "ok":
            continue
        pairs: list[tuple[str | None, float | None]]
        if j.kind == "pairwise":
            pairs = []
            if j.model_b and j.model_b != baseline:
                pairs.append((j.model_b, _pairwise(j, True)))
            if j.model and j.model != baseline and baseline is not None:
                pairs.append((j.model, _pairwise(j, False)))
        else:
            pairs = [(j.model, _pointwise(j))]
        for model, value in pairs:
            if model and value is not None and (wanted is None or model in wanted):
                sums[(j.query_id, model)].append(value)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for (qid, model), values in sums.items():
        out[qid][model] = float(np.mean(values))
    return dict(out)


def score_matrix(
    queries: Sequence[Query], scores: dict[str, dict[str, float]], models: Sequence[str]
) -> tuple[list[Query], np.ndarray]:
    """Queries with a score for EVERY model, and their (n × M) score matrix."""
    kept = [q for q in queries if all(m in scores.get(q.id, {}) for m in models)]
    return kept, np.array([[scores[q.id][m] for m in models] for q in kept], dtype=np.float64)
