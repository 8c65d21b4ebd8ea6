"""Fusing the top-k answers: best-of-k by a judge, or a fusion prompt that sees the answers and
the selector's weights (``router:fusion``).

A fusion reply without a usable ``<answer>`` block is asked again (``max_repairs`` times, a new
``sample_index`` each time); if it never parses, the highest-weighted answer is returned and the
failure (raw replies, reason) is written into the routing decision — never passed off as fused.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from judgebench.judges.parsing import strip_reasoning
from judgebench.llm import Completion, LLMError, complete, run_sync
from judgebench.prompts import fence, load_template, new_nonce

_ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S | re.I)


def parse_fused(text: str) -> str | None:
    """The last non-empty ``<answer>`` block (a model may draft, then correct)."""
    found = [m.strip() for m in _ANSWER.findall(strip_reasoning(text)) if m.strip()]
    return found[-1] if found else None


class Fuser:
    """A model that writes one answer from weighted candidates."""

    def __init__(
        self, model: str, template: str | Path = "router:fusion", max_repairs: int = 1
    ) -> None:
        self.model = model
        self.template = load_template(template)
        self.max_repairs = max_repairs

    def prompt(self, query: str, answers: Sequence[str], weights: Sequence[float]) -> str:
        nonce = new_nonce()
        return self.template.render(
            nonce=nonce,
            query=fence(query, "QUERY", nonce),
            candidates=[
                {"answer": fence(a, "ANSWER", nonce), "weight": w}
                for a, w in zip(answers, weights, strict=True)
            ],
        )

    async def fuse(
        self, query: str, answers: Sequence[str], weights: Sequence[float], **params: Any
    ) -> tuple[str | None, list[Completion], dict[str, Any]]:
        """(fused text or None, the completions, facts for the decision)."""
        prompt = self.prompt(query, answers, weights)
        replies: list[Completion] = []
        facts: dict[str, Any] = {
            "template": self.template.name,
            "template_hash": self.template.hash,
        }
        for attempt in range(self.max_repairs + 1):
            try:
                reply = await complete(
                    self.model,
                    [{"role": "user", "content": prompt}],
                    sample_index=attempt,
                    **params,
                )
            except LLMError as exc:
                facts["reason"] = f"fusion call failed: {exc}"
                return None, replies, facts
            replies.append(reply)
            fused = parse_fused(reply.text)
            if fused is not None:
                return fused, replies, facts
        facts["reason"] = f"no <answer> block in {len(replies)} fusion replies"
        facts["raw_replies"] = [r.text for r in replies]
        return None, replies, facts

    def fuse_sync(
        self, query: str, answers: Sequence[str], weights: Sequence[float], **params: Any
    ) -> tuple[str | None, list[Completion], dict[str, Any]]:
        return run_sync(lambda: self.fuse(query, answers, weights, **params))


async def best_of_k(judge: Any, query: Any, answers: Sequence[Any]) -> tuple[int | None, list[Any]]:
    """Index of the answer the judge scores highest (None if no judgment was usable)."""
    judgments = await asyncio.gather(*(judge.evaluate(query, a) for a in answers))
    scored = [
        (j.score, i) for i, j in enumerate(judgments) if j.status == "ok" and j.score is not None
    ]
    return (max(scored)[1] if scored else None), list(judgments)
