"""Simulated answers to the synthesis prompts: writing a new query, and the quality checklist.

The generator reads what a real model would: the target category in the prompt, the fenced
seed queries (the target example and the detail donors), the requested minimum length. Its
skill in the target's domain decides what it writes: a skilled generator restates the target
task with the category's terms, borrows concrete details (names, numbers) from the other seeds,
adds explicit requirements and reaches the requested length; an unskilled one is vague, short,
or lightly rewords the example. Replies go through ``ctx.shape`` ("tag:query"), so refusals,
hedges and cut-off replies come at the profile's rates.

The checklist answerer judges visible properties of the fenced query (length, concrete details,
question or instruction form, explicit requirements, the domain's vocabulary) with noise that
shrinks with the model's judging skill, and replies in JSON through ``ctx.shape``, so malformed
replies (truncated, hedged, single quotes ...) happen at the profile's rates.
"""

from __future__ import annotations

import re

from judgebench.sim.answer import answer_quality
from judgebench.sim.tasks import TaskContext, sim_task
from judgebench.sim.text import content_terms, key_terms, numbers, rng_for

_GEN_MARK = "Reply with the new query between <query> and </query> tags"
_CHECK_MARK = "You check the quality of a user query"

_OPENERS = {
    "coding": (
        "Write a program that",
        "Implement code that",
        "I need a script that",
        "Build a function that",
    ),
    "writing": (
        "Write a piece that",
        "Draft a text that",
        "Compose something that",
        "Please write a text that",
    ),
    "roleplay": (
        "Play a character who",
        "Let's roleplay: you are someone who",
        "Act as a person who",
    ),
    "mathematics": (
        "Solve a problem that",
        "Work out a calculation that",
        "Prove or compute something that",
    ),
    "reasoning": ("Reason step by step about a puzzle that", "Work through a logic problem that"),
    "knowledge": (
        "Explain a topic that",
        "Give an overview that",
        "Help me understand something that",
    ),
}
_REQUIREMENTS = (
    "Explain each step you take.",
    "Keep the answer under 400 words.",
    "Include one worked example.",
    "List any assumptions you make first.",
    "Use a numbered list for the main points.",
    "Mention at least two pitfalls to avoid.",
    "State the final result clearly at the end.",
    "Compare two alternative approaches.",
)
_CONTEXT = (
    "It has to cope with {0}, {1} and {2}.",
    "Assume the data covers {0} and {1}.",
    "Pay attention to {0}; {1} matters as well.",
    "The people involved care about {0}, {1} and {2}.",
    "Take {0} into account when dealing with {1}.",
)
_VAGUE = (
    "Can you help me with some {x} stuff?",
    "I have a question about {x}, any ideas?",
    "Tell me about {x} things.",
)
_CONSTRAINT_WORDS = re.compile(
    r"\b(must|should|at least|at most|under \d+|include|explain|list|using|format|steps?|example|within|exactly)\b",
    re.I,
)
_VAGUE_WORDS = re.compile(r"\b(stuff|things|something|etc|any ideas|whatever)\b", re.I)
_PROPER = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-z]{2,}\b")


def _detail_bits(texts: list[str], ctx: TaskContext) -> list[str]:
    """Concrete details a reader can lift from the donor seeds: numbers, names, topic words."""
    bits: list[str] = []
    for text in texts:
        bits += numbers(text)[:2]
        bits += _PROPER.findall(text)[:2]
        bits += list(key_terms(text, limit=3))
    ctx.rng.shuffle(bits)
    return list(dict.fromkeys(bits))


def _line(prompt: str, label: str) -> str:
    match = re.search(rf"^{label}: (.+)$", prompt, re.M)
    return match.group(1).strip() if match else ""


