"""The LLM builder on scripted replies: insertion, refinement, pruning, candidates, resume."""

from __future__ import annotations

import json

import pytest

from judgebench.llm import BadRequestError
from judgebench.prompts import unfence
from judgebench.taxonomy import Taxonomy, validate
from judgebench.taxonomy.builder import Candidate, TaxonomyBuilder
from judgebench.taxonomy.decisions import DecisionLog
from judgebench.taxonomy.prune import prune

MODEL = "scripted/builder"


def by_candidate(table):
    """A responder answering insertion prompts from ``{(candidate, first sibling): reply}``."""

    def respond(prompt, model):
        blocks = unfence(prompt)
        candidate = blocks["CANDIDATE"][0].split("\n")[0]
        first = blocks["CATEGORIES"][0].splitlines()[0][2:].split(":")[0]
        return table[(candidate, first)]

    return respond


async def test_insertion_descends_adds_and_drops(tree, scripted):
    backend = scripted(
        responder=by_candidate(
            {
                (
                    "Go",
                    "Programming Languages",
                ): '{"decision": "DESCEND", "into": "Programming Languages"}',
                ("Go", "Python"): '```json\n{"decision": "ADD", "description": "Go services"}\n```',
                ("Accuracy", "Programming Languages"): '{"decision": "EXISTS"}',
                (
                    "python",
                    "Programming Languages",
                ): '{"decision": "DESCEND", "into": "programming-languages"}',
            }
        )
    )
    builder = TaxonomyBuilder(MODEL, tree)
    report = await builder.insert(
        [
            Candidate("Go", domain="coding"),
            Candidate("Accuracy", domain="coding"),
            Candidate("python", domain="coding"),
        ]
    )
    assert "coding/programming-languages/go" in tree
    assert tree.description_of("coding/programming-languages/go") == "Go services"
    assert report.inserted == ["coding/programming-languages/go"]
    assert ("Accuracy", "coding") in report.existing
    # "python" descended by the slug, then matched Python by name there without a call
    assert len(backend.prompts) == 4
    assert ("python", "coding/programming-languages/python") in report.existing
    assert report.calls == 4
    assert all(
        e["template"] == "taxonomy:insert" and e["template_hash"] for e in builder.log.entries
    )


async def test_bad_replies_are_retried_then_skipped_and_recorded(tree, scripted):
    backend = scripted(
        replies=[
            "I would add it.",
            '{"decision": "DESCEND", "into": "Mathematics"}',
            '{"decision": "MAYBE"}',
        ]
    )
    builder = TaxonomyBuilder(MODEL, tree)
    report = await builder.insert([Candidate("Go", domain="coding")])
    assert report.skipped and report.skipped[0][0] == "Go"
    assert "is not one of EXISTS, ADD, DESCEND (after 3 attempts)" in report.skipped[0][1]
    assert "coding/go" not in tree and len(tree.children("coding")) == 2
    assert "Your previous reply could not be used: no JSON object" in backend.prompts[1]
    assert "'into' 'Mathematics' is not one of the listed categories" in backend.prompts[2]
    final = builder.log.finals("insert")
    assert len(final) == 1 and final[0]["status"] == "invalid"
    assert final[0]["replies"] == [
        "I would add it.",
        '{"decision": "DESCEND", "into": "Mathematics"}',
        '{"decision": "MAYBE"}',
    ]


async def test_messy_but_valid_reply_is_accepted(tree, scripted):
    scripted(
        replies=[
            '{"decision": "ADD", "description": "cut',
            "<think>it is new</think>\nSure! {'decision': 'ADD', 'description': 'Go code',}",
        ]
    )
    builder = TaxonomyBuilder(MODEL, tree)
    report = await builder.insert([Candidate("Go", domain="coding")])
    assert report.inserted == ["coding/go"] and tree.description_of("coding/go") == "Go code"
    statuses = [e["status"] for e in builder.log.entries]
    assert statuses == ["invalid", "ok"]
    assert "no complete JSON object" in builder.log.entries[0]["reason"]


