"""Seed files, seed sampling scopes, re-assignment of kept queries, threshold calibration."""

from __future__ import annotations

import random

import pytest

from judgebench.errors import DataError
from judgebench.records import Query
from judgebench.synth import MemoryJournal, SeedPool, SynthConfig, load_seed_file, synthesize
from judgebench.synth.calibrate import calibrate_threshold, perturb
from judgebench.synth.seeds import restrict_to_taxonomy
from tests.synth.conftest import LEAVES, make_seeds, responder


def test_seed_files_jsonl_json_and_csv(tmp_path):
    jsonl = tmp_path / "s.jsonl"
    jsonl.write_text(
        '{"prompt": "a\u2028b", "id": "x1", "node_ids": ["coding/x"]}\n\n{"turns": ["first turn", "second"]}\n'
    )
    first, second = load_seed_file(jsonl)
    assert (
        first.text == "a\u2028b"
        and first.node_ids == ["coding/x"]
        and first.metadata == {"seed_file_id": "x1"}
    )
    assert second.text == "first turn" and second.source == "seed"
    csv = tmp_path / "s.csv"
    csv.write_text('query,node_ids\n"Sort a list, fast",coding/a;coding/b\n')
    [row] = load_seed_file(csv)
    assert row.text == "Sort a list, fast" and row.node_ids == ["coding/a", "coding/b"]
    as_json = tmp_path / "s.json"
    as_json.write_text('[{"instruction": "Name three rivers."}]')
    assert load_seed_file(as_json)[0].text == "Name three rivers."


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('{"text": "ok"}\n{"txt": "no"}\n', ".jsonl", r"s.jsonl:2: row has no query text"),
        ('{"text": "ok"}\n[1, 2]\n', ".jsonl", r"s.jsonl:2: each row must be an object"),
        ("", ".jsonl", "no seed queries"),
        ("a,b\n", ".txt", "unsupported seed file type"),
    ],
)
def test_bad_seed_files_name_the_place(tmp_path, content, suffix, message):
    path = tmp_path / f"s{suffix}"
    path.write_text(content)
    with pytest.raises(DataError, match=message):
        load_seed_file(path)


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_non_utf8_seed_file_is_a_one_line_error(tmp_path, suffix):
    path = tmp_path / f"s{suffix}"
    path.write_bytes("text\nCaf\u00e9\n".encode("latin-1"))
    with pytest.raises(DataError, match=rf"s\{suffix}: cannot read"):
        load_seed_file(path)


def test_seed_one_comes_from_the_narrowest_scope_with_seeds():
    seeds = [
        Query(text="python one", node_ids=["coding/languages/python"]),
        Query(text="rust one", node_ids=["coding/languages/rust"]),
        Query(text="email one", node_ids=["writing/business/email"]),
        Query(text="loose one"),
    ]
    pool = SeedPool(seeds)
    rng = random.Random(0)
    assert pool.pick("coding/languages/python", 4, rng).scope == "leaf"
    go = pool.pick("coding/languages/go", 4, rng)
    assert go.scope == "ancestor:coding/languages" and go.seeds[0].text in (
        "python one",
        "rust one",
    )
    assert pool.pick("coding/tools/git", 4, rng).scope == "domain"
    assert pool.pick("mathematics/algebra", 4, rng).scope == "any"
    pick = pool.pick("writing/business/email", 4, rng)
    assert len(pick.seeds) == 4 and len({s.id for s in pick.seeds}) == 4


class FixedAssigner:
    def __init__(self, nodes):
        self.nodes = nodes

    async def assign(self, texts):
        return [list(self.nodes) for _ in texts]


@pytest.mark.parametrize(
    ("drop", "assigned", "kept", "status"),
    [
        (False, ["coding/languages/python", "coding/tools/git"], 1, "kept"),
        (False, ["writing/business/email"], 1, "kept"),
        (True, ["writing/business/email"], 0, "off_target"),
    ],
)
async def test_reassignment_is_recorded_and_can_drop(
    scripted, lexical, drop, assigned, kept, status
):
    scripted(responder())
    journal = MemoryJournal()
    cfg = SynthConfig(
        generators=["scripted/g"],
        judge="scripted/j",
        per_node=1,
        max_attempts_per_node=1,
        drop_off_target=drop,
    )
    report = await synthesize(
        LEAVES[:1],
        make_seeds(),
        cfg,
        encoder=lexical,
        journal=journal,
        assigner=FixedAssigner(assigned),
    )
    assert report.kept == kept
    [attempt] = journal.attempts.values()
    assert attempt.status == status and attempt.assigned_nodes == assigned
    if kept:
        query = report.kept_queries[0]
        assert query.node_ids[0] == "coding/languages/python"
        assert set(query.node_ids) == {"coding/languages/python", *assigned}
        assert query.provenance["reassign"]["on_target"] == ("coding/languages/python" in assigned)


def test_calibration_recovers_a_known_threshold(lexical):
    """Calibrating an encoder against itself must reproduce the reference's decisions exactly."""
    texts = [q.text for q in make_seeds()] * 1 + [
        f"Plan a {d}-day trip to {c} for a family of {n} on a budget of {b} euros."
        for d, c, n, b in [
            (3, "Rome", 4, 900),
            (5, "Oslo", 2, 2000),
            (7, "Lima", 3, 1500),
            (2, "Kyoto", 1, 600),
        ]
    ]
    result = calibrate_threshold(texts, lexical, lexical, reference_threshold=0.7)
    assert result.f1 == 1.0 and result.agreement == 1.0  # it reproduces every reference decision
    assert result.positives > 0 and result.pairs > len(texts)
    assert (
        perturb("one two three four five six seven eight", random.Random(1))
        != "one two three four five six seven eight"
    )


@pytest.mark.real_data
async def test_real_seeds_assigned_then_synthesized(lexical):
    from judgebench.synth.assign import make_assigner
    from judgebench.taxonomy import load_default_taxonomy
    from tests.conftest import shared_path

    tax = load_default_taxonomy()
    seeds = load_seed_file(shared_path("arena_hard", "v0.1", "question.jsonl"))[:200]
    seeds, unknown = restrict_to_taxonomy(seeds, tax)
    assert unknown == {"arena-hard-v0.1"}  # the file's own category column is not a node id
    assert len(seeds) == 200 and all(not s.node_ids for s in seeds)
    leaves = [tax.node(n) for n in tax.leaves("coding")[:3]]
    assigner = make_assigner(tax, "embedding", encoder=lexical)
    cfg = SynthConfig(judge="sim/judge", per_node=2, encoder="lexical", reassign="embedding")
    journal = MemoryJournal()
    report = await synthesize(
        leaves, seeds, cfg, encoder=lexical, journal=journal, assigner=assigner
    )
    assert report.kept >= 4
    seed_ids = {s.id for s in seeds}
    for query in report.kept_queries:
        assert set(query.provenance["seed_ids"]) <= seed_ids
        assert query.provenance["reassign"]["nodes"]  # re-assigned by embeddings
    assigned = journal.load_seed_nodes(report.run_key)
    assert len(assigned) == 200 and all(all(n in tax for n in nodes) for nodes in assigned.values())
