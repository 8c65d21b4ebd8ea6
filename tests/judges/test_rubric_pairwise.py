"""RubricJudge and PairwiseJudge with scripted replies: records, repair loop, swap → tie."""

from __future__ import annotations

import json

import pytest

from judgebench.judges import POSITION_INCONSISTENT, PairwiseJudge, RubricJudge, invalid_rates
from judgebench.llm import BadRequestError
from judgebench.prompts import unfence
from judgebench.records import Query, Response

Q = Query(text="What is the capital of France?")
GOOD = Response(query_id=Q.id, model="sim/strong", text="Paris is the capital of France.")
BAD = Response(query_id=Q.id, model="sim/weak", text="I think it might be Lyon.")


async def test_rubric_ok_records_everything(scripted):
    backend = scripted(['Reasoning... {"rationale": "Correct and direct.", "score": 9}'])
    judge = RubricJudge("scripted/judge")
    j = await judge.evaluate(Q, GOOD)
    assert j.ok and j.score == 9 and j.rationale == "Correct and direct."
    assert j.model == "sim/strong" and j.judge_model == "scripted/judge" and j.kind == "pointwise"
    assert j.template_name == "judges:rubric" and len(j.template_hash) == 16
    assert j.params["scale"] == [1, 10] and j.params["temperature"] == 0.0
    assert j.raw_replies == ['Reasoning... {"rationale": "Correct and direct.", "score": 9}']
    assert j.usage.total_tokens > 0
    # the response reached the judge fenced, with the nonce the template names
    blocks = unfence(backend.prompts[0])
    assert blocks["RESPONSE"] == [GOOD.text] and blocks["QUERY"] == [Q.text]


async def test_unparseable_reply_is_repaired(scripted):
    backend = scripted(["It is a good answer.", '{"rationale": "fine", "score": 7}'])
    j = await RubricJudge("scripted/judge").evaluate(Q, GOOD)
    assert j.ok and j.score == 7 and len(j.raw_replies) == 2
    assert "could not be used" in backend.prompts[1] and "no answer block" in backend.prompts[1]


async def test_invalid_after_repairs_keeps_raw_and_reason_and_no_score(scripted):
    replies = ['{"score": 11}', "eleven out of ten", '{"score": "7-8"}']
    scripted(list(replies))
    judge = RubricJudge("scripted/judge", max_repairs=2)
    j = await judge.evaluate(Q, GOOD)
    assert j.status == "invalid" and j.score is None
    assert j.raw_replies == replies
    assert "range" in j.reason and "3 attempts" in j.reason
    assert judge.stats.invalid_rates()[("scripted/judge", "sim/strong")] == 1.0


async def test_transport_failure_is_an_error_judgment(scripted):
    scripted([BadRequestError("400 unknown parameter", status=400)])
    j = await RubricJudge("scripted/judge").evaluate(Q, GOOD)
    assert j.status == "error" and j.score is None and "BadRequestError" in j.reason


def test_sync_facade_and_plain_strings(scripted):
    scripted(['{"rationale": "ok", "score": 6}', '{"rationale": "ok", "score": 6}'])
    judge = RubricJudge("scripted/judge")
    a = judge.evaluate_sync("Name a prime number.", "7 is prime.")
    b = judge.evaluate_sync("Name a prime number.", "11 is prime.")
    assert a.score == 6 and a.model is None  # plain text: no evaluated model
    assert a.response_id != b.response_id and a.id != b.id  # different texts never share a key


async def test_sync_facade_inside_running_loop(scripted):
    scripted(['{"rationale": "ok", "score": 5}'])
    assert RubricJudge("scripted/judge").evaluate_sync(Q, GOOD).score == 5  # notebook case


async def test_template_override_by_path_with_concrete_example(scripted, tmp_path):
    custom = tmp_path / "strict_rubric.j2"
    custom.write_text(
        "Rate it. {{ query }} {{ response }} {{ rubric }} {{ low }}-{{ high }} {{ nonce }}{{ reference or '' }}\n"
        'Example: {"rationale": "Accurate and complete.", "score": 7}\n'
    )
    # the judge echoes the example first, then answers: the echo must never be taken
    scripted(
        [
            'Following the example {"rationale": "Accurate and complete.", "score": 7} -> {"rationale": "wrong city", "score": 2}'
        ]
    )
    judge = RubricJudge("scripted/judge", templates={"rubric": custom})
    j = await judge.evaluate(Q, BAD)
    assert j.score == 2 and j.template_name == "strict_rubric"
    scripted(['{"rationale": "Accurate and complete.", "score": 7}'] * 3)
    echo_only = await judge.evaluate(Q, GOOD)
    assert echo_only.status == "invalid" and "echoes the template" in echo_only.reason


