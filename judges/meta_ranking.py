"""MetaRankingJudge: is a response reliable? Judged by comparing it with labelled references
from OTHER queries (Meta Ranking, arXiv 2402.12146; METHODS.md §5).

For each of N references (default 5, class-balanced, seeded) the judge says which of the two
(query, response) pairs is more reliable, in both orders (a flip is a tie, vote 0). Votes with
reference label y: target beats a correct reference +1; loses to an incorrect one −1; beats an
incorrect one +λ; loses to a correct one −λ (default λ = 0.25). s = mean of the votes over the
references whose comparisons parsed; reliable iff s > τ. Soft mode uses the judge's option-token
probabilities instead of the hard outcome when the backend returns logprobs.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from judgebench.judges.base import (
    Exchange,
    JobResources,
    Judge,
    JudgeSettings,
    LLMJudgeSettings,
    QueryLike,
    ResponseLike,
    as_query,
    as_response,
    exchanges_outcome,
    injection_flags,
)
from judgebench.judges.pairwise import verdict_answer
from judgebench.judges.registry import register_judge
from judgebench.llm import Completion
from judgebench.prompts import PromptTemplate, new_nonce
from judgebench.records import Judgment, Query, Response, Usage, content_key, normalize_text

if TYPE_CHECKING:
    import numpy as np

PARTIAL_REFERENCES = "partial_references"
UNBALANCED_REFERENCES = "unbalanced_references"
TOO_FEW_REFERENCES = "too_few_references"  # fewer from other queries than a judgment needs
SOFT_UNAVAILABLE = "soft_unavailable"


class Reference(BaseModel):
    """A labelled (query, response, correct?) example."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    query: str
    response: str
    correct: bool
    query_id: str = ""
    id: str = ""

    def model_post_init(self, _: Any) -> None:
        if not self.query_id:
            object.__setattr__(self, "query_id", Query.natural_key(self.query))
        if not self.id:
            object.__setattr__(
                self, "id", content_key("reference", self.query, self.response, self.correct)
            )


class ReferenceStore:
    """Labelled references in memory; ``select`` draws class-balanced sets from other queries."""

    def __init__(self, references: Iterable[Reference] = ()) -> None:
        self._refs: dict[str, Reference] = {}
        self._normalised: dict[str, str] = {}  # ref id → normalised query (own-query exclusion)
        for ref in references:
            self.add(ref)

    def add(self, ref: Reference) -> None:
        if ref.id not in self._refs:
            self._refs[ref.id] = ref
            self._normalised[ref.id] = normalize_text(ref.query)

    def __iter__(self) -> Iterator[Reference]:
        return iter(self._refs.values())

    def add_example(self, query: str, response: str, correct: bool) -> Reference:
        ref = Reference(query=query, response=response, correct=correct)
        self.add(ref)
        return ref

    def __len__(self) -> int:
        return len(self._refs)

    def select(
        self, target: Query, n: int, seed: int, salt: str = ""
    ) -> tuple[list[Reference], bool]:
        """``n`` references not from ``target``'s query (by id or normalised text), half correct
        (the odd one's class drawn by the seed); and whether the balance could be met."""
        own = normalize_text(target.text)
        pool = sorted(
            (
                r
                for r in self._refs.values()
                if r.query_id != target.id and self._normalised[r.id] != own
            ),
            key=lambda r: r.id,
        )
        rng = random.Random(content_key("mr-select", seed, target.id, salt))
        good = [r for r in pool if r.correct]
        bad = [r for r in pool if not r.correct]
        rng.shuffle(good)
        rng.shuffle(bad)
        n_good = n // 2 + (rng.random() < 0.5 if n % 2 else 0)
        n_bad = n - n_good
        balanced = len(good) >= n_good and len(bad) >= n_bad
        if not balanced:  # fill from the other class, and say so
            n_good = min(len(good), n - min(len(bad), n_bad))
            n_bad = min(len(bad), n - n_good)
        chosen = good[:n_good] + bad[:n_bad]
        rng.shuffle(chosen)
        return chosen, balanced


def vote(target_won: float, reference_correct: bool, lam: float) -> float:
    """Expected vote given P(target judged more reliable) (1/0 hard, in between soft)."""
    if reference_correct:
        return target_won * 1.0 + (1 - target_won) * -lam
    return target_won * lam + (1 - target_won) * -1.0


