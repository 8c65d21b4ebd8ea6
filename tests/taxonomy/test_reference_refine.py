"""Refinement leaves the classification-dimension layer alone, as Feedbacker's does.

Reference: liudan193/Feedbacker, taxonomy/prompts/node_refinement_pruning.md (used by
taxonomy/node_refinement_pruning.py): "If you see that the 'current layer nodes' are all
classification criteria rather than specific categories, this layer absolutely must not be
modified." In Feedbacker's trees a domain's children are those criteria ("Theme Types",
"Task Types", ...), the layer judgebench calls classification dimensions.
"""

from __future__ import annotations

import json

from judgebench.prompts import unfence
from judgebench.taxonomy import Taxonomy, validate
from judgebench.taxonomy.builder import TaxonomyBuilder

MODEL = "scripted/refiner"


def dimension_tree() -> Taxonomy:
    tax = Taxonomy("dims")
    coding = tax.add("", "Coding")
    tasks = tax.add(coding, "Task Types")
    for name in ("Debugging", "Bug Fixing", "Code Review"):
        tax.add(tasks, name)
    langs = tax.add(coding, "Programming Languages")
    for name in ("Python", "Rust"):
        tax.add(langs, name)
    return tax


def merge_the_first_two(prompt: str, model: str) -> str:
    """An eager refiner: always merges the first two sub-categories it is shown."""
    rows = unfence(prompt)["SUBCATEGORIES"][0].splitlines()
    ids = [row[2:].split(":", 1)[0] for row in rows]
    return json.dumps({"operations": [{"op": "merge", "nodes": ids[:2], "into": "Merged"}]})


async def test_the_dimension_layer_is_never_sent_to_refinement(scripted):
    tax = dimension_tree()
    backend = scripted(responder=merge_the_first_two)
    report = await TaxonomyBuilder(MODEL, tax).refine()
    assert [tax.name_of(k) for k in tax.children("coding")] == [
        "Task Types",
        "Programming Languages",
    ]
    assert all("Category: Coding\n" not in p for p in backend.prompts)
    # below the dimensions refinement still works
    assert {tax.name_of(k) for k in tax.children("coding/task-types")} == {"Merged", "Code Review"}
    assert {node for node, _ in report.refined} == {
        "coding/task-types",
        "coding/programming-languages",
    }
    validate(tax)


async def test_when_allowed_the_prompt_carries_feedbackers_instruction(scripted):
    tax = dimension_tree()
    backend = scripted(responder=lambda p, m: '{"operations": [{"op": "keep"}]}')
    await TaxonomyBuilder(MODEL, tax, refine_dimensions=True).refine()
    domain_prompt = next(p for p in backend.prompts if "Category: Coding\n" in p)
    assert "classification dimensions" in domain_prompt and "do not modify them" in domain_prompt
