"""The combined assigner: stages by the tree, calibrated confidence, abstention, the warning."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.errors import ConfigError, DataError
from judgebench.taxonomy import Taxonomy
from judgebench.taxonomy.combined import (
    DEFAULT_MIN_CONFIDENCE,
    UNASSIGNED,
    CombinedAssigner,
    fit_temperature,
    lexical_only_warning,
)

TOPICS = {
    "python": ["pandas dataframe", "list comprehension", "django view", "pip install", "numpy"],
    "poetry": ["sonnet about love", "haiku on snow", "limerick", "rhyming verse", "ode"],
    "essay": [
        "argue for uniforms",
        "five paragraph essay",
        "thesis",
        "persuasive",
        "counterargument",
    ],
}
TEMPLATES = ["help me with {}", "I need a {}, please", "{} question", "quick {} task"]


def flat_labels() -> tuple[Taxonomy, dict[str, str]]:
    tax = Taxonomy("labels")
    return tax, {label: tax.add("", label) for label in TOPICS}


def examples(ids: dict[str, str]) -> list[tuple[str, str]]:
    return [
        (template.format(topic), ids[label])
        for label, topics in TOPICS.items()
        for topic in topics
        for template in TEMPLATES
    ]


def test_flat_labels_with_examples_are_assigned_with_a_probability():
    tax, ids = flat_labels()
    assigner = CombinedAssigner(tax, encoders="lexical", examples=examples(ids), min_confidence=0)
    results = assigner.assign(["a haiku on snow, please", "pandas dataframe help", "essay thesis"])
    assert [r.node_ids for r in results] == [[ids["poetry"]], [ids["python"]], [ids["essay"]]]
    for r in results:
        assert r.status == "assigned" and r.method == "combined"
        assert 1 / 3 < r.confidence <= 1.0
        assert r.node_confidence == {r.node_ids[0]: r.confidence}
    probs = assigner.probabilities(["a haiku on snow, please"])
    # relative probabilities times P(some label fits): an on-topic query keeps nearly all of it
    assert probs.shape == (1, 3) and 0.9 < probs.sum() <= 1.0
    # 60 examples: the temperature was fitted on held-out folds, not left at the default
    assert assigner.top.temperature != 1.0


def test_uncertain_queries_go_to_the_unassigned_bucket():
    tax, ids = flat_labels()
    strict = CombinedAssigner(tax, encoders="lexical", examples=examples(ids), min_confidence=0.9)
    sure, unsure = strict.assign(["haiku on snow haiku on snow", "zzz"])
    assert sure.assigned and sure.node_ids == [ids["poetry"]]
    assert unsure.status == UNASSIGNED and unsure.node_ids == []
    assert "below min_confidence 0.9" in unsure.reason
    assert unsure.confidence < 0.9 and len(unsure.node_confidence) == 1
    lenient = CombinedAssigner(
        tax, encoders="lexical", examples=examples(ids), min_confidence=0, calibrate=False
    )
    assert lenient.assign(["zzz"])[0].assigned


def test_one_node_taxonomy_is_not_confident_about_an_off_topic_query():
    # a softmax over one candidate is 1.0 for anything; the absolute match factor is not
    tax = Taxonomy("one")
    coding = tax.add("", "Coding", "Writing and fixing code: programs, functions, bugs, scripts")
    assigner = CombinedAssigner(tax, encoders="lexical")
    on_topic, poem = assigner.assign(
        ["Fix this bug in my JavaScript code", "Roses are red, write me a sonnet about autumn"]
    )
    assert on_topic.assigned and on_topic.node_ids == [coding]
    assert on_topic.confidence >= DEFAULT_MIN_CONFIDENCE
    assert poem.status == UNASSIGNED and poem.confidence < DEFAULT_MIN_CONFIDENCE


def test_two_nodes_where_neither_fits_give_low_confidence():
    tax = Taxonomy("two")
    tax.add("", "Coding", "Writing and fixing code: programs, functions, bugs, scripts")
    tax.add("", "Mathematics", "Equations, proofs, algebra and calculus problems")
    assigner = CombinedAssigner(tax, encoders="lexical")
    fits, neither = assigner.assign(
        ["Solve these algebra equations", "What is the best recipe for banana bread?"]
    )
    assert fits.assigned and fits.confidence >= DEFAULT_MIN_CONFIDENCE
    assert neither.status == UNASSIGNED and neither.confidence < DEFAULT_MIN_CONFIDENCE
    assert assigner.top.probabilities(assigner._encode(["banana bread"])).sum() < 0.5


def test_tree_domain_first_then_one_leaf_per_dimension(tree):
    assigner = CombinedAssigner(tree, encoders="lexical", min_confidence=0)
    [result] = assigner.assign(["Python scripts: fixing errors, debugging my Python code"])
    # one leaf in each of coding's two dimensions
    assert sorted(result.node_ids) == [
        "coding/programming-languages/python",
        "coding/task-types/debugging",
    ]
    domain = assigner.probabilities([result.text])[0][assigner.top.nodes.index("coding")]
    for leaf, p in result.node_confidence.items():
        assert 0 < p <= domain + 1e-9, leaf  # P(domain) × P(leaf | dimension)
    [poem] = assigner.assign(["Verse: write poetry"])
    assert poem.node_ids == ["writing/poetry"]  # the domain's leaf children form one dimension


def test_a_confident_domain_without_a_confident_leaf_keeps_the_domain():
    tax = Taxonomy("twins")
    cooking = tax.add("", "Cooking", "Recipes, baking bread and cakes")
    dishes = tax.add(cooking, "Dishes")
    tax.add(dishes, "Bread A", "Baking bread")
    tax.add(dishes, "Bread B", "Baking bread")  # indistinguishable twin: P(leaf) is about 1/2
    tax.add("", "Astronomy", "Stars, planets and telescopes")
    assigner = CombinedAssigner(tax, encoders="lexical", min_confidence=0.6)
    [result] = assigner.assign(["Cooking: recipes, baking bread and cakes"])
    assert result.assigned and result.node_ids == ["cooking"]
    assert result.node_confidence["cooking"] >= 0.6


def test_fit_temperature_recovers_the_temperature_that_generated_the_labels():
    # labels drawn from softmax(z / 2): the negative log-likelihood is smallest near T = 2
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=3.0, size=(4000, 5))
    probs = np.exp(logits / 2.0)
    probs /= probs.sum(axis=1, keepdims=True)
    truth = np.array([rng.choice(5, p=p) for p in probs])
    assert fit_temperature(logits, truth) == pytest.approx(2.0, rel=0.1)


def test_warning_for_lexical_names_only_on_a_large_taxonomy():
    from judgebench.embed import get_encoder

    lexical = [get_encoder("lexical")]
    assert "lexical assignment without examples on 176 leaves" in lexical_only_warning(
        lexical, 0, 176
    )
    assert lexical_only_warning(lexical, 10, 176) is None
    assert lexical_only_warning(lexical, 0, 12) is None


def test_bad_input_is_refused(tree):
    with pytest.raises(DataError, match="example label 'cooking' is not a node"):
        CombinedAssigner(tree, encoders="lexical", examples=[("x", "cooking")])
    with pytest.raises(ConfigError, match="min_confidence must lie in"):
        CombinedAssigner(tree, encoders="lexical", min_confidence=1.5)
