"""PRPRanker: rank N candidates for one query by pairwise prompting (PRP, arXiv 2306.17563).

Every comparison is asked in both orders; a flip is a tie. Methods: ``allpairs`` (all
C(N,2) pairs, score = wins + ties/2; O(N²) comparisons), ``heapsort`` (the paper's sorting
variant, as ielab/llm-rankers: build a max-heap, extract the top k and stop; O(N + k log N)),
``sorting`` (a full merge sort with the judge as comparator; O(N log N)), ``sliding`` (K bubble
passes from the bottom; exact top-k in O(N·k)). A candidate's ``exact_rank`` is False outside
the resolved top k and when the judge tied it with a neighbour in the order (or, for all-pairs,
when another candidate has the same points): its place among them is a tie-break.
A comparison whose replies never parsed is recorded as an invalid pairwise judgment and counts
as no preference; the candidates it touched carry the ``invalid_comparisons`` flag.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from judgebench.judges.base import (
    Judge,
    LLMJudgeSettings,
    QueryLike,
    ResponseLike,
    as_query,
    as_response,
)
from judgebench.judges.pairwise import (
    POSITION_INCONSISTENT,
    SWAPPED,
    combine_orders,
    verdict_answer,
)
from judgebench.judges.registry import register_judge
from judgebench.prompts import PromptTemplate, new_nonce
from judgebench.records import VERDICT_OUTCOME, Judgment, Query, Response

Method = Literal["allpairs", "heapsort", "sorting", "sliding"]
METHODS = ("allpairs", "heapsort", "sorting", "sliding")
TOP_K_METHODS = ("heapsort", "sliding")  # only the first k places are resolved
INVALID_COMPARISONS = "invalid_comparisons"


@dataclass
class Ranking:
    """The order (indices into the candidates, best first) and the records behind it."""

    method: str
    order: list[int]
    judgments: list[Judgment]  # one per candidate, in candidate order (kind "ranking")
    comparisons: list[Judgment] = field(default_factory=list)  # pairwise, one per compared pair

    @property
    def calls(self) -> int:
        return sum(len(c.raw_replies) for c in self.comparisons)

    @property
    def invalid_comparisons(self) -> int:
        return sum(not c.ok for c in self.comparisons)


class PRPSettings(LLMJudgeSettings):
    method: Method = "allpairs"
    k: int = Field(10, ge=1)
    criterion: str = "better answers the query"
    both_orders: bool = True


@register_judge
class PRPRanker(Judge):
    """Pairwise ranking prompting. ``criterion`` completes "decide which candidate …"."""

    name = "prp"
    kind = "ranking"
    shape = "listwise"
    Settings = PRPSettings

    def __init__(
        self,
        model: str,
        *,
        method: Method = "allpairs",
        k: int = 10,
        criterion: str = "better answers the query",
        both_orders: bool = True,
        templates: dict[str, str | Path] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, templates=templates, **options)
        if method not in METHODS:
            raise ValueError(f"unknown PRP method {method!r}: use {', '.join(METHODS)}")
        self.method = method
        self.k = k
        self.criterion = criterion
        self.both_orders = both_orders

    def params(self, method: str, k: int) -> dict[str, Any]:
        out = {
            **self.call_params(),
            "method": method,
            "criterion": self.criterion,
            "both_orders": self.both_orders,
        }
        if method in TOP_K_METHODS:
            out["k"] = k
        return out

    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        return self.template("prp").hash, self.params(self.method, min(self.k, candidates))

    async def rank(
        self,
        query: QueryLike,
        candidates: Sequence[ResponseLike],
        *,
        method: Method | None = None,
        k: int | None = None,
    ) -> Ranking:
        q = as_query(query)
        cands = [as_response(c, q) for c in candidates]
        method = method or self.method
        k = min(k or self.k, len(cands))
        template = self.template("prp")
        session = _Comparisons(self, template, q, cands, self.params(method, k))
        n = len(cands)
        if n < 2:
            order = list(range(n))
        elif method == "allpairs":
            pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
            await asyncio.gather(*(session.prefer(i, j) for i, j in pairs))
            for (i, j), outcome in session.outcomes.items():
                session.points[i] += VERDICT_OUTCOME[outcome]
                session.points[j] += 1.0 - VERDICT_OUTCOME[outcome]
            order = sorted(range(n), key=lambda i: (-session.points[i], i))
        elif method == "heapsort":
            order = await _heap_top_k(list(range(n)), k, session)
        elif method == "sorting":
            order = await _merge_sort(list(range(n)), session)
        else:
            order = await _sliding_top_k(list(range(n)), k, session)
        return Ranking(
            method, order, session.candidate_judgments(order, method, k), session.judgments()
        )

    def rank_sync(
        self,
        query: QueryLike,
        candidates: Sequence[ResponseLike],
        *,
        method: Method | None = None,
        k: int | None = None,
    ) -> Ranking:
        return self.sync(lambda: self.rank(query, candidates, method=method, k=k))


async def _greater(x: int, y: int, session: _Comparisons) -> bool:
    """llm-rankers' ``ComparableDoc.__gt__``: x > y only when x wins (a tie is not greater)."""
    return await session.prefer(x, y) == "A"


