"""PC2Judge: pointwise judging with Pre-Comparison-derived Criteria (Feedbacker, METHODS.md §3).

Once per query: K auxiliary answers from diverse models → the judge compares them and writes
3–9 weighted criteria (integer weights summing to 100; renormalised and recorded when not) →
one auxiliary answer is the baseline, scored once with the criteria (its critique is stored).
Per (model, query): one judge call scores the candidate per criterion on an integer scale
(default 1–5) with the baseline answer and its critique as reference; the final score
S = Σ wᵢ·sᵢ is computed here, never taken from the model's arithmetic.

Anchoring (``anchoring``): by default the candidate is scored on the same absolute scale as the
baseline's critique, higher than the baseline's score where it is better (Feedbacker's
``ours_baseline_final_judge.md``: "use the baseline answer as a baseline; a higher score
indicates a better response compared to the baseline"), so a candidate as good as a strong
baseline scores near the baseline's own ~430/500. ``anchoring="mid"`` (judgebench's former
prompt, template ``pc2_score_mid``) pins the middle of the scale to "on par with the baseline".
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from judgebench.judges.base import (
    Answer,
    Exchange,
    JobResources,
    Judge,
    JudgeSettings,
    LLMJudgeSettings,
    QueryLike,
    ResponseLike,
    as_query,
    as_response,
    combined_hash,
    injection_flags,
)
from judgebench.judges.criteria_store import (
    CriteriaStore,
    Criterion,
    MemoryCriteriaStore,
    QueryCriteria,
)
from judgebench.judges.parsing import ReplyParseError, integer_in_range, short_text
from judgebench.judges.registry import register_judge
from judgebench.llm import LLMError, get_gateway
from judgebench.prompts import new_nonce
from judgebench.records import CriterionScore, Judgment, Query, Usage, content_key

WEIGHTS_RENORMALISED = "weights_renormalised"
BASELINE_TRUNCATED = "baseline_truncated"  # the baseline answer was cut at aux_max_tokens


class CriteriaUnavailable(Exception):
    """Preparation of a query's criteria failed; carries what a judgment needs to record it."""

    def __init__(self, status: str, reason: str, raw_replies: list[str], usage: Usage) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.raw_replies = raw_replies
        self.usage = usage


def renormalise(weights: Sequence[int], total: int = 100) -> list[int]:
    """Integer weights proportional to ``weights`` that sum to ``total`` (largest remainder),
    each at least 1."""
    raw = [w * total / sum(weights) for w in weights]
    out = [max(1, math.floor(x)) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    i = 0
    while sum(out) < total:
        out[order[i % len(out)]] += 1
        i += 1
    while sum(out) > total:  # only when the max(1, .) floor pushed it over
        j = max(range(len(out)), key=lambda k: out[k])
        out[j] -= 1
    return out


MAX_SUB_CRITERIA = 4  # per primary criterion: bounds the scoring reply's length


def parse_criteria(
    found: dict[str, Any], min_n: int, max_n: int, sub_criteria: bool = False
) -> tuple[list[Criterion], list[int] | None]:
    """Validated criteria and, when the weights did not sum to 100, the original weights.

    With ``sub_criteria`` (Feedbacker's hierarchical framework) ``min_n``–``max_n`` bounds the
    primary criteria (the ``group`` names; an item without one is its own group) and every
    item is a weighted sub-criterion, at most ``MAX_SUB_CRITERIA`` per group."""
    items = found["criteria"]
    if not isinstance(items, list):
        raise ReplyParseError("criteria is not a list")
    if sub_criteria:
        groups = [_group_of(item) for item in items]
        n_groups = len(set(groups))
        if not min_n <= n_groups <= max_n:
            raise ReplyParseError(f"{n_groups} primary criteria given, need {min_n}-{max_n}")
        if max(groups.count(g) for g in set(groups)) > MAX_SUB_CRITERIA:
            raise ReplyParseError(f"more than {MAX_SUB_CRITERIA} sub-criteria under one criterion")
    elif not min_n <= len(items) <= max_n:
        raise ReplyParseError(f"{len(items)} criteria given, need {min_n}-{max_n}")
    criteria: list[Criterion] = []
    seen: set[str] = set()
    for i, item in enumerate(items, 1):
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not item["name"].strip()
        ):
            raise ReplyParseError(f"criterion {i} has no name")
        name = " ".join(item["name"].split())
        if name.casefold() in seen:
            raise ReplyParseError(f"criterion {name!r} is given twice")
        seen.add(name.casefold())
        weight = integer_in_range(item.get("weight"), 1, 100, what=f"weight of {name!r}")
        criteria.append(
            Criterion(
                name=name,
                weight=weight,
                description=short_text(item.get("description"), 600) or "",
                group=_group_of(item) if sub_criteria else None,
            )
        )
    weights = [c.weight for c in criteria]
    if sum(weights) == 100:
        return criteria, None
    fixed = renormalise(weights)
    return [
        c.model_copy(update={"weight": w}) for c, w in zip(criteria, fixed, strict=True)
    ], weights


