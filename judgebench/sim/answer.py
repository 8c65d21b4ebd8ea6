"""Ordinary answers written at a profile's skill for the query's domain.

Skill changes what a reader can see: a skilled answer restates the task, names the query's key
phrases, is structured the way its domain expects (steps, bullets, a code block in the asked
language, worked equations), is complete and of fitting length; an unskilled one is vague,
partial, drifts off-topic, hedges, or is visibly wrong (arithmetic that does not add up, code
that does not parse, a broken character). Nothing in the text names the profile or its numbers.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING

from judgebench.sim.domains import DOMAINS, LEXICON, domain_of
from judgebench.sim.text import key_phrases, numbers

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

# Skilled sentence templates: {a} and {b} are the query's own phrases.
SENTENCES = {
    "writing": (
        "The piece opens on {a}, a {adj} image that sets up {b}.",
        "Every detail of {a} points back to {b}, so the reader never loses the thread.",
        "A {adj} moment with {a} gives {b} its emotional weight.",
        "The rhythm slows around {a}, letting {b} land.",
        "Short sentences about {a} contrast with a longer passage on {b}.",
        "The closing lines return to {a}, now changed by {b}.",
        "Dialogue is kept sparse so that {a} speaks for itself.",
        "The tone stays {adj} throughout, even when {b} takes over.",
        "Seen through {a}, even {b} feels new.",
        "A single {adj} sentence about {a} carries the turn towards {b}.",
        "The middle section lingers on {a} before {b} breaks the calm.",
        "Small, {adj} details of {a} make {b} believable.",
    ),
    "knowledge": (
        "{A} {verb} {b}, which is why the two are usually discussed together.",
        "Historically, {a} developed alongside {b}.",
        "A common misconception is that {a} is independent of {b}; in fact they interact.",
        "The main effect of {a} is on {b}, with secondary effects elsewhere.",
        "Experts distinguish {a} from {b} by their causes and their consequences.",
        "The evidence on {a} is strongest where it concerns {b}.",
        "In practice, {a} matters most when {b} is changing quickly.",
        "Most accounts link {a} to {b} through a handful of well-documented mechanisms.",
        "The debate about {a} is largely settled, while {b} is still studied actively.",
        "Comparing {a} with {b} shows where each explanation holds and where it fails.",
        "A concrete example: changes in {a} were followed by measurable shifts in {b}.",
    ),
    "reasoning": (
        "{A} rules out every case in which {b} comes first.",
        "If the statement about {a} holds, then the one about {b} must hold too.",
        "Combining {a} with {b} leaves only one consistent arrangement.",
        "{A} and {b} cannot both be true, so one premise decides it.",
        "Checking {a} against {b} shows no contradiction.",
        "Assume the opposite about {a}; then {b} leads to a contradiction.",
        "Only one ordering of {a} and {b} satisfies every condition.",
        "The claim about {a} follows directly once {b} is fixed.",
    ),
    "roleplay": (
        '"Ah, {a}! Few dare to ask me about {b}," I say, leaning closer.',
        '*taps the table* "{A} is no small matter, friend, and {b} even less so."',
        '"I have seen {a} with my own eyes, and I will tell you of {b}."',
        '*lowers voice* "Speak of {a} quietly; {b} has ears."',
        '"You want to know about {a}? Then you must first understand {b}."',
        '*laughs and pours another cup* "{A}? That reminds me of {b}."',
        '*glances at the door* "We should not linger on {a}; {b} waits for no one."',
        '"Mark my words: {a} will change everything, and {b} with it."',
        '*nods slowly* "{A}. Yes. I remember {b} as if it were yesterday."',
    ),
}
# What a thorough answer adds beyond the basics (examples, edge cases, caveats, imagery): the
# deeper the skill, the more of these. Readers see them (assess's "depth" feature).
DEPTH = {
    "coding": (
        "Edge case: an empty input returns an empty result instead of raising.",
        "For example, with [3, 1, 2] as input the result is [1, 2, 3].",
        "Why this works: each step keeps {a} consistent, so {b} never sees a partial result.",
        "Caveat: for very large inputs, stream {a} instead of holding it all in memory.",
    ),
    "mathematics": (
        "Alternatively, distribute first: the same total follows for {a}.",
        "Why this works: each step only regroups the quantities, so nothing about {a} is lost.",
        "Caveat: this assumes {a} stays fixed throughout.",
    ),
    "knowledge": (
        "For example, the role of {a} is easiest to see in how {b} changed over time.",
        "Caveat: sources disagree on how much weight {a} deserves.",
        "In summary, {a} and {b} explain most of what is observed.",
        "Edge case: where {a} is absent, {b} behaves quite differently.",
    ),
    "reasoning": (
        "Alternatively, test each arrangement of {a}: only one survives.",
        "Why this works: the premises about {a} leave no other option for {b}.",
        "Edge case: if {a} were reversed, the conclusion would flip too.",
    ),
    "writing": (
        "{A} hangs in the air like a held breath.",
        "It moves as if {b} were listening.",
        "The light on {a} is thin, like a lantern in fog.",
        "Everything about {b} settles like dust after a storm.",
    ),
    "roleplay": (
        "*the fire crackles as the talk turns to {a}*",
        "*rain drums on the roof while I weigh {b}*",
        "*somewhere outside, a bell tolls for {a}*",
    ),
}
_IMPERATIVE = re.compile(
    r"^(please\s+)?(write|explain|describe|compose|draft|implement|create|give|list|compare|"
    r"solve|calculate|compute|find|rewrite|summari[sz]e|refactor|debug|outline|prove|show)\b",
    re.I,
)
_LANGUAGES = (
    ("javascript", re.compile(r"\b(javascript|js|node(\.js)?|typescript)\b", re.I)),
    ("java", re.compile(r"\bjava\b", re.I)),
    ("sql", re.compile(r"\bsql\b|\bquery\b.*\btable\b", re.I)),
    ("bash", re.compile(r"\b(bash|shell|sh script)\b", re.I)),
    ("rust", re.compile(r"\brust\b", re.I)),
    ("python", re.compile(r".")),
)


def _pick(rng: random.Random, seq: tuple[str, ...] | list[str]) -> str:
    return seq[int(rng.random() * len(seq))]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ident_parts(phrases: list[str]) -> list[str]:
    """Identifier words from the query's own phrases (not generic words like "python")."""
    generic = LEXICON["coding"]
    words = [w.lower() for p in phrases for w in p.split() if w.isalpha()]
    return [w for w in words if w not in generic][:2] or ["solve"]


