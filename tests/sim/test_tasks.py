"""The TaskContext API handlers use: prefer, chance, score_on, answer, and task registry."""

from __future__ import annotations

import math
import random

from judgebench.sim.profiles import load_profile
from judgebench.sim.tasks import TaskContext, find_task, sim_task, unregister_task
from tests.sim.conftest import QUERIES, make_profile


def ctx_for(profile_name: str = "judge", seed: int = 0, profile=None) -> TaskContext:
    profile = profile or load_profile(f"sim/{profile_name}")
    return TaskContext(
        model=profile.model, prompt="", blocks={}, profile=profile, rng=random.Random(seed)
    )


def test_prefer_picks_the_better_answer_with_consistent_logprobs():
    query = QUERIES["knowledge"][1]
    strong = ctx_for("large").answer(query)
    weak = ctx_for("small", seed=3).answer(query)
    ctx = ctx_for("judge")
    verdict, logprobs = ctx.prefer(query, strong, weak)
    assert verdict == "A"
    assert math.isclose(sum(math.exp(v) for v in logprobs.values()), 1.0, rel_tol=1e-6)
    assert logprobs["A"] == max(logprobs.values())
    verdict_swapped, _ = ctx.prefer(query, weak, strong)
    assert verdict_swapped == "B"
    same, tie_logprobs = ctx.prefer(query, strong, strong)
    assert same == "tie" or max(tie_logprobs.values()) < math.log(0.9)


def test_position_bias_pulls_towards_the_first_answer():
    query = QUERIES["writing"][0]
    answer = ctx_for("generalist").answer(query)
    biased = make_profile("biased", judging=1.0, position_bias=0.5)
    fair = make_profile("fair", judging=1.0, position_bias=0.0)
    assert ctx_for(profile=biased).compare(query, answer, answer) > ctx_for(profile=fair).compare(
        query, answer, answer
    )


def test_chance_follows_the_profile_rate():
    ctx = ctx_for(profile=make_profile("w", shapes={"weights_off": 0.25}))
    hits = sum(ctx.chance("weights_off") for _ in range(4000))
    assert abs(hits / 4000 - 0.25) < 0.03
    assert not any(ctx_for(profile=make_profile("z")).chance("numbering_gap") for _ in range(200))


def test_score_on_maps_quality_to_the_scale():
    ctx = ctx_for()
    assert ctx.score_on(0.0) == 1 and ctx.score_on(1.0) == 10
    assert ctx.score_on(0.5, 1, 5) == 3
    assert ctx.score_on(1.7, 1, 5) == 5


def test_registry_priority_and_unregister():
    @sim_task("t.low", detect=lambda p: "ZETA-FORMAT" in p, priority=1)
    def low(ctx):
        return "low"

    @sim_task("t.high", detect=lambda p: "ZETA-FORMAT" in p, priority=5)
    def high(ctx):
        return "high"

    try:
        assert find_task("... ZETA-FORMAT ...").name == "t.high"
        unregister_task("t.high")
        assert find_task("... ZETA-FORMAT ...").name == "t.low"
    finally:
        unregister_task("t.low")
        unregister_task("t.high")
    assert find_task("... ZETA-FORMAT ...") is None


def test_rationale_names_what_is_visible():
    query = QUERIES["coding"][0]
    strong = ctx_for("large", 1).answer(query)
    weak = ctx_for("small", 1).answer(query)
    judge = ctx_for("judge")
    good, bad = (
        judge.rationale(query, strong, "Assistant A"),
        judge.rationale(query, weak, "Assistant B"),
    )
    assert good.startswith("Assistant A addresses every part") and "parses" in good
    assert "addresses every part" not in bad and "does not parse" in bad
    for text in (good, bad):
        assert "sim/" not in text and "large" not in text and "small" not in text
    with_ref = judge.rationale(query, strong, reference=strong)
    assert "agrees with the reference" in with_ref
