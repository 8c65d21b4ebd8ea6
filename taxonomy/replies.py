"""Reading JSON objects out of LLM replies the way real models write them.

Handles ``<think>`` blocks, prose before and after, Markdown code fences, trailing commas,
single-quoted keys and several objects in one reply (a draft then a correction: the last one
that parses is meant). A reply with no parseable object raises ``ReplyError`` with the reason;
nothing is ever filled in by default.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class ReplyError(ValueError):
    """A reply that could not be turned into a valid decision; the message is the reason."""


def _objects(text: str) -> list[str]:
    """Top-level ``{...}`` spans, respecting strings."""
    spans: list[str] = []
    depth = 0
    start = -1
    quote: str | None = None
    escaped = False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = None
            continue
        if ch == '"' or (ch == "'" and depth > 0 and _looks_like_quote(text, i)):
            quote = ch
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                spans.append(text[start : i + 1])
    return spans


def _looks_like_quote(text: str, i: int) -> bool:
    # an apostrophe inside a word (don't) is not a string delimiter
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    return not (before.isalnum() and after.isalnum())


def _load(candidate: str) -> Any:
    for attempt in (candidate, _TRAILING_COMMA.sub(r"\1", candidate)):
        try:
            return json.loads(attempt)
        except json.JSONDecodeError:
            pass
    try:  # single quotes, True/False/None: Python literal syntax
        fixed = _TRAILING_COMMA.sub(r"\1", candidate)
        fixed = re.sub(
            r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", fixed))
        )
        return ast.literal_eval(fixed)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def parse_json_object(reply: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The last JSON object in ``reply`` that has every key in ``required``."""
    if reply is None or not reply.strip():
        raise ReplyError("empty reply")
    text = _THINK.sub("", reply)
    if "<think>" in text.lower():  # an unclosed think block: nothing after it is an answer
        raise ReplyError("reply ends inside a <think> block")
    found: list[dict[str, Any]] = []
    for span in _objects(text):
        value = _load(span)
        if isinstance(value, dict):
            found.append(value)
    if not found:
        if "{" in text:
            raise ReplyError("no complete JSON object in the reply (truncated or malformed)")
        raise ReplyError("no JSON object in the reply")
    for value in reversed(found):
        if all(key in value for key in required):
            return value
    raise ReplyError(
        f"JSON object lacks {', '.join(repr(k) for k in required if k not in found[-1])}"
    )