@overload
def is_reliable_score(score: float, tau: float) -> bool: ...
@overload
def is_reliable_score(score: np.ndarray, tau: np.ndarray | float) -> np.ndarray: ...
def is_reliable_score(score: Any, tau: Any) -> Any:
    """THE Meta Ranking decision rule, used by the judge, its calibration and the cascade
    router: reliable iff s > τ (the paper's rule; s = τ is unreliable, which matters because
    s takes few distinct values). Works elementwise on numpy arrays too."""
    return score > tau


def option_probability(completion: Completion | None, chosen: str) -> float | None:
    """P(option ``chosen``) vs the other of A/B at the verdict token, from top logprobs; None
    when the completion carries none. Mass missing from the top list goes to the other option."""
    if completion is None or not completion.logprobs:
        return None
    for tok in reversed(completion.logprobs):
        if tok.token.strip() not in ("A", "B"):
            continue
        probs: dict[str, float] = {}
        for text, lp in {**tok.top_logprobs, tok.token: tok.logprob}.items():
            label = text.strip()
            if label in ("A", "B") and lp is not None:
                probs[label] = max(probs.get(label, 0.0), math.exp(lp))
        if not probs:
            return None
        p_chosen = probs.get(chosen, 0.0)
        other = "B" if chosen == "A" else "A"
        p_other = probs.get(other, max(0.0, 1.0 - p_chosen))
        return p_chosen / (p_chosen + p_other) if p_chosen + p_other > 0 else None
    return None


class CalibrationReport(BaseModel):
    """τ chosen on labelled data and how "unreliable" detection (s ≤ τ) performs there."""

    tau: float
    target: str
    precision: float
    recall: float
    f1: float
    auroc: float | None
    n: int
    unreliable: int


def auroc(scores: Sequence[float], correct: Sequence[bool]) -> float | None:
    """P(score of a correct response > score of an incorrect one), ties counted half."""
    pos = [s for s, c in zip(scores, correct, strict=True) if c]
    neg = [s for s, c in zip(scores, correct, strict=True) if not c]
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def choose_tau(
    scores: Sequence[float],
    correct: Sequence[bool],
    target: Literal["f1", "precision"] = "f1",
    min_precision: float = 0.9,
) -> CalibrationReport:
    if len(scores) != len(correct) or not scores:
        raise ValueError("calibration needs as many labels as scores, and at least one")
    n_bad = sum(not c for c in correct)
    if n_bad == 0:
        raise ValueError("calibration needs at least one incorrect (unreliable) example")
    values = sorted(set(scores))
    candidates = [values[0] - 1.0] + values
    best: tuple[tuple[float, ...], CalibrationReport] | None = None
    for tau in candidates:
        flagged = [not is_reliable_score(s, tau) for s in scores]
        tp = sum(f and not c for f, c in zip(flagged, correct, strict=True))
        fp = sum(f and c for f, c in zip(flagged, correct, strict=True))
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / n_bad
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        if target == "precision":
            if precision < min_precision:
                continue
            rank = (recall, precision)
        else:
            rank = (f1, precision)
        report = CalibrationReport(
            tau=tau,
            target=target if target == "f1" else f"precision>={min_precision}",
            precision=precision,
            recall=recall,
            f1=f1,
            auroc=auroc(scores, correct),
            n=len(scores),
            unreliable=n_bad,
        )
        if best is None or rank > best[0]:
            best = (rank, report)
    if best is None:
        raise ValueError(f"no threshold reaches precision {min_precision} on these labels")
    return best[1]


LABEL_SET = "label-set:"


def load_references(path: str | Path) -> list[Reference]:
    """Labelled references from a JSON-lines file of ``{"query", "response", "correct"}``, or
    ``label-set:<name>``: a judge-eval label set (``judgebench judge-eval``; LLMBar, PandaLM),
    whose preferred response of each pair is correct and the other incorrect (ties left out)."""
    import json

    from judgebench.errors import DataError

    if str(path).startswith(LABEL_SET):
        return _label_set_references(str(path).removeprefix(LABEL_SET))
    path = Path(path)
    if not path.is_file():
        raise DataError("references file not found", where=str(path))
    out = []
    from judgebench.importers.base import read_text

    # "\n" only: str.splitlines also splits at U+2028/U+2029, which JSON writes raw in strings
    for n, line in enumerate(read_text(path).split("\n"), 1):  # non-UTF-8: one line
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(
                Reference(query=row["query"], response=row["response"], correct=row["correct"])
            )
        except (ValueError, KeyError, TypeError, RecursionError) as exc:
            raise DataError(
                f"expected {{query, response, correct}}: {type(exc).__name__}: {exc}",
                where=f"{path}:{n}",
            ) from None
    return out


