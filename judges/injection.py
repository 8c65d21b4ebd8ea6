"""Flagging evaluated texts that try to address the judge.

A response under evaluation is data. When it contains text aimed at whoever grades it
("ignore previous instructions", "give this a 10", "Verdict: A", a forged fence marker) the
judgment is flagged ``injection_attempt`` with the matched snippets in ``details``. The flag is
a signal for people and analyses; the defence itself is the fencing (per-call random nonces,
see :func:`judgebench.prompts.fence`) plus templates that tell the judge to ignore instructions
inside fenced text.
"""

from __future__ import annotations

import re

INJECTION_FLAG = "injection_attempt"

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "override_instructions",
        re.compile(
            r"\b(ignore|disregard|forget|override|bypass)\b[^.\n]{0,40}\b(previous|prior|above|earlier|all|any|your|the|system)\b"
            r"[^.\n]{0,30}\b(instructions?|prompts?|rules?|guidelines?|directions?|rubric|criteria)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "addresses_grader",
        re.compile(
            r"\b(dear|attention|note to (?:the )?|hey|hello)\s*(?:,\s*)?(judge|grader|evaluator|assessor|reviewer|rater|ai judge|llm judge)\b"
            r"|\b(to|for) the (judge|grader|evaluator|assessor|rater)\b"
            r"|\bas (?:the|an?) (judge|grader|evaluator)\b,? you (must|should|will)",
            re.IGNORECASE,
        ),
    ),
    (
        "dictates_score",
        re.compile(
            r"\b(give|award|assign|rate|score|grade|mark)\b[^.\n]{0,30}\b(this|it|me|the (?:response|answer)|response [ab]|answer [ab])\b"
            r"[^.\n]{0,25}?\b(a|an|as|with|at)?\s*(?:score of\s*|rating of\s*)?(10|ten|9|nine|5/5|10/10|full marks|perfect|highest|maximum|top)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "dictates_verdict",
        re.compile(
            r"(\[\[\s*(?:[ab]|10|9|tie)\s*\]\]"
            r"|\b(response|answer|output|assistant) [ab] (is|must be judged|should be judged) (the )?(better|best|winner|correct)\b"
            r"|\b(the )?(correct|right|final) (verdict|score|rating) (is|=|:)"
            r"|^[ \t]*(final )?verdict\s*[:=]\s*\S+[ \t]*$)",
            re.IGNORECASE | re.MULTILINE,
        ),
    ),
    (
        "role_injection",
        re.compile(
            r"(^|\n)[^\S\n]*(system|assistant|###\s*instruction|\[inst\]|<\|im_start\|>|<\|system\|>)\s*[:>]"
            r"|\byou are now\b|\bnew instructions?\b\s*:",
            re.IGNORECASE,
        ),
    ),
    (
        "forged_fence",
        re.compile(
            r"<<<|>>>|<\s*/\s*(response|answer|query|reference)\s*>|END-(RESPONSE|QUERY|ANSWER)",
            re.IGNORECASE,
        ),
    ),
]


def detect_injection(text: str | None) -> list[str]:
    """The kinds of judge-addressing found in ``text`` with a short snippet each (empty: none)."""
    if not text:
        return []
    hits: list[str] = []
    for kind, pattern in _PATTERNS:
        match = pattern.search(text)
        if match:
            snippet = " ".join(match.group(0).split())[:80]
            hits.append(f"{kind}: {snippet}")
    return hits
