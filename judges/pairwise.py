"""PairwiseJudge: A / B / tie, judged in both orders; a flip with the order is a tie."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgebench.judges.base import (
    Answer,
    Exchange,
    Judge,
    LLMJudgeSettings,
    QueryLike,
    ResponseLike,
    as_query,
    as_response,
    exchanges_outcome,
    injection_flags,
)
from judgebench.judges.parsing import short_text, verdict_value
from judgebench.judges.registry import register_judge
from judgebench.prompts import PromptTemplate, new_nonce
from judgebench.records import VERDICT_OUTCOME, Judgment, Query, Response

POSITION_INCONSISTENT = "position_inconsistent"
SWAPPED = {"A": "B", "B": "A", "tie": "tie"}  # a verdict read with the other order
ORDER_LABELS = ("order A-B", "order B-A")


def combine_orders(first: str, second_swapped: str) -> tuple[str, bool]:
    """The verdict from both orders (second already mapped back to the original labels) and
    whether they agreed. Any disagreement is a tie (PRP/MT-Bench convention)."""
    if first == second_swapped:
        return first, True
    return "tie", False


def verdict_answer(
    key: str = "verdict", *, allow_tie: bool = True, reason_key: str = "reason"
) -> Answer[dict[str, Any]]:
    def validate(found: dict[str, Any]) -> dict[str, Any]:
        return {
            "verdict": verdict_value(found[key], allow_tie=allow_tie, what=key),
            "reason": short_text(found.get(reason_key)),
        }

    options = '"A" | "B" | "tie"' if allow_tie else '"A" | "B"'
    return Answer(
        key, validate, fields=(reason_key,), format_hint=f'one JSON object {{"{key}": {options}}}'
    )


class PairwiseSettings(LLMJudgeSettings):
    both_orders: bool = True


@register_judge
class PairwiseJudge(Judge):
    """Compares two responses to one query; both orders by default (``both_orders=False`` for
    one call per pair, recorded in the params)."""

    name = "pairwise"
    kind = "pairwise"
    shape = "pairwise"
    Settings = PairwiseSettings

    def __init__(
        self,
        model: str,
        *,
        both_orders: bool = True,
        templates: dict[str, str | Path] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, templates=templates, **options)
        self.both_orders = both_orders

    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        return self.template("pairwise").hash, self.params()

    def params(self) -> dict[str, Any]:
        return {**self.call_params(), "both_orders": self.both_orders}

    async def _one_order(
        self, template: PromptTemplate, q: Query, first: Response, second: Response
    ) -> Exchange[dict[str, Any]]:
        nonce = new_nonce(q.text, first.text, second.text)
        values = {
            **self.fence_all(nonce, query=q.text, response_a=first.text, response_b=second.text),
            "nonce": nonce,
        }
        return await self.ask(template, values, verdict_answer())

    async def evaluate_pair(
        self, query: QueryLike, response_a: ResponseLike, response_b: ResponseLike
    ) -> Judgment:
        """Verdict ``A`` means ``response_a`` is better, in the order given here."""
        q = as_query(query)
        a = as_response(response_a, q)
        b = as_response(response_b, q)
        template = self.template("pairwise")
        orders = [self._one_order(template, q, a, b)]
        if self.both_orders:
            orders.append(self._one_order(template, q, b, a))
        exchanges = list(await asyncio.gather(*orders))
        flags, matches = injection_flags(a.text, b.text)
        details: dict[str, Any] = {"injection_matches": matches} if matches else {}
        verdict = None
        rationale = None
        if all(ex.ok for ex in exchanges):
            first = exchanges[0].value["verdict"]
            rationale = exchanges[0].value.get("reason")
            details["verdict_ab"] = first
            verdict = first
            if self.both_orders:
                second = SWAPPED[exchanges[1].value["verdict"]]
                details["verdict_ba"] = second
                verdict, consistent = combine_orders(first, second)
                details["position_consistent"] = consistent
                if not consistent:
                    flags.append(POSITION_INCONSISTENT)
        else:
            details["orders_ok"] = [ex.ok for ex in exchanges]
            details["order_status"] = [ex.status for ex in exchanges]
        status, reason = exchanges_outcome(exchanges, ORDER_LABELS)
        score = VERDICT_OUTCOME[verdict] if verdict else None
        return self.make_judgment(
            template=template,
            query=q,
            response=a,
            response_b=b,
            exchanges=exchanges,
            params=self.params(),
            verdict=verdict,
            score=score,
            rationale=rationale,
            flags=flags,
            details=details,
            status=status,
            reason=reason,
        )

    async def evaluate_pairs(
        self, items: Sequence[tuple[QueryLike, ResponseLike, ResponseLike]]
    ) -> list[Judgment]:
        return await self.gather([lambda it=it: self.evaluate_pair(*it) for it in items])

    def evaluate_pair_sync(
        self, query: QueryLike, response_a: ResponseLike, response_b: ResponseLike
    ) -> Judgment:
        return self.sync(lambda: self.evaluate_pair(query, response_a, response_b))

    def evaluate_pairs_sync(
        self, items: Sequence[tuple[QueryLike, ResponseLike, ResponseLike]]
    ) -> list[Judgment]:
        return self.sync(lambda: self.evaluate_pairs(items))
