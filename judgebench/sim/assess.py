"""How a simulated reader rates an answer: from what is visible in the text, nothing else.

The quality signal combines what a careful human grader looks at: does the answer take up the
query's key terms (coverage), is it organised the way the domain expects (a code block that
parses, arithmetic that checks out, steps, paragraphs), is its length fitting, does it hedge or
wander, and does it agree with a reference (or with peer answers) when one is shown. The judge's
``judging`` skill sets how much noise sits on top of that reading.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from judgebench.sim.domains import domain_of
from judgebench.sim.text import key_terms, numbers, stem, stems, words

if TYPE_CHECKING:
    from judgebench.sim.profiles import Profile

# Words an answer of fitting length has, at verbosity 1 (lo, hi), by domain.
LENGTH_RANGE = {
    "writing": (90, 450),
    "roleplay": (60, 350),
    "knowledge": (60, 400),
    "coding": (40, 350),
    "mathematics": (30, 300),
    "reasoning": (40, 350),
}
_HEDGE_RE = re.compile(
    r"not (completely |entirely )?sure|might not be|could be wrong|hard to say|it depends|"
    r"many ways to look|complex topic|generally speaking|people often wonder|various factors|"
    r"consider everything|as an ai\b|i can't really|in some way|or something|probably",
    re.I,
)
_ARITH_RE = re.compile(
    r"(?<![\d.])(-?\d+(?:\.\d+)?)\s*([+\-×x*÷/])\s*(-?\d+(?:\.\d+)?)\s*=\s*(-?\d+(?:\.\d+)?)"
)
_CODE_BLOCK_RE = re.compile(r"```[\w+-]*\n(.*?)```", re.S)
_LIST_RE = re.compile(r"^[ \t]*(?:\d+[.)]|[-*•])\s+\S", re.M)
_DEPTH_RE = {
    "writing": re.compile(r"\blike an? \w+|\bas if\b", re.I),
    "roleplay": re.compile(r"\*(?:the|a|rain|wind|somewhere)\b[^*\n]*\*", re.I),
}
_DEPTH_DEFAULT = re.compile(
    r"\b(for example|for instance|edge case|caveat|in summary|why this works|alternatively)\b", re.I
)
_FINAL_RE = re.compile(r"(?:answer|result|total)\W{0,5}(?:is\W{0,3})?\**\s*(-?\d+(?:\.\d+)?)", re.I)


def _arith_ok(a: str, op: str, b: str, c: str) -> bool:
    x, y, z = float(a), float(b), float(c)
    if op == "+":
        v = x + y
    elif op == "-":
        v = x - y
    elif op in "×x*":
        v = x * y
    else:
        v = x / y if y else math.nan
    return abs(v - z) <= 1e-6 * max(1.0, abs(v))


def _balanced(code: str) -> bool:
    depth = 0
    for ch in code:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def coverage(query: str, answer: str) -> float:
    """Share of the query's key terms that the answer takes up (stems, so plurals meet)."""
    terms = key_terms(query, 12)
    if not terms:
        return 0.5
    have = stems(answer)
    return sum(stem(t) in have for t in terms) / len(terms)


def structure(domain: str, answer: str) -> float:
    """How well the answer is organised for its domain, in [0, 1]."""
    lines = [ln for ln in answer.splitlines() if ln.strip()]
    listed = len(_LIST_RE.findall(answer))
    multi = min(1.0, (len(lines) - 1) / 4) if lines else 0.0
    if domain == "coding":
        blocks = _CODE_BLOCK_RE.findall(answer)
        if not blocks:
            return 0.15 + 0.2 * min(1.0, listed / 2)
        code = "\n".join(blocks)
        ok = _balanced(code) and "TODO" not in code and not re.search(r"^\s*pass\s*$", code, re.M)
        return 0.45 + (0.4 if ok else 0.0) + 0.15 * min(1.0, listed / 2)
    if domain == "mathematics":
        eqs = _ARITH_RE.findall(answer)
        if not eqs:
            return 0.2 + 0.2 * multi
        right = sum(_arith_ok(*e) for e in eqs) / len(eqs)
        final = 0.2 if _FINAL_RE.search(answer) else 0.0
        return 0.1 + 0.6 * right + final + 0.1 * multi
    if domain == "roleplay":
        broken = 0.4 if re.search(r"\bas an ai\b|can't really play", answer, re.I) else 0.0
        dialogue = 0.3 if '"' in answer or "*" in answer else 0.0
        return max(0.0, 0.3 + dialogue + 0.4 * multi - broken)
    return (
        0.25
        + 0.45 * multi
        + 0.3 * min(1.0, listed / 3 + (0.5 if domain == "writing" and multi else 0))
    )


def length_fit(domain: str, answer: str) -> float:
    n = len(words(answer))
    lo, hi = LENGTH_RANGE[domain]
    if n < lo:
        return max(0.0, 1.0 - math.log(lo / max(n, 1)) / math.log(8))
    if n > hi:
        return max(0.0, 1.0 - math.log(n / hi) / math.log(6))
    return 1.0


