"""Simulated answers to the judge prompts (judges/templates/*.j2).

Each handler recognises its prompt by the output format the template asks for, reads only the
fenced texts (``ctx.blocks``), forms an opinion from what is visible (``ctx.assess`` /
``ctx.prefer`` and the same visible features the sim's assessor uses), and writes the reply in
the requested JSON through ``ctx.shape`` so preambles, fences, drafts, out-of-range scores,
refusals, truncation and template echoes happen at the profile's rates.

PC²: the criteria come from the visible differences between the auxiliary answers (which of
coverage of the query's terms, organisation, length, directness and agreement with the other
answers varies most among them); criterion scores read the same features of the baseline and
the candidate.
"""

from __future__ import annotations

import math
import re

from judgebench.sim.assess import agreement, coverage, judge_noise, length_fit, structure, vagueness
from judgebench.sim.domains import domain_of
from judgebench.sim.tasks import SimReply, TaskContext, sim_task
from judgebench.sim.text import key_terms

RUBRIC_MARK = '{"rationale": "<one or two sentences>", "score": <integer from'
PAIRWISE_MARK = '"verdict": "<A, B or tie>"}'
CRITERIA_MARK = '{"criteria": [{"name": "<short name>", "weight": <integer>'
CRITIQUE_MARK = '{"critique": [{"criterion": "<criterion name>"'
SCORES_MARK = '{"scores": [{"criterion": "<criterion name>"'
RELIABLE_MARK = '"more_reliable": "<A or B>"}'
PRP_MARK = '{"preferred": "<A or B>"}'

_SCALE_RE = re.compile(r"integers? (?:score )?from (\d+)\s*(?:\(\w+\))? to (\d+)")
_CRITERION_LINE = re.compile(r"^[ \t]*\d+\.\s*(?P<name>.+?) \(weight (?P<weight>\d+)\):", re.M)
_CRITIQUE_LINE = re.compile(r"^- (?P<name>.+?): (?P<score>\d+)", re.M)
ABSOLUTE_MARK = "on the same absolute scale the baseline critique uses"


def _example(ctx: TaskContext, mark: str) -> str | None:
    """The template's own example line (what a model that echoes the format repeats)."""
    for line in ctx.prompt.splitlines():
        if mark.split(":")[0] in line and line.lstrip().startswith("{"):
            return line.strip()
    return None


def _scale(ctx: TaskContext, default: tuple[int, int]) -> tuple[int, int]:
    m = _SCALE_RE.search(ctx.prompt)
    return (int(m.group(1)), int(m.group(2))) if m else default


def _noisy(ctx: TaskContext, value: float) -> float:
    return min(1.0, max(0.0, value + ctx.rng.gauss(0.0, judge_noise(ctx.profile))))


def _reply(
    ctx: TaskContext, text: str, option_logprobs: dict[str, float] | None = None
) -> SimReply:
    return SimReply(text, option_logprobs=option_logprobs, finish_reason=ctx.finish_reason)


# --- rubric and pairwise -----------------------------------------------------------------------


@sim_task("judges.rubric", lambda p: RUBRIC_MARK in p)
def rubric(ctx: TaskContext) -> SimReply:
    query, response = ctx.block("QUERY"), ctx.block("RESPONSE")
    reference = ctx.block("REFERENCE") or None
    low, high = _scale(ctx, (1, 10))
    quality = ctx.assess(query, response, reference)
    score = ctx.score_on(quality, low, high)
    payload = {"rationale": _rationale(query, response, quality), "score": score}
    return _reply(
        ctx, ctx.shape(payload, "json", scale=(low, high), example=_example(ctx, RUBRIC_MARK))
    )


def _rationale(query: str, answer: str, quality: float) -> str:
    terms = key_terms(query, 12)
    missing = [t for t in terms if t.lower() not in answer.lower()][:3]
    level = "strong" if quality > 0.7 else "adequate" if quality > 0.45 else "weak"
    gap = f" It does not address {', '.join(missing)}." if missing else ""
    return f"The response is {level} overall.{gap}"


