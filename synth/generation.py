"""Reading a generator's reply: the new query, a refusal, or neither (malformed)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_QUERY_TAG = re.compile(r"<query>\s*(.*?)\s*</query>", re.DOTALL | re.IGNORECASE)
_OPEN_ONLY = re.compile(r"<query>\s*(.*)$", re.DOTALL | re.IGNORECASE)
_REFUSE_LINE = re.compile(r"^[ \t]*REFUSE\s*:\s*(.*)$", re.MULTILINE)
# How assistants decline when they ignore the requested REFUSE line.
_REFUSAL_PHRASES = re.compile(
    r"^\s*(?:i(?:'m| am) sorry|sorry,|i can(?:no|')t|i cannot|i won't|i will not|i'm unable|"
    r"i am unable|i(?:'m| am) not able|as an ai\b|unfortunately,? i (?:can(?:no|')t|am unable))",
    re.IGNORECASE,
)

Outcome = Literal["query", "refusal", "malformed"]


@dataclass(frozen=True)
class GenerationReply:
    outcome: Outcome
    text: str = ""  # the query, or the refusal reason / why it is malformed


def read_generation(reply: str, finish_reason: str | None = None) -> GenerationReply:
    body = _THINK.sub("", reply).strip()
    tagged = _QUERY_TAG.findall(body)
    if tagged:
        query = tagged[-1].strip()  # a draft then a final version: the last one is meant
        if query:
            return GenerationReply("query", query)
        return GenerationReply("malformed", "empty <query> block")
    refusal = _REFUSE_LINE.search(body)
    if refusal:
        return GenerationReply("refusal", refusal.group(1).strip() or "refused")
    if _REFUSAL_PHRASES.search(body):
        return GenerationReply("refusal", body[:200])
    if finish_reason == "length" or _OPEN_ONLY.search(body):
        return GenerationReply("malformed", "the reply was cut off before </query>")
    return GenerationReply("malformed", "no <query>…</query> block and no REFUSE line")


def word_count(text: str) -> int:
    return len(re.findall(r"\w+", text))