def _code(language: str, parts: list[str], topic: str, slip: bool) -> str:
    """A small, plausible code block in ``language``; ``slip`` leaves a bracket unclosed."""
    close = "" if slip else ")"
    snake = "_".join(parts)
    camel = parts[0] + "".join(p.title() for p in parts[1:])
    if language == "javascript":
        body = (
            f"// {topic}\nfunction {camel}(items) {{\n  if (!items || items.length === 0) return [];\n"
            f"  const result = [...items];\n  result.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0){close};\n"
            "  return result;\n}"
        )
    elif language == "java":
        body = (
            f"// {topic}\npublic static List<Integer> {camel}(List<Integer> items) {{\n"
            "    if (items == null || items.isEmpty()) return new ArrayList<>();\n"
            f"    List<Integer> result = new ArrayList<>(items);\n    Collections.sort(result{close};\n"
            "    return result;\n}"
        )
    elif language == "sql":
        table = parts[0] if parts else "orders"
        body = (
            f"-- {topic}\nSELECT customer_id, SUM(amount) AS total\nFROM {table}\nGROUP BY customer_id\n"
            f"ORDER BY SUM(amount{close} DESC\nLIMIT 5;"
        )
    elif language == "bash":
        body = (
            f'#!/usr/bin/env bash\n# {topic}\nset -euo pipefail\nfor f in "$@"; do\n'
            f'  count=$(wc -l < "$f"{close}\n  echo "$f: $count"\ndone'
        )
    elif language == "rust":
        body = (
            f"// {topic}\nfn {snake}(items: &[i64]) -> Vec<i64> {{\n    let mut result = items.to_vec({close};\n"
            "    result.sort();\n    result\n}"
        )
    else:
        body = (
            f'def {snake}(items):\n    """{_cap(topic)}."""\n    if not items:\n        return []\n'
            f"    result = list(items{close}\n    result.sort()\n    return result"
        )
    return f"```{language}\n{body}\n```"


