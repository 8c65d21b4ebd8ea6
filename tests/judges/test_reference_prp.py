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
    rng = random.Random(seed)
    qualities = [rng.randrange(0, 8) for _ in range(n)]  # repeats: ties
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


def moody_judge(prompt: str, model: str) -> str:
    """Prefers higher quality; equal qualities go to the first shown and qualities one apart
    to the second shown (both flip with the order: PRP ties)."""
    blocks = unfence(prompt)
    a, b = quality(blocks["CANDIDATE_A"][0]), quality(blocks["CANDIDATE_B"][0])
    if abs(a - b) == 1:
        return json.dumps({"preferred": "B"})
    return json.dumps({"preferred": "A" if a >= b else "B"})


def moody_output(qualities: list[int], x: int, y: int) -> str:
    """The same judge as llm-rankers' compare output for the prompt (doc1=x, doc2=y)."""
    a, b = qualities[x], qualities[y]
    return "Passage B" if abs(a - b) == 1 else ("Passage A" if a >= b else "Passage B")


def llm_rankers_allpair_scores(docs: list[int], output) -> dict[int, float]:
    """llm-rankers ``rerank`` method "allpair": both orders per pair from
    ``combinations(ranking, 2)``; ("Passage A", "Passage B") → +1 to doc1, the reverse → +1 to
    doc2, anything else (a conflict) → +0.5 each. PRP paper (arXiv 2306.17563) §3.2 Eq. (1):
    s_i = Σ_j 1[d_i > d_j] + 0.5 · Σ_j 1[d_i = d_j]."""
    from collections import defaultdict
    from itertools import combinations

    scores: dict[int, float] = defaultdict(float)
    for doc1, doc2 in combinations(docs, 2):
        out1, out2 = output(doc1, doc2), output(doc2, doc1)
        if out1 == "Passage A" and out2 == "Passage B":
            scores[doc1] += 1
        elif out1 == "Passage B" and out2 == "Passage A":
            scores[doc2] += 1
        else:  # conflict
            scores[doc1] += 0.5
            scores[doc2] += 0.5
    return {d: scores.get(d, 0.0) for d in docs}


def llm_rankers_bubblesort(docs: list[int], k: int, output):
    """llm-rankers ``rerank`` method "bubblesort" (PRP-Sliding, K passes from the bottom), with
    its skip of unchanged bottom pairs, then ``rerank``'s output: ranking[:k] followed by the
    other documents in their original order. Returns (ranking, compared pairs)."""
    ranking = list(docs)
    compared: set[frozenset[int]] = set()
    k = min(k, len(ranking))
    last_end = len(ranking) - 1
    for i in range(k):
        current_ind = last_end
        is_change = False
        while True:
            if current_ind <= i:
                break
            doc1, doc2 = ranking[current_ind], ranking[current_ind - 1]
            compared.add(frozenset((doc1, doc2)))
            if output(doc1, doc2) == "Passage A" and output(doc2, doc1) == "Passage B":
                ranking[current_ind - 1], ranking[current_ind] = doc1, doc2
                if not is_change:
                    is_change = True
                    if last_end != len(ranking) - 1:  # skip unchanged pairs at the bottom
                        last_end += 1
            if not is_change:
                last_end -= 1
            current_ind -= 1
    top = ranking[:k]
    return top + [d for d in docs if d not in top], compared


@pytest.mark.parametrize(("n", "seed"), [(8, 4), (11, 5)])
async def test_allpairs_points_and_shared_places_match_llm_rankers(scripted, n, seed):
    rng = random.Random(seed)
    qualities = [rng.randrange(0, 6) for _ in range(n)]
    cands = [f"passage {i} with quality {q}" for i, q in enumerate(qualities)]
    backend = scripted(responder=moody_judge)
    ranking = await PRPRanker("scripted/judge", method="allpairs").rank(QUERY, cands)
    points = llm_rankers_allpair_scores(list(range(n)), lambda x, y: moody_output(qualities, x, y))
    assert len(backend.prompts) == n * (n - 1)  # every pair, both orders
    # the order sorts by points (ties among equal points keep the input order here; upstream
    # keeps the order in which a document first scored, which is no ranking either)
    assert [points[i] for i in ranking.order] == sorted(points.values(), reverse=True)
    for i in range(n):
        # equal points share the mean of their places: 1 + #higher + (#equal - 1) / 2
        higher = sum(p > points[i] for p in points.values())
        equal = sum(p == points[i] for p in points.values())
        place = 1 + higher + (equal - 1) / 2
        assert ranking.judgments[i].score == pytest.approx((n - place) / (n - 1))
        assert ranking.judgments[i].details["exact_rank"] is (equal == 1)


@pytest.mark.parametrize(("n", "k", "seed"), [(10, 3, 6), (12, 4, 7), (6, 6, 8)])
async def test_sliding_top_k_matches_llm_rankers_bubblesort(scripted, n, k, seed):
    rng = random.Random(seed)
    qualities = [rng.randrange(0, 9) for _ in range(n)]
    cands = [f"passage {i} with quality {q}" for i, q in enumerate(qualities)]
    scripted(responder=moody_judge)
    ranking = await PRPRanker("scripted/judge", method="sliding", k=k).rank(QUERY, cands)
    expected, compared = llm_rankers_bubblesort(
        list(range(n)), k, lambda x, y: moody_output(qualities, x, y)
    )
    assert ranking.order == expected
    assert {frozenset(c.details["pair"]) for c in ranking.comparisons} == compared
    # below the top k nothing is resolved: those candidates share one score
    tail = {ranking.judgments[i].score for i in ranking.order[k:]}
    assert len(tail) <= 1