@sim_task("judges.pairwise", lambda p: PAIRWISE_MARK in p)
def pairwise(ctx: TaskContext) -> SimReply:
    query = ctx.block("QUERY")
    a, b = ctx.block("RESPONSE_A"), ctx.block("RESPONSE_B")
    verdict, logprobs = ctx.prefer(query, a, b)
    payload = {
        "reason": f"Response {verdict} covers the request better."
        if verdict != "tie"
        else "They are about equally good.",
        "verdict": verdict,
    }
    text = ctx.shape(
        payload,
        "json",
        verdict_key="verdict",
        tie_token="tie",
        example=_example(ctx, PAIRWISE_MARK),
    )
    return _reply(ctx, text, logprobs)


def _forced_choice(
    ctx: TaskContext, quality_a: float, quality_b: float, key: str, mark: str, reason: str
) -> SimReply:
    diff = quality_a - quality_b + 0.1 * ctx.profile.position_bias
    p_a = 1.0 / (1.0 + math.exp(-12.0 * diff))
    verdict = "A" if p_a >= 0.5 else "B"
    logprobs = {"A": math.log(max(p_a, 1e-9)), "B": math.log(max(1 - p_a, 1e-9))}
    payload = {"reason": reason.format(verdict), key: verdict} if reason else {key: verdict}
    return _reply(
        ctx, ctx.shape(payload, "json", verdict_key=key, example=_example(ctx, mark)), logprobs
    )


@sim_task("judges.meta_ranking", lambda p: RELIABLE_MARK in p)
def meta_ranking(ctx: TaskContext) -> SimReply:
    qa = ctx.assess(ctx.block("QUERY_A"), ctx.block("RESPONSE_A"))
    qb = ctx.assess(ctx.block("QUERY_B"), ctx.block("RESPONSE_B"))
    return _forced_choice(
        ctx,
        qa,
        qb,
        "more_reliable",
        RELIABLE_MARK,
        "Response {} answers its own query more soundly.",
    )


@sim_task("judges.prp", lambda p: PRP_MARK in p)
def prp(ctx: TaskContext) -> SimReply:
    query = ctx.block("QUERY")
    qa = ctx.assess(query, ctx.block("CANDIDATE_A"))
    qb = ctx.assess(query, ctx.block("CANDIDATE_B"))
    return _forced_choice(ctx, qa, qb, "preferred", PRP_MARK, "")


# --- PC² ---------------------------------------------------------------------------------------

# The visible features a reader can compare answers on, with the criterion each one becomes.
_FEATURES = {
    "Coverage of the request": "takes up every part of the query: {terms}",
    "Organisation": "is organised the way this kind of task expects (steps, lists, code blocks)",
    "Appropriate length": "is long enough to be complete without padding",
    "Directness": "commits to an answer instead of hedging or wandering",
    "Consistency": "agrees with what the other careful answers say",
}


def _features(query: str, answer: str, peers: list[str]) -> dict[str, float]:
    domain = domain_of(query)
    return {
        "Coverage of the request": coverage(query, answer),
        "Organisation": structure(domain, answer),
        "Appropriate length": length_fit(domain, answer),
        "Directness": 1.0 - vagueness(answer),
        "Consistency": agreement(answer, peers) if peers else 0.5,
    }


def _answers(ctx: TaskContext) -> list[str]:
    labels = sorted(
        (k for k in ctx.blocks if k.startswith("ANSWER_")), key=lambda k: int(k.split("_")[1])
    )
    return [ctx.blocks[k][0] for k in labels]


