"""Language Ranker (arXiv 2404.11553, §3): the paper's metric is the mean over sentence pairs of
the cosine between the last-token hidden states of the English sentence and of its translation,
per layer (embedding layer excluded), averaged over layers; languages are ranked by it. The
expected values are computed here from that formula with plain numpy loops, on random states
where the mismatched-pair baseline reorders the languages.
"""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.probes.language_ranker import RankerSettings, rank
from judgebench.probes.ranker import bootstrap_weights, language_scores


def paper_similarity(english: np.ndarray, other: np.ndarray) -> float:
    """mean over layers of mean over pairs of cos(e_i, x_i), written out as in the paper."""
    per_layer = []
    for layer in range(english.shape[0]):
        cosines = [
            float(e @ x / (np.linalg.norm(e) * np.linalg.norm(x)))
            for e, x in zip(english[layer], other[layer], strict=True)
        ]
        per_layer.append(sum(cosines) / len(cosines))
    return sum(per_layer) / len(per_layer)


def test_default_ranking_is_the_papers_raw_cosine():
    rng = np.random.default_rng(5)
    n_layers, n, dim = 3, 40, 16
    base = rng.normal(size=(n_layers, n, dim))
    shared = rng.normal(size=(n_layers, 1, dim))  # an offset common to every sentence
    english = base + 2.0 * shared
    languages = {
        "close": english + rng.normal(scale=1.0, size=english.shape),
        # mostly the shared offset: a high raw cosine that mismatched pairs reach as well
        "offset": 0.1 * base + 2.0 * shared + rng.normal(scale=0.3, size=english.shape),
        "far": base + rng.normal(scale=2.0, size=english.shape),
    }
    weights = bootstrap_weights(n, 50, 0)
    rows = []
    expected = {}
    for code, states in languages.items():
        scores = language_scores(english, states, layers=(1, 2, 3), weights=weights)
        expected[code] = paper_similarity(english, states)
        assert scores.agg_raw == pytest.approx(expected[code], abs=1e-9)
        rows.append({"language": code, "raw": scores.agg_raw, "score": scores.agg_score})
    assert RankerSettings().metric == "raw"
    by_paper = sorted(expected, key=lambda c: -expected[c])
    assert [r["language"] for r in rank(rows)] == by_paper
    corrected = [r["language"] for r in rank(rows, "corrected")]
    assert corrected == [r["language"] for r in sorted(rows, key=lambda r: -r["score"])]
    assert corrected != by_paper  # the shared offset lifts "offset" by raw cosine only