@sim_task("synth.generate", lambda p: _GEN_MARK in p)
def generate(ctx: TaskContext) -> str:
    target = ctx.block("TARGET_SEED")
    donors = ctx.blocks.get("DETAIL_SEED", [])
    path = _line(ctx.prompt, "Target category")
    name = _line(ctx.prompt, "Category name") or path.rsplit("/", 1)[-1]
    domain = path.split("/", 1)[0] or ctx.domain_of(target)
    min_words_match = re.search(r"at least (\d+) words", ctx.prompt)
    min_words = int(min_words_match.group(1)) if min_words_match else 20
    quality = answer_quality(ctx.skill(domain), ctx.rng, spread=0.15)
    shaping_rng = ctx.rng
    topic = list(key_terms(target, limit=6)) or list(content_terms(name)) or [name]
    if quality < 0.3:  # weak: vague or a light rewording of the example
        if ctx.rng.random() < 0.5:
            return ctx.shape(ctx.rng.choice(_VAGUE).format(x=name.lower()), "tag:query")
        return ctx.shape(f"{target.rstrip('.?!')}, please.", "tag:query")
    if quality < 0.45:
        # middling: formulaic, the same query whenever it sees the same example (mode collapse),
        # which is what semantic dedup is for
        ctx.rng = rng_for("synth-formulaic", ctx.model, target)
    opener = ctx.rng.choice(_OPENERS.get(domain, _OPENERS["knowledge"]))
    ctx.rng.shuffle(topic)
    details = _detail_bits(donors, ctx)[: max(1, round(quality * 6))]
    parts = [f"{opener} deals with {name.lower()}: {' '.join(topic[: 2 + round(quality * 3)])}."]
    if details:
        parts.append(f"The setting involves {', '.join(details)}.")
    n_req = round(quality * 3)
    parts += ctx.rng.sample(_REQUIREMENTS, n_req)
    # skilled generators reach the requested length with more concrete context; weak ones stop short
    goal = min_words * (1.05 + 0.3 * quality) if quality > 0.45 else min_words * 0.6
    pool = list(key_terms(target, limit=30)) + [
        b for b in _detail_bits(donors, ctx) if b not in details
    ]
    while len(" ".join(parts).split()) < goal and pool:
        picked = [pool.pop(ctx.rng.randrange(len(pool))) for _ in range(min(3, len(pool)))]
        parts.append(ctx.rng.choice(_CONTEXT).format(*picked, *picked, *picked))
    query = " ".join(parts)
    if quality > 0.6 and not query.rstrip().endswith("?"):
        query += f" How would you approach the {ctx.rng.choice(topic)} part?"
    ctx.rng = shaping_rng
    return ctx.shape(query, "tag:query")


@sim_task("synth.checklist", lambda p: _CHECK_MARK in p and "whose keys are exactly" in p)
def checklist(ctx: TaskContext) -> str:
    query = ctx.block("QUERY")
    domain = _line(ctx.prompt, "Domain")
    items = re.findall(r"^- ([a-z_]+): ", ctx.prompt, re.M)
    n_words = len(query.split())
    specific = min(1.0, (len(numbers(query)) + len(_PROPER.findall(query))) / 3)
    constraints = min(1.0, len(_CONSTRAINT_WORDS.findall(query)) / 3)
    asks = (
        1.0
        if (
            "?" in query
            or re.match(
                r"\s*(write|implement|build|explain|solve|draft|compose|play|act|give|help|work|reason|prove|i need|please|let's)\b",
                query,
                re.I,
            )
        )
        else 0.3
    )
    vague = 1.0 if _VAGUE_WORDS.search(query) else 0.0
    on_domain = 1.0 if ctx.domain_of(query) == domain else 0.5
    long_enough = min(1.0, n_words / 35)
    features = {
        "clarity": 0.6 * asks + 0.4 * (1 - vague),
        "completeness": 0.5 * specific + 0.5 * long_enough,
        "complexity": 0.5 * long_enough + 0.5 * constraints,
        "real_world": 0.6 * specific + 0.4 * (1 - vague),
    }
    noise = 0.05 + 0.35 * (1.0 - ctx.skill("judging"))
    payload = {}
    for item in items:
        if item in features:
            score = features[item]
        elif "requirement" in item or "constraint" in item or "rules" in item or "premises" in item:
            score = constraints
        elif "expertise" in item or "domain" in item or "verifiable" in item:
            score = 0.5 * on_domain + 0.5 * specific
        else:  # depth-type items: multi-step, beyond lookup, problem solving, interaction ...
            score = 0.4 * long_enough + 0.3 * constraints + 0.3 * on_domain
        payload[item] = "yes" if score + ctx.rng.gauss(0.0, noise) >= 0.5 else "no"
    return ctx.shape(payload, "json")
