"""The batched LLM assigner: several queries per prompt, each query's part of the reply
validated, retried and logged on its own; cached through the gateway and the decision log."""

from __future__ import annotations

import json
import math

from judgebench.llm import Budget, Gateway, MemoryCallCache, set_gateway
from judgebench.prompts import unfence
from judgebench.taxonomy import load_default_taxonomy
from judgebench.taxonomy.assign import EmbeddingAssigner, LLMAssigner, split_assignments
from judgebench.taxonomy.decisions import DecisionLog

MODEL = "scripted/batch"
# keyword in the query -> the id a careful reader would answer (small_tree in conftest.py)
ANSWERS = {
    "python": "coding/programming-languages/python",
    "rust": "coding/programming-languages/rust",
    "poem": "writing/poetry",
    "essay": "writing/essay",
    "bread": "cooking/recipes",  # not in the tree: always rejected
}
SIM_QUERIES = [
    "Write a haiku about autumn leaves falling in the rain.",
    "Fix the TypeError in my Python script that parses CSV files.",
    "Prove that the square root of 2 is irrational.",
    "Write a persuasive essay arguing for a four-day work week.",
    "My Rust program panics on unwrap() when the file is missing.",
    "Translate this paragraph from English into French.",
    "What is the derivative of x^3 * sin(x)?",
]


def answer_all(prompt: str, skip: set[int] = frozenset()) -> str:
    """A reply answering every numbered query in ``prompt`` by its keyword (``skip``: omit)."""
    answers = []
    for number, query in enumerate(unfence(prompt).get("QUERY", []), 1):
        if number in skip:
            continue
        ids = [v for k, v in ANSWERS.items() if k in query.lower()] or ["writing"]
        answers.append({"query": number, "node_ids": ids[:1]})
    return json.dumps({"assignments": answers})


def queries(n: int) -> list[str]:
    kinds = ["a python script", "rust code", "a poem", "an essay"]
    return [f"question {i} about {kinds[i % len(kinds)]}" for i in range(n)]


async def test_one_call_per_batch_and_every_query_answered_by_its_number(tree, scripted):
    backend = scripted(responder=lambda p, m: answer_all(p))
    texts = queries(23)
    assigner = LLMAssigner(MODEL, tree, batch_size=10)
    results = await assigner.assign(texts)
    assert len(backend.prompts) == assigner.asker.calls == math.ceil(23 / 10)
    assert sorted(len(unfence(p)["QUERY"]) for p in backend.prompts) == [3, 10, 10]
    for text, result in zip(texts, results, strict=True):
        key = next(k for k in ANSWERS if k in text)
        assert result.method == "llm" and result.node_ids == [ANSWERS[key]], text
        assert result.text == text and len(result.replies) == 1


async def test_broken_part_is_retried_alone_then_recorded_invalid(tree, scripted, tmp_path):
    # first reply: query 2 missing and "bread" unknown; later replies: only "bread" unknown
    backend = scripted(
        responder=lambda p, m: answer_all(p, skip={2} if not backend.prompts[1:] else set())
    )
    log_path = tmp_path / "assign.jsonl"
    texts = ["a python script", "an essay on tides", "how to bake bread", "a poem"]
    results = await LLMAssigner(MODEL, tree, batch_size=10, attempts=2, log=log_path).assign(texts)
    assert [r.node_ids for r in results] == [
        ["coding/programming-languages/python"],
        ["writing/essay"],
        [],
        ["writing/poetry"],
    ]
    bread = results[2]
    assert bread.status == "unassigned" and bread.method == "none"
    assert (
        "unknown node ids: 'cooking/recipes'" in bread.reason and "after 2 attempts" in bread.reason
    )
    assert bread.replies == [answer_all(backend.prompts[0], {2}), answer_all(backend.prompts[1])]
    # the retry asks only the two rejected queries, each with the reason it was rejected
    retry = backend.prompts[1]
    assert unfence(retry)["QUERY"] == ["an essay on tides", "how to bake bread"]
    assert "could not be used: no answer for query 2 in the reply" in retry
    assert "could not be used: unknown node ids: 'cooking/recipes'" in retry
    assert len(results[1].replies) == 2 and len(results[0].replies) == 1
    # every query's outcome is a queryable row of the log, the invalid one with raw replies
    finals = DecisionLog(log_path).finals("assign")
    invalid = [e for e in finals if e["status"] == "invalid"]
    assert len(finals) == 4 and len(invalid) == 1
    assert invalid[0]["replies"] == bread.replies and "cooking/recipes" in invalid[0]["reason"]