def parse_criterion_scores(
    items: Any, criteria: Sequence[Criterion], low: int, high: int, key: str
) -> list[CriterionScore]:
    """One integer score per criterion, matched by name (case-insensitive), in criteria order.

    Accepts a list of ``{"criterion", "score", "note"}`` or a mapping name → score. A missing or
    unknown criterion makes the reply invalid.
    """
    if isinstance(items, dict):
        items = [
            {"criterion": k, **(v if isinstance(v, dict) else {"score": v})}
            for k, v in items.items()
        ]
    if not isinstance(items, list):
        raise ReplyParseError(f"{key} is not a list")
    by_name = {c.name.casefold(): c for c in criteria}
    got: dict[str, CriterionScore] = {}
    for item in items:
        if not isinstance(item, dict):
            raise ReplyParseError(f"an entry of {key} is not an object")
        name = " ".join(str(item.get("criterion", item.get("name", ""))).split()).casefold()
        if name not in by_name:
            raise ReplyParseError(f"{key} names an unknown criterion {name!r}")
        c = by_name[name]
        if c.name in got:
            raise ReplyParseError(f"{key} scores criterion {c.name!r} twice")
        got[c.name] = CriterionScore(
            name=c.name,
            weight=c.weight,
            description=c.description,
            score=integer_in_range(item.get("score"), low, high, what=f"score of {c.name!r}"),
            note=short_text(item.get("note")),
        )
    missing = [c.name for c in criteria if c.name not in got]
    if missing:
        raise ReplyParseError(f"{key} misses criteria: {', '.join(missing)}")
    return [got[c.name] for c in criteria]


def _group_of(item: Any) -> str:
    group = item.get("group") if isinstance(item, dict) else None
    if isinstance(group, str) and group.strip():
        return " ".join(group.split())
    return " ".join(str(item.get("name", "")).split()) if isinstance(item, dict) else ""


def render_criteria(criteria: Sequence[Criterion]) -> str:
    """Numbered ``name (weight w): description`` lines; sub-criteria under their primary
    criterion's heading."""
    lines: list[str] = []
    group: str | None = None
    for i, c in enumerate(criteria, 1):
        if c.group and c.group != group:
            lines.append(f"{c.group}:")
        group = c.group
        lines.append(f"{i}. {c.name} (weight {c.weight}): {c.description}")
    return "\n".join(lines)


def render_critique(critique: Sequence[CriterionScore]) -> str:
    return "\n".join(f"- {c.name}: {c.score} — {c.note or ''}".rstrip(" —") for c in critique)


def weighted_score(scores: Sequence[CriterionScore]) -> float:
    """S = Σ wᵢ·sᵢ (weights sum to 100, so S lies in [100·low, 100·high]).

    A criterion without a weight or a score is an error, never a silent 0 in the sum."""
    total = 0.0
    for c in scores:
        if c.weight is None or c.score is None:
            raise ValueError(f"criterion {c.name!r} has no weight or no score")
        total += c.weight * c.score
    return total


