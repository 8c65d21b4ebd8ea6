"""End-to-end synthesis on scripted replies: refusals, invalid checklists, dedup, coverage,
provenance, reproducibility and resume."""

from __future__ import annotations

import pytest

from judgebench.llm import get_gateway, set_gateway
from judgebench.prompts import load_template
from judgebench.synth import JsonlJournal, MemoryJournal, SynthConfig, synthesize
from judgebench.synth.checklist import checklist_for
from tests.synth.conftest import LEAVES, checklist_reply, make_seeds, responder, target_of

GEN = "scripted/gen"
JUDGE = "scripted/judge"


def config(**kw) -> SynthConfig:
    base = dict(generators=[GEN], judge=JUDGE, per_node=3, seed=7, reassign="none", concurrency=4)
    return SynthConfig(**{**base, **kw})


async def test_kept_queries_carry_full_provenance(scripted, lexical):
    backend = scripted(responder())
    seeds = make_seeds()
    report = await synthesize(
        LEAVES, seeds, config(generators=[GEN, "scripted/gen2"]), encoder=lexical
    )
    assert report.kept == 6 and report.shortfall == {}
    assert (
        len(backend.prompts) == report.calls == 12
    )  # one generation + one checklist per kept query
    seed_ids = {s.id for s in seeds}
    for query in report.kept_queries:
        p = query.provenance
        target = p["target_node"]
        assert query.source == "synth" and query.node_ids[0] == target
        assert len(p["seed_ids"]) == 4 and set(p["seed_ids"]) <= seed_ids
        # seed 1 gives the target: it comes from the target leaf when the leaf has seeds
        assert p["seed_scope"] == "leaf"
        assert next(s for s in seeds if s.id == p["seed_ids"][0]).node_ids == [target]
        assert p["generator"] in (GEN, "scripted/gen2") and p["judge"] == JUDGE
        gen = load_template("synth:generate")
        assert p["templates"]["generate"] == {"name": gen.name, "hash": gen.hash}
        assert p["templates"]["checklist"]["items_hash"] == checklist_for(target.split("/")[0]).hash
        assert set(p["checklist"]) == set(checklist_for(target.split("/")[0]).items)
        assert p["quality"] == 7 and p["dedup"]["status"] == "unique"
        assert p["dedup"]["encoder"] == lexical.name and p["dedup"]["threshold"] == 0.80
        assert query.metadata == {}  # not simulated


async def test_refusals_are_dropped_counted_and_reported(scripted, lexical):
    def gen(prompt, model):
        if target_of(prompt).startswith("writing"):
            return "I'm sorry, but I can't help with writing that."
        return responder()(prompt, model)

    scripted(responder(generate=gen))
    report = await synthesize(
        LEAVES, make_seeds(), config(max_attempts_per_node=5), encoder=lexical
    )
    writing = report.nodes["writing/business/email"]
    assert writing.kept == 0 and writing.statuses["refused"] == 5 == writing.attempts
    assert report.shortfall == {"writing/business/email": 3}
    assert report.nodes["coding/languages/python"].kept == 3
    assert all(q.provenance["target_node"].startswith("coding") for q in report.kept_queries)


async def test_malformed_checklist_is_retried_then_invalid_never_a_pass(scripted, lexical):
    journal = MemoryJournal()
    scripted(
        responder(
            judge=lambda p, m: 'Overall this looks fine. {"clarity": "yes", "complexity": "yes"'
        )
    )
    report = await synthesize(
        LEAVES[:1], make_seeds(), config(max_attempts_per_node=2), encoder=lexical, journal=journal
    )
    assert report.kept == 0
    node = report.nodes["coding/languages/python"]
    assert node.statuses == {"invalid_checklist": 2}
    invalid = list(journal.attempts.values())
    assert all(
        a.status == "invalid_checklist" and a.checklist is None and a.quality is None
        for a in invalid
    )
    # one generation reply + 1 + 2 retries of the checklist, all recorded raw
    assert all(len(a.raw_replies) == 4 and a.reason for a in invalid)
    assert all(a.calls == 4 for a in invalid)


async def test_a_retry_that_parses_counts(scripted, lexical):
    replies = iter(["It depends on the audience.", checklist_reply()] * 10)
    backend = scripted(responder(judge=lambda p, m: next(replies)))
    report = await synthesize(LEAVES[:1], make_seeds(), config(per_node=2), encoder=lexical)
    assert report.kept == 2
    retry_prompts = [p for p in backend.prompts if "could not be read" in p]
    assert len(retry_prompts) == 2 and "no JSON object" in retry_prompts[0]