async def _sift_down(arr: list[int], n: int, i: int, session: _Comparisons) -> None:
    """``heapify`` of ielab/llm-rankers (pairwise.py): move arr[i] down a max-heap of size n."""
    while True:
        largest, left, right = i, 2 * i + 1, 2 * i + 2
        if left < n and await _greater(arr[left], arr[i], session):
            largest = left
        if right < n and await _greater(arr[right], arr[largest], session):
            largest = right
        if largest == i:
            return
        arr[i], arr[largest] = arr[largest], arr[i]
        i = largest


async def _heap_top_k(items: list[int], k: int, session: _Comparisons) -> list[int]:
    """PRP's heapsort with early stopping (llm-rankers ``heapSort``): build a max-heap, extract
    k maxima, stop. The top k come first, best first; the rest keep their input order."""
    arr, n = list(items), len(items)
    for i in range(n // 2, -1, -1):
        await _sift_down(arr, n, i, session)
    for ranked, end in enumerate(range(n - 1, 0, -1), start=1):
        arr[end], arr[0] = arr[0], arr[end]
        if ranked == k:  # early stopping: the top k are out
            break
        await _sift_down(arr, end, 0, session)
    top = list(reversed(arr))[:k]
    return top + [i for i in items if i not in top]


async def _sliding_top_k(items: list[int], k: int, session: _Comparisons) -> list[int]:
    """PRP's sliding window (llm-rankers ``bubblesort``): k bubble passes from the bottom, each
    swapping a pair only when the lower one wins in both orders. As llm-rankers' ``rerank``,
    the top k come first and the rest keep their input order (a partly bubbled tail is not a
    ranking). Repeated pairs are answered from the session, so upstream's skip of unchanged
    bottom pairs is implicit."""
    order = list(items)
    for top in range(k):  # each pass bubbles the best remaining candidate up to `top`
        for pos in range(len(order) - 2, top - 1, -1):
            if await session.prefer(order[pos + 1], order[pos]) == "A":
                order[pos], order[pos + 1] = order[pos + 1], order[pos]
    return order[:k] + [i for i in items if i not in order[:k]]


async def _merge_sort(items: list[int], session: _Comparisons) -> list[int]:
    if len(items) <= 1:
        return items
    mid = len(items) // 2
    left, right = await asyncio.gather(
        _merge_sort(items[:mid], session), _merge_sort(items[mid:], session)
    )
    merged: list[int] = []
    while left and right:
        # a tie keeps the left one first: the sort is stable
        if await session.prefer(right[0], left[0]) == "A":
            merged.append(right.pop(0))
        else:
            merged.append(left.pop(0))
    return merged + left + right


class _Comparisons:
    """The comparisons of one ranking run, each pair asked once (both orders) and remembered."""

    def __init__(
        self,
        ranker: PRPRanker,
        template: PromptTemplate,
        q: Query,
        cands: list[Response],
        params: dict[str, Any],
    ):
        self.ranker, self.template, self.q, self.cands, self.params = (
            ranker,
            template,
            q,
            cands,
            params,
        )
        self.outcomes: dict[tuple[int, int], str] = {}  # (i<j) → A (i better) / B / tie
        self.points = [0.0] * len(cands)  # all-pairs scores (wins + ties/2)
        self._records: dict[tuple[int, int], Judgment] = {}
        self._pending: dict[tuple[int, int], asyncio.Task[str]] = {}

    async def prefer(self, i: int, j: int) -> str:
        """ "A" if candidate i is preferred over j, "B" if j, "tie" otherwise."""
        key = (min(i, j), max(i, j))
        if key not in self._pending:
            self._pending[key] = asyncio.ensure_future(self._compare(*key))
        outcome = await self._pending[key]
        return outcome if key == (i, j) else SWAPPED[outcome]

    async def _ask(self, first: Response, second: Response):
        nonce = new_nonce(self.q.text, first.text, second.text)
        values = {
            **self.ranker.fence_all(
                nonce, query=self.q.text, candidate_a=first.text, candidate_b=second.text
            ),
            "criterion": self.ranker.criterion,
            "nonce": nonce,
        }
        return await self.ranker.ask(
            self.template, values, verdict_answer("preferred", allow_tie=False, reason_key="reason")
        )

    async def _compare(self, i: int, j: int) -> str:
        a, b = self.cands[i], self.cands[j]
        calls = [self._ask(a, b)] + ([self._ask(b, a)] if self.ranker.both_orders else [])
        exchanges = list(await asyncio.gather(*calls))
        flags: list[str] = []
        details: dict[str, Any] = {"pair": [i, j]}
        outcome = "tie"
        if all(ex.ok for ex in exchanges):
            outcome = exchanges[0].value["verdict"]
            details["verdict_ab"] = outcome
            if self.ranker.both_orders:
                swapped = SWAPPED[exchanges[1].value["verdict"]]
                details["verdict_ba"] = swapped
                outcome, consistent = combine_orders(outcome, swapped)
                if not consistent:
                    flags.append(POSITION_INCONSISTENT)
        self.outcomes[(i, j)] = outcome
        self._records[(i, j)] = self.ranker.make_judgment(
            template=self.template,
            query=self.q,
            response=a,
            response_b=b,
            exchanges=exchanges,
            params=self.params,
            verdict=outcome,
            score={"A": 1.0, "B": 0.0, "tie": 0.5}[outcome],
            kind="pairwise",
            flags=flags,
            details=details,
        )
        return outcome

    def judgments(self) -> list[Judgment]:
        return [self._records[k] for k in sorted(self._records)]

    def tied_with(self, idx: int, order: list[int], method: str) -> list[int]:
        """Candidates whose place relative to ``idx`` rests on a tie: equal all-pairs points,
        or a neighbour in the order that the judge compared with it and called a tie."""
        if method == "allpairs":
            return [j for j in order if j != idx and self.points[j] == self.points[idx]]
        pos = order.index(idx)
        neighbours = [order[p] for p in (pos - 1, pos + 1) if 0 <= p < len(order)]
        return [j for j in neighbours if self.outcomes.get((min(idx, j), max(idx, j))) == "tie"]

    def shared_ranks(self, order: list[int], method: str, k: int) -> dict[int, float]:
        """Each candidate's mean place within its group: a run of judge-tied neighbours in
        ``order``, or (top-k methods) everything below the resolved top k. The order inside a
        group is only the input order, so the group shares one score instead of ranking it."""
        cut = k if method in TOP_K_METHODS else len(order)
        groups: list[list[int]] = []
        for pos, idx in enumerate(order):
            unresolved = pos - 1 >= cut  # this one and the one before are both below the top k
            if pos and (unresolved or order[pos - 1] in self.tied_with(idx, order, method)):
                groups[-1].append(idx)
            else:
                groups.append([idx])
        shared: dict[int, float] = {}
        first = 1
        for group in groups:
            shared.update(dict.fromkeys(group, first + (len(group) - 1) / 2))
            first += len(group)
        return shared

    def candidate_judgments(self, order: list[int], method: str, k: int) -> list[Judgment]:
        n = len(self.cands)
        rank_of = {idx: pos + 1 for pos, idx in enumerate(order)}
        shared = self.shared_ranks(order, method, k)
        out = []
        for idx, cand in enumerate(self.cands):
            touched = [j for key, j in self._records.items() if idx in key]
            bad = sum(not j.ok for j in touched)
            rank = rank_of[idx]
            details: dict[str, Any] = {
                "rank": rank,
                "candidates": n,
                "method": method,
                "comparisons": len(touched),
            }
            tied = self.tied_with(idx, order, method)
            if tied:
                details["tied_with"] = tied
            resolved = rank <= k if method in TOP_K_METHODS else True
            details["exact_rank"] = resolved and not tied
            if bad:
                details["invalid_comparisons"] = bad
            # no comparison of this candidate parsed: its place is only the input order, so it
            # gets no score; its comparisons' replies are its raw replies (and are named here)
            unranked = bool(touched) and bad == len(touched)
            if unranked:
                details["comparison_ids"] = [j.id for j in touched]
            judgment = self.ranker.make_judgment(
                template=self.template,
                query=self.q,
                response=cand,
                exchanges=[],
                params=self.params,
                score=(n - shared[idx]) / (n - 1) if n > 1 else 1.0,
                status="invalid" if unranked else "ok",
                reason=(
                    f"all {bad} comparisons invalid, e.g. {touched[0].reason}" if unranked else None
                ),
                flags=[INVALID_COMPARISONS] if bad else [],
                details=details,
            )
            if unranked:
                replies = [reply for j in touched for reply in j.raw_replies]
                judgment = judgment.model_copy(update={"raw_replies": replies})
            out.append(judgment)
        return out
