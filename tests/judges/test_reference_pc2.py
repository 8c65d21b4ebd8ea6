"""PC² against Feedbacker (arXiv 2505.06698) and its released prompts.

References: liudan193/Feedbacker, evaluation/prompts/ours/ours_baseline_final_judge.md (score
each metric "using the baseline answer as a baseline; a higher score indicates a better response
compared to the baseline", with the baseline's own evaluation shown; final score = the weighted
sum of the metric scores) and ours_final_judge.md (the baseline's evaluation on an absolute
scale, lowest = complete failure, highest = perfection). So a candidate as good as the baseline
gets the baseline's own scores — not the middle of the scale — and S = Σ wᵢ·sᵢ.
"""

from __future__ import annotations

import json

import pytest

from judgebench.judges import PC2Judge
from judgebench.judges.pc2 import BASELINE_TRUNCATED, weighted_score
from judgebench.llm import Completion
from judgebench.prompts import unfence
from judgebench.records import Query, Usage

Q = Query(text="Explain how vaccines train the immune system.")
WEIGHTS = {"Accuracy": 50, "Coverage": 30, "Clarity": 20}


def scripted_judge(cand_scores: dict[str, int], cut: set[str] = frozenset()):
    def respond(prompt: str, model: str):
        if '{"criteria": [' in prompt:
            items = [{"name": n, "weight": w, "description": "d"} for n, w in WEIGHTS.items()]
            return json.dumps({"criteria": items})
        if '{"critique": [' in prompt:
            crit = [{"criterion": n, "score": 4, "note": "good"} for n in WEIGHTS]
            return json.dumps({"critique": crit})
        if '{"scores": [' in prompt:
            items = [{"criterion": n, "score": s, "note": "n"} for n, s in cand_scores.items()]
            return json.dumps({"scores": items})
        text = f"Vaccines present an antigen ({model})."
        finish = "length" if model in cut else "stop"  # cut at aux_max_tokens
        return Completion(model=model, text=text, finish_reason=finish, usage=Usage())

    return respond


async def test_final_score_is_the_weighted_sum_of_criterion_scores(scripted):
    cand = {"Accuracy": 5, "Coverage": 2, "Clarity": 3}
    scripted(responder=scripted_judge(cand))
    judge = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/b", "scripted/c"])
    j = await judge.evaluate(Q, "Vaccines teach memory cells to recognise an antigen.")
    assert j.score == sum(WEIGHTS[n] * s for n, s in cand.items())  # 50·5 + 30·2 + 20·3


async def test_default_prompt_scores_on_the_critiques_absolute_scale(scripted):
    backend = scripted(responder=scripted_judge({n: 4 for n in WEIGHTS}))
    judge = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/b", "scripted/c"])
    await judge.evaluate(Q, "An answer.")
    prompt = next(p for p in backend.prompts if '{"scores": [' in p)
    assert "same absolute scale the baseline critique uses" in prompt
    assert "on par with the baseline" not in prompt  # no mid-scale anchor
    assert unfence(prompt)["CRITIQUE"][0].startswith("- Accuracy: 4")
    mid = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/b"], anchoring="mid")
    await mid.evaluate(Q, "An answer.")
    prompt = [p for p in backend.prompts if '{"scores": [' in p][-1]
    assert "3 means on par with the baseline" in prompt


@pytest.mark.parametrize(("anchoring", "expected"), [("critique", "baseline"), ("mid", 300.0)])
async def test_the_baseline_itself_scores_its_critique_not_the_middle(anchoring, expected):
    """The simulated judge reads the prompt: with Feedbacker's anchoring, the baseline answer
    judged as a candidate gets its own critique's weighted score (≈ 430–470 / 500 here, as
    Feedbacker's baselines sit at ~433); with the mid anchor, 300."""
    judge = PC2Judge(
        "sim/judge", aux_models=["sim/large", "sim/small", "sim/generalist"], anchoring=anchoring
    )
    for text in (Q.text, "What are the main causes of inflation?"):
        prepared = await judge.prepare(text)
        own = weighted_score(prepared.critique)
        j = await judge.evaluate(text, prepared.baseline_answer)
        assert j.ok
        assert j.score == (own if expected == "baseline" else expected)
        assert own > 400


async def test_truncated_baseline_answer_is_flagged_on_the_judgment(scripted):
    scripted(responder=scripted_judge({n: 4 for n in WEIGHTS}, cut={"scripted/a"}))
    judge = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/b"], aux_max_tokens=64)
    j = await judge.evaluate(Q, "An answer.")
    assert BASELINE_TRUNCATED in j.flags
    assert j.details["aux_truncated"] == [True, False] and j.details["aux_max_tokens"] == 64
    scripted(responder=scripted_judge({n: 4 for n in WEIGHTS}, cut={"scripted/b"}))
    other = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/b"], aux_max_tokens=65)
    j = await other.evaluate(Q, "An answer.")
    assert BASELINE_TRUNCATED not in j.flags and j.details["aux_truncated"] == [False, True]


async def test_sub_criteria_as_feedbackers_hierarchical_framework(scripted):
    """ours_get_criteria.md: "3 to 9 primary metrics. Each primary metric should have several
    detailed sub-metrics ... only the secondary metrics are required" (weights over those)."""
    groups = {"Accuracy": 3, "Coverage": 4, "Clarity": 3, "Safety": 2}  # 12 sub-criteria
    subs = [(g, f"{g} {k}") for g, n in groups.items() for k in range(n)]
    weights = [8] * 12
    weights[0] += 100 - sum(weights)
    reply = {
        "criteria": [
            {"name": name, "weight": w, "group": g, "description": "d"}
            for (g, name), w in zip(subs, weights, strict=True)
        ]
    }
    cand = {name: 1 + i % 5 for i, (_, name) in enumerate(subs)}

    def respond(prompt: str, model: str):
        if '{"criteria": [' in prompt:
            return json.dumps(reply)
        if '{"critique": [' in prompt:
            return json.dumps({"critique": [{"criterion": n, "score": 4} for n in cand]})
        if '{"scores": [' in prompt:
            return json.dumps({"scores": [{"criterion": n, "score": s} for n, s in cand.items()]})
        return "An auxiliary answer."

    backend = scripted(responder=respond)
    judge = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/b"])
    j = await judge.evaluate(Q, "An answer.")
    assert j.ok and len(j.criteria) == 12
    assert j.score == sum(w * cand[name] for (_, name), w in zip(subs, weights, strict=True))
    criteria_prompt = next(p for p in backend.prompts if '{"criteria": [' in p)
    assert "primary criteria" in criteria_prompt and '"group"' in criteria_prompt
    score_prompt = next(p for p in backend.prompts if '{"scores": [' in p)
    assert "Coverage:\n" in unfence(score_prompt)["CRITERIA"][0]  # sub-criteria under headings
    flat = PC2Judge("scripted/j", aux_models=["scripted/a", "scripted/c"], sub_criteria=False)
    j = await flat.evaluate(Q, "An answer.")
    assert j.status == "invalid" and "12 criteria given, need 3-9" in j.reason
