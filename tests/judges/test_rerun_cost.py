"""A judge asked the same thing twice sends byte-identical prompts, so the call cache answers
the rerun: re-judging finished work costs no LLM call."""

from __future__ import annotations

from judgebench.judges import PairwiseJudge, PC2Judge, RubricJudge
from judgebench.llm import Gateway, set_gateway
from judgebench.llm.cache import MemoryCallCache
from judgebench.prompts import new_nonce


def test_nonce_derives_from_the_fenced_texts():
    assert new_nonce("q", "a") == new_nonce("q", "a")
    assert new_nonce("q", "a") != new_nonce("q", "b")
    assert new_nonce("qa", "") != new_nonce("q", "a")  # field boundaries count
    assert new_nonce() != new_nonce()  # no texts: random


def test_rerunning_judges_makes_zero_calls():
    gateway = Gateway(cache=MemoryCallCache())
    set_gateway(gateway)
    query = "Write a Python function that reverses a linked list and explain its complexity."
    a = "def reverse(head):\n    prev = None\n    while head:\n        head.next, prev, head = prev, head, head.next\n    return prev\n\nO(n) time, O(1) space."
    b = "You could use a loop."

    def judge_all():
        rubric = RubricJudge(model="sim/judge").evaluate_sync(query, a)
        pair = PairwiseJudge(model="sim/judge").evaluate_pair_sync(query, a, b)
        pc2 = PC2Judge(model="sim/judge", aux_models=["sim/coder", "sim/writer", "sim/small"])
        scored = pc2.evaluate_sync(query, a)
        return [rubric, pair, scored]

    first = judge_all()
    calls_after_first = gateway.calls_made
    assert calls_after_first > 0
    second = judge_all()
    assert gateway.calls_made == calls_after_first, "a rerun must be answered from the cache"
    assert [j.id for j in second] == [j.id for j in first]
    assert [(j.score, j.verdict, j.status) for j in second] == [
        (j.score, j.verdict, j.status) for j in first
    ]
