"""Simulated answers to the taxonomy prompts (taxonomy/templates/*.j2).

Each handler recognises its prompt by the JSON format the template asks for and reads only the
fenced texts: the candidate and the listed categories (insertion), the sub-categories
(refinement), the query (tagging, assignment; each numbered query of a batched assignment), the domain description (brainstorm) and the
rendered tree (assignment). Decisions come from visible word overlap (names and descriptions),
read with the model's noise: a weak model descends into the wrong sibling, misses synonyms or
answers a node id that is not in the tree — the mistakes the builder and assigner must survive.
Replies go through ``ctx.shape("json")`` so fences, preambles, think blocks, trailing commas,
refusals and truncation come at the profile's rates.
"""

from __future__ import annotations

import random
import re

from judgebench.sim.domains import LEXICON
from judgebench.sim.options import rank_options
from judgebench.sim.tasks import SimReply, TaskContext, sim_task
from judgebench.sim.text import content_terms, key_phrases, stable_seed, stems

INSERT_MARK = '{"decision": "EXISTS" | "ADD"'
REFINE_MARK = '{"operations": [<operations>]}'
TAG_MARK = '{"domain": "<one of the domains>", "tags":'
BRAINSTORM_MARK = '{"categories": [{"name": "<category>"'
ASSIGN_MARK = '{"node_ids": ["<node id>"'
ASSIGN_BATCH_MARK = '{"assignments": [{"query": <number>'

# words that name a quality of an answer rather than a kind of request
_CRITERIA = frozenset(
    [
        "accuracy",
        "accurate",
        "clarity",
        "clear",
        "coherence",
        "concise",
        "conciseness",
        "correctness",
        "creativity",
        "fluency",
        "helpfulness",
        "harmlessness",
        "honesty",
        "relevance",
        "readability",
        "safety",
    ]
)
# what any reader knows about kinds of things: a category named for the kind (its name or
# description contains the key) is where members of the kind belong
_KINDS: dict[str, frozenset[str]] = {
    "language": frozenset(
        [
            "python",
            "java",
            "javascript",
            "typescript",
            "rust",
            "golang",
            "go",
            "sql",
            "bash",
            "shell",
            "ruby",
            "php",
            "kotlin",
            "swift",
            "html",
            "css",
            "c++",
            "c#",
            "scala",
            "haskell",
            "perl",
            "lua",
            "matlab",
            "julia",
            "zig",
            "r",
        ]
    ),
    "genre": frozenset(
        [
            "poem",
            "poetry",
            "poems",
            "story",
            "stories",
            "essay",
            "haiku",
            "sonnet",
            "limerick",
            "novel",
            "lyrics",
            "song",
            "script",
            "screenplay",
            "letter",
            "email",
            "blog",
            "speech",
            "fable",
        ]
    ),
    "field": frozenset(
        [
            "algebra",
            "geometry",
            "calculus",
            "probability",
            "statistics",
            "trigonometry",
            "combinatorics",
            "physics",
            "chemistry",
            "biology",
            "history",
            "philosophy",
            "economics",
            "law",
            "astronomy",
            "medicine",
        ]
    ),
    "task": frozenset(
        [
            "debug",
            "debugging",
            "explain",
            "explanation",
            "refactor",
            "refactoring",
            "review",
            "translate",
            "translation",
            "summarize",
            "summarization",
            "rewrite",
            "rewriting",
            "test",
            "testing",
            "optimize",
            "optimization",
        ]
    ),
    "setting": frozenset(
        ["fantasy", "sci-fi", "horror", "medieval", "space", "cyberpunk", "western", "noir"]
    ),
}
_KIND_KEYS = {
    "language": "language",
    "genre": "genre",
    "field": "field",
    "task": "task",
    "setting": "setting",
}


def _kind_fit(candidate: str, category: str) -> float:
    """1 when the candidate is a known member of the kind the category is named for."""
    words = set(re.findall(r"[a-z+#-]+", candidate.lower()))
    text = category.lower()
    return float(any(key in text and words & _KINDS[kind] for kind, key in _KIND_KEYS.items()))


