"""PC²: criteria validated and reused per query, the score computed in code, SQL persistence."""

from __future__ import annotations

import json

import pytest

from judgebench.judges import WEIGHTS_RENORMALISED, MemoryCriteriaStore, PC2Judge
from judgebench.judges.pc2 import renormalise, weighted_score
from judgebench.prompts import unfence
from judgebench.records import Query, Response

Q = Query(text="Explain how vaccines train the immune system.")
CRITERIA = {
    "criteria": [
        {"name": "Accuracy", "weight": 50, "description": "correct biology"},
        {"name": "Coverage", "weight": 30, "description": "antigens, memory cells"},
        {"name": "Clarity", "weight": 20, "description": "plain language"},
    ]
}


def critique(scores):
    return json.dumps(
        {"critique": [{"criterion": n, "score": s, "note": "ok"} for n, s in scores.items()]}
    )


def candidate_scores(scores, total_claim=None):
    payload = {"scores": [{"criterion": n, "score": s, "note": "n"} for n, s in scores.items()]}
    if total_claim is not None:
        payload["total"] = total_claim  # the model's own arithmetic: must be ignored
    return json.dumps(payload)


class PC2Script:
    """Replies by prompt kind; counts calls per kind."""

    def __init__(self, criteria=CRITERIA, cand=None):
        self.criteria = criteria
        self.cand = cand or {"Accuracy": 4, "Coverage": 2, "Clarity": 5}
        self.calls = {"aux": 0, "criteria": 0, "baseline": 0, "score": 0}
        self.seen: list[dict] = []

    def __call__(self, prompt: str, model: str) -> str:
        if '{"criteria": [' in prompt:
            self.calls["criteria"] += 1
            return "Comparing the answers...\n" + json.dumps(self.criteria)
        if '{"critique": [' in prompt:
            self.calls["baseline"] += 1
            return critique({"Accuracy": 3, "Coverage": 3, "Clarity": 4})
        if '{"scores": [' in prompt:
            self.calls["score"] += 1
            self.seen.append(unfence(prompt))
            return candidate_scores(self.cand, total_claim=999)
        self.calls["aux"] += 1
        return f"Answer from {model}: vaccines show the immune system an antigen."


def make_judge(**kw) -> PC2Judge:
    return PC2Judge("scripted/judge", aux_models=["scripted/a", "scripted/b", "scripted/c"], **kw)


def cand(model: str, text: str) -> Response:
    return Response(query_id=Q.id, model=model, text=text)


async def test_score_is_weighted_sum_computed_in_code(scripted):
    script = PC2Script()
    scripted(responder=script)
    j = await make_judge().evaluate(Q, cand("m1", "Vaccines expose the body to antigens."))
    assert j.ok and j.score == 50 * 4 + 30 * 2 + 20 * 5  # 360, not the claimed 999
    assert [(c.name, c.weight, c.score) for c in j.criteria] == [
        ("Accuracy", 50, 4),
        ("Coverage", 30, 2),
        ("Clarity", 20, 5),
    ]
    assert j.details["score_range"] == [100, 500] and j.model == "m1"
    assert j.template_name == "judges:pc2_score"
    # the candidate saw the baseline (aux answer 0) and its stored critique, fenced
    seen = script.seen[0]
    assert (
        seen["BASELINE"][0].startswith("Answer from scripted/a")
        and "Accuracy: 3" in seen["CRITIQUE"][0]
    )


async def test_criteria_are_computed_once_and_reused_for_every_model(scripted):
    script = PC2Script()
    scripted(responder=script)
    judge = make_judge()
    models = [f"model-{i}" for i in range(5)]
    out = await judge.evaluate_many([(Q, cand(m, f"answer by {m}")) for m in models])
    assert all(j.ok for j in out) and {j.model for j in out} == set(models)
    assert script.calls == {"aux": 3, "criteria": 1, "baseline": 1, "score": 5}
    # a later model costs exactly one judge call
    await judge.evaluate(Q, cand("model-late", "late answer"))
    assert script.calls["score"] == 6 and script.calls["criteria"] == 1 and script.calls["aux"] == 3


