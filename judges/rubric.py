"""RubricJudge: plain pointwise scoring of one response on a rubric (the baseline judge)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from judgebench.judges.base import (
    Answer,
    Judge,
    LLMJudgeSettings,
    QueryLike,
    ResponseLike,
    as_query,
    as_response,
    injection_flags,
)
from judgebench.judges.parsing import integer_in_range, short_text
from judgebench.judges.registry import register_judge
from judgebench.prompts import new_nonce
from judgebench.records import Judgment

DEFAULT_RUBRIC = (
    "Helpfulness, correctness, completeness and clarity; the response must follow every "
    "instruction in the query."
)


class RubricSettings(LLMJudgeSettings):
    rubric: str = Field(DEFAULT_RUBRIC, min_length=1)
    scale: tuple[int, int] = (1, 10)

    @field_validator("scale")
    @classmethod
    def _increasing(cls, value: tuple[int, int]) -> tuple[int, int]:
        """(10, 1) or (5, 5) made the judge raise mid-run, after the run row was written."""
        if value[0] >= value[1]:
            raise ValueError(f"must be two increasing integers, got {list(value)}")
        return value


@register_judge
class RubricJudge(Judge):
    """Scores a response on an integer scale (default 1–10) against a rubric."""

    name = "rubric"
    kind = "pointwise"
    shape = "pointwise"
    Settings = RubricSettings

    def __init__(
        self,
        model: str,
        *,
        rubric: str = DEFAULT_RUBRIC,
        scale: tuple[int, int] = (1, 10),
        templates: dict[str, str | Path] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, templates=templates, **options)
        low, high = scale
        if not (isinstance(low, int) and isinstance(high, int) and low < high):
            raise ValueError(f"scale must be two increasing integers, got {scale!r}")
        self.rubric = rubric
        self.scale = (low, high)

    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        return self.template("rubric").hash, self.params()

    def params(self) -> dict[str, Any]:
        return {**self.call_params(), "scale": list(self.scale), "rubric": self.rubric}

    def _answer(self) -> Answer[dict[str, Any]]:
        low, high = self.scale

        def validate(found: dict[str, Any]) -> dict[str, Any]:
            return {
                "score": integer_in_range(found["score"], low, high),
                "rationale": short_text(found.get("rationale")),
            }

        return Answer(
            "score",
            validate,
            fields=("rationale",),
            format_hint=f'one JSON object {{"rationale": "...", "score": <integer {low}-{high}>}}',
        )

    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment:
        """Score one response (``Response`` records, or plain strings for quick use)."""
        q = as_query(query)
        r = as_response(response, q)
        template = self.template("rubric")
        nonce = new_nonce(q.text, r.text, q.reference)
        values = {
            **self.fence_all(nonce, query=q.text, response=r.text),
            "reference": self.fence_all(nonce, reference=q.reference)["reference"]
            if q.reference
            else None,
            "rubric": self.rubric,
            "low": self.scale[0],
            "high": self.scale[1],
            "nonce": nonce,
        }
        exchange = await self.ask(template, values, self._answer())
        flags, matches = injection_flags(r.text)
        value = exchange.value or {}
        return self.make_judgment(
            template=template,
            query=q,
            response=r,
            exchanges=[exchange],
            params=self.params(),
            score=value.get("score"),
            rationale=value.get("rationale"),
            flags=flags,
            details={"injection_matches": matches} if matches else {},
        )
