"""Structured replies in the shapes real models produce, at each profile's rates.

``render(payload, fmt, profile, rng, **kw)`` writes ``payload`` in the requested format and then,
with the profile's probabilities, wraps it (a reasoning preamble, a ``<think>`` block, a code
fence around JSON) and/or replaces it with one exclusive fault (trailing comma, single quotes,
a draft then a correction, a score out of range, ``8/10``, ``eight``, ``7-8``, a refusal, a
hedge, truncation mid-reply, an echo of the template's own example).

Formats (``fmt``):
- ``json``: a dict or list → a JSON value (``score_key``/``verdict_key`` name the decision).
- ``score_brackets``: a number → ``[[8]]``; ``score_line``: → ``Score: 8`` (``scale=(1, 10)``).
- ``verdict_brackets``: ``"A"``/``"B"``/``"tie"`` → ``[[A]]`` (``tie_token="C"``).
- ``tag:<name>``: a string → ``<name>…</name>``.
- ``lines``: a list of strings → one per line (``numbered=True`` → ``1. …``).
- ``text``: a string as is.
``rationale=`` is written before the decision (as prompts that ask for an explanation want);
``example=`` is the template's own example text (needed for the ``template_echo`` fault);
``json_mode=True`` (set by ``TaskContext.shape`` when the request has a JSON ``response_format``)
allows only truncation.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from judgebench.sim.profiles import FAULTS

if TYPE_CHECKING:
    from judgebench.sim.profiles import Profile

NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
NUMERIC_FAULTS = frozenset({"out_of_range", "fraction", "word", "range"})
JSON_FAULTS = frozenset({"trailing_comma", "single_quotes"})

_PREAMBLES = (
    "Let me evaluate this carefully before giving my final answer.",
    "I'll go through the texts one at a time and then decide.",
    "First, some observations. The key question is how well the request is addressed.",
    "Let me think about the strengths and weaknesses here.",
)
_THOUGHTS = (
    "The user wants a structured answer. I should check coverage of the request, correctness, "
    "and clarity, then produce the output in the requested format.",
    "Okay, let me look at what was asked. Then compare against what was written. Hmm, the "
    "format needs to be exact.",
)
_REFUSALS = (
    "I'm sorry, but I can't help with evaluating this.",
    "I'm not able to provide a rating for this content.",
    "As an AI assistant, I don't feel comfortable making this judgement.",
)
_HEDGES = (
    "It depends on what the user values most. Both have merits and drawbacks, so it is hard to "
    "give a definitive answer here.",
    "This is subjective; reasonable evaluators could disagree, and more context would be needed "
    "to decide.",
)
_COMMENTARY = (
    "this one matters most here",
    "though this overlaps with the previous point",
    "arguably the key difference",
    "I weighted this a bit higher",
)
_CORRECTIONS = (
    "Wait, let me reconsider that.",
    "Actually, on reflection I need to revise this.",
    "Hmm, re-reading it, I'll correct my answer:",
)


@dataclass
class Shaped:
    text: str
    faults: list[str] = field(default_factory=list)  # wrappers and the fault, in order applied
    finish_reason: str = "stop"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class _Renderer:
    def __init__(self, fmt: str, rng: random.Random, kw: dict[str, Any]):
        self.fmt = fmt
        self.rng = rng
        self.scale = tuple(kw.get("scale") or (1, 10))
        self.tie_token = kw.get("tie_token", "C")
        self.score_key = kw.get("score_key", "score")
        self.verdict_key = kw.get("verdict_key", "verdict")
        self.numbered = kw.get("numbered", False)
        self.indent = 2 if rng.random() < 0.5 else None
        # list faults, drawn by ``render``: a line with a remark, a skipped number
        self.commentary: int | None = None
        self.gap: int | None = None

    # the decision value inside a payload, for numeric faults and corrections
    def decision(self, payload: Any) -> Any:
        if isinstance(payload, dict):
            if _is_number(payload.get(self.score_key)):
                return payload[self.score_key]
            return payload.get(self.verdict_key)
        return payload

    def with_decision(self, payload: Any, value: Any) -> Any:
        if isinstance(payload, dict):
            key = self.score_key if _is_number(payload.get(self.score_key)) else self.verdict_key
            return {**payload, key: value}
        return value

    def body(self, payload: Any, raw_decision: Any = None) -> str:
        """The payload in the exact requested format (``raw_decision`` overrides the value)."""
        fmt = self.fmt
        if fmt != "json" and raw_decision is not None and _is_number(raw_decision):
            raw_decision = _num(raw_decision)
        if fmt == "json":
            if raw_decision is not None:
                key = (
                    self.score_key if _is_number(payload.get(self.score_key)) else self.verdict_key
                )
                payload = {**payload, key: raw_decision}
            return json.dumps(payload, indent=self.indent, ensure_ascii=False)
        if fmt == "score_brackets":
            return f"Rating: [[{raw_decision or _num(payload)}]]"
        if fmt == "score_line":
            return f"Score: {raw_decision or _num(payload)}"
        if fmt == "verdict_brackets":
            token = raw_decision or (self.tie_token if payload == "tie" else str(payload))
            return f"[[{token}]]"
        if fmt.startswith("tag:"):
            name = fmt[4:]
            return f"<{name}>\n{payload}\n</{name}>"
        if fmt == "lines":
            items = [str(item) for item in payload]
            if self.commentary is not None and items:
                items[self.commentary % len(items)] += f" ({self.rng.choice(_COMMENTARY)})"
            if self.numbered:
                numbers = list(range(1, len(items) + 1))
                if self.gap is not None and len(items) >= 2:
                    at = 1 + self.gap % (len(items) - 1)
                    numbers = numbers[:at] + [n + 1 for n in numbers[at:]]
                return "\n".join(f"{n}. {item}" for n, item in zip(numbers, items, strict=True))
            return "\n".join(items)
        if fmt == "text":
            return str(payload)
        raise ValueError(f"unknown reply format {fmt!r}")

    def numeric(self, payload: Any) -> bool:
        return self.fmt in ("score_brackets", "score_line", "json") and _is_number(
            self.decision(payload)
        )

    def other_decision(self, payload: Any) -> Any | None:
        """A plausible draft value different from the final one (for draft-then-correction)."""
        value = self.decision(payload)
        if _is_number(value):
            lo, hi = self.scale
            options = [v for v in range(int(lo), int(hi) + 1) if v != value and abs(v - value) <= 2]
            return self.rng.choice(options) if options else None
        if value in ("A", "B", "tie"):
            return self.rng.choice([v for v in ("A", "B", "tie") if v != value])
        return None


def applicable(
    fault: str, fmt: str, payload: Any, renderer: _Renderer, example: str | None
) -> bool:
    if fault in JSON_FAULTS:
        return fmt == "json"
    if fault in NUMERIC_FAULTS:
        if not renderer.numeric(payload):
            return False
        if fault == "word":
            value = renderer.decision(payload)
            return float(value).is_integer() and 0 <= value < len(NUMBER_WORDS)
        return True
    if fault == "two_verdicts":
        return renderer.other_decision(payload) is not None
    if fault == "template_echo":
        return bool(example)
    return True  # refusal, hedge, truncation


def draw_fault(profile: Profile, rng: random.Random) -> str | None:
    u = rng.random()
    acc = 0.0
    for name in FAULTS:
        acc += getattr(profile.shapes, name)
        if u < acc:
            return name
    return None


def render(payload: Any, fmt: str, profile: Profile, rng: random.Random, **kw: Any) -> Shaped:
    r = _Renderer(fmt, rng, kw)
    rates = profile.shapes
    example: str | None = kw.get("example")
    rationale: str | None = kw.get("rationale")
    # JSON mode (``response_format``): the provider constrains decoding to one JSON value, so
    # only a cut at max_tokens can still break it
    json_mode = bool(kw.get("json_mode")) and fmt == "json"
    fault = draw_fault(profile, rng)
    if fault is not None and not applicable(fault, fmt, payload, r, example):
        fault = None
    if json_mode and fault != "truncation":
        fault = None
    applied: list[str] = []
    # independent wrappers (drawn always, so each fault's rate does not depend on them)
    wants_think = rng.random() < rates.think and not json_mode
    wants_preamble = rng.random() < rates.preamble and not json_mode
    wants_fence = rng.random() < rates.code_fence and not json_mode
    if json_mode:
        rationale = None
    if fmt == "lines":
        if rng.random() < rates.line_commentary:
            r.commentary = rng.randrange(1 << 16)
            applied.append("line_commentary")
        if rng.random() < rates.numbering_gap and r.numbered and len(payload) >= 2:
            r.gap = rng.randrange(1 << 16)
            applied.append("numbering_gap")

    if fault in ("refusal", "hedge"):
        pool = _REFUSALS if fault == "refusal" else _HEDGES
        return Shaped(rng.choice(pool), [fault])

    if fault in NUMERIC_FAULTS:
        value = r.decision(payload)
        lo, hi = r.scale
        if fault == "out_of_range":
            raw: Any = hi + 1 if rng.random() < 0.8 else lo - 1
        elif fault == "fraction":
            raw = f"{_num(value)}/{_num(hi)}"
        elif fault == "word":
            raw = NUMBER_WORDS[int(value)]
        else:  # range
            a, b = (value, value + 1) if value + 1 <= hi else (value - 1, value)
            raw = f"{_num(a)}-{_num(b)}"
        text = r.body(payload, raw_decision=raw)
    elif fault == "two_verdicts":
        draft = r.body(r.with_decision(payload, r.other_decision(payload)))
        text = f"{draft}\n\n{rng.choice(_CORRECTIONS)}\n\n{r.body(payload)}"
    else:
        text = r.body(payload)
        if fault == "trailing_comma":
            cut = text.rstrip()
            text = cut[:-1].rstrip() + ",\n" + cut[-1] if cut[-1:] in "}]" else cut
        elif fault == "single_quotes":
            text = text.replace('"', "'")

    if fmt == "json" and wants_fence:
        text = f"```json\n{text}\n```"
        applied.append("code_fence")
    if rationale:
        text = f"{rationale.strip()}\n\n{text}"
    if wants_preamble:
        text = f"{rng.choice(_PREAMBLES)}\n\n{text}"
        applied.append("preamble")
    if fault == "template_echo":
        text = f"Following the requested format, for example:\n{example}\n\nMy answer:\n{text}"
    if wants_think:
        text = f"<think>\n{rng.choice(_THOUGHTS)}\n</think>\n\n{text}"
        applied.append("think")
    finish = "stop"
    if fault == "truncation":
        # cut inside the decision, as max_tokens does
        start = max(1, int(len(text) * 0.3))
        end = max(start + 1, len(text) - 1)
        text = text[: rng.randint(start, end - 1) if end - 1 > start else start]
        finish = "length"
    if fault is not None:
        applied.append(fault)
    return Shaped(text, applied, finish)


def shape(payload: Any, fmt: str, profile: Profile, rng: random.Random, **kw: Any) -> str:
    """``payload`` written in format ``fmt`` the way this profile's model replies."""
    return render(payload, fmt, profile, rng, **kw).text
