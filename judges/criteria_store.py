"""The per-query PC² artefacts (auxiliary answers, criteria, baseline critique) and where they
are kept: a small protocol, an in-memory default, and ``judgebench.db.criteria`` for SQL.

Judges never import the database (see docs/ARCHITECTURE.md): the store implements this
protocol, so a later evaluated model reuses what an earlier one paid for.
"""

from __future__ import annotations

import threading
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from judgebench.records import CriterionScore, Usage, utcnow


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    weight: int
    description: str = ""
    group: str | None = None  # the primary criterion a sub-criterion refines (Feedbacker)


class QueryCriteria(BaseModel):
    """Everything PC² computes once per query and reuses for every evaluated model."""

    model_config = ConfigDict(extra="forbid")

    key: str
    query_id: str
    judge_model: str
    aux_models: list[str]
    aux_answers: list[str]
    criteria: list[Criterion]
    weights_renormalised: bool = False
    original_weights: list[int] | None = None
    baseline_index: int = 0
    critique: list[CriterionScore] = Field(default_factory=list)
    raw_replies: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    template_hashes: dict[str, str] = Field(default_factory=dict)
    # per auxiliary answer: cut at the judge's aux_max_tokens (finish_reason "length")
    aux_truncated: list[bool] = Field(default_factory=list)
    created_at: str = Field(default_factory=lambda: utcnow().isoformat())

    @property
    def baseline_answer(self) -> str:
        return self.aux_answers[self.baseline_index]

    @property
    def baseline_model(self) -> str:
        return self.aux_models[self.baseline_index]


@runtime_checkable
class CriteriaStore(Protocol):
    """Where PC² keeps its per-query artefacts, as JSON payloads (``QueryCriteria`` dumped), so
    a store needs to know nothing about judges. ``put`` of an existing key is a no-op."""

    def get_criteria(self, key: str) -> dict[str, Any] | None: ...

    def put_criteria(
        self, key: str, query_id: str, judge_model: str, payload: dict[str, Any]
    ) -> None: ...


class MemoryCriteriaStore:
    """The default store: a dict for one process (``judgebench.db.criteria.SqlCriteriaStore``
    keeps them across runs)."""

    def __init__(self) -> None:
        self._items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get_criteria(self, key: str) -> dict[str, Any] | None:
        return self._items.get(key)

    def put_criteria(
        self, key: str, query_id: str, judge_model: str, payload: dict[str, Any]
    ) -> None:
        with self._lock:
            self._items.setdefault(key, payload)

    def __len__(self) -> int:
        return len(self._items)
