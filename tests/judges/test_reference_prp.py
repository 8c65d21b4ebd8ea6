"""PRP heapsort top-k against ielab/llm-rankers (the PRP reproduction the paper's authors' group
maintains): llmrankers/pairwise.py ``PairwiseLlmRanker.heapify`` / ``heapSort`` (max-heap,
extraction stops once k documents are ranked) with ``ComparableDoc.__gt__`` true only when the
first passage wins in BOTH orders, and ``rerank``'s output: the k extracted best-first, then the
remaining documents in their original order. Transcribed below over the same preference oracle
our scripted judge answers from.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from judgebench.judges import PRPRanker
from judgebench.prompts import unfence

QUERY = "Which passage explains photosynthesis best?"


def quality(text: str) -> int:
    return int(re.search(r"quality (\d+)", text).group(1))


def biased_judge(prompt: str, model: str) -> str:
    """Prefers higher quality, but equal qualities go to whichever is shown first (a flip)."""
    blocks = unfence(prompt)
    a, b = quality(blocks["CANDIDATE_A"][0]), quality(blocks["CANDIDATE_B"][0])
    return json.dumps({"preferred": "A" if a >= b else "B"})


def llm_rankers_heap_top_k(docs: list[int], k: int, first_wins_both):
    """llm-rankers' heapSort on a copy; returns (ranking, compared pairs)."""
    compared: set[frozenset[int]] = set()

    def gt(x, y):
        compared.add(frozenset((x, y)))
        return first_wins_both(x, y)

    def heapify(arr, n, i):
        largest = i
        left = 2 * i + 1
        right = 2 * i + 2
        if left < n and gt(arr[left], arr[i]):
            largest = left
        if right < n and gt(arr[right], arr[largest]):
            largest = right
        if largest != i:
            arr[i], arr[largest] = arr[largest], arr[i]
            heapify(arr, n, largest)

    arr = list(docs)
    n = len(arr)
    ranked = 0
    for i in range(n // 2, -1, -1):
        heapify(arr, n, i)
    for i in range(n - 1, 0, -1):
        arr[i], arr[0] = arr[0], arr[i]
        ranked += 1  # noqa: SIM113 - transcribed as upstream writes it
        if ranked == k:
            break
        heapify(arr, i, 0)
    top = list(reversed(arr))[:k]  # rerank: ranking[:k], then the original order
    return top + [d for d in docs if d not in top], compared


@pytest.mark.parametrize(("n", "k", "seed"), [(12, 3, 1), (15, 5, 2), (9, 9, 3)])
async def test_heapsort_top_k_matches_llm_rankers(scripted, n, k, seed):
    qualities = [random.Random(seed).randrange(0, 8) for _ in range(n)]  # repeats: ties
    cands = [f"passage {i} with quality {q}" for i, q in enumerate(qualities)]
    backend = scripted(responder=biased_judge)
    ranking = await PRPRanker("scripted/judge", method="heapsort", k=k).rank(QUERY, cands)

    def first_wins_both(x: int, y: int) -> bool:  # __gt__: "Passage A" then "Passage B"
        return qualities[x] > qualities[y]  # an equal pair flips with the order: not greater

    expected, compared = llm_rankers_heap_top_k(list(range(n)), k, first_wins_both)
    assert ranking.order == expected
    assert len(ranking.comparisons) == len(compared)  # each distinct pair asked once
    assert len(backend.prompts) == 2 * len(compared)
    if k < n:  # early stopping: fewer comparisons than all pairs
        assert len(compared) < n * (n - 1) // 2
    # the top k are in non-increasing quality; places below k are not resolved
    assert [qualities[i] for i in ranking.order[:k]] == sorted(qualities, reverse=True)[:k]
    exact = {i: ranking.judgments[i].details["exact_rank"] for i in range(n)}
    assert all(not exact[i] for i in ranking.order[k:])


async def test_exact_rank_is_false_for_judge_ties(scripted):
    cands = ["a with quality 5", "b with quality 5", "c with quality 9", "d with quality 1"]
    scripted(responder=biased_judge)
    for method in ("allpairs", "sorting", "sliding", "heapsort"):
        ranking = await PRPRanker("scripted/judge", method=method, k=4).rank(QUERY, cands)
        details = [j.details for j in ranking.judgments]
        assert details[2]["rank"] == 1 and details[2]["exact_rank"] is True, method
        assert details[3]["rank"] == 4 and details[3]["exact_rank"] is True, method
        # the two quality-5 passages flip with the order: a tie, their ranks 2/3 a tie-break
        assert {details[0]["rank"], details[1]["rank"]} == {2, 3}, method
        assert details[0]["exact_rank"] is False and details[0]["tied_with"] == [1], method
        assert details[1]["exact_rank"] is False and details[1]["tied_with"] == [0], method
