"""What every judge shares: inputs, one prompt→reply→parse exchange with repair retries,
building :class:`~judgebench.records.Judgment` records, and invalid-rate counting.

Subclasses render their own templates and validate the parsed answer; the loop here guarantees
the contract: a reply that does not parse is retried with a repair prompt up to
``max_repairs`` times, then the judgment is ``invalid`` with every raw reply and the reason; a
transport failure is ``error``. No code path produces a default score.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from judgebench.judges.injection import INJECTION_FLAG, detect_injection
from judgebench.judges.parsing import ReplyParseError, extract_answer, template_examples
from judgebench.llm import Completion, LLMError, gather_limited, get_gateway, run_sync
from judgebench.prompts import PromptTemplate, fence, load_template
from judgebench.records import (
    JudgeShape,
    Judgment,
    JudgmentKind,
    Query,
    Response,
    Usage,
    content_key,
    text_hash,
)

T = TypeVar("T")
QueryLike = Query | str
ResponseLike = Response | str

UNSPECIFIED_MODEL = "unspecified"


def as_query(query: QueryLike) -> Query:
    return query if isinstance(query, Query) else Query(text=str(query))


def as_response(response: ResponseLike, query: Query, model: str | None = None) -> Response:
    """A :class:`Response` for plain text (model ``unspecified`` unless given); its id depends
    on the text, so two different strings never share a judgment key."""
    if isinstance(response, Response):
        return response
    text = str(response)
    return Response(
        query_id=query.id,
        model=model or UNSPECIFIED_MODEL,
        text=text,
        params={"text": text_hash(text)},
    )


def evaluated_model(response: Response) -> str | None:
    return None if response.model == UNSPECIFIED_MODEL else response.model


# --- the contract: one protocol per judge shape ----------------------------------------------
# A judge declares ``shape`` and implements that shape's method; the job engine, analysis and
# export dispatch on the shape, never on a judge's name.


@runtime_checkable
class PointwiseShape(Protocol):
    """(query, response) → a score, with per-criterion details when the judge has criteria."""

    name: str
    shape: JudgeShape

    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment: ...


@runtime_checkable
class ReliabilityShape(Protocol):
    """(query, response) → reliable? ``score`` is the judge's statistic, reliable iff
    ``score > tau`` (``details["reliable"]``, ``details["tau"]``)."""

    name: str
    shape: JudgeShape
    tau: float

    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment: ...


@runtime_checkable
class PairwiseShape(Protocol):
    """(query, A, B) → verdict A / B / tie (a judge asks both orders; ``A`` = ``response_a``)."""

    name: str
    shape: JudgeShape

    async def evaluate_pair(
        self, query: QueryLike, response_a: ResponseLike, response_b: ResponseLike
    ) -> Judgment: ...


class RankedList(Protocol):
    """What a listwise judge returns: one judgment per candidate (``details["rank"]``, 1 =
    best, in candidate order) and the comparisons behind them (stored alongside)."""

    judgments: list[Judgment]
    comparisons: list[Judgment]


@runtime_checkable
class ListwiseShape(Protocol):
    """(query, N responses) → a ranking."""

    name: str
    shape: JudgeShape

    async def rank(self, query: QueryLike, candidates: Sequence[ResponseLike]) -> RankedList: ...


@runtime_checkable
class LikelihoodShape(Protocol):
    """(query, response) → a log-probability score; batched, since a local model scores many
    pairs per forward pass."""

    name: str
    shape: JudgeShape

    async def score_many(
        self, items: Sequence[tuple[QueryLike, ResponseLike]]
    ) -> list[Judgment]: ...


SHAPES: dict[str, tuple[type, str]] = {
    "pointwise": (PointwiseShape, "evaluate"),
    "reliability": (ReliabilityShape, "evaluate"),
    "pairwise": (PairwiseShape, "evaluate_pair"),
    "listwise": (ListwiseShape, "rank"),
    "likelihood": (LikelihoodShape, "score_many"),
}


def check_shape(cls: type) -> None:
    """A judge class declares a known shape and implements its method (checked when it is
    registered, so a broken plug-in fails at registration, not in the middle of a job)."""
    shape = getattr(cls, "shape", None)
    if shape not in SHAPES:
        raise TypeError(
            f"{cls.__qualname__}.shape is {shape!r}; declare one of: {', '.join(SHAPES)}"
        )
    method = SHAPES[shape][1]
    if getattr(cls, method, None) is getattr(Judge, method, None):
        raise TypeError(f"{cls.__qualname__} is a {shape} judge but does not implement {method}()")


class JudgeSettings(BaseModel):
    """A judge's settings as a job file gives them (``judges: - kind: <name>`` and these
    fields); each judge subclasses it, so a job is validated by the judge's own model."""

    # allow_inf_nan: inf / NaN do not survive the job's JSON round trip to its workers
    model_config = ConfigDict(extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @property
    def judge_model(self) -> str:
        """The model (or scorer) that judges: it names the judge in summaries and logs."""
        raise NotImplementedError

    def resolve_paths(self, fix: Callable[[str], str]) -> None:
        """Make file settings absolute (a job file's paths are relative to it)."""

    def check_inputs(self) -> None:
        """Read the files these settings name, raising a one-line DataError for a bad one: a
        job calls it before its first write (no run row for a missing references file)."""

    def missing_extra(self) -> str | None:
        """The install extra these settings need and lack (``local`` for a local model), or
        None: a job skips such a judge with a one-line note instead of failing."""
        return None


class LLMJudgeSettings(JudgeSettings):
    """Settings every prompted judge shares: the judge model behind the gateway and how it
    is asked (``templates`` overrides template files by name, as in docs/judges.md)."""

    model: str
    max_repairs: int = Field(2, ge=0)
    # the OpenAI API's ranges: beyond them every judge call of the run is refused
    temperature: float = Field(0.0, ge=0, le=2)
    max_tokens: int = Field(1024, ge=1, le=2**31 - 1)
    templates: dict[str, str] = Field(default_factory=dict)

    @property
    def judge_model(self) -> str:
        return self.model

    def check_inputs(self) -> None:
        """Every template override names a template judges have and a readable jinja2 file."""
        from judgebench.errors import DataError
        from judgebench.prompts import TemplateError

        for name, path in self.templates.items():
            ref = name if ":" in name else f"judges:{name}"
            try:
                load_template(ref)  # a misspelt name would silently never be used
            except TemplateError:
                raise DataError(
                    "no such judge template to override (see docs/judges.md)",
                    where=f"templates.{name}",
                ) from None
            try:
                load_template(Path(path))
            except TemplateError as exc:
                raise DataError(str(exc), where=f"templates.{name}") from None


@dataclass
class JobResources:
    """What a job lends a judge it builds: how many calls it may have in flight and a keyed
    store for artefacts shared across items and runs (PC² criteria, a calibrated τ)."""

    concurrency: int = 16
    artefacts: Any = None  # a CriteriaStore; None: kept in memory
    store: Any = None


@dataclass
class Exchange(Generic[T]):
    """One question to the judge model, with its repairs: the parsed value or why not."""

    value: T | None
    status: str  # ok | invalid | error
    reason: str | None
    raw_replies: list[str]
    usage: Usage
    cost: float | None
    completion: Completion | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class Answer(Generic[T]):
    """How to read one kind of reply: the fields and a validator raising ReplyParseError."""

    primary: str
    validate: Callable[[dict[str, Any]], T]
    fields: Sequence[str] = ()
    short_forms: bool = True
    format_hint: str = "one JSON object"


@dataclass
class JudgeStats:
    """Outcome counts per (judge model, evaluated model): how often replies were unusable."""

    counts: dict[tuple[str, str | None], Counter[str]] = field(default_factory=dict)

    def add(self, judgment: Judgment) -> None:
        key = (judgment.judge_model, judgment.model)
        self.counts.setdefault(key, Counter())[judgment.status] += 1

    def invalid_rates(self) -> dict[tuple[str, str | None], float]:
        return {key: c["invalid"] / max(1, sum(c.values())) for key, c in self.counts.items()}


def invalid_rates(
    judgments: Iterable[Judgment],
) -> dict[tuple[str, str, str | None], dict[str, float]]:
    """Per (judge, judge model, evaluated model): counts of ok/invalid/error and the invalid rate."""
    table: dict[tuple[str, str, str | None], Counter[str]] = {}
    for j in judgments:
        table.setdefault((j.judge, j.judge_model, j.model), Counter())[j.status] += 1
    out: dict[tuple[str, str, str | None], dict[str, float]] = {}
    for key, c in sorted(table.items(), key=lambda kv: tuple(str(x) for x in kv[0])):
        n = sum(c.values())
        out[key] = {
            "n": n,
            "ok": c["ok"],
            "invalid": c["invalid"],
            "error": c["error"],
            "invalid_rate": c["invalid"] / n if n else 0.0,
        }
    return out


def combine_usage(exchanges: Iterable[Exchange[Any]]) -> tuple[Usage, float | None]:
    usage = Usage()
    cost: float | None = None
    for ex in exchanges:
        usage = usage + ex.usage
        if ex.cost is not None:
            cost = (cost or 0.0) + ex.cost
    return usage, cost


def exchanges_outcome(
    exchanges: Sequence[Exchange[Any]], labels: Sequence[str] | None = None
) -> tuple[str, str | None]:
    """(status, reason) of a judgment made of several exchanges. Any transport ``error`` makes
    it ``error`` (it reaches the error rows and a rerun retries it; an ``invalid`` beside it must
    not hide it), else any ``invalid`` makes it ``invalid``. The reason names every exchange that
    was not ok (``labels[i]``, else ``call i``), and says when their outcomes were mixed."""
    bad = [(i, ex) for i, ex in enumerate(exchanges) if not ex.ok]
    if not bad:
        return "ok", None
    status = "error" if any(ex.status == "error" for _, ex in bad) else "invalid"
    if len(bad) == 1 and len(exchanges) == 1:
        return status, bad[0][1].reason
    parts = [
        f"{labels[i] if labels else f'call {i + 1}'} {ex.status}: {ex.reason}" for i, ex in bad
    ]
    statuses = {ex.status for ex in exchanges}
    prefix = f"mixed outcome ({', '.join(sorted(statuses))}): " if len(statuses) > 1 else ""
    return status, prefix + "; ".join(parts)


def injection_flags(*texts: str | None) -> tuple[list[str], list[str]]:
    """(flags, matches) for the evaluated texts."""
    matches = [hit for text in texts for hit in detect_injection(text)]
    return ([INJECTION_FLAG] if matches else []), matches


class Judge:
    """Base class: a judge model behind the gateway, its templates and the repair loop.

    ``templates`` overrides any template by path: ``{"pairwise": "my_pairwise.j2"}`` (the
    ``judges:`` prefix is optional). ``max_repairs`` is how many repair prompts follow an
    unusable reply before the judgment is stored invalid.
    """

    name: ClassVar[str] = "judge"  # the registered name (written here only)
    kind: ClassVar[JudgmentKind] = "pointwise"
    shape: ClassVar[JudgeShape] = "pointwise"
    Settings: ClassVar[type[JudgeSettings]] = LLMJudgeSettings

    @classmethod
    def from_settings(cls, settings: JudgeSettings, resources: JobResources) -> Judge:
        """The judge a job's settings describe (the fields are the constructor's keywords)."""
        return cls(**settings.model_dump(), concurrency=resources.concurrency)

    def __init__(
        self,
        model: str,
        *,
        templates: Mapping[str, str | Path] | None = None,
        max_repairs: int = 2,
        temperature: float = 0.0,
        max_tokens: int = 1024,
        concurrency: int = 16,
    ) -> None:
        if max_repairs < 0:
            raise ValueError("max_repairs must be >= 0")
        self.model = model
        self.templates = {
            (k if ":" in k else f"judges:{k}"): v for k, v in (templates or {}).items()
        }
        self.max_repairs = max_repairs
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.concurrency = concurrency
        self.stats = JudgeStats()

    # --- templates --------------------------------------------------------------------------
    def template(self, ref: str) -> PromptTemplate:
        ref = ref if ":" in ref else f"judges:{ref}"
        return load_template(ref, overrides=self.templates)

    @staticmethod
    def fence_all(nonce: str, **texts: str | None) -> dict[str, str]:
        """Fence each text under its upper-cased keyword as label (``query`` → ``QUERY``)."""
        return {key: fence(text or "", key.upper(), nonce) for key, text in texts.items()}

    def call_params(self) -> dict[str, Any]:
        """Generation parameters; they are part of every judgment's natural key."""
        return {"temperature": self.temperature, "max_tokens": self.max_tokens}

    # --- what a job needs: natural keys before asking, shared per-query and per-run work -----
    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        """(template hash, params) every judgment of this judge is keyed by (``candidates``:
        how many responses a listwise judge ranks at once); a job computes the keys of the
        judgments it wants and asks only for the missing ones."""
        params = getattr(self, "params", self.call_params)
        return self.template(self.name).hash, params()

    def unit_keys(self, query_id: str, response_ids: Sequence[str]) -> list[str]:
        """The natural keys of what judging these responses as one unit stores: one judgment
        for a pair, one per candidate for a ranking, else one for the single response."""
        template_hash, params = self.key_parts(len(response_ids))

        def key(*ids: str) -> str:
            return Judgment.natural_key(
                self.name, self.model, template_hash, params, query_id, *ids
            )

        if self.shape == "pairwise":
            return [key(response_ids[0], response_ids[1])]
        return [key(r) for r in response_ids]

    async def prepare_run(self) -> None:
        """Once per run before any judgment (Meta Ranking calibrates τ here)."""

    async def prepare_query(self, query: Query) -> None:
        """Work shared by all of a query's judgments (PC² criteria), started as soon as the
        query exists; a failure here is recorded by the judgments that need it."""

    # --- one exchange -----------------------------------------------------------------------
    async def ask(
        self,
        template: PromptTemplate,
        values: Mapping[str, Any],
        answer: Answer[T],
        *,
        model: str | None = None,
        extra_params: Mapping[str, Any] | None = None,
    ) -> Exchange[T]:
        """Send the rendered template; parse; repair up to ``max_repairs`` times."""
        model = model or self.model
        prompt = template.render(**values)
        examples = template_examples(template.source)
        messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
        params = {**self.call_params(), **(extra_params or {})}
        raw: list[str] = []
        usage = Usage()
        cost: float | None = None
        completion: Completion | None = None
        reason = "no reply"
        gateway = get_gateway()
        for attempt in range(self.max_repairs + 1):
            try:
                completion = await gateway.complete(model, messages, **params)
            except LLMError as exc:
                return Exchange(
                    None,
                    "error",
                    f"{type(exc).__name__}: {exc}",
                    raw,
                    usage,
                    cost,
                    completion,
                    attempt + 1,
                )
            raw.append(completion.text)
            usage = usage + completion.usage
            if completion.cost is not None:
                cost = (cost or 0.0) + completion.cost
            try:
                found = extract_answer(
                    completion.text,
                    primary=answer.primary,
                    fields=answer.fields,
                    examples=examples,
                    finish_reason=completion.finish_reason,
                    short_forms=answer.short_forms,
                )
                value = answer.validate(found)
            except ReplyParseError as exc:
                reason = str(exc)
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.text},
                    {"role": "user", "content": self._repair_prompt(reason, answer)},
                ]
                continue
            return Exchange(value, "ok", None, raw, usage, cost, completion, attempt + 1)
        attempts = self.max_repairs + 1
        return Exchange(
            None,
            "invalid",
            f"{reason} (after {attempts} attempt{'s' * (attempts > 1)})",
            raw,
            usage,
            cost,
            completion,
            attempts,
        )

    def _repair_prompt(self, reason: str, answer: Answer[Any]) -> str:
        return self.template("repair").render(reason=reason, format_hint=answer.format_hint)

    # --- records ----------------------------------------------------------------------------
    def make_judgment(
        self,
        *,
        template: PromptTemplate,
        query: Query,
        response: Response | None,
        exchanges: Sequence[Exchange[Any]],
        params: Mapping[str, Any],
        response_b: Response | None = None,
        score: float | None = None,
        verdict: str | None = None,
        status: str | None = None,
        reason: str | None = None,
        template_hash: str | None = None,
        kind: str | None = None,
        **fields: Any,
    ) -> Judgment:
        """A judgment from the exchanges that produced it; their outcome
        (:func:`exchanges_outcome`: an error anywhere wins) decides the status unless
        ``status`` is given."""
        usage, cost = combine_usage(exchanges)
        if status is None:
            status, found = exchanges_outcome(exchanges)
            reason = reason or found
        if status != "ok":
            score = verdict = None
        # every reply came from the call cache: ``cost`` is what they cost when first bought
        fields.setdefault(
            "cached",
            bool(exchanges)
            and all(ex.completion is not None and ex.completion.cached for ex in exchanges),
        )
        judgment = Judgment(
            judge=self.name,
            judge_model=self.model,
            kind=kind or self.kind,
            shape=self.shape,
            query_id=query.id,
            response_id=response.id if response else None,
            response_b_id=response_b.id if response_b else None,
            model=evaluated_model(response) if response else None,
            model_b=evaluated_model(response_b) if response_b else None,
            template_name=template.name,
            template_hash=template_hash or template.hash,
            params=dict(params),
            score=score,
            verdict=verdict,
            raw_replies=[r for ex in exchanges for r in ex.raw_replies],
            status=status,
            reason=reason,
            usage=usage,
            cost=cost,
            **fields,
        )
        self.stats.add(judgment)
        return judgment

    # --- the pointwise interface (pairwise judges and rankers have their own) -------------
    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment:
        """Judge one response to one query (pointwise judges implement this)."""
        raise NotImplementedError(f"{type(self).__name__} does not judge single responses")

    async def evaluate_many(
        self, items: Sequence[tuple[QueryLike, ResponseLike]]
    ) -> list[Judgment]:
        """``evaluate`` over many (query, response) pairs, ``concurrency`` at a time."""
        return await self.gather([partial(self.evaluate, q, r) for q, r in items])

    def evaluate_sync(self, query: QueryLike, response: ResponseLike) -> Judgment:
        return self.sync(lambda: self.evaluate(query, response))

    def evaluate_many_sync(self, items: Sequence[tuple[QueryLike, ResponseLike]]) -> list[Judgment]:
        return self.sync(lambda: self.evaluate_many(items))

    # --- helpers for batch and sync APIs ----------------------------------------------------
    async def gather(self, factories: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
        return await gather_limited(factories, limit=self.concurrency)

    @staticmethod
    def sync(factory: Callable[[], Awaitable[T]]) -> T:
        """Run an async method from scripts and notebooks (see judgebench.llm.run_sync)."""
        return run_sync(factory)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(model={self.model!r})"


def combined_hash(*templates: PromptTemplate, extra: Any = None) -> str:
    """One hash over several templates (a multi-prompt judge's natural key changes with any)."""
    return content_key([t.hash for t in templates], extra, length=16)


__all__ = [
    "SHAPES",
    "Answer",
    "Exchange",
    "JobResources",
    "Judge",
    "JudgeSettings",
    "JudgeStats",
    "LLMJudgeSettings",
    "LikelihoodShape",
    "ListwiseShape",
    "PairwiseShape",
    "PointwiseShape",
    "RankedList",
    "ReliabilityShape",
    "check_shape",
    "QueryLike",
    "ResponseLike",
    "as_query",
    "as_response",
    "combined_hash",
    "invalid_rates",
]
