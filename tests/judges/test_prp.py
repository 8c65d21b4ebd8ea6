"""PRP: all-pairs, sorting and sliding top-k rank by the judge's pairwise preferences."""

from __future__ import annotations

import json
import random
import re

import pytest

from judgebench.judges import PRPRanker
from judgebench.judges.prp import INVALID_COMPARISONS
from judgebench.prompts import unfence

QUERY = "Which passage explains photosynthesis best?"


def quality(text: str) -> int:
    return int(re.search(r"quality (\d+)", text).group(1))


def by_quality(prompt: str, model: str) -> str:
    blocks = unfence(prompt)
    a, b = quality(blocks["CANDIDATE_A"][0]), quality(blocks["CANDIDATE_B"][0])
    return json.dumps({"preferred": "A" if a > b else "B"})


def candidates(n: int, seed: int = 3) -> list[str]:
    qualities = list(range(n))
    random.Random(seed).shuffle(qualities)
    return [f"passage with quality {q}" for q in qualities]


@pytest.mark.parametrize("method", ["allpairs", "sorting"])
async def test_full_rankings_are_correct(scripted, method):
    backend = scripted(responder=by_quality)
    cands = candidates(9)
    ranking = await PRPRanker("scripted/judge", method=method).rank(QUERY, cands)
    assert [quality(cands[i]) for i in ranking.order] == list(range(8, -1, -1))
    assert ranking.calls == len(backend.prompts) == 2 * len(ranking.comparisons)  # both orders
    if method == "allpairs":
        assert len(ranking.comparisons) == 36
    else:
        assert len(ranking.comparisons) < 36  # O(N log N)
    best = ranking.judgments[ranking.order[0]]
    assert best.details["rank"] == 1 and best.score == 1.0 and best.kind == "ranking"
    assert all(c.kind == "pairwise" and c.ok for c in ranking.comparisons)


async def test_sliding_window_finds_the_exact_top_k(scripted):
    scripted(responder=by_quality)
    cands = candidates(12, seed=7)
    ranking = await PRPRanker("scripted/judge", method="sliding", k=3).rank(QUERY, cands)
    assert [quality(cands[i]) for i in ranking.order[:3]] == [11, 10, 9]
    assert len(ranking.comparisons) <= 3 * 11
    assert ranking.judgments[ranking.order[0]].details["exact_rank"] is True


async def test_position_bias_gives_ties_and_all_pairs_keeps_input_order(scripted):
    scripted(responder=lambda p, m: json.dumps({"preferred": "A"}))
    ranking = await PRPRanker("scripted/judge").rank(QUERY, candidates(4))
    assert ranking.order == [0, 1, 2, 3]
    assert all(
        c.verdict == "tie" and "position_inconsistent" in c.flags for c in ranking.comparisons
    )


async def test_invalid_comparisons_are_recorded_and_flagged(scripted):
    def respond(prompt, model):
        blocks = unfence(prompt)
        if "quality 0" in blocks["CANDIDATE_A"][0] + blocks["CANDIDATE_B"][0]:
            return "Both passages have merits; it depends."
        return by_quality(prompt, model)

    scripted(responder=respond)
    cands = candidates(4)
    ranking = await PRPRanker("scripted/judge", max_repairs=0).rank(QUERY, cands)
    assert ranking.invalid_comparisons == 3
    worst = next(i for i, c in enumerate(cands) if quality(c) == 0)
    assert INVALID_COMPARISONS in ranking.judgments[worst].flags
    assert all(c.reason for c in ranking.comparisons if not c.ok)
    # the other three are still ranked correctly among themselves
    others = [quality(cands[i]) for i in ranking.order if i != worst]
    assert others == sorted(others, reverse=True)


def test_sync_rank_and_bad_method(scripted):
    scripted(responder=by_quality)
    ranking = PRPRanker("scripted/judge").rank_sync(QUERY, candidates(3), method="sorting")
    assert len(ranking.order) == 3
    with pytest.raises(ValueError):
        PRPRanker("scripted/judge", method="bubble")
