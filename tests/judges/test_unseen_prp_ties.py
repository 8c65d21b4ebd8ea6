"""PRP rankings whose places rest on judge ties (or lie below a top-k cut) share one score, so
a job's summary (rankings read as pairwise outcomes) never turns a tie into a win for whichever
candidate happened to come first in the input."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from judgebench.jobs.summary import ranking_pairs
from judgebench.judges import PRPRanker
from judgebench.prompts import unfence

QUERY = "Which passage explains photosynthesis best?"


def quality(text: str) -> int:
    return int(re.search(r"quality (\d+)", text).group(1))


def by_quality(prompt: str, model: str) -> str:
    """Prefers the higher quality; equal qualities get 'B' in both orders: a position flip."""
    blocks = unfence(prompt)
    a, b = quality(blocks["CANDIDATE_A"][0]), quality(blocks["CANDIDATE_B"][0])
    return json.dumps({"preferred": "A" if a > b else "B"})


def scores(ranking) -> list[float]:  # type: ignore[no-untyped-def]
    return [j.score for j in ranking.judgments]


async def test_two_tied_candidates_are_a_tie_in_the_summary_not_a_win(scripted):
    scripted(responder=lambda p, m: json.dumps({"preferred": "A"}))  # pure position bias
    ranking = await PRPRanker("scripted/judge", method="allpairs").rank(
        QUERY, ["passage with quality 1", "passage with quality 1"]
    )
    assert ranking.comparisons[0].verdict == "tie"
    assert scores(ranking) == [0.5, 0.5]
    frame = pd.DataFrame(
        {"query_id": ["q", "q"], "model": ["sim/a", "sim/b"], "score": scores(ranking)}
    )
    assert ranking_pairs(frame)["outcome"].tolist() == [0.5]


@pytest.mark.parametrize("method", ["allpairs", "sorting"])
async def test_a_tied_group_shares_the_mean_of_its_places(scripted, method):
    scripted(responder=by_quality)
    cands = ["passage with quality 1", "passage with quality 3", "passage with quality 1"]
    ranking = await PRPRanker("scripted/judge", method=method).rank(QUERY, cands)
    assert ranking.order[0] == 1
    # places 2 and 3 are a tie: both get place 2.5 → (3 - 2.5) / 2
    assert scores(ranking) == [0.25, 1.0, 0.25]
    assert {j.details["rank"] for j in ranking.judgments} == {1, 2, 3}  # positions are kept


async def test_below_the_top_k_every_candidate_shares_one_score(scripted):
    scripted(responder=by_quality)
    cands = [f"passage with quality {q}" for q in (2, 0, 4, 1, 3)]
    ranking = await PRPRanker("scripted/judge", method="heapsort", k=2).rank(QUERY, cands)
    assert [quality(cands[i]) for i in ranking.order[:2]] == [4, 3]
    by_quality_score = {quality(c): j.score for c, j in zip(cands, ranking.judgments, strict=True)}
    assert by_quality_score[4] == 1.0 and by_quality_score[3] == 0.75
    # places 3-5 are unresolved (input order): mean place 4 → (5 - 4) / 4
    assert by_quality_score[2] == by_quality_score[1] == by_quality_score[0] == 0.25


async def test_a_candidate_with_no_parsed_comparison_is_invalid_not_ranked(scripted):
    def respond(prompt: str, model: str) -> str:
        blocks = unfence(prompt)
        if "quality 9" in blocks["CANDIDATE_A"][0] + blocks["CANDIDATE_B"][0]:
            return "Both are fine; it depends on the reader."  # never a verdict
        return by_quality(prompt, model)

    scripted(responder=respond)
    cands = ["passage with quality 1", "passage with quality 9", "passage with quality 2"]
    ranking = await PRPRanker("scripted/judge", max_repairs=0).rank(QUERY, cands)
    unranked = ranking.judgments[1]
    assert unranked.status == "invalid" and unranked.score is None
    assert unranked.reason.startswith("all 2 comparisons invalid, e.g. ")
    assert set(unranked.details["comparison_ids"]) == {
        c.id for c in ranking.comparisons if c.status == "invalid"
    }
    invalid = [c for c in ranking.comparisons if c.status == "invalid"]
    assert unranked.raw_replies == [r for c in invalid for r in c.raw_replies]
    assert "it depends on the reader" in unranked.raw_replies[0]
    # the two it was never compared with validly are still ranked, from their own comparison
    assert [ranking.judgments[i].score for i in (0, 2)] == [0.0, 1.0]


async def test_a_judge_that_never_parses_ranks_nobody(scripted):
    scripted(responder=lambda p, m: "I cannot decide between these.")
    ranking = await PRPRanker("scripted/judge", max_repairs=0).rank(
        QUERY, ["passage with quality 1", "passage with quality 2"]
    )
    assert [j.status for j in ranking.judgments] == ["invalid", "invalid"]
    assert all(j.score is None for j in ranking.judgments)
