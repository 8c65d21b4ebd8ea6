"""The simulated models answer every taxonomy prompt, so a whole build runs offline."""

from __future__ import annotations

from judgebench.prompts import fence, load_template
from judgebench.sim.tasks import find_task
from judgebench.taxonomy import load_default_taxonomy, validate
from judgebench.taxonomy.assign import LLMAssigner
from judgebench.taxonomy.builder import Candidate, TaxonomyBuilder

QUERIES = [
    "Write a Python function that merges two sorted lists and explain its complexity.",
    "My JavaScript fetch call returns a pending promise, how do I fix it?",
    "Write a haiku about autumn leaves falling in the rain.",
    "Prove that the square root of 2 is irrational.",
]


def test_each_template_is_recognised():
    values = {
        "insert": dict(
            position="x",
            siblings=fence("- A", "CATEGORIES", "0" * 8),
            candidate=fence("B", "CANDIDATE", "0" * 8),
            can_descend=True,
            fixed_top=False,
        ),
        "refine": dict(position="x", children=fence("- a: A", "SUBCATEGORIES", "0" * 8)),
        "tag": dict(query=fence("q", "QUERY", "0" * 8), domains=["coding"]),
        "brainstorm": dict(domain=fence("d", "DOMAIN", "0" * 8), count=3),
        "assign": dict(
            tree=fence("- a (A)", "TAXONOMY", "0" * 8),
            query=fence("q", "QUERY", "0" * 8),
            max_labels=2,
        ),
        "assign_batch": dict(
            tree=fence("- a (A)", "TAXONOMY", "0" * 8),
            queries=[{"text": fence("q", "QUERY", "0" * 8), "previous_error": None}],
            max_labels=2,
        ),
    }
    for name, kw in values.items():
        prompt = load_template(f"taxonomy:{name}").render(previous_error=None, **kw)
        task = find_task(prompt)
        assert task is not None and task.name == f"taxonomy.{name}", name


async def test_simulated_build_and_assignment():
    tax = load_default_taxonomy().slice(domains=["coding", "writing"])
    builder = TaxonomyBuilder("sim/large", tax)
    candidates = await builder.candidates_from_queries(QUERIES, domains=["coding", "writing"])
    assert candidates and {c.domain for c in candidates} <= {"coding", "writing"}
    candidates += await builder.brainstorm(
        "Game development: engines, shaders, physics and level design", domain="coding", count=5
    )
    candidates.append(Candidate("Python", domain="coding"))
    report = await builder.build(candidates)
    validate(tax)
    assert report.summary()["inserted"] + report.summary()["existing"] + report.summary()[
        "skipped"
    ] == len(candidates)
    assert report.calls > len(candidates) / 2
    results = await LLMAssigner("sim/large", load_default_taxonomy()).assign(QUERIES)
    assigned = [r for r in results if r.assigned]
    assert len(assigned) >= 3
    assert any(r.node_ids[0].startswith("coding/") for r in assigned[:2])
    assert any(n.startswith("writing/") for n in results[2].node_ids)
