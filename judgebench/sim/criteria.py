"""Evaluation criteria read off visible differences between answers, and rating by criterion.

``derive_criteria`` is what a simulated judge writes when asked to compare answers and name the
differences that matter (PC²'s pre-comparison): every criterion is a visible feature on which
the answers differ (coverage of particular query terms, working code, correct arithmetic,
hedging, length), weighted by how much they differ, weights summing to 100.

``rate_criterion`` is the other half: given a criterion's *text* (as it appears in a prompt), the
reader decides what it is about from its words and measures that feature of the answer.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from judgebench.sim.assess import features, judge_noise, visible_quality
from judgebench.sim.domains import domain_of
from judgebench.sim.text import key_terms, stem, stems

if TYPE_CHECKING:
    from judgebench.sim.profiles import Profile


@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    weight: int = 0


_STRUCTURE_TEXT = {
    "coding": ("Working code", "Gives a complete code block that parses, with no TODO left."),
    "mathematics": (
        "Correct calculation",
        "Shows worked steps whose arithmetic checks out and states the final answer.",
    ),
    "roleplay": (
        "Stays in character",
        "Answers in character, with dialogue, never breaking the role.",
    ),
    "writing": ("Structure and style", "Organised under a title in well-formed paragraphs."),
    "knowledge": ("Organisation", "Key points organised as a clear list."),
    "reasoning": (
        "Step-by-step reasoning",
        "States the premises as steps and draws the conclusion from them.",
    ),
}
_FEATURE_TEXT = {
    "coverage": ("Addresses the request", "Takes up every part of the question: {terms}."),
    "length": ("Appropriate length", "Neither too short to be complete nor padded."),
    "depth": ("Depth", "Adds examples, edge cases or caveats where they help."),
    "clarity": ("Confident and specific", "No hedging, vague filler or off-topic remarks."),
    "agreement": (
        "Agrees with the reference",
        "Reaches the same points and final result as the reference.",
    ),
}

# Words in a criterion's text that say which visible feature it is about.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("agreement", re.compile(r"reference|gold|expected (answer|result)", re.I)),
    ("depth", re.compile(r"example|edge case|caveat|depth|insight|nuance|imagery", re.I)),
    (
        "structure",
        re.compile(
            r"code|pars|todo|compil|syntax|calculat|arithmetic|worked|final answer|"
            r"character|role|step|premise|organi[sz]|paragraph|structur|format|list",
            re.I,
        ),
    ),
    ("length", re.compile(r"length|too short|padded|concise|brevity|verbose|detail", re.I)),
    ("clarity", re.compile(r"hedg|vague|confident|specific|filler|off-topic|clear", re.I)),
    (
        "coverage",
        re.compile(r"address|request|question|cover|complete|relevan|every part|mention", re.I),
    ),
)


def derive_criteria(
    query: str, answers: list[str], *, max_criteria: int = 6, reference: str | None = None
) -> list[Criterion]:
    """Criteria for the visible differences between ``answers`` (3 to ``max_criteria``),
    integer weights summing to 100."""
    domain = domain_of(query)
    feats = [features(query, a, reference) for a in answers]
    spreads: list[tuple[float, Criterion]] = []
    for name in feats[0] if feats else ():
        values = [f[name] for f in feats]
        spread = max(values) - min(values)
        if name == "structure":
            title, text = _STRUCTURE_TEXT[domain]
        else:
            title, text = _FEATURE_TEXT[name]
        text = text.format(terms=", ".join(key_terms(query, 6)))
        spreads.append((spread + 0.05, Criterion(title, text)))
    # query terms that some answers take up and others do not
    answer_stems = [stems(a) for a in answers]
    for term in key_terms(query, 12):
        covered = sum(stem(term) in s for s in answer_stems)
        if 0 < covered < len(answers):
            spreads.append(
                (
                    0.5 * covered / len(answers) + 0.02,
                    Criterion(f"Discusses {term}", f"Explicitly discusses the {term}."),
                )
            )
    spreads.sort(key=lambda sc: -sc[0])
    chosen = spreads[: max(3, max_criteria)]
    total = sum(s for s, _ in chosen)
    weights = [max(1, round(100 * s / total)) for s, _ in chosen]
    weights[0] += 100 - sum(weights)  # integers that sum to exactly 100
    return [Criterion(c.name, c.description, w) for (_, c), w in zip(chosen, weights, strict=True)]


def criterion_feature(criterion_text: str, query: str) -> tuple[str, list[str]]:
    """Which feature a criterion is about, read from its words; a criterion naming query terms
    is about those terms (``("terms", [...])``)."""
    lowered = criterion_text.lower()
    named = [t for t in key_terms(query, 12) if re.search(rf"\b{re.escape(t)}", lowered)]
    if named and re.search(r"discuss|mention|explain|address|cover", lowered):
        return "terms", named
    for feature, pattern in _CUES:
        if pattern.search(criterion_text):
            return feature, []
    return ("terms", named) if named else ("overall", [])


def rate_criterion(
    criterion_text: str,
    query: str,
    answer: str,
    *,
    reference: str | None = None,
    judge: Profile,
    rng: random.Random,
) -> float:
    """How well ``answer`` meets the criterion, in [0, 1], as ``judge`` reads it."""
    feature, terms = criterion_feature(criterion_text, query)
    if feature == "terms":
        have = stems(answer)
        value = sum(stem(t) in have for t in terms) / len(terms)
    elif feature == "overall":
        value = visible_quality(query, answer, reference)
    else:
        feats = features(query, answer, reference)
        value = feats.get(feature, visible_quality(query, answer, reference))
    return min(1.0, max(0.0, value + rng.gauss(0.0, judge_noise(judge, domain_of(query)))))