async def test_transport_errors_are_not_final(tree, scripted, tmp_path):
    scripted(replies=[BadRequestError("model not found")])
    log = tmp_path / "log.jsonl"
    report = await TaxonomyBuilder(MODEL, tree, log=log).insert([Candidate("Go", domain="coding")])
    assert "LLM error: model not found" in report.skipped[0][1]
    assert DecisionLog(log).finals() == []  # a resume asks again
    backend = scripted(replies=['{"decision": "ADD"}'])
    report = await TaxonomyBuilder(MODEL, tree, log=log).insert([Candidate("Go", domain="coding")])
    assert report.inserted == ["coding/go"] and len(backend.prompts) == 1


def _everything_responder(prompt, model):
    blocks = unfence(prompt)
    if "CANDIDATE" in blocks:
        name = blocks["CANDIDATE"][0].split("\n")[0].lower()
        siblings = [line[2:].split(":")[0] for line in blocks["CATEGORIES"][0].splitlines()]
        for sibling in siblings:
            if sibling.lower().split()[0] in name:
                return json.dumps({"decision": "DESCEND", "into": sibling})
        return json.dumps({"decision": "ADD", "description": f"about {name}"})
    return '{"operations": [{"op": "keep"}]}'


CANDIDATES = [
    Candidate("Programming puzzles", domain="coding"),
    Candidate("Task automation", domain="coding"),
    Candidate("Haiku", domain="writing"),
    Candidate("Programming interviews", domain="coding"),
    Candidate("Limericks", domain="writing"),
]


async def test_resume_makes_no_repeated_calls(tree, scripted, tmp_path):
    log = tmp_path / "build.jsonl"
    first_backend = scripted(responder=_everything_responder)
    first_tree = tree.copy()
    await TaxonomyBuilder(MODEL, first_tree, log=log).build(CANDIDATES)
    assert len(first_backend.prompts) > 0
    # a rerun with the same log: no backend call at all (an empty script would raise)
    silent = scripted(replies=[])
    again_tree = tree.copy()
    report = await TaxonomyBuilder(MODEL, again_tree, log=log).build(CANDIDATES)
    assert silent.prompts == [] and report.calls == 0
    assert again_tree == first_tree


async def test_interrupted_build_resumes_where_it_stopped(tree, scripted, tmp_path):
    full_backend = scripted(responder=_everything_responder)
    await TaxonomyBuilder(MODEL, tree.copy()).insert(CANDIDATES)
    calls_all = len(full_backend.prompts)
    log = tmp_path / "build.jsonl"
    part = scripted(responder=_everything_responder)
    resumed_tree = tree.copy()
    await TaxonomyBuilder(MODEL, resumed_tree, log=log).insert(CANDIDATES[:2])
    calls_first = len(part.prompts)
    rest = scripted(responder=_everything_responder)
    await TaxonomyBuilder(MODEL, tree.copy(), log=log).insert(CANDIDATES)
    assert 0 < len(rest.prompts) == calls_all - calls_first


def refine_tree() -> Taxonomy:
    tax = Taxonomy("r")
    tasks = tax.add("", "Coding")
    for name in [
        "Debugging",
        "Bug Fixing",
        "Tests and Docs",
        "Junk",
        "Code Review",
        "Web",
        "Mobile",
    ]:
        tax.add(tasks, name)
    tax.add("coding/web", "Frontend")
    return tax


async def test_refinement_applies_valid_operations_and_keeps_the_rest(scripted):
    tax = refine_tree()
    reply = {
        "operations": [
            {"op": "merge", "nodes": ["debugging", "Bug Fixing"], "into": "Debugging and Fixing"},
            {"op": "split", "node": "tests-and-docs", "into": ["Testing", "Documentation"]},
            {"op": "delete", "node": "junk"},
            {"op": "reparent", "nodes": ["web", "mobile"], "parent": "Platforms"},
        ]
    }
    scripted(
        responder=lambda p, m: (
            json.dumps(reply)
            if "coding" in p.split("Category:")[1].split("\n")[0].lower() and "Web" in p
            else '{"operations": [{"op": "keep"}]}'
        )
    )
    builder = TaxonomyBuilder(MODEL, tax, refine_dimensions=True)  # coding's children: categories
    report = await builder.refine()
    names = {tax.name_of(k) for k in tax.children("coding")}
    assert names == {"Debugging and Fixing", "Testing", "Documentation", "Code Review", "Platforms"}
    assert tax.children("coding/platforms") == ["coding/platforms/web", "coding/platforms/mobile"]
    assert "coding/platforms/web/frontend" in tax  # the subtree moved with its parent
    assert tax.name_of("coding/debugging") == "Debugging and Fixing"
    assert report.refined[0][0] == "coding"
    validate(tax)


