"""Meta Ranking: reference selection, votes with λ, both orders, soft mode, calibration."""

from __future__ import annotations

import json
import math

import pytest

from judgebench.judges import MetaRankingJudge, Reference, ReferenceStore, choose_tau
from judgebench.judges.meta_ranking import (
    PARTIAL_REFERENCES,
    TOO_FEW_REFERENCES,
    UNBALANCED_REFERENCES,
    auroc,
    vote,
)
from judgebench.llm import Completion, TokenLogprob
from judgebench.prompts import unfence
from judgebench.records import Query, Usage

TARGET_Q = Query(text="What is 12 * 11?")
TARGET = "12 * 11 = 132. TARGET"


def references(n_good=6, n_bad=6) -> ReferenceStore:
    store = ReferenceStore()
    for i in range(n_good):
        store.add_example(f"Question {i}: what is {i} + {i}?", f"It is {2 * i}. CORRECT-REF", True)
    for i in range(n_bad):
        store.add_example(
            f"Question {i + 100}: what is {i} * 3?", f"It is {i * 3 + 1}. WRONG-REF", False
        )
    return store


def responder(rule):
    """``rule(target_text_side, other_text) -> "target" | "other" | "first"`` decides each reply."""

    def respond(prompt: str, model: str) -> str:
        blocks = unfence(prompt)
        a, b = blocks["RESPONSE_A"][0], blocks["RESPONSE_B"][0]
        target_first = "TARGET" in a
        other = b if target_first else a
        winner = rule(other)
        if winner == "first":
            verdict = "A"
        else:
            verdict = "A" if (winner == "target") == target_first else "B"
        return json.dumps({"reason": "r", "more_reliable": verdict})

    return respond


def judge(store=None, **kw) -> MetaRankingJudge:
    return MetaRankingJudge("scripted/judge", store if store is not None else references(), **kw)


def counts(j):
    refs = j.details["references"]
    return sum(r["correct"] for r in refs), sum(not r["correct"] for r in refs)


async def test_votes_target_loses_to_correct_and_beats_wrong(scripted):
    scripted(responder=responder(lambda other: "other" if "CORRECT" in other else "target"))
    j = await judge().evaluate(TARGET_Q, TARGET)
    n_good, n_bad = counts(j)
    assert n_good + n_bad == 5 and abs(n_good - n_bad) == 1  # class-balanced
    assert j.score == pytest.approx((-0.25 * n_good + 0.25 * n_bad) / 5)
    assert j.kind == "reliability" and len(j.raw_replies) == 10  # 5 references × both orders


async def test_votes_target_beats_everything(scripted):
    scripted(responder=responder(lambda other: "target"))
    j = await judge(lam=0.5).evaluate(TARGET_Q, TARGET)
    n_good, n_bad = counts(j)
    assert j.score == pytest.approx((1.0 * n_good + 0.5 * n_bad) / 5)
    assert j.details["reliable"] is True


async def test_votes_target_loses_to_everything(scripted):
    scripted(responder=responder(lambda other: "other"))
    j = await judge().evaluate(TARGET_Q, TARGET)
    n_good, n_bad = counts(j)
    assert j.score == pytest.approx((-0.25 * n_good - 1.0 * n_bad) / 5)
    assert j.details["reliable"] is False


async def test_position_bias_flips_are_ties_with_zero_vote(scripted):
    scripted(responder=responder(lambda other: "first"))
    j = await judge().evaluate(TARGET_Q, TARGET)
    assert j.score == 0.0 and all(r["vote"] == 0.0 for r in j.details["references"])
    # one order only: the target is always shown first, so the biased judge always picks it
    scripted(responder=responder(lambda other: "first"))
    one = await judge(both_orders=False).evaluate(TARGET_Q, TARGET)
    n_good, n_bad = counts(one)
    assert one.score == pytest.approx((n_good + 0.25 * n_bad) / 5) and len(one.raw_replies) == 5


def test_selection_excludes_the_target_query_and_is_seeded():
    store = references()
    store.add_example("What is 12 * 11?", "132", True)  # same query text: must never be used
    store.add_example("  what is 12 * 11 ", "131", False)  # same after normalisation
    picked, balanced = store.select(TARGET_Q, 5, seed=1)
    assert balanced and len(picked) == 5
    assert all("12 * 11" not in r.query for r in picked)
    again, _ = store.select(TARGET_Q, 5, seed=1)
    assert [r.id for r in again] == [r.id for r in picked]
    seeds = {tuple(sorted(r.id for r in store.select(TARGET_Q, 5, seed=s)[0])) for s in range(8)}
    assert len(seeds) > 1  # the seed matters


async def test_unbalanced_reference_pool_is_flagged(scripted):
    scripted(responder=responder(lambda other: "target"))
    j = await judge(references(n_good=8, n_bad=1)).evaluate(TARGET_Q, TARGET)
    assert UNBALANCED_REFERENCES in j.flags and counts(j)[1] == 1


