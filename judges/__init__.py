"""Judges: rubric, pairwise, PC², Meta Ranking, TRLM and PRP, as a library and for jobs.

Judges are plug-ins: each declares a shape (pointwise, pairwise, listwise, reliability,
likelihood: one protocol each, in ``base``), a settings model, and registers by name
(``registry``). Every judge is configured with gateway model names, has async methods with ``*_sync`` twins,
and returns :class:`judgebench.records.Judgment` records: a score or verdict only when the
judge's reply parsed, otherwise ``invalid``/``error`` with the raw replies and the reason.
See docs/judges.md.
"""

from judgebench.judges.base import (
    SHAPES,
    Answer,
    Exchange,
    JobResources,
    Judge,
    JudgeSettings,
    JudgeStats,
    LikelihoodShape,
    ListwiseShape,
    LLMJudgeSettings,
    PairwiseShape,
    PointwiseShape,
    ReliabilityShape,
    as_query,
    as_response,
    invalid_rates,
)
from judgebench.judges.criteria_store import (
    CriteriaStore,
    Criterion,
    MemoryCriteriaStore,
    QueryCriteria,
)
from judgebench.judges.injection import INJECTION_FLAG, detect_injection
from judgebench.judges.logprobs import CompletionsLogprobs, HFCausalLM, LogprobBackend
from judgebench.judges.meta_ranking import (
    CalibrationReport,
    MetaRankingJudge,
    Reference,
    ReferenceStore,
    choose_tau,
)
from judgebench.judges.pairwise import POSITION_INCONSISTENT, PairwiseJudge
from judgebench.judges.parsing import (
    ReplyParseError,
    extract_answer,
    integer_in_range,
    verdict_value,
)
from judgebench.judges.pc2 import WEIGHTS_RENORMALISED, CriteriaUnavailable, PC2Judge
from judgebench.judges.prp import PRPRanker, Ranking
from judgebench.judges.registry import (
    JUDGES,
    Registry,
    available_judges,
    get_judge,
    judge_class,
    register_judge,
)
from judgebench.judges.rubric import RubricJudge
from judgebench.judges.trlm import CitationResult, TRLMScorer

__all__ = [
    "JUDGES",
    "SHAPES",
    "JobResources",
    "JudgeSettings",
    "LLMJudgeSettings",
    "LikelihoodShape",
    "ListwiseShape",
    "PairwiseShape",
    "PointwiseShape",
    "Registry",
    "ReliabilityShape",
    "INJECTION_FLAG",
    "POSITION_INCONSISTENT",
    "WEIGHTS_RENORMALISED",
    "Answer",
    "CalibrationReport",
    "CitationResult",
    "CompletionsLogprobs",
    "CriteriaStore",
    "CriteriaUnavailable",
    "Criterion",
    "Exchange",
    "HFCausalLM",
    "Judge",
    "JudgeStats",
    "LogprobBackend",
    "MemoryCriteriaStore",
    "MetaRankingJudge",
    "PC2Judge",
    "PRPRanker",
    "PairwiseJudge",
    "QueryCriteria",
    "Ranking",
    "Reference",
    "ReferenceStore",
    "ReplyParseError",
    "RubricJudge",
    "TRLMScorer",
    "as_query",
    "as_response",
    "available_judges",
    "choose_tau",
    "detect_injection",
    "extract_answer",
    "get_judge",
    "integer_in_range",
    "invalid_rates",
    "judge_class",
    "register_judge",
    "verdict_value",
]