@pytest.mark.parametrize(
    ("ops", "reason"),
    [
        (
            [{"op": "delete", "node": "nope"}],
            "delete node 'nope' is not one of the listed sub-categories",
        ),
        ([{"op": "split", "node": "web", "into": ["A", "B"]}], "split only applies to leaves"),
        ([{"op": "merge", "nodes": ["junk"]}], "merge needs at least two nodes"),
        (
            [{"op": "delete", "node": "junk"}, {"op": "delete", "node": "junk"}],
            "appears in two operations",
        ),
        ([{"op": "rename", "node": "junk"}], "unknown operation 'rename'"),
        ([], "no operations"),
    ],
)
async def test_invalid_refinements_fall_back_to_keep(scripted, ops, reason):
    tax = refine_tree()
    before = tax.ids()
    backend = scripted(responder=lambda p, m: json.dumps({"operations": ops}))
    builder = TaxonomyBuilder(MODEL, tax, attempts=2, refine_dimensions=True)
    report = await builder.refine(under="coding")
    assert tax.ids() == before
    assert report.kept and report.kept[0][0] == "coding" and reason in report.kept[0][1]
    assert len(backend.prompts) == 2


def test_prune_collapses_single_child_chains():
    tax = Taxonomy("p")
    a = tax.add("", "A")
    chain = tax.add(a, "Only Child", "kept as description")
    x = tax.add(chain, "X")
    tax.add(chain, "Y")
    deep = tax.add(x, "Deep")
    tax.add(deep, "Deeper")
    b = tax.add("", "B")
    tax.add(b, "P")
    tax.add(b, "Q")
    report = prune(tax, max_depth=None)
    assert tax.ids() == ["a", "a/x", "a/y", "b", "b/p", "b/q"]
    assert report.collapsed["a/only-child"] == "a"
    assert tax.description_of("a") == "kept as description"
    assert report.mapping["a/only-child/x/deep/deeper"] == "a/x"
    validate(tax)


def test_prune_depth_cap_and_min_children():
    tax = Taxonomy("p")
    c = tax.add("", "C")
    c1, c2, _ = (tax.add(c, n) for n in ("C1", "C2", "C3"))
    for n in ("K1", "K2"):
        tax.add(c1, n)
    k1, _, _ = (tax.add(c2, n) for n in ("K1", "K2", "K3"))
    for n in ("D1", "D2"):
        tax.add(k1, n)
    report = prune(
        tax, max_depth=3, min_children=3, min_children_from_depth=2, collapse_chains=False
    )
    assert tax.is_leaf("c/c1") and report.too_few_children["c/c1/k1"] == "c/c1"
    assert tax.children("c/c2") == ["c/c2/k1", "c/c2/k2", "c/c2/k3"]
    assert report.too_deep["c/c2/k1/d1"] == "c/c2/k1" and tax.depth == 3
    validate(tax)


async def test_candidates_from_queries_and_brainstorm(tree, scripted):
    def respond(prompt, model):
        blocks = unfence(prompt)
        if "QUERY" in blocks:
            if "poem" in blocks["QUERY"][0]:
                return '{"domain": "Writing", "tags": ["Poetry", "Nature"]}'
            return '{"domain": "coding", "tags": ["Debugging"]}'
        return (
            '{"categories": [{"name": "Shaders", "description": "GPU programs"}, "Game Physics"]}'
        )

    scripted(responder=respond)
    builder = TaxonomyBuilder(MODEL, tree)
    found = await builder.candidates_from_queries(
        ["a poem about trees", "why does my code crash", "fix this bug"]
    )
    assert [(c.name, c.domain, c.count) for c in found] == [
        ("Debugging", "coding", 2),
        ("Nature", "writing", 1),
        ("Poetry", "writing", 1),
    ]
    ideas = await builder.brainstorm(
        "Game development: engines, graphics, physics", domain="coding", count=5
    )
    assert [(c.name, c.description, c.domain) for c in ideas] == [
        ("Shaders", "GPU programs", "coding"),
        ("Game Physics", None, "coding"),
    ]