_LISTED = re.compile(r"^- (?P<name>[^:\n]+?)(?:: (?P<desc>.*))?$", re.M)
_SUBCATEGORY = re.compile(
    r"^- (?P<id>[a-z0-9-]+): (?P<name>.+?)(?: — (?P<desc>.*?))?(?P<inner> \(has children\))?$", re.M
)
_NODE_LINE = re.compile(r"^[ \t]*- (?P<id>\S+) \((?P<name>[^)]*)\)(?:: (?P<desc>.*))?$", re.M)
_DOMAINS = re.compile(r"one of: ([^\n]+?)\.\s*$", re.M)


def _reply(ctx: TaskContext, payload: dict) -> SimReply:
    return SimReply(ctx.shape(payload, "json"), finish_reason=ctx.finish_reason)


def _overlap(a: str, b: str) -> float:
    sa, sb = stems(a), stems(b)
    if not sa or not sb:
        return 0.0
    return len(sa & sb) / len(sa)


def _jaccard(a: str, b: str) -> float:
    sa, sb = stems(a), stems(b)
    return len(sa & sb) / len(sa | sb) if sa and sb else 0.0


def _noise(ctx: TaskContext, domain_text: str) -> float:
    """How often this model slips on a decision in this domain."""
    return 0.25 * (1.0 - ctx.skill(ctx.domain_of(domain_text) if domain_text else "knowledge"))


@sim_task("taxonomy.insert", lambda p: INSERT_MARK in p)
def insert(ctx: TaskContext) -> SimReply:
    candidate = ctx.block("CANDIDATE")
    name = candidate.split("\n", 1)[0].strip()
    listed = [
        (m.group("name").strip(), (m.group("desc") or "").strip())
        for m in _LISTED.finditer(ctx.block("CATEGORIES"))
    ]
    can_descend = '| "DESCEND"' in ctx.prompt
    if set(content_terms(name)) & _CRITERIA and len(content_terms(name)) <= 2:
        return _reply(ctx, {"decision": "EXISTS"})
    if not listed:
        return _reply(ctx, {"decision": "ADD", "description": f"Requests about {name.lower()}"})
    same = max(listed, key=lambda item: _jaccard(name, item[0]))
    if _jaccard(name, same[0]) >= 0.75 and not ctx.rng.random() < _noise(ctx, candidate):
        return _reply(ctx, {"decision": "EXISTS", "into": same[0]})
    fits = sorted(
        (
            (
                _overlap(candidate, f"{n} {d}")
                + 0.5 * _overlap(candidate, n)
                + 0.6 * _kind_fit(candidate, f"{n} {d}")
                + ctx.rng.gauss(0, _noise(ctx, candidate)),
                n,
            )
            for n, d in listed
        ),
        reverse=True,
    )
    best_fit, best = fits[0]
    fixed_top = "The top level is fixed" in ctx.prompt
    if can_descend and (best_fit >= 0.3 or fixed_top):
        if ctx.rng.random() < _noise(ctx, candidate) and len(fits) > 1:
            best = fits[1][1]  # a slip: the runner-up sibling
        return _reply(ctx, {"decision": "DESCEND", "into": best})
    return _reply(ctx, {"decision": "ADD", "description": f"Requests about {name.lower()}"})


@sim_task("taxonomy.refine", lambda p: REFINE_MARK in p)
def refine(ctx: TaskContext) -> SimReply:
    rows = [m.groupdict() for m in _SUBCATEGORY.finditer(ctx.block("SUBCATEGORIES"))]
    ops: list[dict] = []
    used: set[str] = set()
    for i, a in enumerate(rows):  # synonyms: names sharing most of their words
        for b in rows[i + 1 :]:
            if a["id"] in used or b["id"] in used:
                continue
            if _jaccard(a["name"], b["name"]) >= 0.6:
                ops.append({"op": "merge", "nodes": [a["id"], b["id"]], "into": a["name"]})
                used |= {a["id"], b["id"]}
    for row in rows:
        if row["id"] in used:
            continue
        words = content_terms(row["name"])
        if words and set(words) <= _CRITERIA:
            ops.append({"op": "delete", "node": row["id"]})
            used.add(row["id"])
        elif (
            not row["inner"]
            and re.search(r"\s(?:and|&|/)\s", row["name"])
            and ctx.rng.random() < 0.5
        ):
            parts = [p.strip() for p in re.split(r"\s(?:and|&|/)\s", row["name"]) if p.strip()]
            if len(parts) >= 2:
                ops.append({"op": "split", "node": row["id"], "into": parts})
                used.add(row["id"])
    if ops and ctx.rng.random() < _noise(ctx, ""):
        ops[0] = {**ops[0], "node": ops[0].get("node", "") + "-x"} if "node" in ops[0] else ops[0]
    return _reply(ctx, {"operations": ops or [{"op": "keep"}]})