async def test_weights_not_summing_to_100_are_renormalised_and_flagged(scripted):
    off = {
        "criteria": [
            dict(c, weight=w) for c, w in zip(CRITERIA["criteria"], [50, 40, 30], strict=True)
        ]
    }
    scripted(responder=PC2Script(criteria=off))
    judge = make_judge()
    prepared = await judge.prepare(Q)
    assert [c.weight for c in prepared.criteria] == [42, 33, 25] and sum(
        c.weight for c in prepared.criteria
    ) == 100
    assert prepared.weights_renormalised and prepared.original_weights == [50, 40, 30]
    j = await judge.evaluate(Q, cand("m", "x"))
    assert WEIGHTS_RENORMALISED in j.flags and j.details["original_weights"] == [50, 40, 30]


@pytest.mark.parametrize(
    ("criteria", "reason"),
    [
        ({"criteria": CRITERIA["criteria"][:2]}, "2 primary criteria given, need 3-9"),
        (
            {
                "criteria": [
                    dict(c, weight=w)
                    for c, w in zip(CRITERIA["criteria"], [50, "thirty", 20], strict=True)
                ]
            },
            "word",
        ),
        ({"criteria": CRITERIA["criteria"] + [dict(CRITERIA["criteria"][0])]}, "given twice"),
        (
            {
                "criteria": [
                    dict(c, weight=w)
                    for c, w in zip(CRITERIA["criteria"], [50, 30.5, 19.5], strict=True)
                ]
            },
            "not an integer",
        ),
    ],
)
async def test_bad_criteria_make_every_candidate_invalid_without_scoring(
    scripted, criteria, reason
):
    script = PC2Script(criteria=criteria)
    scripted(responder=script)
    j = await make_judge(max_repairs=1).evaluate(Q, cand("m", "x"))
    assert (
        j.status == "invalid"
        and j.score is None
        and reason in j.reason
        and j.reason.startswith("criteria:")
    )
    assert script.calls["criteria"] == 2 and script.calls["score"] == 0 and len(j.raw_replies) == 2


async def test_candidate_reply_missing_a_criterion_is_invalid(scripted):
    script = PC2Script(cand={"Accuracy": 4, "Clarity": 5})
    scripted(responder=script)
    j = await make_judge(max_repairs=0).evaluate(Q, cand("m", "x"))
    assert j.status == "invalid" and "misses criteria: Coverage" in j.reason


async def test_out_of_range_criterion_score_is_invalid(scripted):
    scripted(responder=PC2Script(cand={"Accuracy": 6, "Coverage": 2, "Clarity": 5}))
    j = await make_judge(max_repairs=0).evaluate(Q, cand("m", "x"))
    assert j.status == "invalid" and "outside the 1-5 scale" in j.reason


async def test_sql_store_lets_a_new_judge_instance_reuse_criteria(scripted, tmp_path):
    from judgebench.db import Store
    from judgebench.db.criteria import SqlCriteriaStore

    store = SqlCriteriaStore(Store(tmp_path / "jb.db"))
    script = PC2Script()
    scripted(responder=script)
    first = await make_judge(criteria_store=store).evaluate(Q, cand("m1", "a"))
    second = await make_judge(criteria_store=SqlCriteriaStore(Store(tmp_path / "jb.db"))).evaluate(
        Q, cand("m2", "b")
    )
    assert (
        first.ok and second.ok and first.details["criteria_key"] == second.details["criteria_key"]
    )
    assert script.calls == {"aux": 3, "criteria": 1, "baseline": 1, "score": 2}
    assert len(store.for_query(Q.id)) == 1


async def test_given_aux_answers_skip_the_aux_calls(scripted):
    script = PC2Script()
    scripted(responder=script)
    judge = make_judge(criteria_store=MemoryCriteriaStore())
    prepared = await judge.prepare(Q, aux_answers=["one", "two", "three"])
    assert prepared.aux_answers == ["one", "two", "three"] and script.calls["aux"] == 0


def test_renormalise_is_exact():
    for weights in ([50, 40, 30], [1, 1, 1], [10, 20, 30, 41], [97, 1, 1, 1, 1, 1]):
        fixed = renormalise(weights)
        assert sum(fixed) == 100 and all(w >= 1 for w in fixed)


def test_weighted_score_refuses_a_missing_score_instead_of_counting_zero():
    from judgebench.records import CriterionScore

    scores = [
        CriterionScore(name="a", weight=60, score=4),
        CriterionScore(name="b", weight=40, score=5),
    ]
    assert weighted_score(scores) == 60 * 4 + 40 * 5
    with pytest.raises(ValueError, match="'b' has no weight or no score"):
        weighted_score([scores[0], CriterionScore(name="b", weight=40)])
