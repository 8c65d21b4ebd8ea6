"""Which taxonomy domain a text belongs to, read from its words (a lexicon vote).

The default taxonomy's top-level domains are exactly these six. Scores are keyword counts with
a few strong cues (a code block, an equation, "pretend you are") weighted higher; ties and texts
with no cue fall back to ``knowledge``, the broadest domain. Deterministic and cheap.
"""

from __future__ import annotations

import re
from functools import lru_cache

DOMAINS: tuple[str, ...] = (
    "writing",
    "roleplay",
    "knowledge",
    "coding",
    "mathematics",
    "reasoning",
)
FALLBACK_DOMAIN = "knowledge"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


LEXICON: dict[str, frozenset[str]] = {
    "writing": _words(
        """rap verse verses iambic pentameter transcript screenplay episode fiction plot trailer
        article audience blog caption chapter compose copy cover creative draft edit email
        engaging essay grammar haiku headline letter limerick lyrics memo narrative novel
        outline paragraph paraphrase persuasive poem poetry post proofread prose review
        rewrite slogan sonnet speech story style summarize summary tone travel vivid wording"""
    ),
    "roleplay": _words(
        """act acting adventure alien captain character detective dialogue dragon dungeon
        embody fantasy game imagine king knight master npc persona pirate play playing
        pretend queen quest role roleplay scene sheriff spaceship stay tavern villain voice
        wizard you're"""
    ),
    "knowledge": _words(
        """biology capital causes cell century chemistry climate compare cons country culture
        definition describe difference economics effects energy evolution explain fact facts
        geography historical history impact law medicine overview philosophy physics planet
        politics pros science theory war"""
    ),
    "coding": _words(
        """website webpage frontend backend makefile latex compiler import module
        algorithm api array async bash bug class code compile complexity css database debug
        dict docker endpoint error exception framework function git golang html implement
        java javascript json library linux loop method numpy pandas program python query
        react recursion refactor regex return runtime rust script server shell sql string
        test thread typescript unit variable xml"""
    ),
    "mathematics": _words(
        """graph vertices epimorphism integer integers equals km/h
        algebra angle area bought calculate circle compute copies cost costs derivative
        digits distance divisible dollars equation factor fraction geometry integral
        interest logarithm math matrix mean median number numbers paid percent percentage
        polynomial price prime probability product proof prove ratio remainder root roots
        solve speed spent statistics sum theorem total triangle variance vector volume"""
    ),
    "reasoning": _words(
        """argument arrange assume belong brother clue clues conclude deduce deduction facing
        fallacy faster father infer inference knaves knights liar logic logical mother odd
        older overtake paradox pattern premise puzzle race relationship riddle seat seated
        sequence shadow sister statements suppose suspect taller therefore valid"""
    ),
}

# Visible cues that are stronger than single words.
_STRONG_CUES: tuple[tuple[str, re.Pattern[str], float], ...] = (
    ("coding", re.compile(r"```|\bdef \w+\(|\bfunction\s*\w*\(|;\s*$|\b\w+\(\)", re.M), 3.0),
    ("mathematics", re.compile(r"\d\s*[-+*/^=]\s*\d|\bx\s*[=+^]|\\frac|\bsqrt\b"), 2.5),
    (
        "mathematics",
        re.compile(r"\$\d|\b\d+ (copies|apples|dollars|cents|hours|minutes|km|miles|people)\b"),
        1.5,
    ),
    (
        "roleplay",
        re.compile(
            r"\b(pretend|imagine) (you are|you're|to be)\b|\byou are an? \w+|\bact as\b|\bthe role of\b|\bpicture yourself\b",
            re.I,
        ),
        3.0,
    ),
    (
        "writing",
        re.compile(
            r"\b(write|compose|draft|create)\b.{0,60}\b(essay|story|poem|letter|email|blog|article|"
            r"speech|song|haiku|rap|verses?|transcript|dialogue|episode|screenplay|play|lyrics)",
            re.I,
        ),
        2.0,
    ),
    ("writing", re.compile(r"\b(a|long|short) script (of|where|about|in which)\b", re.I), 3.5),
    # a few cues in other scripts and languages (CJK has no word boundaries)
    (
        "writing",
        re.compile(r"诗|小说|歌词|剧本|故事|作文|poema|poème|gedicht|стих|рассказ", re.I),
        2.0,
    ),
    ("mathematics", re.compile(r"证明|概率|积分|定理|方程|矩阵|质数|几何|求解"), 2.0),
    ("coding", re.compile(r"代码|编程|程序|用(C\+\+|Python|Java)"), 2.0),
)
_WORD_RE = re.compile(r"[a-z][a-z']+")
# Lines that look like code (imports, definitions, markup, calls, assignments ending in ;)
_CODE_LINE_RE = re.compile(
    r"^[ \t]*(import |from \w+ import|def |class |function |const |let |var |public |private |#include|"
    r"</?[a-z][\w-]*[ >]|\w+(\.\w+)+\(|\w+\(.*\)\s*[:{;]?\s*$|[}\]);]+\s*$|\\\w+\{)",
    re.M,
)


@lru_cache(maxsize=4096)
def domain_scores(text: str) -> dict[str, float]:
    lowered = text.lower()
    scores = dict.fromkeys(DOMAINS, 0.0)
    for word in _WORD_RE.findall(lowered):
        for domain, lexicon in LEXICON.items():
            if word in lexicon:
                scores[domain] += 1.0
    for domain, pattern, weight in _STRONG_CUES:
        if pattern.search(text):
            scores[domain] += weight
    # code in the prompt outweighs the incidental arithmetic and vocabulary around it
    scores["coding"] += min(20.0, 1.5 * len(_CODE_LINE_RE.findall(text)))
    return scores


def domain_of(text: str) -> str:
    """The domain with the highest lexicon score (``knowledge`` when nothing points anywhere)."""
    scores = domain_scores(text)
    best = max(DOMAINS, key=lambda d: (scores[d], d == FALLBACK_DOMAIN))
    return best if scores[best] > 0 else FALLBACK_DOMAIN


def top_domain(path_or_name: str) -> str | None:
    """The domain a taxonomy path id (``coding/languages/python``) or domain name starts with."""
    head = path_or_name.split("/", 1)[0].strip().lower()
    return head if head in LEXICON else None
