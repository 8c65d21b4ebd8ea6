"""Ordinary answers written at a profile's skill for the query's domain.

Skill changes what a reader can see: a skilled answer names the query's key terms, is
structured the way its domain expects (steps, bullets, a code block, worked equations), is
complete and of fitting length; an unskilled one is vague, partial, drifts off-topic, hedges,
or is visibly wrong (arithmetic that does not add up, code that does not parse, broken
character). Nothing in the text names the profile or its numbers.
"""

from __future__ import annotations

import random

from judgebench.sim.domains import DOMAINS, LEXICON, domain_of
from judgebench.sim.text import content_terms, numbers

if False:  # pragma: no cover - typing only, avoids an import cycle at runtime
    from judgebench.sim.profiles import Profile

# Sentences per answer at verbosity 1 for a complete answer, by domain.
BASE_LENGTH = {
    "writing": 9,
    "roleplay": 7,
    "knowledge": 8,
    "coding": 6,
    "mathematics": 6,
    "reasoning": 7,
}

HEDGES = (
    "I'm not completely sure about this.",
    "This might not be exactly right.",
    "It depends on a lot of things, really.",
    "I think, but I could be wrong.",
    "Hard to say for certain.",
)
VAGUE = (
    "There are many ways to look at this.",
    "It is a complex topic with many aspects.",
    "Generally speaking, it depends on the situation.",
    "This is something people often wonder about.",
    "There are various factors involved here.",
    "Overall, it is important to consider everything.",
)
CONNECTIVES = ("First,", "Next,", "Then,", "Also,", "In addition,", "Finally,")
ADJECTIVES = ("vivid", "careful", "clear", "precise", "concrete", "warm", "striking", "measured")
VERBS = (
    "shapes",
    "drives",
    "explains",
    "supports",
    "determines",
    "frames",
    "connects to",
    "clarifies",
)


def _pick(rng: random.Random, seq: tuple[str, ...] | list[str]) -> str:
    return seq[int(rng.random() * len(seq))]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ident(terms: list[str], fallback: str) -> str:
    """A function name from the query's own terms (not generic words like "python")."""
    generic = LEXICON["coding"]
    parts = [
        t.replace("-", "_").replace("'", "")
        for t in terms
        if t.replace("-", "").isalpha() and t not in generic
    ][:2]
    return "_".join(parts) or fallback


def _off_topic(domain: str, rng: random.Random) -> str:
    other = _pick(rng, [d for d in DOMAINS if d != domain])
    words = sorted(LEXICON[other])
    a, b = _pick(rng, words), _pick(rng, words)
    return f"On a related note, {a} and {b} are also worth mentioning here."