async def test_tag_with_unknown_domain_is_retried(tree, scripted):
    backend = scripted(
        replies=[
            '{"domain": "cooking", "tags": ["Recipes"]}',
            '{"domain": "writing", "tags": ["Recipes"]}',
        ]
    )
    found = await TaxonomyBuilder(MODEL, tree).candidates_from_queries(["write a recipe blog post"])
    assert [(c.name, c.domain) for c in found] == [("Recipes", "writing")]
    assert "domain 'cooking' is not one of coding, writing" in backend.prompts[1]


async def test_a_torn_log_line_is_asked_again(tree, scripted, tmp_path):
    log = tmp_path / "build.jsonl"
    scripted(replies=['{"decision": "ADD"}', '{"decision": "ADD"}'])
    await TaxonomyBuilder(MODEL, tree.copy(), log=log).insert(
        [Candidate("Go", domain="coding"), Candidate("Zig", domain="coding")]
    )
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:25])  # killed mid-write
    backend = scripted(replies=['{"decision": "ADD"}'])
    resumed = DecisionLog(log)
    assert resumed.torn_lines == 1 and len(resumed.finals()) == 1
    fresh = tree.copy()
    report = await TaxonomyBuilder(MODEL, fresh, log=resumed).insert(
        [Candidate("Go", domain="coding"), Candidate("Zig", domain="coding")]
    )
    assert len(backend.prompts) == 1 and report.inserted == ["coding/go", "coding/zig"]
    resumed.close()
    assert len(DecisionLog(log).finals()) == 2  # the new entry starts on its own line


def test_reopening_a_clean_log_leaves_it_untouched(tmp_path):
    log = DecisionLog(tmp_path / "d.jsonl")
    log.append({"key": "k", "step": "insert", "status": "ok", "final": True})
    log.close()
    before = (tmp_path / "d.jsonl").read_bytes()
    assert DecisionLog(tmp_path / "d.jsonl").final("k")["status"] == "ok"
    assert (tmp_path / "d.jsonl").read_bytes() == before


async def test_the_top_level_is_fixed_unless_allowed(tree, scripted):
    backend = scripted(
        replies=[
            '{"decision": "ADD"}',
            '{"decision": "DESCEND", "into": "Writing"}',
            '{"decision": "ADD"}',
        ]
    )
    report = await TaxonomyBuilder(MODEL, tree).insert(["Travel blogs"])
    assert "The top level is fixed" in backend.prompts[0]
    assert "decision 'ADD' is not one of EXISTS, DESCEND" in backend.prompts[1]
    assert report.inserted == ["writing/travel-blogs"] and tree.domains() == ["coding", "writing"]
    scripted(replies=['{"decision": "ADD", "description": "Trips"}'])
    report = await TaxonomyBuilder(MODEL, tree, fixed_domains=False).insert(["Travel"])
    assert report.inserted == ["travel"]


def test_reply_parser_is_the_strict_shared_one():
    """Taxonomy replies go through the judges' strict parser: a cut-off correction after a
    draft, a half-single-quoted object or Python literals are rejected, never guessed."""
    from judgebench.taxonomy.replies import ReplyError, parse_json_object

    draft = '{"decision": "ADD", "description": "Go"}'
    assert parse_json_object(f"```json\n{draft},\n```", ("decision",))["decision"] == "ADD"
    assert parse_json_object(draft + ' Wait: {"decision": "EXISTS"}', ("decision",)) == {
        "decision": "EXISTS"
    }
    for bad, reason in [
        (draft + ' Actually: {"decision": "EXI', "truncated inside a JSON object after"),
        ("{'decision': \"ADD\"}", "no complete JSON object"),
        ('{"decision": "ADD", "final": True}', "no complete JSON object"),
        ("<think>draft " + draft, "inside a <think> block"),
        ('{"into": "coding"}', "lacks 'decision'"),
    ]:
        with pytest.raises(ReplyError, match=reason):
            parse_json_object(bad, ("decision",))


def test_a_file_that_is_not_a_decision_log_is_refused_untouched(tmp_path):
    """Any non-JSON line used to count as a torn entry (and the file got a newline appended)."""
    from judgebench.errors import DataError

    other = tmp_path / "taxonomy.yaml"
    other.write_text("coding:\n  python: {}")
    with pytest.raises(DataError, match="line 1 is not JSON"):
        DecisionLog(other)
    assert other.read_text() == "coding:\n  python: {}"
