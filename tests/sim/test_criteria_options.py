"""Criteria from visible differences (PC² pre-comparison), rating by criterion text, options."""

from __future__ import annotations

import random

from judgebench.sim.criteria import criterion_feature, derive_criteria
from judgebench.sim.profiles import load_profile
from judgebench.sim.tasks import TaskContext
from tests.sim.conftest import QUERIES


def ctx(model: str = "sim/judge", seed: int = 0) -> TaskContext:
    return TaskContext(
        model=model, prompt="", blocks={}, profile=load_profile(model), rng=random.Random(seed)
    )


def _answers(query):
    return [ctx(m, 1).answer(query) for m in ("sim/large", "sim/small", "sim/writer")]


def test_criteria_weights_sum_to_100_and_follow_differences():
    for domain in ("coding", "mathematics", "writing"):
        query = QUERIES[domain][0]
        criteria = derive_criteria(query, _answers(query))
        assert 3 <= len(criteria) <= 6
        assert sum(c.weight for c in criteria) == 100 and all(c.weight > 0 for c in criteria)
        assert len({c.name for c in criteria}) == len(criteria)
    coding = {c.name for c in derive_criteria(QUERIES["coding"][0], _answers(QUERIES["coding"][0]))}
    assert "Working code" in coding


def test_rating_by_criterion_prefers_the_stronger_answer():
    judge = ctx()
    for domain in ("coding", "knowledge", "mathematics"):
        query = QUERIES[domain][0]
        strong, weak, _ = _answers(query)
        for criterion in derive_criteria(query, [strong, weak]):
            text = f"{criterion.name}: {criterion.description}"
            assert judge.rate(text, query, strong) >= judge.rate(text, query, weak) - 0.1, text


def test_criterion_text_is_read_for_its_feature():
    query = QUERIES["coding"][0]
    assert criterion_feature("Working code: the code block parses", query) == ("structure", [])
    assert criterion_feature("Concise: not padded", query) == ("length", [])
    assert criterion_feature("No hedging", query) == ("clarity", [])
    assert criterion_feature("Matches the reference answer", query) == ("agreement", [])
    assert criterion_feature("Discusses the sorted lists", query) == ("terms", ["sorted", "lists"])
    assert criterion_feature("Overall delight", query) == ("overall", [])


def test_rank_options_reads_the_text():
    options = [
        "coding/languages/python",
        "writing/creative/poetry",
        "mathematics/algebra",
        "knowledge/history",
    ]
    assert ctx().rank_options(QUERIES["coding"][0], options)[0][0] == "coding/languages/python"
    assert (
        ctx().rank_options("Write a poem about the sea", options)[0][0] == "writing/creative/poetry"
    )
    assert ctx().rank_options(QUERIES["mathematics"][1], options)[0][0] == "mathematics/algebra"
    # a careless reader gets it wrong more often than a careful one
    queries = [q for qs in QUERIES.values() for q in qs]
    heads = ["writing", "roleplay", "knowledge", "coding", "mathematics", "reasoning"]
    from judgebench.sim.domains import domain_of

    def accuracy(model):
        reader = ctx(model, 7)
        return sum(reader.rank_options(q, heads)[0][0] == domain_of(q) for q in queries) / len(
            queries
        )

    assert accuracy("sim/judge") > accuracy("sim/noisy-judge")