async def test_low_quality_is_dropped_with_its_answers(scripted, lexical):
    journal = MemoryJournal()
    scripted(responder(judge=lambda p, m: checklist_reply(no=3)))  # 4 of 7 < 5
    report = await synthesize(
        LEAVES[:1],
        make_seeds(),
        config(per_node=1, max_attempts_per_node=3),
        encoder=lexical,
        journal=journal,
    )
    assert report.kept == 0 and report.nodes["coding/languages/python"].statuses == {
        "low_quality": 3
    }
    assert all(a.quality == 4 and len(a.checklist) == 7 for a in journal.attempts.values())
    scripted(responder(judge=lambda p, m: checklist_reply(no=3)))
    lenient = await synthesize(
        LEAVES[:1], make_seeds(), config(per_node=1, min_quality=4), encoder=lexical
    )
    assert lenient.kept == 1


async def test_duplicates_record_the_kept_query(scripted, lexical):
    journal = MemoryJournal()
    texts = iter(
        [
            "Write a Python class for an LRU cache with get and put in O(1), with tests and docs, please now.",
            "write a python class for an LRU cache with get and put in O(1) with tests and docs please now",
            "Write a Python class for an LRU cache with get and put in O(1), with tests and docs, please!!",
            "Implement Dijkstra's shortest path in Python for a graph given as an adjacency dict of weights.",
        ]
        * 3
    )
    scripted(responder(generate=lambda p, m: f"<query>{next(texts)}</query>"))
    report = await synthesize(
        LEAVES[:1], make_seeds(), config(per_node=2), encoder=lexical, journal=journal
    )
    assert report.kept == 2
    attempts = sorted(journal.attempts.values(), key=lambda a: a.index)
    assert [a.status for a in attempts[:4]] == ["kept", "duplicate", "duplicate", "kept"]
    first_id = attempts[0].query_id
    assert attempts[1].dedup["status"] == "exact" and attempts[1].dedup["duplicate_of"] == first_id
    assert (
        attempts[2].dedup["status"] in ("exact", "semantic")
        and attempts[2].dedup["duplicate_of"] == first_id
    )
    assert report.dedup_rate == pytest.approx(2 / 4)


async def test_too_short_and_seed_copies_are_rejected_before_the_checklist(scripted, lexical):
    seeds = make_seeds()
    outputs = iter(["Sort a list.", f"{seeds[0].text}", f"  {seeds[0].text.upper()}  "] * 4)
    backend = scripted(responder(generate=lambda p, m: f"<query>{next(outputs)}</query>"))
    journal = MemoryJournal()
    report = await synthesize(
        LEAVES[:1],
        seeds[:1],
        config(per_node=1, max_attempts_per_node=3),
        encoder=lexical,
        journal=journal,
    )
    statuses = [a.status for a in sorted(journal.attempts.values(), key=lambda a: a.index)]
    assert statuses == ["too_short", "copies_seed", "copies_seed"]
    assert report.shortfall == {"coding/languages/python": 1}
    assert not any("check the quality" in p for p in backend.prompts)


async def test_coverage_keeps_going_until_met_within_budget(scripted, lexical):
    verdicts = iter([checklist_reply(no=4), checklist_reply(no=4), checklist_reply()] * 20)
    scripted(responder(judge=lambda p, m: next(verdicts)))
    report = await synthesize(
        LEAVES[:1], make_seeds(), config(per_node=4, max_attempts_per_node=30), encoder=lexical
    )
    node = report.nodes["coding/languages/python"]
    assert node.kept >= 4 and node.shortfall == 0
    assert node.attempts <= 30 and node.statuses["low_quality"] > 0


async def test_same_seed_same_queries_whatever_the_concurrency(scripted, lexical):
    scripted(responder())
    one = await synthesize(LEAVES, make_seeds(), config(concurrency=1), encoder=lexical)
    set_gateway(None)
    scripted(responder())
    many = await synthesize(LEAVES, make_seeds(), config(concurrency=16), encoder=lexical)
    assert sorted(q.id for q in one.kept_queries) == sorted(q.id for q in many.kept_queries)
    set_gateway(None)
    scripted(responder())
    other = await synthesize(LEAVES, make_seeds(), config(seed=8), encoder=lexical)
    assert {q.id for q in other.kept_queries}.isdisjoint({q.id for q in one.kept_queries})