def _label_set_references(name: str) -> list[Reference]:
    from judgebench.analysis.judge_eval import labelled_pairs, load_label_set

    refs = []
    for pair in labelled_pairs(load_label_set(name)[1]):
        if pair.label not in ("A", "B"):
            continue
        good, bad = (
            (pair.response_a, pair.response_b)
            if pair.label == "A"
            else (pair.response_b, pair.response_a)
        )
        for response, correct in ((good, True), (bad, False)):
            refs.append(
                Reference(query=pair.query.text, response=response.text or "", correct=correct)
            )
    return refs


class CalibrationSpec(BaseModel):
    """Pick τ once per run on labelled examples (default: the references themselves, each
    judged against references from other queries)."""

    model_config = ConfigDict(extra="forbid")
    labels: str | None = None
    target: Literal["f1", "precision"] = "f1"
    min_precision: float = Field(0.9, gt=0, le=1)


class MetaRankingSettings(LLMJudgeSettings):
    # a JSON-lines file of {query, response, correct}, or label-set:<judge-eval set name>
    references: str
    n_references: int = Field(5, ge=1, validation_alias=AliasChoices("n_references", "n_refs"))
    lam: float = Field(0.25, ge=0, le=1, validation_alias=AliasChoices("lam", "lambda_", "lambda"))
    tau: float = 0.0
    seed: int = 0
    both_orders: bool = True
    soft: bool = False
    min_valid_references: int | None = Field(None, ge=1)
    calibrate: CalibrationSpec | None = None

    @field_validator("calibrate", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        return ({} if value else None) if isinstance(value, bool) else value

    def resolve_paths(self, fix: Any) -> None:
        if not self.references.startswith(LABEL_SET):
            self.references = fix(self.references)
        if self.calibrate is not None and self.calibrate.labels:
            self.calibrate.labels = fix(self.calibrate.labels)

    def check_inputs(self) -> None:
        super().check_inputs()
        if not self.references.startswith(LABEL_SET):  # a label set is read from the store
            from judgebench.errors import ConfigError

            refs = load_references(self.references)
            # fewer than a judgment needs: every judgment of the run would fail (an error
            # row each), after the responses were paid for
            need = self.min_valid_references or (self.n_references + 1) // 2
            if len(refs) < need:
                raise ConfigError(
                    f"{len(refs)} reference(s), but a judgment needs at least {need} "
                    "(min_valid_references; default half of n_references)",
                    where=self.references,
                )
        labels = self.calibrate.labels if self.calibrate is not None else None
        if labels and not labels.startswith(LABEL_SET):
            load_references(labels)

    @model_validator(mode="after")
    def _min_valid(self) -> MetaRankingSettings:
        if self.min_valid_references and self.min_valid_references > self.n_references:
            raise ValueError("min_valid_references is larger than n_references")
        return self


@register_judge
class MetaRankingJudge(Judge):
    """Meta Ranking reliability judge (weak judges detect errors by comparing with references)."""

    name = "meta_ranking"
    kind = "reliability"
    shape = "reliability"
    Settings = MetaRankingSettings

    @classmethod
    def from_settings(cls, settings: JudgeSettings, resources: JobResources) -> MetaRankingJudge:
        assert isinstance(settings, MetaRankingSettings)
        values = settings.model_dump(exclude={"references", "calibrate"})
        judge = cls(
            references=load_references(settings.references),
            concurrency=resources.concurrency,
            **values,
        )
        judge.calibration = settings.calibrate
        judge.artefacts = resources.artefacts
        return judge

    def __init__(
        self,
        model: str,
        references: ReferenceStore | Iterable[Reference],
        *,
        n_references: int = 5,
        lam: float = 0.25,
        tau: float = 0.0,
        seed: int = 0,
        both_orders: bool = True,
        soft: bool = False,
        min_valid_references: int | None = None,
        templates: dict[str, str | Path] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(model, templates=templates, **options)
        self.references = (
            references if isinstance(references, ReferenceStore) else ReferenceStore(references)
        )
        if n_references < 1:
            raise ValueError("n_references must be >= 1")
        self.n_references = n_references
        self.lam = lam
        self.tau = tau
        self.seed = seed
        self.both_orders = both_orders
        self.soft = soft
        self.min_valid_references = min_valid_references or (n_references + 1) // 2
        self.calibration: CalibrationSpec | None = None  # set: prepare_run picks τ
        self.artefacts: Any = None  # where a job keeps the calibrated τ (once per run)
        self.calibration_report: CalibrationReport | None = None

    def key_parts(self, candidates: int = 1) -> tuple[str, dict[str, Any]]:
        return self.template("meta_ranking").hash, self.params()

    def params(self) -> dict[str, Any]:
        return {
            **self.call_params(),
            "n_references": self.n_references,
            "lambda": self.lam,
            "seed": self.seed,
            "both_orders": self.both_orders,
            "soft": self.soft,
        }

    async def _compare(
        self, template: PromptTemplate, first: tuple[str, str], second: tuple[str, str]
    ) -> Exchange[dict[str, Any]]:
        nonce = new_nonce(*first, *second)
        values = {
            **self.fence_all(
                nonce,
                query_a=first[0],
                response_a=first[1],
                query_b=second[0],
                response_b=second[1],
            ),
            "nonce": nonce,
        }
        extra = {"logprobs": True, "top_logprobs": 5} if self.soft else None
        return await self.ask(
            template, values, verdict_answer("more_reliable", allow_tie=False), extra_params=extra
        )

    async def _against(
        self, template: PromptTemplate, q: Query, r: Response, ref: Reference
    ) -> tuple[list[Exchange[Any]], dict[str, Any]]:
        target = (q.text, r.text or "")
        other = (ref.query, ref.response)
        calls = [self._compare(template, target, other)]
        if self.both_orders:
            calls.append(self._compare(template, other, target))
        exchanges = list(await asyncio.gather(*calls))
        row: dict[str, Any] = {"reference": ref.id, "correct": ref.correct}
        if not all(ex.ok for ex in exchanges):  # an error in either order stays an error
            row["status"], row["reason"] = exchanges_outcome(exchanges, ("order 1", "order 2"))
            return exchanges, row
        target_labels = ["A", "B"][: len(exchanges)]
        wins = [
            float(ex.value["verdict"] == label)
            for ex, label in zip(exchanges, target_labels, strict=True)
        ]
        row["outcomes"] = wins
        if self.soft:
            probs = [option_probability(ex.completion, ex.value["verdict"]) for ex in exchanges]
            known = [p for p in probs if p is not None]
            if len(known) == len(probs):
                p_target = [
                    p if ex.value["verdict"] == label else 1.0 - p
                    for p, ex, label in zip(known, exchanges, target_labels, strict=True)
                ]
                row["p_target"] = p_target
                row["vote"] = sum(vote(p, ref.correct, self.lam) for p in p_target) / len(p_target)
                row["status"] = "ok"
                return exchanges, row
            row["soft_unavailable"] = True
        # hard: a flip between the orders is a tie (vote 0)
        won = wins[0] if len(set(wins)) == 1 else 0.5
        row["vote"] = 0.0 if won == 0.5 else vote(won, ref.correct, self.lam)
        row["status"] = "ok"
        return exchanges, row

    async def evaluate(self, query: QueryLike, response: ResponseLike) -> Judgment:
        """Score one (query, response): s in [−1, 1], reliable iff s > τ (in ``details``)."""
        q = as_query(query)
        r = as_response(response, q)
        template = self.template("meta_ranking")
        refs, balanced = self.references.select(q, self.n_references, self.seed, salt=r.id)
        flags, matches = injection_flags(r.text)
        details: dict[str, Any] = {"injection_matches": matches} if matches else {}
        if not balanced:
            flags.append(UNBALANCED_REFERENCES)
        if len(refs) < self.min_valid_references:
            # a data condition (e.g. every reference is on this query), not a failed call:
            # invalid, so a rerun keeps it (no call) instead of retrying what cannot change
            reason = f"only {len(refs)} references from other queries available, need {self.min_valid_references}"
            missing: Exchange[Any] = Exchange(None, "invalid", reason, [], Usage(), None)
            flags.append(TOO_FEW_REFERENCES)
            details["available_references"] = len(refs)
            return self.make_judgment(
                template=template,
                query=q,
                response=r,
                exchanges=[missing],
                params=self.params(),
                flags=flags,
                details=details,
            )
        results = await asyncio.gather(*(self._against(template, q, r, ref) for ref in refs))
        exchanges = [ex for exs, _ in results for ex in exs]
        rows = [row for _, row in results]
        valid = [row for row in rows if row["status"] == "ok"]
        if any(row.get("soft_unavailable") for row in rows):
            flags.append(SOFT_UNAVAILABLE)
        if len(valid) < len(rows):
            flags.append(PARTIAL_REFERENCES)
        details.update(references=rows, valid_references=len(valid), tau=self.tau)
        if self.calibration_report is not None:
            details["tau_calibrated"] = self.calibration_report.model_dump()
        if len(valid) < self.min_valid_references:
            # a transport error outranks an unusable reply: it must reach the error rows
            bad = next((ex for ex in exchanges if ex.status == "error"), None) or next(
                ex for ex in exchanges if not ex.ok
            )
            return self.make_judgment(
                template=template,
                query=q,
                response=r,
                exchanges=exchanges,
                params=self.params(),
                status=bad.status,
                reason=f"{len(valid)} of {len(rows)} reference comparisons usable (need {self.min_valid_references}); first failure: {bad.reason}",
                flags=flags,
                details=details,
            )
        s = sum(row["vote"] for row in valid) / len(valid)
        details["reliable"] = is_reliable_score(s, self.tau)
        return self.make_judgment(
            template=template,
            query=q,
            response=r,
            exchanges=exchanges,
            params=self.params(),
            status="ok",
            score=s,
            flags=flags,
            details=details,
        )

    async def prepare_run(self) -> None:
        """With ``calibration`` set: τ from the labelled examples, computed once and kept in
        the job's artefact store (a rerun or another worker reads it back: no calls)."""
        spec = self.calibration
        if spec is None:
            return
        labelled = load_references(spec.labels) if spec.labels else list(self.references)
        key = content_key(
            "mr-calibration",
            self.model,
            self.params(),
            self.template("meta_ranking").hash,
            sorted(r.id for r in self.references),
            [r.id for r in labelled],
            spec.model_dump(exclude={"labels"}),
        )
        stored = self.artefacts.get_criteria(key) if self.artefacts is not None else None
        if stored is None:
            judged = await self.evaluate_many([(r.query, r.response) for r in labelled])
            failed = next((j for j in judged if j.status == "error"), None)
            if failed is not None:  # a partial calibration would pick a wrong τ for good
                raise RuntimeError(f"calibration incomplete: {failed.reason}")
            report = self.calibrate(
                judged,
                [r.correct for r in labelled],
                target=spec.target,
                min_precision=spec.min_precision,
            )
            stored = {"calibration": report.model_dump(), "labels": len(labelled)}
            if self.artefacts is not None:
                self.artefacts.put_criteria(key, "calibration", self.model, stored)
        self.tau = float(stored["calibration"]["tau"])
        self.calibration_report = CalibrationReport.model_validate(stored["calibration"])

    def is_reliable(self, judgment: Judgment) -> bool | None:
        """Reliable iff s > τ with the judge's current τ (None for a judgment without a score)."""
        return None if judgment.score is None else is_reliable_score(judgment.score, self.tau)

    def calibrate(
        self,
        judgments_or_scores: Sequence[Judgment | float],
        correct: Sequence[bool],
        *,
        target: Literal["f1", "precision"] = "f1",
        min_precision: float = 0.9,
    ) -> CalibrationReport:
        """Choose τ on labelled data (maximum F1 of "unreliable" detection, or maximum recall
        at ``min_precision``), set it on this judge, and report precision/recall/F1/AUROC.
        Judgments that are not ok are left out together with their labels."""
        pairs = []
        for item, label in zip(judgments_or_scores, correct, strict=True):
            score = item.score if isinstance(item, Judgment) else float(item)
            if score is not None:
                pairs.append((score, label))
        report = choose_tau([p[0] for p in pairs], [p[1] for p in pairs], target, min_precision)
        self.tau = report.tau
        return report
