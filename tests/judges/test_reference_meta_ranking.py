"""Meta Ranking against the paper's formula (arXiv 2402.12146, §3 "Meta Ranking"; no official
code is published). Each of N references from other queries, with known label y, is compared
with the target; the vote is +1 (target beats a correct reference), −1 (loses to an incorrect
one), +λ (beats an incorrect one), −λ (loses to a correct one); s = the mean vote and the
response is reliable iff s > τ. The expected values below are written out from that table, and
the cascade (routing/cascade.py) must take the SAME decision at s = τ as the judge.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from judgebench.judges import MetaRankingJudge, ReferenceStore, choose_tau
from judgebench.judges.meta_ranking import is_reliable_score
from judgebench.prompts import unfence
from judgebench.records import Query
from judgebench.routing.calibration import replay

# (target won?, reference correct?) → vote, the paper's table with λ
PAPER_VOTE = {(True, True): 1.0, (False, False): -1.0}


def paper_vote(won: bool, ref_correct: bool, lam: float) -> float:
    return PAPER_VOTE.get((won, ref_correct), lam if won else -lam)


def store() -> ReferenceStore:
    refs = ReferenceStore()
    for i in range(4):
        refs.add_example(f"Q{i}: {i} + {i}?", f"{2 * i}. GOOD-{i}", True)
        refs.add_example(f"Q{i + 10}: {i} * 3?", f"{3 * i + 1}. BAD-{i}", False)
    return refs


def consistent_judge(target_beats: set[str]):
    """Says the target is more reliable exactly against the references named in
    ``target_beats`` (by their marker), the same in both orders."""

    def respond(prompt: str, model: str) -> str:
        blocks = unfence(prompt)
        a, b = blocks["RESPONSE_A"][0], blocks["RESPONSE_B"][0]
        target_first = "TARGET" in a
        other = b if target_first else a
        wins = any(marker in other for marker in target_beats)
        return json.dumps({"reason": "r", "more_reliable": "A" if wins == target_first else "B"})

    return respond


@pytest.mark.parametrize("lam", [0.25, 0.5])
@pytest.mark.parametrize("beats", [{"GOOD", "BAD"}, {"BAD"}, {"GOOD"}, set()])
async def test_score_is_the_mean_paper_vote(scripted, lam, beats):
    scripted(responder=consistent_judge(beats))
    judge = MetaRankingJudge("scripted/j", store(), n_references=4, lam=lam)
    j = await judge.evaluate(Query(text="What is 2 + 2?"), "4. TARGET")
    rows = j.details["references"]
    won = {r["reference"]: r["outcomes"][0] == 1.0 for r in rows}
    expected = np.mean([paper_vote(won[r["reference"]], r["correct"], lam) for r in rows])
    assert j.score == pytest.approx(expected)
    assert j.details["reliable"] == (expected > 0.0)  # default τ = 0, strict


async def test_s_equal_tau_is_unreliable_in_judge_calibration_and_cascade_replay(scripted):
    # beating the two incorrect and losing to the two correct references: s = (2λ − 2λ)/4 = 0
    scripted(responder=consistent_judge({"BAD"}))
    judge = MetaRankingJudge("scripted/j", store(), n_references=4, tau=0.0)
    j = await judge.evaluate(Query(text="What is 2 + 2?"), "4. TARGET")
    assert j.score == 0.0
    assert j.details["reliable"] is False and judge.is_reliable(j) is False
    assert is_reliable_score(0.0, 0.0) is False and is_reliable_score(0.01, 0.0) is True
    # calibration: the labelled items at s = τ are flagged unreliable...
    scores, correct = [0.0, 0.0, 0.5, -0.5], [False, False, True, False]
    report = choose_tau(scores, correct)
    assert report.tau == 0.0 and report.recall == 1.0 and report.precision == 1.0
    # ...and the cascade's offline replay at that τ escalates exactly those (s ≤ τ) items
    stage_scores = np.array([[s, -np.inf] for s in scores])
    correct_by_stage = np.array([[float(c), 1.0] for c in correct])
    zeros = np.zeros((4, 2))
    _, _, strong_share = replay(stage_scores, correct_by_stage, zeros, zeros, np.array([0.0]))
    assert strong_share == pytest.approx(3 / 4)