@sim_task("taxonomy.tag", lambda p: TAG_MARK in p)
def tag(ctx: TaskContext) -> SimReply:
    query = ctx.block("QUERY")
    listed = _DOMAINS.search(ctx.prompt)
    domains = [d.strip() for d in listed.group(1).split(",")] if listed else []
    domain = ctx.domain_of(query)
    if domains and domain not in domains:
        domain = domains[0]
    # what a reader names a query by: its topic phrases and the domain words it uses
    phrases = [p for p in key_phrases(query, limit=8) if len(p) <= 40 and " " in p]
    vocabulary = [w for w in content_terms(query) if w in LEXICON.get(domain, ())]
    picked = list(dict.fromkeys([*vocabulary[:2], *phrases[:2]]))[:3]
    tags = [p[:1].upper() + p[1:] for p in picked] or [domain.title()]
    return _reply(ctx, {"domain": domain, "tags": tags})


@sim_task("taxonomy.brainstorm", lambda p: BRAINSTORM_MARK in p)
def brainstorm(ctx: TaskContext) -> SimReply:
    description = ctx.block("DOMAIN")
    wanted = re.search(r"up to (\d+) distinct", ctx.prompt)
    count = int(wanted.group(1)) if wanted else 10
    phrases = list(key_phrases(description, limit=count * 2))
    ctx.rng.shuffle(phrases)
    categories = [
        {"name": p[:1].upper() + p[1:], "description": f"Requests involving {p.lower()}"}
        for p in phrases[:count]
    ]
    if not categories:
        categories = [{"name": "General Requests", "description": "Anything in this domain"}]
    return _reply(ctx, {"categories": categories})


def _reader(ctx: TaskContext, query: str, tree: str) -> random.Random:
    """The model's own reading of one query against one tree: the same whether the query is
    asked alone or in a batch (a batch changes the prompt, not the opinion); sampling
    parameters still vary it. Transient slips come from the prompt's ``ctx.rng``."""
    params = ctx.params
    return random.Random(
        stable_seed(
            "taxonomy.assign",
            ctx.model,
            query,
            tree,
            params.get("temperature"),
            params.get("seed"),
            params.get("sample_index"),
        )
    )


def _assign_ids(ctx: TaskContext, query: str, tree: str) -> list[str]:
    """The node ids this model answers for ``query`` given the rendered ``tree``."""
    nodes = [m.groupdict() for m in _NODE_LINE.finditer(tree)]
    if not nodes:
        return []
    ids = [n["id"] for n in nodes]
    leaves = [i for i in ids if not any(o.startswith(i + "/") for o in ids)]
    ranked = rank_options(query, leaves, judge=ctx.profile, rng=_reader(ctx, query, tree))
    best = ranked[0][0]
    picks = [best]
    # a second label from another dimension of the same domain when it also fits well
    for option, score in ranked[1:6]:
        if (
            option.split("/")[:2] != best.split("/")[:2]
            and option.split("/")[0] == best.split("/")[0]
            and score >= ranked[0][1] - 0.05
        ):
            picks.append(option)
            break
    if ctx.rng.random() < _noise(ctx, query):  # a slip: a plausible id that is not in the tree
        picks[0] = (
            best.rsplit("/", 1)[0] + "/" + "-".join(content_terms(query, limit=2) or ("other",))
        )
    return picks


@sim_task("taxonomy.assign", lambda p: ASSIGN_MARK in p)
def assign(ctx: TaskContext) -> SimReply:
    return _reply(ctx, {"node_ids": _assign_ids(ctx, ctx.block("QUERY"), ctx.block("TAXONOMY"))})


@sim_task("taxonomy.assign_batch", lambda p: ASSIGN_BATCH_MARK in p, priority=1)
def assign_batch(ctx: TaskContext) -> SimReply:
    """Every fenced query of a batched prompt, each read on its own, answered by its number."""
    tree = ctx.block("TAXONOMY")
    answers = [
        {"query": number, "node_ids": _assign_ids(ctx, query, tree)}
        for number, query in enumerate(ctx.blocks.get("QUERY", []), 1)
    ]
    return _reply(ctx, {"assignments": answers})