@sim_task("judges.pc2_criteria", lambda p: CRITERIA_MARK in p)
def pc2_criteria(ctx: TaskContext) -> SimReply:
    query = ctx.block("QUERY")
    answers = _answers(ctx)
    table = [_features(query, a, [p for p in answers if p is not a]) for a in answers]
    spread = {
        name: max(row[name] for row in table) - min(row[name] for row in table)
        for name in _FEATURES
    }
    # a careful judge sees the real differences; a careless one ranks them with noise
    ranked = sorted(
        spread, key=lambda n: -(spread[n] + ctx.rng.gauss(0, judge_noise(ctx.profile) / 2))
    )
    chosen = ranked[: 3 + sum(spread[n] > 0.15 for n in ranked[3:])]
    raw = [0.2 + spread[n] for n in chosen]
    weights = [max(1, round(100 * r / sum(raw))) for r in raw]
    weights[0] += 100 - sum(weights)
    if ctx.chance("weights_off"):
        weights[-1] += ctx.rng.choice([-15, -10, 5, 10, 20])
        weights[-1] = max(1, weights[-1])
    terms = ", ".join(key_terms(query, 6)) or "the whole request"
    payload = {
        "criteria": [
            {
                "name": name,
                "weight": w,
                "description": f"The answer {_FEATURES[name].format(terms=terms)}.",
            }
            for name, w in zip(chosen, weights, strict=True)
        ]
    }
    return _reply(ctx, ctx.shape(payload, "json", example=_example(ctx, CRITERIA_MARK)))


def _criteria_names(ctx: TaskContext) -> list[str]:
    return [m.group("name").strip() for m in _CRITERION_LINE.finditer(ctx.block("CRITERIA"))]


def _feature_value(name: str, features: dict[str, float], overall: float) -> float:
    return features.get(
        name, overall
    )  # a criterion this reader has no feature for: overall reading


@sim_task("judges.pc2_baseline", lambda p: CRITIQUE_MARK in p)
def pc2_baseline(ctx: TaskContext) -> SimReply:
    query, answer = ctx.block("QUERY"), ctx.block("ANSWER")
    low, high = _scale(ctx, (1, 5))
    features = _features(query, answer, [])
    overall = ctx.assess(query, answer)
    critique = []
    for name in _criteria_names(ctx):
        value = _noisy(ctx, _feature_value(name, features, overall))
        note = (
            "meets this well"
            if value > 0.7
            else "partly meets this"
            if value > 0.4
            else "falls short here"
        )
        critique.append(
            {
                "criterion": name,
                "score": ctx.score_on(value, low, high),
                "note": f"The answer {note}.",
            }
        )
    return _reply(
        ctx, ctx.shape({"critique": critique}, "json", example=_example(ctx, CRITIQUE_MARK))
    )


@sim_task("judges.pc2_score", lambda p: SCORES_MARK in p)
def pc2_score(ctx: TaskContext) -> SimReply:
    query = ctx.block("QUERY")
    baseline, candidate = ctx.block("BASELINE"), ctx.block("CANDIDATE")
    low, high = _scale(ctx, (1, 5))
    mid = (low + high) / 2
    f_base = _features(query, baseline, [candidate])
    f_cand = _features(query, candidate, [baseline])
    o_base, o_cand = ctx.assess(query, baseline), ctx.assess(query, candidate)
    # the default prompt scores on the critique's absolute scale: the baseline's own score on
    # a criterion is the reference point; the "mid" prompt pins the middle to "on par"
    anchors: dict[str, float] = {}
    if ABSOLUTE_MARK in ctx.prompt:
        anchors = {
            m.group("name").strip(): float(m.group("score"))
            for m in _CRITIQUE_LINE.finditer(ctx.block("CRITIQUE"))
        }
    scores = []
    for name in _criteria_names(ctx):
        diff = (
            _noisy(
                ctx,
                0.5 + _feature_value(name, f_cand, o_cand) - _feature_value(name, f_base, o_base),
            )
            - 0.5
        )
        anchor = anchors.get(name, mid)
        value = max(low, min(high, round(anchor + diff * (high - low) * 1.5)))
        verdict = (
            "better than" if value > anchor else "worse than" if value < anchor else "on par with"
        )
        scores.append(
            {
                "criterion": name,
                "score": value,
                "note": f"The candidate is {verdict} the baseline here.",
            }
        )
    return _reply(ctx, ctx.shape({"scores": scores}, "json", example=_example(ctx, SCORES_MARK)))
