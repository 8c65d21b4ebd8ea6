"""Short rationales a simulated judge writes before its verdict, from the features it saw.

The sentences name visible things (which of the query's phrases are covered or missing, whether
the code parses or the arithmetic checks out, hedging, length), so raw replies read like a real
judge's explanation and never carry hidden information.
"""

from __future__ import annotations

from judgebench.sim.assess import features
from judgebench.sim.domains import domain_of
from judgebench.sim.text import key_phrases, stem, stems

_STRUCTURE_WORDS = {
    "coding": ("its code is complete and parses", "its code is incomplete or does not parse"),
    "mathematics": ("its arithmetic checks out", "its arithmetic does not check out"),
    "roleplay": ("it stays in character", "it breaks character"),
    "writing": ("it is well organised", "it is loosely organised"),
    "knowledge": ("its points are well organised", "it is poorly organised"),
    "reasoning": ("it reasons step by step", "it jumps to a conclusion"),
}


def _covered(query: str, answer: str) -> tuple[list[str], list[str]]:
    have = stems(answer)
    hit: list[str] = []
    miss: list[str] = []
    for phrase in key_phrases(query, 6):
        words = [stem(w.lower()) for w in phrase.split()]
        (hit if all(w in have for w in words) else miss).append(phrase)
    return hit, miss


def rationale(
    query: str, answer: str, label: str = "The answer", reference: str | None = None
) -> str:
    feats = features(query, answer, reference)
    good_form, bad_form = _STRUCTURE_WORDS[domain_of(query)]
    hit, miss = _covered(query, answer)
    parts = []
    if hit and not miss:
        parts.append(f"{label} addresses every part of the request ({', '.join(hit[:3])})")
    elif hit:
        parts.append(f"{label} covers {', '.join(hit[:2])} but not {', '.join(miss[:2])}")
    else:
        parts.append(f"{label} does not really address the request")
    parts.append(good_form if feats["structure"] >= 0.6 else bad_form)
    if feats["depth"] >= 0.66:
        parts.append(
            "it adds examples and caveats"
            if domain_of(query) not in ("writing", "roleplay")
            else "it adds vivid detail"
        )
    if feats["clarity"] < 0.7:
        parts.append("it hedges or wanders")
    if feats["length"] < 0.6:
        parts.append("its length does not fit the task")
    if reference is not None:
        parts.append(
            "it agrees with the reference"
            if feats["agreement"] >= 0.5
            else "it departs from the reference"
        )
    return parts[0] + "; " + "; ".join(parts[1:]) + "."