async def test_an_unusable_reply_retries_every_query_then_falls_back(tree, scripted):
    backend = scripted(responder=lambda p, m: "Sure! I classified them all.")
    fallback = EmbeddingAssigner(tree, encoder="lexical")
    texts = ["write a poem about rain", "debug my rust code"]
    results = await LLMAssigner(MODEL, tree, attempts=2, fallback=fallback).assign(texts)
    assert len(backend.prompts) == 2  # one batch, asked twice
    for result in results:
        assert result.method == "embedding-fallback" and result.node_ids
        assert "LLM assignment failed: no JSON object" in result.reason
        assert result.replies == ["Sure! I classified them all."] * 2


async def test_rerun_makes_no_calls_through_log_or_gateway_cache(tree, scripted):
    gateway = Gateway(cache=MemoryCallCache())
    set_gateway(gateway)
    scripted(responder=lambda p, m: answer_all(p))
    log = DecisionLog()
    texts = queries(12)
    with gateway.account("first", Budget(max_calls=10)) as first:
        done = await LLMAssigner(MODEL, tree, batch_size=5, log=log).assign(texts)
    assert first.calls == 3 and first.cache_hits == 0
    # same decision log (even with another batch size): every query is settled, nothing asked
    rerun = LLMAssigner(MODEL, tree, batch_size=4, log=log)
    with gateway.account("rerun") as again:
        redone = await rerun.assign(texts)
    assert rerun.asker.calls == 0 and again.calls == again.cache_hits == 0
    assert [r.node_ids for r in redone] == [r.node_ids for r in done]
    # the log lost: the same prompts are sent again and the gateway's cache answers them all
    with gateway.account("cache") as cached:
        from_cache = await LLMAssigner(MODEL, tree, batch_size=5).assign(texts)
    assert cached.calls == 0 and cached.cache_hits == 3
    assert [r.node_ids for r in from_cache] == [r.node_ids for r in done]


async def test_the_budget_stops_a_batch_and_says_so(tree, scripted):
    gateway = Gateway()
    set_gateway(gateway)
    backend = scripted(responder=lambda p, m: answer_all(p))
    with gateway.account("capped", Budget(max_calls=1)):
        results = await LLMAssigner(MODEL, tree, batch_size=2, concurrency=1).assign(queries(4))
    assert len(backend.prompts) == 1
    assert [r.assigned for r in results] == [True, True, False, False]
    assert all("max_calls=1" in r.reason for r in results[2:])


def test_split_assignments_flags_each_bad_part():
    reply = (
        '{"assignments": [{"query": 1, "node_ids": ["a"]}, {"query": "3", "node_ids": "b"},'
        ' {"query": 4}, {"query": 5, "node_ids": ["x"]}, {"query": 5, "node_ids": ["y"]}]}'
    )
    parts = split_assignments(reply, 5)
    assert parts[0] == ["a"] and parts[2] == "b"
    assert [str(p) for p in parts[1::2]] == [
        "no answer for query 2 in the reply",
        "the answer for query 4 lacks 'node_ids'",
    ] and str(parts[4]) == "query 5 answered twice, differently"


async def test_batched_equals_per_query_on_simulated_models():
    tax = load_default_taxonomy()  # 215 nodes: shown whole unless top_down is asked for
    for model, top_down in (("sim/large", False), ("sim/large", True), ("sim/small", False)):
        alone = LLMAssigner(model, tax, batch_size=1, top_down=top_down)
        batched = LLMAssigner(model, tax, batch_size=4, top_down=top_down)
        one = await alone.assign(SIM_QUERIES)
        many = await batched.assign(SIM_QUERIES)
        assert [r.node_ids for r in many] == [r.node_ids for r in one], (model, top_down)
        assert sum(r.assigned for r in many) >= len(SIM_QUERIES) - 1
        # ceil(7/4) prompts per stage plus retries, against one prompt per query and stage
        assert batched.asker.calls < alone.asker.calls
        if model == "sim/large":
            assert many[0].node_ids[0].startswith("writing/")
            assert many[1].node_ids[0].startswith("coding/programming-languages/")
