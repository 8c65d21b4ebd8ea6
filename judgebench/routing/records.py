"""What a router decided for one request: the stages it tried, their scores, the final model.

A ``RoutingDecision`` is what the server returns in its ``X-Judgebench-Route`` header and what
``judgebench.db.routing`` stores, one row per routed request. It never holds an API key.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from judgebench.records import Judgment, Query, Response, utcnow

StageStatus = Literal["accepted", "escalated", "error", "skipped", "selected", "fused"]


class StageRecord(BaseModel):
    """One model call made (or tried) while routing a request."""

    model_config = ConfigDict(extra="forbid")

    model: str
    status: StageStatus
    score: float | None = None  # the judge's score of this stage's answer (cascade)
    threshold: float | None = None  # the cascade stage's threshold
    weight: float | None = None  # the selector's weight (selection router)
    cost: float | None = None  # answer cost (USD) of this stage; None when a price is unknown
    judge_cost: float | None = None  # cost of scoring the answer
    latency_s: float = 0.0
    reason: str | None = None  # why it escalated or failed
    response_id: str | None = None  # the answer in the store's responses table
    judgment_id: str | None = None  # the judge's full record (raw replies, template hash ...)


class RoutingDecision(BaseModel):
    """The whole story of one routed request."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    router: str
    kind: Literal["cascade", "selection"]
    strategy: str
    query_id: str
    query_preview: str = ""
    stages: list[StageRecord] = Field(default_factory=list)
    final_model: str | None = None
    status: Literal["ok", "error"] = "ok"
    reason: str | None = None
    cost: float | None = None  # answers + judging, None when any price was unknown
    latency_s: float = 0.0
    details: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    # the full records behind the stages, stored by SqlRoutingLog (not part of the row or header)
    query: Query | None = Field(None, exclude=True)
    responses: list[Response] = Field(default_factory=list, exclude=True)
    judgments: list[Judgment] = Field(default_factory=list, exclude=True)

    def header(self) -> str:
        """Compact, ASCII-only summary for the ``X-Judgebench-Route`` response header."""
        tried = ",".join(
            f"{s.model}:{s.status}" + (f"@{s.score:.3f}" if s.score is not None else "")
            for s in self.stages
        )
        return f"id={self.id}; kind={self.kind}; strategy={self.strategy}; final={self.final_model}; stages={tried}"


def sum_costs(values: list[float | None]) -> float | None:
    """Sum of costs; None as soon as one is unknown (an unknown price is never 0)."""
    total = 0.0
    for v in values:
        if v is None:
            return None
        total += v
    return total
