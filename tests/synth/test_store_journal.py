"""Synthesis journalled in the store: kept queries land in ``queries``; a rerun calls nothing."""

from __future__ import annotations

import pytest

from judgebench.db import Store
from judgebench.db.synth import StoreJournal
from judgebench.llm import set_gateway
from judgebench.synth import SynthConfig, synthesize
from tests.synth.conftest import LEAVES, make_seeds, responder


async def test_store_journal_resume_and_queries(scripted, lexical, tmp_path):
    url = f"sqlite:///{tmp_path / 'jb.db'}"
    cfg = SynthConfig(
        generators=["scripted/gen"], judge="scripted/judge", per_node=2, reassign="none"
    )
    first_backend = scripted(responder())
    first = await synthesize(
        LEAVES, make_seeds(), cfg, encoder=lexical, journal=StoreJournal(Store(url))
    )
    assert first.kept == 4 and len(first_backend.prompts) == 8

    store = Store(url)
    stored = store.get_queries(source="synth")
    assert {q.id for q in stored} == {q.id for q in first.kept_queries}
    assert all(
        q.provenance["run_key"] == first.run_key and q.provenance["checklist"] for q in stored
    )
    assert StoreJournal(store).status_counts(first.run_key) == {"kept": 4}

    set_gateway(None)
    again = scripted(responder())
    rerun = await synthesize(
        LEAVES, make_seeds(), cfg, encoder=lexical, journal=StoreJournal(Store(url))
    )
    assert again.prompts == [] and rerun.kept == 4 and rerun.calls == 0


async def test_seed_assignments_are_journalled(scripted, lexical, tmp_path):
    """Unlabelled seeds are assigned once; the rerun reads the assignment back."""
    calls: list[list[str]] = []

    class CountingAssigner:
        async def assign(self, texts):
            calls.append(list(texts))
            return [["coding/languages/python"] for _ in texts]

    seeds = [q.model_copy(update={"node_ids": []}) for q in make_seeds()]
    journal = StoreJournal(Store(f"sqlite:///{tmp_path / 'jb.db'}"))
    cfg = SynthConfig(
        generators=["scripted/gen"], judge="scripted/judge", per_node=1, reassign="none"
    )
    scripted(responder())
    report = await synthesize(
        LEAVES[:1], seeds, cfg, encoder=lexical, journal=journal, assigner=CountingAssigner()
    )
    assert report.kept == 1 and report.kept_queries[0].provenance["seed_scope"] == "leaf"
    await synthesize(
        LEAVES[:1], seeds, cfg, encoder=lexical, journal=journal, assigner=CountingAssigner()
    )
    assert len(calls) == 1 and len(calls[0]) == len(seeds)


async def test_transport_errors_become_error_rows(scripted, lexical, tmp_path):
    from judgebench.llm import BadRequestError

    store = Store(f"sqlite:///{tmp_path / 'jb.db'}")
    scripted(
        lambda p, m: (
            BadRequestError("quota exhausted") if "check the quality" in p else responder()(p, m)
        )
    )
    cfg = SynthConfig(
        generators=["scripted/gen"],
        judge="scripted/judge",
        per_node=1,
        max_attempts_per_node=1,
        reassign="none",
    )
    report = await synthesize(
        LEAVES[:1], make_seeds(), cfg, encoder=lexical, journal=StoreJournal(store)
    )
    assert report.statuses == {"error": 1}
    [error] = store.get_errors(stage="synth")
    assert "quota exhausted" in error.message and error.subject.startswith(
        "coding/languages/python#0"
    )


def test_jsonl_journal_survives_a_torn_last_line_and_refuses_a_foreign_file(tmp_path):
    from judgebench.errors import DataError
    from judgebench.records import Query
    from judgebench.synth import JsonlJournal

    path = tmp_path / "progress.jsonl"
    journal = JsonlJournal(path)
    journal.save([], [Query(text="first")])
    with path.open("ab") as handle:  # a write cut short mid-character by a killed process
        handle.write('{"type": "query", "data": {"text": "caf\u00e9'.encode()[:-1])
    assert [q.text for q in journal.load_queries()] == ["first"]
    journal.save([], [Query(text="after the crash")])
    assert [q.text for q in journal.load_queries()] == ["first", "after the crash"]

    foreign = tmp_path / "notes.jsonl"
    foreign.write_text("shopping list\n{}\n")
    with pytest.raises(DataError, match="notes.jsonl: line 1 is not JSON"):
        JsonlJournal(foreign).load_queries()