class PC2Settings(LLMJudgeSettings):
    aux_models: list[str]
    scale: tuple[int, int] = (1, 5)
    criteria_count: tuple[int, int] = (3, 9)
    sub_criteria: bool = True
    baseline_index: int = Field(0, ge=0)
    aux_max_tokens: int = Field(1024, ge=1)
    anchoring: Literal["critique", "mid"] = "critique"

    @field_validator("aux_models")
    @classmethod
    def _diverse(cls, value: list[str]) -> list[str]:
        if len(value) < 2:
            raise ValueError("pc2 needs at least 2 aux_models (the paper uses 3 diverse ones)")
        return value


@register_judge
class PC2Judge(Judge):
    """PC² judge. ``aux_models``: K diverse models writing the auxiliary answers (their
    diversity matters); ``criteria_store``: where per-query artefacts are kept (in memory by
    default; ``judgebench.db.criteria.SqlCriteriaStore(store)`` keeps them across runs)."""

    name = "pc2"
    kind = "pointwise"
    shape = "pointwise"
    Settings = PC2Settings

    @classmethod
    def from_settings(cls, settings: JudgeSettings, resources: JobResources) -> PC2Judge:
        """Criteria are kept in the job's artefact store: later models and runs reuse them."""
        return cls(
            **settings.model_dump(),
            criteria_store=resources.artefacts,
            concurrency=resources.concurrency,
        )

    def __init__(
        self,
        model: str,
        *,
        aux_models: Sequence[str],
        criteria_store: CriteriaStore | None = None,
        scale: tuple[int, int] = (1, 5),
        criteria_count: tuple[int, int] = (3, 9),
        sub_criteria: bool = True,
        baseline_index: int = 0,
        aux_max_tokens: int = 1024,
        anchoring: Literal["critique", "mid"] = "critique",
        templates: dict[str, str | Path] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, templates=templates, **options)
        if anchoring not in ("critique", "mid"):
            raise ValueError(f"unknown anchoring {anchoring!r}: use critique or mid")
        self.anchoring = anchoring
        if len(aux_models) < 2:
            raise ValueError(
                "PC² needs at least 2 auxiliary models (the paper uses 3 diverse ones)"
            )
        if not 0 <= baseline_index < len(aux_models):
            raise ValueError(
                f"baseline_index {baseline_index} is outside the {len(aux_models)} auxiliary models"
            )
        self.aux_models = list(aux_models)
        self.store: CriteriaStore = (
            criteria_store if criteria_store is not None else MemoryCriteriaStore()
        )
        self.scale = scale
        self.criteria_count = criteria_count
        self.sub_criteria = sub_criteria
        self.baseline_index = baseline_index
        self.aux_max_tokens = aux_max_tokens
        self._locks: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}

    # --- configuration that identifies results ----------------------------------------------
    def _templates(self):
        return (
            self.template("pc2_criteria"),
            self.template("pc2_baseline"),
            self.template("pc2_score" if self.anchoring == "critique" else "pc2_score_mid"),
        )

    def params(self) -> dict[str, Any]:
        return {
            **self.call_params(),
            "aux_models": self.aux_models,
            "scale": list(self.scale),
            "criteria_count": list(self.criteria_count),
            "sub_criteria": self.sub_criteria,
            "baseline_index": self.baseline_index,
            "anchoring": self.anchoring,
        }

    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        return combined_hash(*self._templates()), self.params()

    async def prepare_query(self, query: Query) -> None:
        """Criteria once per query, under nonces seeded by their own key (whichever judgment
        asks first); a failure is recorded by each judgment of the query."""
        from judgebench.prompts import seeded_nonces

        with seeded_nonces(self.criteria_key(query)), contextlib.suppress(CriteriaUnavailable):
            await self.prepare(query)

    def criteria_key(self, query: Query) -> str:
        t_criteria, t_baseline, _ = self._templates()
        return content_key(
            "pc2-criteria",
            query.id,
            self.model,
            self.aux_models,
            self.baseline_index,
            [t_criteria.hash, t_baseline.hash],
            list(self.scale),
            list(self.criteria_count),
            self.sub_criteria,
            self.call_params(),
        )

    def _lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        held = self._locks.get(key)
        if held is None or held[0] is not loop:
            held = (loop, asyncio.Lock())
            self._locks[key] = held
        return held[1]

    # --- once per query ---------------------------------------------------------------------
    async def prepare(
        self, query: QueryLike, aux_answers: Sequence[ResponseLike] | None = None
    ) -> QueryCriteria:
        """The query's criteria, auxiliary answers and baseline critique: from the store, or
        computed once (concurrent callers for the same query wait for one computation).
        Raises :class:`CriteriaUnavailable` when the judge's replies never parsed."""
        q = as_query(query)
        key = self.criteria_key(q)
        cached = self._stored(key)
        if cached is not None:
            return cached
        async with self._lock(key):
            cached = self._stored(key)
            if cached is not None:
                return cached
            item = await self._compute(q, key, aux_answers)
            self.store.put_criteria(
                key, item.query_id, item.judge_model, item.model_dump(mode="json")
            )
            return self._stored(key) or item  # a concurrent writer's row wins

    def _stored(self, key: str) -> QueryCriteria | None:
        payload = self.store.get_criteria(key)
        return QueryCriteria.model_validate(payload) if payload is not None else None

    async def _aux_answers(self, q: Query) -> tuple[list[str], Usage, list[bool]]:
        gateway = get_gateway()
        calls = [
            gateway.complete(
                m,
                [{"role": "user", "content": q.text}],
                temperature=self.temperature,
                max_tokens=self.aux_max_tokens,
            )
            for m in self.aux_models
        ]
        try:
            completions = await asyncio.gather(*calls)
        except LLMError as exc:
            raise CriteriaUnavailable(
                "error", f"auxiliary answer failed: {type(exc).__name__}: {exc}", [], Usage()
            ) from exc
        usage = Usage()
        for c in completions:
            usage = usage + c.usage
        truncated = [c.finish_reason == "length" for c in completions]
        return [c.text for c in completions], usage, truncated

    async def _compute(
        self, q: Query, key: str, given: Sequence[ResponseLike] | None
    ) -> QueryCriteria:
        t_criteria, t_baseline, _ = self._templates()
        low, high = self.scale
        min_n, max_n = self.criteria_count
        if given is not None:
            responses = [as_response(r, q) for r in given]
            if len(responses) != len(self.aux_models):
                raise ValueError(
                    f"{len(responses)} auxiliary answers given for {len(self.aux_models)} aux_models"
                )
            answers, usage = [r.text or "" for r in responses], Usage()
            truncated = [False] * len(answers)  # given by the caller: taken as they are
        else:
            answers, usage, truncated = await self._aux_answers(q)

        nonce = new_nonce(q.text, *answers)
        fenced_answers = [
            self.fence_all(nonce, **{f"answer_{i}": a})[f"answer_{i}"]
            for i, a in enumerate(answers, 1)
        ]
        criteria_answer: Answer[tuple[list[Criterion], list[int] | None]] = Answer(
            "criteria",
            lambda found: parse_criteria(found, min_n, max_n, self.sub_criteria),
            short_forms=False,
            format_hint=f'one JSON object {{"criteria": [...]}} with {min_n}-{max_n} {"primary " if self.sub_criteria else ""}criteria and integer weights summing to 100',
        )
        ex_criteria = await self.ask(
            t_criteria,
            {
                **self.fence_all(nonce, query=q.text),
                "answers": fenced_answers,
                "min_criteria": min_n,
                "max_criteria": max_n,
                "sub_criteria": self.sub_criteria,
                "max_sub": MAX_SUB_CRITERIA,
                "nonce": nonce,
            },
            criteria_answer,
        )
        if not ex_criteria.ok:
            raise CriteriaUnavailable(
                ex_criteria.status,
                f"criteria: {ex_criteria.reason}",
                ex_criteria.raw_replies,
                usage + ex_criteria.usage,
            )
        criteria, original = ex_criteria.value

        nonce = new_nonce(q.text, answers[self.baseline_index], render_criteria(criteria))
        critique_answer: Answer[list[CriterionScore]] = Answer(
            "critique",
            lambda found: parse_criterion_scores(
                found["critique"], criteria, low, high, "critique"
            ),
            short_forms=False,
            format_hint='one JSON object {"critique": [{"criterion": ..., "score": ..., "note": ...}]} covering every criterion',
        )
        ex_baseline = await self.ask(
            t_baseline,
            {
                **self.fence_all(
                    nonce,
                    query=q.text,
                    criteria=render_criteria(criteria),
                    answer=answers[self.baseline_index],
                ),
                "low": low,
                "high": high,
                "nonce": nonce,
            },
            critique_answer,
        )
        raw = ex_criteria.raw_replies + ex_baseline.raw_replies
        usage = usage + ex_criteria.usage + ex_baseline.usage
        if not ex_baseline.ok:
            raise CriteriaUnavailable(
                ex_baseline.status, f"baseline critique: {ex_baseline.reason}", raw, usage
            )
        return QueryCriteria(
            key=key,
            query_id=q.id,
            judge_model=self.model,
            aux_models=self.aux_models,
            aux_answers=answers,
            criteria=criteria,
            weights_renormalised=original is not None,
            original_weights=original,
            baseline_index=self.baseline_index,
            critique=ex_baseline.value or [],
            raw_replies=raw,
            usage=usage,
            template_hashes={t_criteria.name: t_criteria.hash, t_baseline.name: t_baseline.hash},
            aux_truncated=truncated,
        )

    # --- per (model, query) ------------------------------------------------------------------
    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment:
        """Score one candidate: one judge call once the query's criteria exist."""
        q = as_query(query)
        r = as_response(response, q)
        t_criteria, t_baseline, t_score = self._templates()
        template_hash = combined_hash(t_criteria, t_baseline, t_score)
        flags, matches = injection_flags(r.text)
        details: dict[str, Any] = {"injection_matches": matches} if matches else {}
        try:
            prepared = await self.prepare(q)
        except CriteriaUnavailable as exc:
            failed: Exchange[Any] = Exchange(
                None, exc.status, exc.reason, exc.raw_replies, Usage(), None
            )
            return self.make_judgment(
                template=t_score,
                template_hash=template_hash,
                query=q,
                response=r,
                exchanges=[failed],
                params=self.params(),
                flags=flags,
                details={**details, "stage": "prepare"},
            )
        low, high = self.scale
        nonce = new_nonce(
            q.text, prepared.baseline_answer, render_critique(prepared.critique), r.text
        )
        scores_answer: Answer[list[CriterionScore]] = Answer(
            "scores",
            lambda found: parse_criterion_scores(
                found["scores"], prepared.criteria, low, high, "scores"
            ),
            short_forms=False,
            format_hint='one JSON object {"scores": [{"criterion": ..., "score": ..., "note": ...}]} covering every criterion',
        )
        exchange = await self.ask(
            t_score,
            {
                **self.fence_all(
                    nonce,
                    query=q.text,
                    criteria=render_criteria(prepared.criteria),
                    baseline=prepared.baseline_answer,
                    critique=render_critique(prepared.critique),
                    candidate=r.text,
                ),
                "low": low,
                "high": high,
                "mid": (low + high) // 2,
                "nonce": nonce,
            },
            scores_answer,
        )
        if prepared.weights_renormalised:
            flags.append(WEIGHTS_RENORMALISED)
        if prepared.aux_truncated and prepared.aux_truncated[prepared.baseline_index]:
            flags.append(BASELINE_TRUNCATED)
        if any(prepared.aux_truncated):  # the criteria were derived from cut answers
            details["aux_truncated"] = prepared.aux_truncated
            details["aux_max_tokens"] = self.aux_max_tokens
        details.update(
            criteria_key=prepared.key,
            baseline_model=prepared.baseline_model,
            score_range=[100 * low, 100 * high],
            original_weights=prepared.original_weights,
        )
        scores = exchange.value or []
        return self.make_judgment(
            template=t_score,
            template_hash=template_hash,
            query=q,
            response=r,
            exchanges=[exchange],
            params=self.params(),
            score=weighted_score(scores) if exchange.ok else None,
            criteria=scores,
            rationale="; ".join(f"{c.name}: {c.note}" for c in scores if c.note) or None,
            flags=flags,
            details=details,
        )

    def prepare_sync(
        self, query: QueryLike, aux_answers: Sequence[ResponseLike] | None = None
    ) -> QueryCriteria:
        return self.sync(lambda: self.prepare(query, aux_answers))
