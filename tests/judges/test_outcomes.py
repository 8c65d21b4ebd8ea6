"""A judgment made of several exchanges never hides a transport error behind an invalid reply.

Pairwise (two orders), PC² (criteria + scoring), Meta Ranking (one comparison per reference) and
any judge built on ``Judge.make_judgment`` combine several exchanges. Whatever the order of the
outcomes, an ``error`` among them makes the judgment ``error`` (the job stores it as an error
row and a rerun retries it) and the reason names every failed exchange.
"""

from __future__ import annotations

from itertools import product

import pytest

from judgebench.judges import MetaRankingJudge, RubricJudge
from judgebench.judges.base import Exchange
from judgebench.llm import BadRequestError
from judgebench.prompts import unfence
from judgebench.records import Query, Response, Usage
from tests.judges.test_meta_ranking import TARGET, TARGET_Q, references

Q = Query(text="What is the capital of France?")
R = Response(query_id=Q.id, model="sim/strong", text="Paris.")
OUTCOMES = [
    combo
    for n in (1, 2, 3)
    for combo in product(("ok", "invalid", "error"), repeat=n)
    if set(combo) != {"ok"}
]


def exchange(status: str, i: int) -> Exchange[int]:
    value = 5 if status == "ok" else None
    reason = None if status == "ok" else f"{status} reason {i}"
    return Exchange(value, status, reason, [f"reply {i}"], Usage(), None)


@pytest.mark.parametrize("statuses", OUTCOMES, ids="-".join)
def test_make_judgment_status_is_error_whenever_an_exchange_errored(statuses):
    judge = RubricJudge("scripted/judge")
    exchanges = [exchange(s, i) for i, s in enumerate(statuses)]
    j = judge.make_judgment(
        template=judge.template("rubric"),
        query=Q,
        response=R,
        exchanges=exchanges,
        params=judge.params(),
        score=5.0,
    )
    assert j.status == ("error" if "error" in statuses else "invalid")
    assert j.score is None and j.reason
    for i, s in enumerate(statuses):
        assert (f"{s} reason {i}" in j.reason) == (s != "ok")
    assert ("mixed outcome" in j.reason) == (len(set(statuses)) > 1)


@pytest.mark.parametrize("error_first", [True, False])
async def test_meta_ranking_too_few_usable_comparisons_keeps_the_error(scripted, error_first):
    """Every comparison but one is unusable and one ends in a transport error: the judgment
    is an error (it was ``invalid`` whenever an unusable reply came first)."""
    failing = "It is 0." if error_first else "It is 10."

    def respond(prompt, model):
        blocks = unfence(prompt)
        if failing in blocks["RESPONSE_A"][0] + blocks["RESPONSE_B"][0]:
            return BadRequestError("HTTP 400: transport failure", status=400)
        return "I can't decide."

    scripted(responder=respond)
    store = references()
    j = await MetaRankingJudge("scripted/judge", store, max_repairs=0, n_references=12).evaluate(
        TARGET_Q, TARGET
    )
    statuses = [r["status"] for r in j.details["references"]]
    assert "error" in statuses and "invalid" in statuses
    assert j.status == "error" and "transport failure" in j.reason
