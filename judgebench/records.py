"""Typed records for everything that flows through judgebench.

These sit at the bottom of the dependency graph: they import nothing from the rest of the
package. Every record that is stored has a natural key (a content hash) so that writing the
same thing twice is a no-op, which is what makes jobs resumable and idempotent.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

JudgmentStatus = Literal["ok", "invalid", "error"]
JudgmentKind = Literal["pointwise", "pairwise", "reliability", "ranking", "reverse"]
# the judge contract that produced a judgment (judgebench.judges.base: one protocol per shape);
# ``kind`` says what the row holds: a PRP ranking (shape listwise) stores candidate rows of kind
# ranking and its comparisons of kind pairwise
JudgeShape = Literal["pointwise", "pairwise", "listwise", "reliability", "likelihood"]
Verdict = Literal["A", "B", "tie"]
# A pairwise verdict as response A's outcome (a win, a loss, half of each).
VERDICT_OUTCOME: dict[str, float] = {"A": 1.0, "B": 0.0, "tie": 0.5}


def utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: the form every content hash is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def content_key(*parts: Any, length: int = 32) -> str:
    """A stable hex key for the given parts (strings, numbers, dicts, lists, None)."""
    digest = hashlib.sha256(canonical_json(list(parts)).encode("utf-8")).hexdigest()
    return digest[:length]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]")


def normalize_text(text: str) -> str:
    """Case-, whitespace- and punctuation-insensitive form used for exact dedup."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return _WS.sub(" ", _PUNCT.sub(" ", text)).strip()


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Usage(Record):
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )


class TaxonomyNode(Record):
    """One category. ``path_id`` is the identity; ``name`` may repeat across the tree."""

    path_id: str
    name: str
    description: str | None = None

    @property
    def parent_id(self) -> str | None:
        return self.path_id.rsplit("/", 1)[0] if "/" in self.path_id else None

    @property
    def depth(self) -> int:
        return self.path_id.count("/") + 1


class Query(Record):
    """A user query, with the taxonomy nodes it belongs to and where it came from."""

    text: str
    node_ids: list[str] = Field(default_factory=list)
    taxonomy_version: int | None = None
    # calibrated P(query belongs to node) per assigned node (combined assigner); empty where
    # unknown (hand labels, LLM assignment), which reports count as confident
    node_confidence: dict[str, float] = Field(default_factory=dict)
    source: str = "user"
    reference: str | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    id: str = ""

    @model_validator(mode="after")
    def _key(self) -> Query:
        if not self.id:
            object.__setattr__(self, "id", self.natural_key(self.text, self.source))
        return self

    @staticmethod
    def natural_key(text: str, source: str = "user") -> str:
        return content_key("query", source, text)


class Response(Record):
    """One model's answer to one query under fixed generation parameters."""

    query_id: str
    model: str
    text: str | None
    params: dict[str, Any] = Field(default_factory=dict)
    sample_index: int = 0
    usage: Usage = Field(default_factory=Usage)
    latency_s: float | None = None
    cost: float | None = None
    cached: bool = False  # built from a cached reply: ``cost`` is what it cost when first bought
    status: Literal["ok", "error"] = "ok"
    error: str | None = None
    run_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    id: str = ""

    @model_validator(mode="after")
    def _key(self) -> Response:
        if not self.id:
            object.__setattr__(
                self,
                "id",
                self.natural_key(self.query_id, self.model, self.params, self.sample_index),
            )
        return self

    @staticmethod
    def natural_key(
        query_id: str, model: str, params: dict[str, Any], sample_index: int = 0
    ) -> str:
        return content_key("response", query_id, model, params, sample_index)


class CriterionScore(Record):
    """One criterion of a judgment: its name, weight (PC²), score and the judge's note."""

    name: str
    weight: float | None = None
    score: float | None = None
    description: str | None = None
    note: str | None = None


class Judgment(Record):
    """What a judge decided about one response (pointwise) or a pair (pairwise).

    ``status`` is ``ok`` only when the reply parsed into a valid decision. An unparseable reply
    is ``invalid`` with the raw reply and the reason; a transport failure is ``error``. A judge
    never fills in a default score.
    """

    judge: str
    judge_model: str
    kind: JudgmentKind = "pointwise"
    shape: JudgeShape | None = None  # None only on rows stored before judges declared shapes
    query_id: str
    response_id: str | None = None
    response_b_id: str | None = None
    # the evaluated models (denormalised so per-model aggregation needs no join)
    model: str | None = None
    model_b: str | None = None
    template_name: str
    template_hash: str
    params: dict[str, Any] = Field(default_factory=dict)
    score: float | None = None
    verdict: Verdict | None = None
    criteria: list[CriterionScore] = Field(default_factory=list)
    rationale: str | None = None
    raw_replies: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)
    details: dict[str, Any] = Field(default_factory=dict)
    status: JudgmentStatus = "ok"
    reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost: float | None = None
    cached: bool = False  # every reply it was built from was cached: ``cost`` was spent before
    run_id: str | None = None
    taxonomy_version: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    id: str = ""

    @model_validator(mode="after")
    def _check(self) -> Judgment:
        if self.status == "ok" and self.score is None and self.verdict is None:
            raise ValueError("an ok judgment needs a score or a verdict")
        if self.status != "ok" and not self.reason:
            raise ValueError(f"a {self.status} judgment needs a reason")
        if not self.id:
            object.__setattr__(
                self,
                "id",
                self.natural_key(
                    self.judge,
                    self.judge_model,
                    self.template_hash,
                    self.params,
                    self.query_id,
                    self.response_id,
                    self.response_b_id,
                    model=self.model,
                    model_b=self.model_b,
                ),
            )
        return self

    @staticmethod
    def natural_key(
        judge: str,
        judge_model: str,
        template_hash: str,
        params: dict[str, Any],
        query_id: str,
        response_id: str | None,
        response_b_id: str | None = None,
        *,
        model: str | None = None,
        model_b: str | None = None,
    ) -> str:
        parts: list[Any] = [
            judge,
            judge_model,
            template_hash,
            params,
            query_id,
            response_id,
            response_b_id,
        ]
        if response_id is None and (model or model_b):
            # without a stored response, the evaluated models tell two judgments apart
            parts += [model, model_b]
        return content_key("judgment", *parts)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Run(Record):
    """One execution: a job run, an import, a judge evaluation, a demo."""

    kind: str
    name: str
    config: dict[str, Any] = Field(default_factory=dict)
    # job runs end ok / partial / failed (see judgebench.jobs.outcome); other kinds "finished"
    status: Literal["running", "finished", "ok", "partial", "failed", "stopped"] = "running"
    reason: str | None = None
    job_name: str | None = None
    started_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    counts: dict[str, dict[str, int]] | None = None  # per stage: ok / invalid / error / skipped
    id: str = ""

    @model_validator(mode="after")
    def _key(self) -> Run:
        if not self.id:
            object.__setattr__(self, "id", content_key("run", self.kind, self.name, self.config))
        return self


class ErrorRecord(Record):
    """A failure someone can query: where it happened, on what, and why."""

    stage: str
    subject: str
    message: str
    run_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