async def test_resume_after_interruption_repeats_no_finished_work(scripted, lexical, tmp_path):
    cfg = config(per_node=4, concurrency=1)
    fresh = scripted(responder())
    reference = await synthesize(LEAVES, make_seeds(), cfg, encoder=lexical)
    total = len(fresh.prompts)

    class CrashingJournal(JsonlJournal):
        """Dies (like a killed process) on the 5th write: 4 attempts are on disk."""

        writes = 0

        def save(self, attempts, kept):
            CrashingJournal.writes += 1
            if CrashingJournal.writes >= 5:
                raise RuntimeError("machine lost")
            super().save(attempts, kept)

    set_gateway(None)
    crashed = scripted(responder())
    with pytest.raises(RuntimeError, match="machine lost"):
        await synthesize(
            LEAVES,
            make_seeds(),
            cfg,
            encoder=lexical,
            journal=CrashingJournal(tmp_path / "progress.jsonl"),
        )
    assert len(crashed.prompts) >= 8
    assert len(JsonlJournal(tmp_path / "progress.jsonl").load_attempts(reference.run_key)) == 4

    set_gateway(None)
    resumed_backend = scripted(responder())
    resumed = await synthesize(
        LEAVES,
        make_seeds(),
        cfg,
        encoder=lexical,
        journal=JsonlJournal(tmp_path / "progress.jsonl"),
    )
    # the 4 journalled attempts (2 calls each) are not redone; the rest are, once
    persisted = JsonlJournal(tmp_path / "progress.jsonl").load_attempts(reference.run_key)
    assert len(resumed_backend.prompts) == total - 8, (
        [(a.node_id, a.index, a.status, a.calls) for a in persisted],
        [p[:60] for p in resumed_backend.prompts],
    )
    everything = {q.id for q in JsonlJournal(tmp_path / "progress.jsonl").load_queries()}
    assert everything == {q.id for q in reference.kept_queries}
    assert resumed.kept == reference.kept == 8

    set_gateway(None)
    again = scripted(responder())
    rerun = await synthesize(
        LEAVES,
        make_seeds(),
        cfg,
        encoder=lexical,
        journal=JsonlJournal(tmp_path / "progress.jsonl"),
    )
    assert again.prompts == [] and rerun.calls == 0 and rerun.kept == 8 and rerun.kept_queries == []


async def test_raising_per_node_extends_a_finished_run(scripted, lexical):
    journal = MemoryJournal()
    scripted(responder())
    first = await synthesize(
        LEAVES[:1], make_seeds(), config(per_node=2), encoder=lexical, journal=journal
    )
    more = await synthesize(
        LEAVES[:1], make_seeds(), config(per_node=3), encoder=lexical, journal=journal
    )
    assert first.kept == 2 and more.kept == 3 and len(more.kept_queries) == 1
    assert more.run_key == first.run_key


async def test_transport_errors_are_recorded_and_retried_on_resume(scripted, lexical):
    from judgebench.llm import BadRequestError

    journal = MemoryJournal()
    scripted(
        lambda p, m: (
            BadRequestError("model not found") if "check the quality" in p else responder()(p, m)
        )
    )
    get_gateway()  # the default gateway holds the scripted backend
    report = await synthesize(
        LEAVES[:1],
        make_seeds(),
        config(per_node=1, max_attempts_per_node=2),
        encoder=lexical,
        journal=journal,
    )
    assert report.nodes["coding/languages/python"].statuses == {"error": 2}
    assert all("model not found" in a.reason for a in journal.attempts.values())
    set_gateway(None)
    scripted(responder())
    healed = await synthesize(
        LEAVES[:1],
        make_seeds(),
        config(per_node=1, max_attempts_per_node=2),
        encoder=lexical,
        journal=journal,
    )
    assert healed.nodes["coding/languages/python"].statuses == {
        "kept": 2
    }  # both planned attempts redone


async def test_concurrent_encodes_are_batched(scripted, lexical):
    class Counting:
        name, dim, default_dedup_threshold = lexical.name, lexical.dim, 0.8

        def __init__(self):
            self.batches = []

        def encode(self, texts):
            self.batches.append(len(texts))
            return lexical.encode(texts)

    scripted(responder())
    encoder = Counting()
    report = await synthesize(LEAVES, make_seeds(), config(per_node=6), encoder=encoder)
    assert report.kept == 12
    # one seed batch, then the per-candidate seed-copy checks and per-wave dedup of 12 attempts
    # across 2 leaves arrive together and share batches
    assert sum(encoder.batches) >= 1 + 12 + 12 and len(encoder.batches) < 1 + 12 + 2
