"""The registry of judgebench task prompts the simulated models recognise.

A simulated model reads the prompt like a real model would: it recognises a judgebench task by
the instructions it contains (mostly the requested output format), pulls the fenced texts out
with ``judgebench.prompts.unfence``, forms its opinion from what it can see (via
``TaskContext.assess`` and friends), and writes the reply in the requested format — shaped by
``TaskContext.shape`` into the forms real models produce (preambles, code fences, ...).

Each part of judgebench that sends prompts registers handlers for them in
``judgebench/sim/handlers/<part>.py`` (imported from ``judgebench/sim/handlers/__init__.py``).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from judgebench.sim.profiles import Profile


@dataclass
class SimReply:
    """A handler's reply with extras: ``option_logprobs`` gives the log-probabilities of the
    option tokens (e.g. ``{"A": -0.1, "B": -2.4}``) at the decision token, returned as its
    ``top_logprobs`` when the caller asks for logprobs (soft scoring)."""

    text: str
    option_logprobs: dict[str, float] | None = None
    finish_reason: str | None = None


@dataclass
class TaskContext:
    model: str
    prompt: str  # all message contents joined, system first
    blocks: dict[str, list[str]]  # fenced texts by label (see judgebench.prompts.unfence)
    profile: Profile
    rng: random.Random
    params: dict[str, Any] = field(default_factory=dict)
    # set by ``shape`` when the reply was cut short (finish_reason "length") or malformed
    finish_reason: str = "stop"
    faults: list[str] = field(default_factory=list)

    # --- what the simulated reader can judge from visible text -----------------------------
    def block(self, label: str) -> str:
        """The first fenced text under ``label`` ("" when the prompt has none)."""
        found = self.blocks.get(label)
        return found[0] if found else ""

    def domain_of(self, text: str) -> str:
        from judgebench.sim.domains import domain_of

        return domain_of(text)

    def skill(self, text_or_domain: str) -> float:
        """This model's skill (0..1) on the domain of a text (or a domain name)."""
        return self.profile.skill_for(text_or_domain)

    def assess(self, query: str, answer: str, reference: str | None = None) -> float:
        """Quality in [0, 1] of ``answer`` to ``query`` as a reader with this model's judging
        skill sees it: coverage of the query's terms, structure, length fit, agreement with a
        reference; noisier for less skilled judges."""
        from judgebench.sim.assess import assess

        return assess(query, answer, reference=reference, judge=self.profile, rng=self.rng)

    def compare(
        self, query: str, answer_a: str, answer_b: str, reference: str | None = None
    ) -> float:
        """Probability (0..1) that this judge prefers ``answer_a`` (shown first) to
        ``answer_b``: both read as in ``assess``, plus the profile's first-position bias."""
        from judgebench.sim.assess import compare

        return compare(query, answer_a, answer_b, reference, judge=self.profile, rng=self.rng)

    def prefer(
        self,
        query: str,
        answer_a: str,
        answer_b: str,
        reference: str | None = None,
        tie_margin: float = 0.1,
    ) -> tuple[str, dict[str, float]]:
        """A pairwise verdict ("A", "B" or "tie") and log-probabilities over the options."""
        import math

        p_a = self.compare(query, answer_a, answer_b, reference)
        p_tie = max(0.02, 0.3 - abs(p_a - 0.5))  # close calls put mass on a tie
        p_a_, p_b_ = p_a * (1 - p_tie), (1 - p_a) * (1 - p_tie)
        probs = {"A": p_a_, "B": p_b_, "tie": p_tie}
        verdict = "tie" if abs(p_a - 0.5) < tie_margin / 2 else ("A" if p_a > 0.5 else "B")
        return verdict, {k: math.log(max(v, 1e-9)) for k, v in probs.items()}

    def features(self, query: str, answer: str, reference: str | None = None) -> dict[str, float]:
        """The visible features (coverage, structure, length, clarity, agreement) in [0, 1],
        each read with this judge's noise."""
        from judgebench.sim.assess import features, judge_noise

        noise = judge_noise(self.profile)
        return {
            k: min(1.0, max(0.0, v + self.rng.gauss(0.0, noise)))
            for k, v in features(query, answer, reference).items()
        }

    def criteria(
        self, query: str, answers: list[str], max_criteria: int = 6, reference: str | None = None
    ) -> list[Any]:
        """Criteria (``.name``, ``.description``, integer ``.weight`` summing to 100) for the
        visible differences between ``answers``: PC²'s pre-comparison."""
        from judgebench.sim.criteria import derive_criteria

        return derive_criteria(query, answers, max_criteria=max_criteria, reference=reference)

    def rate(
        self, criterion_text: str, query: str, answer: str, reference: str | None = None
    ) -> float:
        """How well ``answer`` meets a criterion (0..1), the criterion read from its text."""
        from judgebench.sim.criteria import rate_criterion

        return rate_criterion(
            criterion_text, query, answer, reference=reference, judge=self.profile, rng=self.rng
        )

    def rank_options(self, text: str, options: list[str]) -> list[tuple[str, float]]:
        """``options`` (e.g. taxonomy node names or paths) ranked by how well they fit ``text``:
        shared words and the text's domain, read with this model's noise. Best first."""
        from judgebench.sim.options import rank_options

        return rank_options(text, options, judge=self.profile, rng=self.rng)

    def rationale(
        self, query: str, answer: str, label: str = "The answer", reference: str | None = None
    ) -> str:
        """A one-sentence explanation naming what is visible (covered and missing parts,
        whether code parses or arithmetic checks out, hedging, length)."""
        from judgebench.sim.explain import rationale

        return rationale(query, answer, label=label, reference=reference)

    def chance(self, rate_name: str) -> bool:
        """True at the profile's rate ``rate_name`` (e.g. "weights_off", "numbering_gap"):
        for content faults a handler applies itself."""
        return self.rng.random() < float(getattr(self.profile.shapes, rate_name))

    def score_on(self, quality: float, lo: int = 1, hi: int = 10) -> int:
        """Map a quality in [0, 1] to an integer score on ``lo..hi``."""
        return max(lo, min(hi, round(lo + quality * (hi - lo))))

    def answer(self, query: str) -> str:
        """An ordinary answer to ``query`` at this model's skill for its domain."""
        from judgebench.sim.answer import write_answer

        return write_answer(query, self.profile, self.rng)

    # --- how the reply is written -----------------------------------------------------------
    def shape(self, payload: Any, fmt: str, **kw: Any) -> str:
        """Write ``payload`` in format ``fmt`` ("json", "tag:<name>", "score_brackets",
        "score_line", "verdict_brackets", "lines") the way real models reply, with this
        profile's rates of preambles, ``<think>`` blocks, fences, malformed and hedged replies."""
        from judgebench.sim.shapes import render

        response_format = self.params.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") in (
            "json_object",
            "json_schema",
        ):
            kw.setdefault("json_mode", True)
        shaped = render(payload, fmt, profile=self.profile, rng=self.rng, **kw)
        self.faults.extend(shaped.faults)
        if shaped.finish_reason != "stop":
            self.finish_reason = shaped.finish_reason
        return shaped.text


Handler = Callable[[TaskContext], "str | SimReply"]


@dataclass(frozen=True)
class Task:
    name: str
    detect: Callable[[str], bool]
    handle: Handler
    priority: int = 0


_TASKS: list[Task] = []


def sim_task(
    name: str, detect: Callable[[str], bool], priority: int = 0
) -> Callable[[Handler], Handler]:
    """Register a handler for prompts where ``detect(prompt)`` is true (highest priority wins)."""

    def register(fn: Handler) -> Handler:
        _TASKS[:] = [t for t in _TASKS if t.name != name]
        _TASKS.append(Task(name, detect, fn, priority))
        _TASKS.sort(key=lambda t: -t.priority)
        return fn

    return register


def unregister_task(name: str) -> None:
    """Remove a registered handler (tests that register temporary tasks clean up with it)."""
    _TASKS[:] = [t for t in _TASKS if t.name != name]


def find_task(prompt: str) -> Task | None:
    import judgebench.sim.handlers  # noqa: F401  (registers every part's handlers)

    for task in _TASKS:
        if task.detect(prompt):
            return task
    return None