def _pairwise_responder(prefer_first: bool):
    """A judge that always picks the first-shown (position-biased) or the text with 'Paris'."""

    def respond(prompt: str, model: str) -> str:
        blocks = unfence(prompt)
        a, b = blocks["RESPONSE_A"][0], blocks["RESPONSE_B"][0]
        if prefer_first:
            verdict = "A"
        else:
            verdict = "A" if "Paris" in a else "B" if "Paris" in b else "tie"
        return json.dumps({"reason": "compared", "verdict": verdict})

    return respond


async def test_pairwise_consistent_both_orders(scripted):
    scripted(responder=_pairwise_responder(prefer_first=False))
    judge = PairwiseJudge("scripted/judge")
    j = await judge.evaluate_pair(Q, BAD, GOOD)
    assert j.verdict == "B" and j.score == 0.0 and j.details["position_consistent"] is True
    assert j.model == "sim/weak" and j.model_b == "sim/strong" and j.kind == "pairwise"
    assert len(j.raw_replies) == 2 and POSITION_INCONSISTENT not in j.flags


async def test_pairwise_position_bias_becomes_tie(scripted):
    scripted(responder=_pairwise_responder(prefer_first=True))
    j = await PairwiseJudge("scripted/judge").evaluate_pair(Q, GOOD, BAD)
    assert j.verdict == "tie" and POSITION_INCONSISTENT in j.flags
    assert j.details["verdict_ab"] == "A" and j.details["verdict_ba"] == "B"


async def test_pairwise_one_order_invalid_makes_judgment_invalid(scripted):
    scripted(['{"verdict": "A"}', "Both are fine, it depends.", "hard to say", "no idea"])
    j = await PairwiseJudge("scripted/judge", max_repairs=2).evaluate_pair(Q, GOOD, BAD)
    assert j.status == "invalid" and j.verdict is None and len(j.raw_replies) == 4
    rates = invalid_rates([j])
    assert rates[("pairwise", "scripted/judge", "sim/strong")]["invalid_rate"] == 1.0


async def test_pairwise_single_order_option(scripted):
    backend = scripted(['{"verdict": "B"}'])
    j = await PairwiseJudge("scripted/judge", both_orders=False).evaluate_pair(Q, BAD, GOOD)
    assert j.verdict == "B" and len(backend.prompts) == 1 and j.params["both_orders"] is False


@pytest.mark.parametrize("max_repairs", [0, 1])
async def test_repair_limit_is_respected(scripted, max_repairs):
    backend = scripted(["no verdict"] * 5)
    j = await RubricJudge("scripted/judge", max_repairs=max_repairs).evaluate(Q, GOOD)
    assert j.status == "invalid" and len(backend.prompts) == max_repairs + 1


ORDER_OUTCOMES = [
    (first, second)
    for first in ("ok", "invalid", "error")
    for second in ("ok", "invalid", "error")
    if (first, second) != ("ok", "ok")
]


@pytest.mark.parametrize(("ab", "ba"), ORDER_OUTCOMES)
async def test_pairwise_mixed_orders_never_hide_an_error(scripted, ab, ba):
    """Every combination of order outcomes: a transport error in either order makes the
    judgment ``error`` (the stage stores it as an error row and a rerun retries it); the
    reason names each failed order, and a mixed outcome says it was mixed."""
    replies = {
        "ok": '{"reason": "A is right", "verdict": "A"}',
        "invalid": "I cannot decide.",
        "error": BadRequestError("HTTP 400: transport failure", status=400),
    }

    def respond(prompt: str, model: str):
        first = unfence(prompt)["RESPONSE_A"][0]
        return replies[ab if first == GOOD.text else ba]

    scripted(responder=respond)
    j = await PairwiseJudge("scripted/judge", max_repairs=0).evaluate_pair(Q, GOOD, BAD)
    outcomes = {ab, ba}
    assert j.status == ("error" if "error" in outcomes else "invalid")
    assert j.score is None and j.verdict is None and j.reason
    for label, outcome in (("order A-B", ab), ("order B-A", ba)):
        assert (f"{label} {outcome}:" in j.reason) == (outcome != "ok")
    assert ("mixed outcome" in j.reason) == (len(outcomes) > 1)
    if "error" in outcomes:
        assert "transport failure" in j.reason
    assert j.details["order_status"] == [ab, ba]
