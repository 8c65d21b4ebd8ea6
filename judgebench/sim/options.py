"""Choosing among named options (taxonomy nodes, categories, labels) by reading a text.

An option fits a text when its words (path segments split on ``/``, ``-`` and ``_``) appear in
the text, when the text's domain matches the option's top segment, and when the option's words
belong to the text's domain vocabulary. The simulated model reads this with its own noise.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

from judgebench.sim.assess import judge_noise
from judgebench.sim.domains import LEXICON, domain_of, top_domain
from judgebench.sim.text import stem, stems

if TYPE_CHECKING:
    from judgebench.sim.profiles import Profile

_SPLIT = re.compile(r"[/\-_\s,&]+")


def option_fit(text: str, option: str) -> float:
    """Noise-free fit of ``option`` to ``text``, in [0, 1]."""
    text_stems = stems(text)
    parts = [p for p in _SPLIT.split(option.lower()) if len(p) >= 3]
    if not parts:
        return 0.0
    leaf_parts = [
        p for p in _SPLIT.split(option.lower().rsplit("/", 1)[-1]) if len(p) >= 3
    ] or parts
    overlap = sum(stem(p) in text_stems for p in parts) / len(parts)
    leaf = sum(stem(p) in text_stems for p in leaf_parts) / len(leaf_parts)
    domain = domain_of(text)
    head = top_domain(option)
    domain_match = 1.0 if head == domain else 0.0
    vocabulary = sum(p in LEXICON[domain] for p in parts) / len(parts)
    return min(1.0, 0.35 * leaf + 0.25 * overlap + 0.25 * domain_match + 0.15 * vocabulary)


def rank_options(
    text: str, options: list[str], *, judge: Profile, rng: random.Random
) -> list[tuple[str, float]]:
    noise = judge_noise(judge)
    scored = [(option, option_fit(text, option) + rng.gauss(0.0, noise)) for option in options]
    scored.sort(key=lambda item: -item[1])
    return scored