def depth(domain: str, answer: str) -> float:
    """Examples, edge cases, caveats (images, for prose; scene detail, for roleplay): up to 3."""
    return min(1.0, len(_DEPTH_RE.get(domain, _DEPTH_DEFAULT).findall(answer)) / 3)


def vagueness(answer: str) -> float:
    hits = len(_HEDGE_RE.findall(answer))
    return min(1.0, hits * 0.3)


def agreement(answer: str, reference: str | Sequence[str]) -> float:
    """Agreement with a reference, or mean agreement with peer answers: shared key terms, and
    the same final number where both give one."""
    refs = [reference] if isinstance(reference, str) else list(reference)
    if not refs:
        return 0.5
    mine = stems(answer)
    mine_final = _final_number(answer)
    total = 0.0
    for ref in refs:
        theirs = stems(ref)
        overlap = len(mine & theirs) / max(1, min(len(theirs), 30))
        score = min(1.0, overlap)
        ref_final = _final_number(ref)
        if ref_final is not None and mine_final is not None:
            score = 0.5 * score + 0.5 * (1.0 if ref_final == mine_final else 0.0)
        total += score
    return total / len(refs)


def _final_number(text: str) -> str | None:
    finals = _FINAL_RE.findall(text)
    if finals:
        return finals[-1]
    nums = numbers(text[-80:])
    return nums[-1] if nums else None


# How much each visible feature weighs in the overall reading.
WEIGHTS = {"coverage": 0.35, "structure": 0.22, "length": 0.13, "clarity": 0.15, "depth": 0.15}
REFERENCE_WEIGHT = 0.3


@lru_cache(maxsize=4096)
def features(
    query: str, answer: str, reference: str | tuple[str, ...] | None = None
) -> dict[str, float]:
    """The noise-free visible features of an answer, each in [0, 1]: ``coverage`` of the
    query's key terms, ``structure`` for its domain, ``length`` fit, ``clarity`` (no hedging
    or filler), ``depth`` (examples, edge cases, caveats) and, with a reference,
    ``agreement``."""
    domain = domain_of(query)
    out = {
        "coverage": coverage(query, answer),
        "structure": structure(domain, answer),
        "length": length_fit(domain, answer),
        "clarity": 1.0 - vagueness(answer),
        "depth": depth(domain, answer),
    }
    if reference is not None:
        out["agreement"] = agreement(answer, reference)
    return out


def combine(feats: dict[str, float]) -> float:
    q = sum(WEIGHTS[name] * feats[name] for name in WEIGHTS)
    if "agreement" in feats:
        q = (1 - REFERENCE_WEIGHT) * q + REFERENCE_WEIGHT * feats["agreement"]
    return min(1.0, max(0.0, q))


def visible_quality(
    query: str, answer: str, reference: str | tuple[str, ...] | None = None
) -> float:
    """The noise-free reading of an answer's quality in [0, 1]."""
    if not answer.strip():
        return 0.0
    return combine(features(query, answer, reference))


def judge_noise(judge: Profile, domain: str | None = None) -> float:
    """Standard deviation of a judge's reading error: small for skilled judges, and larger
    outside the judge's own domains (a weak coder misreads code)."""
    skill = judge.judging
    if domain is not None:
        skill *= 0.6 + 0.4 * judge.skill_for(domain)
    return 0.02 + 0.3 * (1.0 - skill) ** 1.5


def length_pull(judge: Profile, answer: str) -> float:
    """A judge's verbosity bias: how much it favours (or penalises) long answers."""
    if not judge.length_bias:
        return 0.0
    n = max(1, len(words(answer)))
    return judge.length_bias * 0.3 * math.tanh(math.log(n / 150))


def assess(
    query: str,
    answer: str,
    reference: str | Sequence[str] | None = None,
    *,
    judge: Profile,
    rng: random.Random,
) -> float:
    """Quality in [0, 1] of ``answer`` to ``query`` as ``judge`` reads it (noisy by skill)."""
    ref = reference if reference is None or isinstance(reference, str) else tuple(reference)
    q = visible_quality(query, answer, ref) + length_pull(judge, answer)
    return min(1.0, max(0.0, q + rng.gauss(0.0, judge_noise(judge, domain_of(query)))))


def compare(
    query: str,
    answer_a: str,
    answer_b: str,
    reference: str | Sequence[str] | None = None,
    *,
    judge: Profile,
    rng: random.Random,
) -> float:
    """Probability that the judge prefers A (shown first) over B; includes its position bias."""
    qa = assess(query, answer_a, reference, judge=judge, rng=rng)
    qb = assess(query, answer_b, reference, judge=judge, rng=rng)
    diff = qa - qb + 0.1 * judge.position_bias
    return 1.0 / (1.0 + math.exp(-12.0 * diff))
