"""Strict, honest parsing of judge replies.

What a reply may look like (all seen from real judges): the requested JSON object, reasoning
before it, a ``<think>`` block, the JSON inside a Markdown fence, JSON with a trailing comma or
single quotes, tagged blocks (``<score>8</score>``), MT-Bench brackets (``[[8]]``), a
``Score: 8`` line, a draft followed by a correction, a truncated object, a refusal or a hedge.

Rules:
- Only the reply is parsed, never the prompt; ``<think>`` blocks are dropped first.
- Every candidate block that carries the primary field is collected with its position; the
  **last** one is the answer (a correction after a draft). If that one is invalid the reply is
  invalid: an earlier draft is never promoted silently.
- Tolerant repairs only where unambiguous: trailing commas outside strings; single quotes only
  when the block holds no double quote at all (an apostrophe then breaks the parse, so
  ``it's`` can never be mis-read).
- A block equal to an example in the template's own source is skipped (the "echoed the example"
  bug: a parser matching the template gave every answer the same score).
- A reply cut by ``max_tokens`` whose last block is unclosed is invalid, even if a draft exists.
- Nothing here invents a value: every failure raises :class:`ReplyParseError` with a reason.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from judgebench.records import canonical_json


class ReplyParseError(ValueError):
    """The reply holds no usable answer; the message is the reason stored with the judgment."""


# shared with judgebench.taxonomy.replies, which reads JSON decisions with this same parser
THINK_CLOSED = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_BRACKETS_RE = re.compile(r"\[\[\s*([^\[\]\n]{1,40}?)\s*\]\]")
_REFUSAL_RE = re.compile(
    r"\b(i\s+(?:cannot|can't|can not|won't|will not|am unable to|'m unable to|must decline)|"
    r"as an ai\b|it depends\b|hard to say|difficult to say|both (?:responses |answers )?have (?:their )?merits|"
    r"i'?m not (?:able|sure)|cannot determine|can't determine|no clear (?:winner|answer))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Block:
    """One candidate answer found in a reply: where it starts and the fields it carries."""

    start: int
    value: dict[str, Any]
    source: str  # "json" | "tags" | "brackets" | "line"


# --- reasoning -----------------------------------------------------------------------------


def strip_reasoning(reply: str) -> str:
    """Drop ``<think>…</think>`` blocks; an unclosed ``<think>`` swallows the rest."""
    text = THINK_CLOSED.sub(" ", reply)
    opened = THINK_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    return text


# --- JSON objects ----------------------------------------------------------------------------


_STRUCTURE = re.compile(r"[\"'{}\\]")  # the only characters _balanced_end acts on


def _balanced_end(text: str, start: int) -> int | None:
    """Index just past the ``}`` closing the ``{`` at ``start`` (string-aware), or None.

    Jumps from one quote, brace or backslash to the next (every judge reply is scanned here;
    stepping through each character in Python cost more than the rest of parsing)."""
    depth = 0
    quote: str | None = None
    escaped_at = -1  # the character after a backslash inside a string, whatever it is
    for match in _STRUCTURE.finditer(text, start):
        i = match.start()
        ch = text[i]
        if quote:
            if i == escaped_at:
                continue
            if ch == "\\":
                escaped_at = i + 1
            elif ch == quote:
                quote = None
            continue
        if ch in "\"'":
            # an apostrophe inside prose ("it's") is not a string opener for a single-quoted block
            if ch == "'" and i > 0 and text[i - 1].isalnum():
                continue
            quote = ch
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    return None


def _drop_trailing_commas(block: str) -> str:
    out: list[str] = []
    in_string = False
    escaped = False
    i = 0
    while i < len(block):
        ch = block[i]
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
            out.append(ch)
        elif ch == ",":
            j = i + 1
            while j < len(block) and block[j].isspace():
                j += 1
            if j >= len(block) or block[j] not in "}]":
                out.append(ch)
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def loads_tolerant(block: str) -> Any:
    """``json.loads`` plus the two unambiguous repairs; raises ``ValueError`` otherwise."""
    try:
        return json.loads(block)
    except json.JSONDecodeError:
        pass
    candidate = block
    if '"' not in candidate and "'" in candidate:
        candidate = candidate.replace("'", '"')
    candidate = _drop_trailing_commas(candidate)
    return json.loads(candidate)


def json_objects(text: str) -> tuple[list[tuple[int, dict[str, Any]]], int | None]:
    """Outermost JSON objects in ``text`` with their offsets, and the offset of an object left
    open after the last complete one (a cut-off final answer), if any."""
    found: list[tuple[int, dict[str, Any]]] = []
    last_end = 0
    unclosed: int | None = None
    pos = 0
    while True:
        start = text.find("{", pos)
        if start < 0:
            break
        end = _balanced_end(text, start)
        if end is None:
            if unclosed is None or unclosed < last_end:
                unclosed = start
            pos = start + 1
            continue
        try:
            value = loads_tolerant(text[start:end])
        except ValueError:
            pos = start + 1
            continue
        if isinstance(value, dict):
            found.append((start, value))
            pos = last_end = end
        else:
            pos = start + 1
    if unclosed is not None and unclosed < last_end:
        unclosed = None
    return found, unclosed


@lru_cache(maxsize=256)
def template_examples(template_source: str) -> frozenset[str]:
    """Canonical forms of the JSON objects written literally in a template (its examples);
    remembered per template source, since every exchange asks for them."""
    return frozenset(canonical_json(value) for _, value in json_objects(template_source)[0])


# --- other answer shapes -----------------------------------------------------------------------


def _tag_blocks(text: str, primary: str, fields: Sequence[str]) -> list[Block]:
    blocks: list[Block] = []
    for match in re.finditer(rf"<{primary}>(.*?)</{primary}>", text, re.DOTALL | re.IGNORECASE):
        value: dict[str, Any] = {primary: match.group(1).strip()}
        for name in fields:
            if name == primary:
                continue
            found = re.findall(rf"<{name}>(.*?)</{name}>", text, re.DOTALL | re.IGNORECASE)
            if found:
                value[name] = found[-1].strip()
        blocks.append(Block(match.start(), value, "tags"))
    return blocks


def _short_blocks(text: str, primary: str) -> list[Block]:
    blocks = [
        Block(m.start(), {primary: m.group(1)}, "brackets") for m in _BRACKETS_RE.finditer(text)
    ]
    line_re = re.compile(
        rf"^[ \t*#>_-]*{primary}[ \t*_]*[:=][ \t*_]*([^\n*]{{1,40}}?)[ \t*_.]*$",
        re.IGNORECASE | re.MULTILINE,
    )
    blocks += [
        Block(m.start(), {primary: m.group(1).strip()}, "line") for m in line_re.finditer(text)
    ]
    return blocks


# --- the entry point ---------------------------------------------------------------------------


def extract_answer(
    reply: str,
    *,
    primary: str,
    fields: Sequence[str] = (),
    examples: Iterable[str] = (),
    finish_reason: str | None = None,
    short_forms: bool = True,
) -> dict[str, Any]:
    """The answer block of ``reply`` as a dict holding at least ``primary``.

    ``fields`` are the other tag names to collect for tagged replies; ``examples`` are canonical
    JSON forms (see :func:`template_examples`) that are never accepted as an answer;
    ``short_forms`` allows ``[[x]]`` and ``primary: x`` lines (for scalar answers only).
    """
    if not reply or not reply.strip():
        raise ReplyParseError("empty reply")
    text = strip_reasoning(reply)
    if not text.strip():
        raise ReplyParseError("reply holds only reasoning (<think> block) and no answer")
    example_set = set(examples)
    objects, unclosed = json_objects(text)
    echoed = False
    blocks: list[Block] = []
    for start, value in objects:
        if primary not in value:
            continue
        if canonical_json(value) in example_set:
            echoed = True
            continue
        blocks.append(Block(start, value, "json"))
    blocks += _tag_blocks(text, primary, fields)
    if short_forms:
        blocks += _short_blocks(text, primary)
    if unclosed is not None and (not blocks or max(b.start for b in blocks) < unclosed):
        raise ReplyParseError(
            "reply truncated inside its answer (unclosed JSON object"
            + (", finish_reason=length)" if finish_reason == "length" else ")")
        )
    if not blocks:
        if echoed:
            raise ReplyParseError("reply only echoes the template's example answer")
        if _REFUSAL_RE.search(text):
            raise ReplyParseError("refusal or hedge: the reply gives no verdict")
        if finish_reason == "length":
            raise ReplyParseError("reply truncated (finish_reason=length) before any answer")
        raise ReplyParseError(f"no answer block with field {primary!r} found")
    return max(blocks, key=lambda b: b.start).value


# --- value checks ------------------------------------------------------------------------------

_UNITS = "zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
_TENS = "twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety"
_WORD_NUMBER_RE = re.compile(
    rf"(?:{_UNITS}|(?:{_TENS})(?:[- ](?:{_UNITS}))?|(?:one )?hundred)", re.IGNORECASE
)


def integer_in_range(value: Any, low: int, high: int, what: str = "score") -> int:
    """An integer score in ``[low, high]``.

    Accepted: an int, a float with no fractional part, a digit string, and ``"n/high"`` (a
    fraction over the scale's own maximum is the same number, e.g. ``8/10`` on 1–10).
    Rejected with a reason: booleans, non-integers, other fractions (``4/5`` on 1–10), ranges
    (``7-8``), number words (``eight``), anything out of range (``11`` on 1–10).
    """
    if isinstance(value, bool) or value is None:
        raise ReplyParseError(f"{what} is {value!r}, not an integer")
    if isinstance(value, float):
        if not value.is_integer():
            raise ReplyParseError(f"{what} {value} is not an integer")
        value = int(value)
    if isinstance(value, str):
        raw = value.strip().strip("*_`\"'").strip()
        if re.fullmatch(r"[+]?\d+(?:\.0+)?", raw):
            value = int(float(raw))
        elif m := re.fullmatch(r"(\d+)\s*/\s*(\d+)", raw):
            if int(m.group(2)) != high:
                raise ReplyParseError(
                    f"{what} {raw!r} is a fraction over {m.group(2)}, not the {low}-{high} scale"
                )
            value = int(m.group(1))
        elif re.fullmatch(r"\d+(?:\.\d+)?\s*(?:-|–|to)\s*\d+(?:\.\d+)?", raw):
            raise ReplyParseError(f"{what} {raw!r} is a range, not one score")
        elif _WORD_NUMBER_RE.fullmatch(raw):
            raise ReplyParseError(f"{what} {raw!r} is a word, not a number")
        else:
            raise ReplyParseError(f"{what} {raw[:40]!r} is not an integer")
    if not isinstance(value, int):
        raise ReplyParseError(f"{what} {value!r} is not an integer")
    if not low <= value <= high:
        raise ReplyParseError(f"{what} {value} is outside the {low}-{high} scale")
    return value


# the lookbehind keeps a search from restarting inside a run of spaces (quadratic on a long one);
# a fullmatch starts at 0, where it always holds
_VERDICT_RE = re.compile(
    r"(?<![\s(])(?:(?:response|answer|assistant|output|candidate)\s*)?\(?\s*([ab])\s*\)?",
    re.IGNORECASE,
)


def verdict_value(value: Any, *, allow_tie: bool = True, what: str = "verdict") -> str:
    """``"A"``, ``"B"`` or ``"tie"`` from a verdict field (``"Response A"``, ``"a"``, ``"TIE"``)."""
    if not isinstance(value, str):
        raise ReplyParseError(
            f"{what} {value!r} is not one of A, B" + (", tie" if allow_tie else "")
        )
    raw = value.strip().strip("*_`\"'[]. ").strip()
    if allow_tie and raw.lower() in {"tie", "draw", "equal", "c"}:
        return "tie"
    match = _VERDICT_RE.fullmatch(raw)
    if match:
        return match.group(1).upper()
    raise ReplyParseError(
        f"{what} {raw[:40]!r} is not one of A, B" + (", tie" if allow_tie else "")
    )


def short_text(value: Any, limit: int = 4000) -> str | None:
    if value is None:
        return None
    return str(value).strip()[:limit] or None