def _off_topic(domain: str, rng: random.Random) -> str:
    other = _pick(rng, [d for d in DOMAINS if d != domain])
    words = sorted(LEXICON[other])
    return f"On a related note, {_pick(rng, words)} and {_pick(rng, words)} are also worth mentioning here."


def _restate(query: str) -> str:
    """The task in the answer's own words (the first sentence of an imperative query)."""
    first = re.split(r"(?<=[.!?])\s|\n", query.strip(), maxsplit=1)[0].rstrip(".!?:")
    first = re.sub(r"^please\s+", "", first, flags=re.I)
    return first[:1].lower() + first[1:]


class _Writer:
    """Builds one answer; ``quality`` in [0, 1] decides coverage, structure and correctness."""

    def __init__(
        self, query: str, domain: str, quality: float, verbosity: float, rng: random.Random
    ):
        self.query = query
        self.domain = domain
        self.q = quality
        self.rng = rng
        phrases = list(key_phrases(query, 8))
        # How much of the query the answer takes up: the heart of "addresses it".
        keep = max(1, round(len(phrases) * min(1.0, 0.1 + quality))) if phrases else 0
        if quality < 0.5:
            rng.shuffle(phrases)
        self.phrases = phrases[:keep] or ["the question"]
        self._next = 0
        self._templates: list[str] = []
        # Whether it manages the domain's form at all: certain above 0.7, never below 0.3, a
        # coin weighted by quality in between (so expected quality is smooth in skill).
        self.structured = rng.random() < min(1.0, max(0.0, (quality - 0.3) / 0.4))
        # Even a structured answer slips now and then: a wrong step, a bug.
        self.slip = self.structured and rng.random() < 0.5 * (1.0 - quality) ** 2
        # How much it adds beyond the basics (0..3 examples, edge cases, caveats, images).
        depth = round((quality - 0.45) * 7 + rng.gauss(0.0, 0.6)) if self.structured else 0
        self.depth = max(0, min(3, depth))
        self.length = max(2, round(BASE_LENGTH[domain] * verbosity * (0.4 + 0.8 * quality)))

    def term(self) -> str:
        """The query's phrases in turn, so a skilled answer ends up using every one it keeps."""
        t = self.phrases[self._next % len(self.phrases)]
        self._next += 1
        return t

    def sentence(self, a: str | None = None) -> str:
        # templates in a shuffled cycle: no sentence pattern repeats before all were used
        if not self._templates:
            self._templates = list(SENTENCES[self.domain])
            self.rng.shuffle(self._templates)
        template = self._templates.pop()
        a = a or self.term()
        others = [t for t in self.phrases if t != a]
        b = _pick(self.rng, others) if others else a
        return template.format(
            a=a, A=_cap(a), b=b, adj=_pick(self.rng, ADJ), verb=_pick(self.rng, VERB)
        )

    def extras(self) -> list[str]:
        """The depth lines this answer adds (distinct patterns, the query's own phrases)."""
        pool = list(DEPTH[self.domain])
        self.rng.shuffle(pool)
        out = []
        for template in pool[: self.depth]:
            a = self.term()
            others = [t for t in self.phrases if t != a]
            b = _pick(self.rng, others) if others else a
            out.append(template.format(a=a, A=_cap(a), b=b))
        return out

    def opener(self) -> str:
        if _IMPERATIVE.match(self.query.strip()):
            return _pick(
                self.rng, ("Sure. Here is how I would {t}.", "Here is a way to {t}.", "Let's {t}.")
            ).format(t=_restate(self.query))
        return f"In short, it comes down to {' and '.join(self.phrases[:2])}."

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
        language = next(name for name, pattern in _LANGUAGES if pattern.search(self.query))
        parts = _ident_parts(self.phrases)
        topic = ", ".join(self.phrases[:4])
        if self.structured:
            steps = [
                f"{i + 1}. Handle {self.term()} first, then {self.term()}."
                for i in range(max(2, self.length // 2))
            ]
            code = _code(language, parts, topic, self.slip)
            tail = f"This runs in O(n log n) time and also covers the empty case for {self.term()}."
            return "\n".join([self.opener(), "", *steps, "", code, "", tail, *self.extras()])
        text = " ".join([f"You could probably write a loop for {self.term()}.", *self.weak()])
        if self.rng.random() < 0.6:
            text += f"\n\n```\ndef {'_'.join(parts)}(items:\n    # TODO: handle {self.term()}\n    pass\n```"
        return text

    def mathematics(self) -> str:
        nums = [float(n) for n in numbers(self.query)][:3]
        while len(nums) < 3:
            nums.append(float(self.rng.randint(2, 20)))
        a, b, c = (int(x) if x.is_integer() else x for x in nums)
        s1 = a + b
        s2 = s1 * c
        final = s2 + 10 if self.slip else s2
        if self.structured:
            lines = [
                f"We work through {', '.join(self.phrases[:3])} step by step.",
                "",
                f"Step 1: Combine the first two quantities: {a} + {b} = {s1}.",
                f"Step 2: Apply the third: {s1} × {c} = {final}.",
                f"Step 3: Check: {s2} ÷ {c} = {s1}, which matches Step 1.",
            ]
            extra = [f"Note that {p} enters the calculation only once." for p in self.phrases[3:]]
            lines += extra[: max(0, self.length - 5)]
            lines += self.extras()
            lines += ["", f"**Answer:** {final}"]
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
                    f"Let's reason step by step about {' and '.join(self.phrases[:2])}.",
                    "",
                    *premises,
                    *self.extras(),
                    "",
                    f"Therefore, given {self.term()} and {self.term()}, the conclusion follows from the premises above.",
                ]
            )
        return " ".join([f"The answer is obviously about {self.term()}.", *self.weak()])

    def writing(self) -> str:
        if self.structured:
            title = f"# {_cap(self.phrases[0])}" + (
                f": {self.phrases[1]}" if len(self.phrases) > 1 else ""
            )
            sentences = [self.sentence() for _ in range(self.length)]
            for i, line in enumerate(self.extras()):  # images woven into the text
                sentences.insert(min(len(sentences), 2 + 3 * i), line)
            paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
            return "\n\n".join([title, *paragraphs])
        return " ".join([f"Here is some text about {self.term()}.", *self.weak(), "It was nice."])

    def roleplay(self) -> str:
        if self.structured:
            lines = [
                f"*steps forward, fully in character* You ask about {self.term()}? Then listen well."
            ]
            lines += [self.sentence() for _ in range(max(2, self.length - 2))]
            lines += self.extras()
            lines.append(f"*smiles* Now, tell me more about {self.term()}.")
            return "\n\n".join(lines)
        return " ".join(
            [
                "As an AI, I can't really play a character, but I can try.",
                f"{_cap(self.term())} is a thing.",
                *self.weak(),
            ]
        )

    def knowledge(self) -> str:
        if self.structured:
            heads = [self.term() for _ in range(max(2, self.length - 2))]
            bullets = [f"- **{_cap(a)}**: {self.sentence(a)}" for a in heads]
            return "\n".join(
                [
                    self.opener(),
                    "",
                    *bullets,
                    "",
                    *self.extras(),
                    f"In short, {self.term()} and {self.term()} are closely linked.",
                ]
            )
        return " ".join(
            [f"{_cap(self.term())} is related to {self.term()} in some way.", *self.weak()]
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
