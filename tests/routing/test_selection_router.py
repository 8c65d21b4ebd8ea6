"""Selection routing end to end on simulated models: top-1, best-of-k by a judge, fusion."""

from __future__ import annotations

import copy

import pytest

from judgebench.judges import RubricJudge
from judgebench.llm import BadRequestError, ScriptedBackend, get_gateway
from judgebench.routing import Fuser, SelectionModel, SelectionRouter
from judgebench.routing.fusion import parse_fused

CODE = [{"role": "user", "content": "Write a Python function that sorts a list of integers."}]
POEM = [{"role": "user", "content": "Write a short poem about the sea at night."}]


@pytest.fixture
def keep_both(selection_model) -> SelectionModel:
    """The shared model with no weight threshold, so both candidates are always queried."""
    model = copy.deepcopy(selection_model)
    model.network.settings.drop_below = 0.0
    return model


def test_top1_routes_by_the_learned_strengths(selection_model):
    router = SelectionRouter(selection_model)
    code, poem = router.complete_sync(CODE), router.complete_sync(POEM)
    assert code.model == "sim/coder" and poem.model == "sim/writer"
    weights = code.decision.details["weights"]
    assert list(weights) == ["sim/coder", "sim/writer"] and weights["sim/coder"] > 0.5
    assert code.decision.stages[0].weight == pytest.approx(weights["sim/coder"], abs=1e-3)
    assert code.decision.cost == pytest.approx(code.decision.stages[0].cost)


def test_top1_falls_through_to_the_next_model_on_error(selection_model):
    get_gateway().register_backend(
        "scripted", ScriptedBackend(responder=lambda p, m: BadRequestError("nope"))
    )
    broken = SelectionModel(
        ["scripted/coder", "sim/writer"], selection_model.featurizer, selection_model.network
    )
    out = SelectionRouter(broken).complete_sync(CODE)
    assert out.model == "sim/writer"
    assert [s.status for s in out.decision.stages] == ["error", "accepted"]


def test_best_of_k_by_a_judge(keep_both):
    router = SelectionRouter(keep_both, strategy="topk-judge", k=2, judge=RubricJudge("sim/judge"))
    out = router.complete_sync(CODE)
    scores = {s.model: s.score for s in out.decision.stages}
    assert set(scores) == {"sim/coder", "sim/writer"} and all(
        v is not None for v in scores.values()
    )
    assert out.model == max(scores, key=scores.get)
    assert out.decision.cost > sum(s.cost for s in out.decision.stages)  # judging is paid for


def test_fusion_prompt_sees_answers_and_weights(keep_both):
    router = SelectionRouter(keep_both, strategy="topk-fuse", k=2, fuser="sim/large")
    out = router.complete_sync(POEM)
    fusion = out.decision.details["fusion"]
    assert (
        out.model == "sim/large"
        and fusion["template"] == "router:fusion"
        and "reason" not in fusion
    )
    assert sorted(out.decision.details["fused_from"]) == ["sim/coder", "sim/writer"]
    prompt = Fuser("sim/large").prompt("q?", ["answer one", "answer two"], [0.7, 0.3])
    assert "router weight 0.70" in prompt and "answer two" in prompt


def test_unusable_fusion_reply_is_recorded_not_passed_off(keep_both):
    get_gateway().register_backend(
        "scripted", ScriptedBackend(responder=lambda p, m: "I'd rather not.")
    )
    router = SelectionRouter(keep_both, strategy="topk-fuse", k=2, fuser="scripted/fuser")
    out = router.complete_sync(CODE)
    fusion = out.decision.details["fusion"]
    assert (
        "no <answer> block" in fusion["reason"] and fusion["raw_replies"] == ["I'd rather not."] * 2
    )
    assert out.model in ("sim/coder", "sim/writer")  # the top-weighted answer, said so


def test_parse_fused_takes_the_last_answer_block():
    assert (
        parse_fused("<think>x</think><answer>draft</answer> wait <answer>final</answer>") == "final"
    )
    assert parse_fused("<answer>  </answer>") is None and parse_fused("no tags") is None
    # an answer drafted inside an unclosed <think> block is reasoning, not the reply
    assert parse_fused("<think>maybe <answer>draft</answer> hmm") is None


def test_strategy_needs_its_helper(selection_model):
    with pytest.raises(ValueError, match="needs a judge"):
        SelectionRouter(selection_model, strategy="topk-judge")
    with pytest.raises(ValueError, match="fuser"):
        SelectionRouter(selection_model, strategy="topk-fuse")


def test_simulated_fuser_keeps_the_sound_answer_not_the_vague_one():
    from judgebench.llm import complete_sync

    question = "Write a Python function that merges two sorted lists into one sorted list."
    strong = complete_sync("sim/coder", [{"role": "user", "content": question}]).text
    vague = "Hmm, maybe just put them together somehow? Not sure, lists are tricky."
    fused, replies, facts = Fuser("sim/judge").fuse_sync(question, [vague, strong], [0.5, 0.5])
    assert fused is not None and fused != vague and "reason" not in facts
    assert len(replies) == 1  # parsed at the first reply: no repair call
