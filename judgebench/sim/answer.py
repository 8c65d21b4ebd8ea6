"""Ordinary answers written at a profile's skill for the query's domain.

Skill changes what a reader can see: a skilled answer names the query's key terms, is
structured the way its domain expects (steps, bullets, a code block, worked equations), is
complete and of fitting length; an unskilled one is vague, partial, drifts off-topic, hedges,
or is visibly wrong (arithmetic that does not add up, code that does not parse, a broken
character). Nothing in the text names the profile or its numbers.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from judgebench.sim.domains import DOMAINS, LEXICON, domain_of
from judgebench.sim.text import key_terms, numbers

if TYPE_CHECKING:
    from judgebench.sim.profiles import Profile

# Sentences in a complete answer at verbosity 1, by domain.
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
ADJ = (
    "vivid",
    "careful",
    "clear",
    "precise",
    "concrete",
    "warm",
    "striking",
    "measured",
    "quiet",
    "bold",
)
VERB = (
    "shapes",
    "drives",
    "explains",
    "supports",
    "determines",
    "frames",
    "connects to",
    "clarifies",
)

# Skilled sentence templates: {a} and {b} are the query's own terms.
SENTENCES = {
    "writing": (
        "The {adj} {a} opens the piece and sets up the {b}.",
        "Every detail of the {a} points back to the {b}, so the reader never loses the thread.",
        "A {adj} image of the {a} gives the {b} its emotional weight.",
        "The rhythm slows around the {a}, letting the {b} land.",
        "Short sentences about the {a} contrast with the longer passage on the {b}.",
        "The closing lines return to the {a}, now changed by the {b}.",
    ),
    "knowledge": (
        "The {a} {verb} the {b}, which is why the two are usually discussed together.",
        "Historically, the {a} developed alongside the {b}.",
        "A common misconception is that the {a} is independent of the {b}; in fact they interact.",
        "The main effect of the {a} is on the {b}, with secondary effects elsewhere.",
        "Experts distinguish the {a} from the {b} by their causes and their consequences.",
    ),
    "reasoning": (
        "The {a} rules out every case in which the {b} comes first.",
        "If the {a} holds, then the {b} must also hold.",
        "Combining the {a} with the {b} leaves only one consistent arrangement.",
        "The {a} cannot be true at the same time as the {b}, so one premise decides it.",
    ),
    "roleplay": (
        '"Ah, the {a}! Few dare to ask me about the {b}," I say, leaning closer.',
        '*taps the table* "The {a} is no small matter, traveller, and the {b} even less so."',
        '"I have seen the {a} with my own eyes, and I will tell you of the {b}."',
        '*lowers voice* "Speak of the {a} quietly; the {b} has ears."',
    ),
}


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
    return f"On a related note, {_pick(rng, words)} and {_pick(rng, words)} are also worth mentioning here."


class _Writer:
    """Builds one answer; ``quality`` in [0, 1] decides coverage, structure and correctness."""

    def __init__(
        self, query: str, domain: str, quality: float, verbosity: float, rng: random.Random
    ):
        self.query = query
        self.domain = domain
        self.q = quality
        self.rng = rng
        all_terms = list(key_terms(query, 12))
        # How many of the query's key terms the answer takes up: the heart of "addresses it".
        keep = max(1, round(len(all_terms) * min(1.0, 0.1 + quality))) if all_terms else 0
        if quality < 0.5:
            rng.shuffle(all_terms)
        self.terms = all_terms[:keep] or ["question"]
        self._next = 0
        # Whether it manages the domain's form at all: certain above 0.7, never below 0.3, a
        # coin weighted by quality in between (so expected quality is smooth in skill).
        self.structured = rng.random() < min(1.0, max(0.0, (quality - 0.3) / 0.4))
        # Even a structured answer slips now and then: a wrong step, a bug.
        self.slip = self.structured and rng.random() < 0.5 * (1.0 - quality) ** 2
        self.length = max(2, round(BASE_LENGTH[domain] * verbosity * (0.4 + 0.8 * quality)))

    def term(self) -> str:
        """The query's terms in turn, so a skilled answer ends up using every one it keeps."""
        t = self.terms[self._next % len(self.terms)]
        self._next += 1
        return t

    def sentence(self, domain: str | None = None) -> str:
        template = _pick(self.rng, SENTENCES[domain or self.domain])
        a = self.term()
        others = [t for t in self.terms if t != a]
        b = _pick(self.rng, others) if others else a
        return template.format(a=a, b=b, adj=_pick(self.rng, ADJ), verb=_pick(self.rng, VERB))

    def weak(self) -> list[str]:
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
        lowered = self.query.lower()
        name = _ident(self.terms, "solve")
        arg = "items" if "list" in lowered or "array" in lowered else "data"
        topic = " ".join(self.terms[:4])
        if self.structured:
            steps = [
                f"{i + 1}. Handle the {self.term()} part, then the {self.term()}."
                for i in range(max(2, self.length // 2))
            ]
            code = (
                f"```python\ndef {name}({arg}{'' if self.slip else ')'}:\n"
                f'    """{_cap(topic)}."""\n'
                f"    if not {arg}:\n        return []\n"
                f"    result = []\n    for item in {arg}:\n        result.append(item)\n"
                f"    return sorted(result)\n```"
            )
            tail = f"This runs in O(n log n) time and also covers an empty {self.term()}."
            return "\n".join([f"Approach for the {topic}:", "", *steps, "", code, "", tail])
        text = " ".join(
            [f"You could probably write a loop for the {self.term()} part.", *self.weak()]
        )
        if self.rng.random() < 0.6:
            text += f"\n\n```\ndef {name}({arg}:\n    # TODO: handle {self.term()}\n    pass\n```"
        return text

    def mathematics(self) -> str:
        nums = [float(n) for n in numbers(self.query)][:3]
        while len(nums) < 3:
            nums.append(float(self.rng.randint(2, 20)))
        a, b, c = (int(x) if x.is_integer() else x for x in nums)
        s1 = a + b
        s2 = s1 * c
        if self.structured:
            lines = [
                f"We work through the {', '.join(self.terms[:3])} step by step.",
                "",
                f"Step 1: Combine the first two quantities: {a} + {b} = {s1}.",
                f"Step 2: Apply the third: {s1} × {c} = {s2 + 10 if self.slip else s2}.",
                f"Step 3: Check: {s2} ÷ {c} = {s1}, which matches Step 1.",
            ]
            lines += [
                f"Note that the {self.term()} enters only once."
                for _ in range(min(2, max(0, self.length - 5)))
            ]
            lines += ["", f"**Answer:** {s2 + 10 if self.slip else s2}"]
            return "\n".join(lines)
        wrong = s1 + self.rng.randint(1, 9)
        parts = [f"We just add things up: {a} + {b} = {wrong}.", *self.weak()]
        if self.rng.random() < 0.5:
            parts.append(f"So the answer is probably around {wrong * c + self.rng.randint(1, 20)}.")
        return " ".join(parts)

    def reasoning(self) -> str:
        if self.structured:
            premises = [f"{i + 1}. {self.sentence()}" for i in range(max(2, self.length - 2))]
            return "\n".join(
                [
                    f"Let's reason step by step about the {' and '.join(self.terms[:2])}.",
                    "",
                    *premises,
                    "",
                    f"Therefore, given the {self.term()} and the {self.term()}, the conclusion follows from the premises above.",
                ]
            )
        return " ".join([f"The answer is obviously about the {self.term()}.", *self.weak()])

    def writing(self) -> str:
        if self.structured:
            title = f"# {_cap(' '.join(self.terms[:3]))}"
            sentences = [self.sentence() for _ in range(self.length)]
            paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
            return "\n\n".join([title, *paragraphs])
        return " ".join([f"Here is some text about {self.term()}.", *self.weak(), "It was nice."])

    def roleplay(self) -> str:
        if self.structured:
            lines = [
                f"*steps forward, fully in character* You ask about the {self.term()}? Then listen well."
            ]
            lines += [self.sentence() for _ in range(max(2, self.length - 2))]
            lines.append(f"*smiles* Now, tell me more of the {self.term()} you seek.")
            return "\n\n".join(lines)
        return " ".join(
            [
                "As an AI, I can't really play a character, but I can try.",
                f"The {self.term()} is a thing.",
                *self.weak(),
            ]
        )

    def knowledge(self) -> str:
        if self.structured:
            bullets = [
                f"- **{_cap(self.term())}**: {self.sentence()}"
                for _ in range(max(2, self.length - 2))
            ]
            return "\n".join(
                [
                    f"Key points about the {', '.join(self.terms[:3])}:",
                    "",
                    *bullets,
                    "",
                    f"In short, the {self.term()} and the {self.term()} are closely linked.",
                ]
            )
        return " ".join(
            [f"The {self.term()} is related to the {self.term()} in some way.", *self.weak()]
        )

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
