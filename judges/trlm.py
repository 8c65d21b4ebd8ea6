"""TRLMScorer: time-reversed scoring, S(query | response) (arXiv 2412.02626; METHODS.md §6).

S(Q|A) = Σ log p(qₜ | A ⊕ c ⊕ q₍<t₎) with c a conditioning phrase, from any backend that returns
prompt log-probabilities (``hf:<path>`` local model, or a completions endpoint with echo +
logprobs). ``reduction="mean"`` (default: per-token mean, comparable across queries) or
``"sum"``; within one candidate set both give the same order when the query is the same.
Optionally mixed with the forward score: α·S(Q|A) + (1−α)·S(A|Q) (default α = 1: reverse only).

Uses: best-of-N rerank, passage rerank ("Document has an answer to"), and citation search —
which of several sources best explains a claim, by S(claim | source ⊕ c): ``linear`` (each
source alone), ``binary`` (halve the set, keep the half that explains it better; O(log n)
calls), ``exclusion`` (drop each source from the full set; the one whose removal hurts most).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import AliasChoices, Field

from judgebench.judges.base import (
    JobResources,
    Judge,
    JudgeSettings,
    QueryLike,
    ResponseLike,
    as_query,
    as_response,
)
from judgebench.judges.logprobs import (
    CITATION_PHRASE,
    DEFAULT_PHRASE,
    FORWARD_PHRASE,
    PASSAGE_PHRASE,
    LogprobBackend,
    resolve_backend,
)
from judgebench.judges.registry import register_judge
from judgebench.llm import LLMError
from judgebench.prompts import PromptTemplate
from judgebench.records import Judgment, Query, Response, canonical_json

Reduction = Literal["mean", "sum"]


def reduce_logprobs(values: Sequence[float], reduction: Reduction) -> float:
    total = float(sum(values))
    return total / len(values) if reduction == "mean" else total


@dataclass
class CitationResult:
    method: str
    ranked: list[int]  # source indices, best explanation first (binary: the surviving path)
    scores: dict[int, float]  # what each method measured per source (see the module doc)
    calls: int

    @property
    def best(self) -> int:
        return self.ranked[0]


class TRLMSettings(JudgeSettings):
    """``backend``: ``hf:<path>`` (a local model: the ``local`` extra) or a gateway model
    whose completions endpoint echoes prompt log-probabilities (``sim/large``, an
    ``api_base`` model)."""

    backend: str = Field(validation_alias=AliasChoices("backend", "scorer"))
    phrase: str = DEFAULT_PHRASE
    reduction: Reduction = Field("mean", validation_alias=AliasChoices("reduction", "reduce"))
    alpha: float = Field(1.0, ge=0, le=1)
    forward_phrase: str = FORWARD_PHRASE
    scored_prompt: str = ""
    # local models only
    reversed_tokens: bool = False
    device: str = "auto"
    dtype: str | None = None
    batch_size: int = Field(8, ge=1)

    @property
    def judge_model(self) -> str:
        return self.backend

    def missing_extra(self) -> str | None:
        from importlib.util import find_spec

        local = self.backend.startswith("hf:")
        return "local" if local and not (find_spec("torch") and find_spec("transformers")) else None


@register_judge
class TRLMScorer(Judge):
    """Reverse scorer. ``scorer``: ``"hf:<path>"``, a completions-capable gateway model name, or
    a :class:`~judgebench.judges.logprobs.LogprobBackend` instance (e.g. ``HFCausalLM``).
    ``reversed_tokens=True`` with an ``hf:`` path for a TRLM-Ba checkpoint (see :meth:`pair`
    for the sequence each direction scores); ``scored_prompt`` is the paper's scoring prompt,
    put before the query and scored with it."""

    name = "trlm"
    kind = "reverse"
    shape = "likelihood"
    Settings = TRLMSettings

    @classmethod
    def from_settings(cls, settings: JudgeSettings, resources: JobResources) -> TRLMScorer:
        assert isinstance(settings, TRLMSettings)
        local = {"reversed_tokens", "device", "dtype", "batch_size"}
        options = (
            settings.model_dump(include=local)
            if settings.backend.startswith("hf:")
            else {"concurrency": resources.concurrency}
        )
        return cls(settings.backend, **settings.model_dump(exclude={"backend", *local}), **options)

    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        return self._template(self.phrase).hash, self.params(self.phrase)

    def __init__(
        self,
        scorer: str | LogprobBackend,
        *,
        phrase: str = DEFAULT_PHRASE,
        reduction: Reduction = "mean",
        alpha: float = 1.0,
        forward_phrase: str = FORWARD_PHRASE,
        scored_prompt: str = "",
        **backend_options: Any,
    ) -> None:
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be within [0, 1], got {alpha}")
        self.backend = resolve_backend(scorer, **backend_options)
        super().__init__(self.backend.name)
        self.phrase = phrase
        self.reduction = reduction
        self.alpha = alpha
        self.forward_phrase = forward_phrase
        self.scored_prompt = scored_prompt
        # a TRLM-Ba backend reads the joined text backwards (see pair())
        self.reads_backwards = bool(getattr(self.backend, "reversed_tokens", False))
        self.backend_options = {k: v for k, v in backend_options.items() if k == "reversed_tokens"}

    def _template(self, phrase: str) -> PromptTemplate:
        # TRLM sends no instruction prompt: its "template" is the text joining answer and query
        return PromptTemplate(
            name="trlm:reverse",
            source=canonical_json(
                [phrase, self.forward_phrase, self.alpha]
                + ([self.scored_prompt] if self.scored_prompt else [])
            ),
        )

    def params(self, phrase: str) -> dict[str, Any]:
        return {
            "phrase": phrase,
            "reduction": self.reduction,
            "alpha": self.alpha,
            **({"scored_prompt": self.scored_prompt} if self.scored_prompt else {}),
            **self.backend_options,
        }

    def pair(self, given: str, phrase: str, scored: str, prompt: str = "") -> tuple[str, str]:
        """The backend's (context, target) for log p(scored | given), ``phrase`` between them
        in the order the model reads. Forward model (TRLM-Fo, arXiv 2412.02626 Alg. 3):
        (given ⊕ phrase, scored). Reversed-token model (TRLM-Ba, Alg. 2: Reverse(SP ⊕ Q) given
        Reverse(CP ⊕ A)): (phrase ⊕ given, scored), which the backend reads backwards as
        given, phrase, scored: the phrase sits between the answer and the query. ``prompt``
        (the paper's scoring prompt SP, ``scored_prompt``; empty by default) is prepended to
        the target and its tokens count in the score."""
        context = phrase + given if self.reads_backwards else given + phrase
        return context, prompt + scored

    async def _scores(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        return await self.backend.target_logprobs(pairs)

    async def score_many(
        self, items: Sequence[tuple[QueryLike, ResponseLike]], *, phrase: str | None = None
    ) -> list[Judgment]:
        """One judgment per (query, response): score = α·S(Q|A) + (1−α)·S(A|Q)."""
        phrase = self.phrase if phrase is None else phrase
        template = self._template(phrase)
        queries = [as_query(q) for q, _ in items]
        responses = [as_response(r, q) for q, (_, r) in zip(queries, items, strict=True)]
        if self.alpha < 1.0 and any(not (r.text or "").strip() for r in responses):
            return await self._without_blank(queries, responses, phrase, template)
        reverse_pairs = [
            self.pair(r.text or "", phrase, q.text, self.scored_prompt)
            for q, r in zip(queries, responses, strict=True)
        ]
        forward_pairs = (
            [
                self.pair(q.text, self.forward_phrase, r.text or "")
                for q, r in zip(queries, responses, strict=True)
            ]
            if self.alpha < 1.0
            else []
        )
        try:
            # both directions in one backend call: one set of batches (or one concurrent fan-out)
            scored = await self._scores(reverse_pairs + forward_pairs)
        except (LLMError, ValueError) as exc:
            # one unscorable item (empty target, too long for the model: a ValueError from the
            # local backend) must not fail its batch; transport errors are not retried here
            if isinstance(exc, ValueError) and len(items) > 1:
                return [j for item in items for j in await self.score_many([item], phrase=phrase)]
            return [
                self.make_judgment(
                    template=template,
                    query=q,
                    response=r,
                    exchanges=[],
                    params=self.params(phrase),
                    status="error",
                    reason=f"{type(exc).__name__}: {exc}",
                )
                for q, r in zip(queries, responses, strict=True)
            ]
        reverse = scored[: len(reverse_pairs)]
        forward = scored[len(reverse_pairs) :] if forward_pairs else None
        out = []
        for i, (q, r) in enumerate(zip(queries, responses, strict=True)):
            s_rev = reduce_logprobs(reverse[i], self.reduction)
            details: dict[str, Any] = {
                "reverse": s_rev,
                "reverse_tokens": len(reverse[i]),
                "reverse_sum": sum(reverse[i]),
            }
            score = s_rev
            if forward is not None:
                s_fwd = reduce_logprobs(forward[i], self.reduction)
                details.update(forward=s_fwd, forward_tokens=len(forward[i]))
                score = self.alpha * s_rev + (1 - self.alpha) * s_fwd
            out.append(
                self.make_judgment(
                    template=template,
                    query=q,
                    response=r,
                    exchanges=[],
                    params=self.params(phrase),
                    status="ok",
                    score=score,
                    details=details,
                )
            )
        return out

    async def _without_blank(
        self,
        queries: list[Query],
        responses: list[Response],
        phrase: str,
        template: PromptTemplate,
    ) -> list[Judgment]:
        """S(A|Q) of an empty response has no token to score (an endpoint answers the batch
        with an error, failing every item in it): the blank ones are invalid, the rest scored."""
        blank = [not (r.text or "").strip() for r in responses]
        pairs = list(zip(queries, responses, strict=True))
        scored = iter(
            await self.score_many(
                [p for p, b in zip(pairs, blank, strict=True) if not b], phrase=phrase
            )
        )
        return [
            self.make_judgment(
                template=template,
                query=q,
                response=r,
                exchanges=[],
                params=self.params(phrase),
                status="invalid",
                reason="empty response: S(A|Q) has no token to score (alpha < 1)",
            )
            if b
            else next(scored)
            for (q, r), b in zip(pairs, blank, strict=True)
        ]

    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment:
        return (await self.score_many([(query, response)]))[0]

    async def rerank(
        self, query: QueryLike, responses: Sequence[ResponseLike], *, phrase: str | None = None
    ) -> list[Judgment]:
        """Best-of-N: the candidates' judgments, best first (``details["rank"]``, 1 = best).
        Candidates that could not be scored come last, unranked."""
        q = as_query(query)
        cands: list[Response] = [as_response(r, q) for r in responses]
        judged = await self.score_many([(q, r) for r in cands], phrase=phrase)
        indexed = list(enumerate(judged))
        ok = sorted((p for p in indexed if p[1].ok), key=lambda p: (-(p[1].score or 0.0), p[0]))
        ranked = []
        for rank, (idx, j) in enumerate(ok, 1):
            ranked.append(
                j.model_copy(
                    update={"details": {**j.details, "rank": rank, "candidate_index": idx}}
                )
            )
        ranked += [
            j.model_copy(update={"details": {**j.details, "candidate_index": i}})
            for i, j in indexed
            if not j.ok
        ]
        return ranked

    async def rerank_passages(
        self, query: QueryLike, passages: Sequence[ResponseLike]
    ) -> list[Judgment]:
        """Passage reranking: S(query | passage ⊕ "Document has an answer to: ")."""
        return await self.rerank(query, passages, phrase=PASSAGE_PHRASE)

    async def find_citation(
        self,
        claim: str,
        sources: Sequence[str],
        *,
        method: Literal["linear", "binary", "exclusion"] = "linear",
        phrase: str = CITATION_PHRASE,
        separator: str = "\n",
    ) -> CitationResult:
        """Which source best explains ``claim`` (see the module docstring for the methods)."""
        if not sources:
            raise ValueError("no sources to search")

        async def explain(contexts: Sequence[str]) -> list[float]:
            values = await self._scores([self.pair(c, phrase, claim) for c in contexts])
            return [reduce_logprobs(v, self.reduction) for v in values]

        indices = list(range(len(sources)))
        if method == "linear":
            scores = dict(zip(indices, await explain(list(sources)), strict=True))
            ranked = sorted(indices, key=lambda i: (-scores[i], i))
            return CitationResult(method, ranked, scores, len(sources))
        if method == "exclusion":
            if len(sources) == 1:
                return CitationResult(method, [0], {0: 0.0}, 0)
            full = (await explain([separator.join(sources)]))[0]
            without = await explain(
                [separator.join(s for j, s in enumerate(sources) if j != i) for i in indices]
            )
            drops = {i: full - w for i, w in zip(indices, without, strict=True)}
            ranked = sorted(indices, key=lambda i: (-drops[i], i))
            return CitationResult(method, ranked, drops, len(sources) + 1)
        if method == "binary":
            alive, calls, scores = indices, 0, {}
            while len(alive) > 1:
                half = len(alive) // 2
                left, right = alive[:half], alive[half:]
                s_left, s_right = await explain(
                    [separator.join(sources[i] for i in part) for part in (left, right)]
                )
                calls += 2
                for i in left:
                    scores[i] = s_left
                for i in right:
                    scores[i] = s_right
                alive = left if s_left >= s_right else right
            return CitationResult(method, alive, scores, calls)
        raise ValueError(f"unknown citation method {method!r}: use linear, binary or exclusion")

    # --- sync twins ---------------------------------------------------------------------------

    def score_many_sync(self, items: Sequence[tuple[QueryLike, ResponseLike]]) -> list[Judgment]:
        return self.sync(lambda: self.score_many(items))

    def rerank_sync(self, query: QueryLike, responses: Sequence[ResponseLike]) -> list[Judgment]:
        return self.sync(lambda: self.rerank(query, responses))

    def rerank_passages_sync(
        self, query: QueryLike, passages: Sequence[ResponseLike]
    ) -> list[Judgment]:
        return self.sync(lambda: self.rerank_passages(query, passages))

    def find_citation_sync(self, claim: str, sources: Sequence[str], **kw: Any) -> CitationResult:
        return self.sync(lambda: self.find_citation(claim, sources, **kw))