class _Writer:
    """Builds one answer; ``quality`` in [0, 1] decides coverage, structure and correctness."""

    def __init__(
        self, query: str, domain: str, quality: float, verbosity: float, rng: random.Random
    ):
        self.query = query
        self.domain = domain
        self.q = quality
        self.rng = rng
        all_terms = list(content_terms(query, 14))
        # How many of the query's key terms the answer takes up: the heart of "addresses it".
        keep = max(0, round(len(all_terms) * min(1.0, 0.15 + quality)))
        if quality < 0.5:
            rng.shuffle(all_terms)
        self.terms = all_terms[:keep] or ["this"]
        self.length = max(2, round(BASE_LENGTH[domain] * verbosity * (0.45 + 0.75 * quality)))

    def term(self) -> str:
        return _pick(self.rng, self.terms)

    def fact(self) -> str:
        t1, t2 = self.term(), self.term()
        if self.q >= 0.5:
            return f"{_cap(t1)} {_pick(self.rng, VERBS)} {t2}, which matters because it changes the {_pick(self.rng, ADJECTIVES)} outcome."
        return f"{_cap(t1)} is related to {t2} in some way."

    def filler(self) -> list[str]:
        """Visible weaknesses of a low-quality answer."""
        out: list[str] = []
        if self.q < 0.55:
            out.append(_pick(self.rng, VAGUE))
        if self.q < 0.45 and self.rng.random() < 0.8:
            out.append(_pick(self.rng, HEDGES))
        if self.q < 0.35:
            out.append(_off_topic(self.domain, self.rng))
        return out

    # --- per-domain bodies -------------------------------------------------------------------
    def coding(self) -> str:
        name = _ident(self.terms, "solve")
        arg = "items" if "list" in self.query.lower() or "array" in self.query.lower() else "data"
        if self.q >= 0.5:
            steps = [
                f"{i + 1}. {c} handle the {self.term()} case."
                for i, c in enumerate(CONNECTIVES[: max(2, self.length // 2)])
            ]
            doc = " ".join(self.terms[:6])
            code = (
                f"```python\ndef {name}({arg}):\n"
                f'    """{_cap(doc)}."""\n'
                f"    if not {arg}:\n        return []\n"
                f"    result = []\n    for item in {arg}:\n        result.append(item)\n"
                f"    return sorted(result)\n```"
            )
            tail = f"This runs in O(n log n) time and handles the empty {self.term()} case."
            return "\n".join(
                [
                    f"Here is an approach to {' '.join(self.terms[:4])}:",
                    "",
                    *steps,
                    "",
                    code,
                    "",
                    tail,
                ]
            )
        body = [f"You could probably write a loop for the {self.term()} part.", *self.filler()]
        if self.rng.random() < 0.6:
            body.append(f"```\ndef {name}({arg}:\n    # TODO: handle {self.term()}\n    pass\n```")
        return " ".join(b for b in body if not b.startswith("```")) + "".join(
            "\n\n" + b for b in body if b.startswith("```")
        )

    def mathematics(self) -> str:
        nums = [float(n) for n in numbers(self.query)][:4]
        while len(nums) < 3:
            nums.append(float(self.rng.randint(2, 20)))
        a, b, c = (int(x) if x.is_integer() else x for x in nums[:3])
        s1 = a + b
        s2 = s1 * c
        if self.q >= 0.5:
            lines = [
                f"To solve this we work with the {', '.join(self.terms[:3])} step by step.",
                "",
                f"Step 1: Combine the first two quantities: {a} + {b} = {s1}.",
                f"Step 2: Scale by the third: {s1} × {c} = {s2}.",
                f"Step 3: Check: {s2} ÷ {c} = {s1}, which matches Step 1.",
            ]
            lines += [
                f"Note: the {self.term()} is used exactly once."
                for _ in range(max(0, self.length - 5))
            ][:2]
            lines += ["", f"**Answer:** {s2}"]
            return "\n".join(lines)
        wrong = s1 + self.rng.randint(1, 9)
        parts = [f"We just add things up: {a} + {b} = {wrong}.", *self.filler()]
        if self.rng.random() < 0.5:
            parts.append(f"So the answer is probably around {wrong * c + self.rng.randint(1, 20)}.")
        return " ".join(parts)

    def reasoning(self) -> str:
        if self.q >= 0.5:
            premises = [
                f"{i + 1}. The {self.term()} constrains the {self.term()}."
                for i in range(max(2, self.length - 3))
            ]
            return "\n".join(
                [
                    f"Let's reason step by step about the {' and '.join(self.terms[:2])}.",
                    "",
                    *premises,
                    "",
                    f"Therefore, considering the {self.term()} together with the {self.term()}, the conclusion follows from the premises above.",
                ]
            )
        return " ".join([f"The answer is obviously about the {self.term()}.", *self.filler()])

    def writing(self) -> str:
        if self.q >= 0.5:
            title = f"# {_cap(' '.join(self.terms[:3]))}"
            paragraphs = []
            sentences = [
                f"The {_pick(self.rng, ADJECTIVES)} {self.term()} sets the scene, and the {self.term()} gives it a {_pick(self.rng, ADJECTIVES)} voice."
                for _ in range(self.length)
            ]
            for i in range(0, len(sentences), 3):
                paragraphs.append(" ".join(sentences[i : i + 3]))
            return "\n\n".join([title, *paragraphs])
        return " ".join([f"Here is some text about {self.term()}.", *self.filler(), "It was nice."])

    def roleplay(self) -> str:
        if self.q >= 0.5:
            lines = [f"*adjusts posture, fully in character* Ah, you ask about the {self.term()}!"]
            for _ in range(max(2, self.length - 2)):
                lines.append(
                    f'"By my word, the {self.term()} and the {self.term()} are no small matter," I say, leaning closer.'
                )
            lines.append(f"*smiles* Now, tell me more of the {self.term()} you seek.")
            return "\n\n".join(lines)
        return " ".join(
            [
                "As an AI, I can't really play a character, but I can try.",
                f"The {self.term()} is a thing.",
                *self.filler(),
            ]
        )

    def knowledge(self) -> str:
        if self.q >= 0.5:
            bullets = [
                f"- **{_cap(self.term())}**: {self.fact()}" for _ in range(max(2, self.length - 2))
            ]
            return "\n".join(
                [
                    f"Key points about {', '.join(self.terms[:3])}:",
                    "",
                    *bullets,
                    "",
                    f"In short, the {self.term()} and the {self.term()} are closely linked.",
                ]
            )
        return " ".join([self.fact(), *self.filler()])

    def write(self) -> str:
        body: str = getattr(self, self.domain)()
        return body.strip() + "\n"


def answer_quality(skill: float, rng: random.Random, spread: float = 0.12) -> float:
    """This answer's realised quality: the skill plus per-answer variation."""
    return min(1.0, max(0.0, skill + rng.gauss(0.0, spread)))


def write_answer(query: str, profile: Profile, rng: random.Random, *, spread: float = 0.12) -> str:
    """An ordinary answer to ``query`` at ``profile``'s skill for the query's domain."""
    domain = domain_of(query)
    quality = answer_quality(profile.skill_for(domain), rng, spread)
    return _Writer(query, domain, quality, profile.verbosity, rng).write()