async def test_unusable_comparisons_are_left_out_and_flagged(scripted):
    def respond(prompt, model):
        blocks = unfence(prompt)
        if "It is 0." in blocks["RESPONSE_A"][0] + blocks["RESPONSE_B"][0]:
            return "I can't decide, it depends."
        return responder(lambda other: "target")(prompt, model)

    scripted(responder=respond)
    store = ReferenceStore(list(references()))
    j = await judge(store, max_repairs=0, n_references=12).evaluate(TARGET_Q, TARGET)
    bad = [r for r in j.details["references"] if r["status"] != "ok"]
    assert len(bad) == 1 and PARTIAL_REFERENCES in j.flags and j.details["valid_references"] == 11
    ok = [r for r in j.details["references"] if r["status"] == "ok"]
    assert j.score == pytest.approx(sum(r["vote"] for r in ok) / 11)


async def test_too_few_usable_comparisons_is_invalid(scripted):
    scripted(responder=lambda p, m: "no idea")
    j = await judge(max_repairs=0).evaluate(TARGET_Q, TARGET)
    assert j.status == "invalid" and j.score is None and "0 of 5" in j.reason


async def test_no_references_is_invalid_with_the_reason_not_a_score(scripted):
    backend = scripted(responder=responder(lambda other: "target"))
    j = await judge(ReferenceStore()).evaluate(TARGET_Q, TARGET)
    # a data condition a rerun cannot fix: invalid (kept), not an error (retried every run)
    assert j.status == "invalid" and j.score is None
    assert "only 0 references from other queries available" in j.reason
    assert TOO_FEW_REFERENCES in j.flags and j.details["available_references"] == 0
    assert backend.prompts == []  # no call was made


async def test_soft_mode_uses_option_token_probabilities(scripted):
    p_first = 0.8  # the judge puts 0.8 on whichever response is shown first

    def respond(prompt, model):
        text = json.dumps({"reason": "r", "more_reliable": "A"})
        lp = [
            TokenLogprob(token='{"reason": "r", "more_reliable": "', logprob=-0.1),
            TokenLogprob(
                token="A",
                logprob=math.log(p_first),
                top_logprobs={"A": math.log(p_first), "B": math.log(1 - p_first)},
            ),
            TokenLogprob(token='"}', logprob=-0.01),
        ]
        return Completion(
            model=model,
            text=text,
            finish_reason="stop",
            usage=Usage(prompt_tokens=10, completion_tokens=5),
            logprobs=lp,
        )

    scripted(responder=respond)
    j = await judge(soft=True).evaluate(TARGET_Q, TARGET)
    n_good, n_bad = counts(j)
    # order 1: target first → p=0.8; order 2: target second → p=0.2; each reference averages them
    per_good = (vote(0.8, True, 0.25) + vote(0.2, True, 0.25)) / 2
    per_bad = (vote(0.8, False, 0.25) + vote(0.2, False, 0.25)) / 2
    assert j.score == pytest.approx((n_good * per_good + n_bad * per_bad) / 5)
    assert j.details["references"][0]["p_target"] == pytest.approx([0.8, 0.2])


async def test_soft_mode_without_logprobs_falls_back_to_hard_and_says_so(scripted):
    scripted(responder=responder(lambda other: "target"))
    j = await judge(soft=True).evaluate(TARGET_Q, TARGET)
    assert "soft_unavailable" in j.flags and j.ok


def test_calibrate_f1_and_precision_targets():
    scores = [0.9, 0.8, 0.7, 0.2, 0.1, -0.2, -0.5, -0.6, 0.05, 0.3]
    correct = [True, True, True, True, False, False, False, False, True, False]
    mr = MetaRankingJudge("scripted/judge", [])
    report = mr.calibrate(scores, correct, target="f1")
    flagged = [s <= report.tau for s in scores]
    tp = sum(f and not c for f, c in zip(flagged, correct, strict=True))
    fp = sum(f and c for f, c in zip(flagged, correct, strict=True))
    assert report.precision == pytest.approx(tp / (tp + fp)) and report.recall == pytest.approx(
        tp / 5
    )
    assert mr.tau == report.tau and report.f1 >= 0.8
    # correct beat incorrect in 5 + 5 + 5 + 4 + 3 = 22 of 25 pairs
    assert report.auroc == pytest.approx(22 / 25)
    strict = choose_tau(scores, correct, target="precision", min_precision=1.0)
    assert (
        strict.precision == 1.0
        and strict.recall == pytest.approx(3 / 5)
        and strict.tau == pytest.approx(-0.2)
    )
    with pytest.raises(ValueError):
        choose_tau(scores, [True] * len(scores))


def test_auroc_ties_count_half():
    assert auroc([0.5, 0.5], [True, False]) == 0.5 and auroc([1.0], [True]) is None


def test_reference_ids_are_content_keys():
    a = Reference(query="q", response="r", correct=True)
    assert (
        a.id
        == Reference(query="q", response="r", correct=True).id
        != Reference(query="q", response="r", correct=False).id
    )
