"""Query assignment: LLM (unknown ids rejected, retried, unassigned), embeddings (kNN), hybrid."""

from __future__ import annotations

import pytest

from judgebench.errors import DataError
from judgebench.taxonomy.assign import EmbeddingAssigner, HybridAssigner, LLMAssigner, most_specific

MODEL = "scripted/assigner"
# the scripted replies answer one query each: these tests cover the one-query prompt
# (batch_size=1); the batched prompt has its own tests in test_assign_batch.py


async def test_unknown_ids_are_rejected_then_retried(tree, scripted):
    backend = scripted(
        replies=[
            '{"node_ids": ["coding/programming-languages/go"]}',
            '{"node_ids": ["coding/programming-languages/python", "coding", "coding/task-types/debugging"]}',
        ]
    )
    [result] = await LLMAssigner(MODEL, tree, batch_size=1).assign(["my python script crashes"])
    assert result.assigned and result.method == "llm"
    # the ancestor "coding" is implied by its descendants and dropped
    assert result.node_ids == ["coding/programming-languages/python", "coding/task-types/debugging"]
    assert "unknown node ids: 'coding/programming-languages/go'" in backend.prompts[1]
    assert "- coding/programming-languages/python (Python): Python scripts" in backend.prompts[0]


async def test_persistently_unknown_ids_leave_the_query_unassigned(tree, scripted, tmp_path):
    scripted(responder=lambda p, m: '{"node_ids": ["cooking/recipes"]}')
    log = tmp_path / "assign.jsonl"
    [result] = await LLMAssigner(MODEL, tree, batch_size=1, log=log, attempts=2).assign(
        ["how to bake bread"]
    )
    assert not result.assigned and result.node_ids == [] and result.method == "none"
    assert (
        "unknown node ids: 'cooking/recipes'" in result.reason
        and "after 2 attempts" in result.reason
    )
    assert result.replies == ['{"node_ids": ["cooking/recipes"]}'] * 2
    # resume: the settled (invalid) decision is reused, no new call
    silent = scripted(replies=[])
    [again] = await LLMAssigner(MODEL, tree, batch_size=1, log=log, attempts=2).assign(
        ["how to bake bread"]
    )
    assert silent.prompts == [] and not again.assigned


async def test_embedding_fallback_is_recorded(tree, scripted):
    scripted(responder=lambda p, m: "no idea")
    fallback = EmbeddingAssigner(tree, encoder="lexical")
    [result] = await LLMAssigner(MODEL, tree, batch_size=1, fallback=fallback, attempts=1).assign(
        ["write a poem about rain"]
    )
    assert result.assigned and result.method == "embedding-fallback"
    assert "LLM assignment failed: no JSON object" in result.reason
    assert result.node_ids and result.node_ids[0] in tree


def test_embedding_nearest_node_and_knn_examples(tree):
    plain = EmbeddingAssigner(tree, encoder="lexical")
    assert plain.assign(["Debugging: fixing errors in my program"])[0].node_ids == [
        "coding/task-types/debugging"
    ]
    examples = [
        ("roses are red, write me verses", "writing/poetry"),
        ("a sonnet about the moon", "writing/poetry"),
        ("compose a haiku on snow", "writing/poetry"),
        ("argue for school uniforms in five paragraphs", "writing/essay"),
        ("my rust program panics on unwrap", "coding/task-types/debugging"),
    ]
    knn = EmbeddingAssigner(tree, encoder="lexical", examples=examples)
    results = knn.assign(["write a haiku about the moon", "argue for uniforms"])
    assert results[0].node_ids == ["writing/poetry"]
    assert results[1].node_ids == ["writing/essay"]
    assert results[0].margin > 0
    multi = knn.assign(["write a haiku about the moon"], max_labels=3, within=1.0)[0]
    assert len(multi.node_ids) == 3
    with pytest.raises(DataError, match="example label 'cooking' is not a node"):
        EmbeddingAssigner(tree, encoder="lexical", examples=[("x", "cooking")])


async def test_hybrid_sends_only_unsure_queries_to_the_llm(tree, scripted):
    backend = scripted(responder=lambda p, m: '{"node_ids": ["writing/essay"]}')
    embedding = EmbeddingAssigner(tree, encoder="lexical")
    hybrid = HybridAssigner(embedding, LLMAssigner(MODEL, tree, batch_size=1), min_margin=0.02)
    texts = ["Debugging: fixing errors", "hmm"]
    margins = [a.margin for a in embedding.assign(texts)]
    results = await hybrid.assign(texts)
    unsure = sum(m < 0.02 for m in margins)
    assert len(backend.prompts) == unsure >= 1
    assert results[0].method == "embedding" and results[-1].method == "llm"


def test_most_specific(tree):
    assert most_specific(tree, ["coding", "coding/task-types", "writing/poetry", "coding"]) == [
        "coding/task-types",
        "writing/poetry",
    ]


async def test_top_down_shows_upper_levels_then_the_chosen_subtree(tree, scripted):
    backend = scripted(
        replies=[
            '{"node_ids": ["coding"]}',
            '{"node_ids": ["writing/poetry"]}',  # exists, but was not shown in this stage
            '{"node_ids": ["coding/task-types/debugging"]}',
        ]
    )
    assigner = LLMAssigner(MODEL, tree, batch_size=1, top_down=True, top_down_depth=1)
    [result] = await assigner.assign(["my program crashes"])
    assert result.node_ids == ["coding/task-types/debugging"] and len(result.replies) == 3
    first, second = backend.prompts[0], backend.prompts[1]
    assert "- coding (Coding)" in first and "coding/task-types" not in first
    assert "coding/task-types/debugging" in second and "writing/poetry" not in second
    assert "unknown node ids: 'writing/poetry'" in backend.prompts[2]


async def test_top_down_with_the_simulated_model():
    from judgebench.taxonomy import load_default_taxonomy

    tax = load_default_taxonomy()
    results = await LLMAssigner("sim/large", tax, top_down=True).assign(
        ["Write a haiku about autumn leaves.", "Fix the TypeError in my Python script."]
    )
    assert all(r.assigned and all(n in tax for n in r.node_ids) for r in results)
    assert results[0].node_ids[0].startswith("writing/")


async def test_hybrid_sends_what_the_combined_assigner_leaves_unassigned_to_the_llm(tree, scripted):
    from judgebench.taxonomy.combined import CombinedAssigner

    backend = scripted(responder=lambda p, m: '{"node_ids": ["writing/essay"]}')
    combined = CombinedAssigner(tree, encoders="lexical", min_confidence=0.6)
    texts = ["Python scripts: fixing errors in Python code", "hmm"]
    first = combined.assign(texts)
    results = await HybridAssigner(
        combined, LLMAssigner(MODEL, tree, batch_size=1), min_margin=0.0
    ).assign(texts)
    for cheap, final in zip(first, results, strict=True):
        # exactly the abstentions were asked; the confident answer is kept as it was
        assert final.method == ("combined" if cheap.assigned else "llm")
    assert len(backend.prompts) == sum(not a.assigned for a in first) >= 1
    assert results[-1].node_ids == ["writing/essay"]
