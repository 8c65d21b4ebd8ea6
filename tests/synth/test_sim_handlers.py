"""The simulated generator and checklist answerer: skill shows, faults happen, nothing hidden."""

from __future__ import annotations

import re

import yaml

from judgebench.llm import complete_sync
from judgebench.prompts import fence, load_template
from judgebench.synth import MemoryJournal, SynthConfig, synthesize
from judgebench.synth.checklist import checklist_for, parse_checklist
from judgebench.taxonomy import DEFAULT_DOMAINS
from tests.synth.conftest import LEAVES, make_seeds

SPECIFIC = (
    "Write a Python function that reads the 2023 sales CSV exported from Shopify (about 40,000 "
    "rows), groups orders by region and month, and returns the top 5 regions by revenue. It must "
    "handle missing values, run in under 2 seconds, and include unit tests with pytest. Explain "
    "each step and list the assumptions you make about the column names."
)
VAGUE = "Can you help me with some python stuff?"


def ask_checklist(model: str, query: str, nonce: str) -> dict[str, bool]:
    items = checklist_for("coding").items
    prompt = load_template("synth:checklist").render(
        domain="coding",
        node_path="coding/languages/python",
        query=fence(query, "QUERY", nonce),
        items=items,
    )
    reply = complete_sync(model, [{"role": "user", "content": prompt}], temperature=0)
    return parse_checklist(reply.text, checklist_for("coding"))


def test_checklist_answerer_reads_visible_properties():
    specific = [sum(ask_checklist("sim/judge", SPECIFIC, f"{i:08x}").values()) for i in range(6)]
    vague = [sum(ask_checklist("sim/judge", VAGUE, f"{i:08x}").values()) for i in range(6)]
    assert min(specific) >= 5 and max(vague) <= 3


def profile_file(tmp_path, name, **shapes):
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "skills": dict.fromkeys(DEFAULT_DOMAINS, 0.85),
                "judging": 0.9,
                "shapes": shapes,
            }
        )
    )
    return f"sim/{path}"


async def test_skilled_generators_keep_more_and_borrow_seed_details():
    seeds = make_seeds()
    journal = MemoryJournal()
    cfg = dict(
        judge="sim/judge",
        per_node=6,
        max_attempts_per_node=6,
        reassign="none",
        encoder="lexical",
        seed=3,
    )
    strong = await synthesize(
        LEAVES, seeds, SynthConfig(generators=["sim/large"], **cfg), journal=journal
    )
    weak = await synthesize(LEAVES, seeds, SynthConfig(generators=["sim/small"], **cfg))
    assert strong.kept > weak.kept
    assert strong.kept_queries and all(
        q.metadata == {"simulated": True} for q in strong.kept_queries
    )
    # details come from the seeds the generator was shown (numbers, names, topic words)
    seed_words = {w.lower() for s in seeds for w in re.findall(r"\w+", s.text)}
    for query in strong.kept_queries:
        assert len(set(re.findall(r"\w+", query.text.lower())) & seed_words) >= 3


async def test_refusals_and_malformed_checklists_come_at_profile_rates(tmp_path):
    refuser = profile_file(tmp_path, "refuser", refusal=0.5)
    sloppy = profile_file(tmp_path, "sloppy", truncation=0.45, hedge=0.45)
    journal = MemoryJournal()
    cfg = SynthConfig(
        generators=[refuser],
        judge=sloppy,
        per_node=8,
        max_attempts_per_node=8,
        reassign="none",
        encoder="lexical",
        checklist_retries=1,
    )
    report = await synthesize(LEAVES, make_seeds(), cfg, journal=journal)
    statuses = report.statuses
    assert 3 <= statuses["refused"] <= 13
    assert statuses["invalid_checklist"] >= 1
    for attempt in journal.attempts.values():
        if attempt.status == "invalid_checklist":
            assert attempt.checklist is None and attempt.reason and len(attempt.raw_replies) == 3
    assert all(q.provenance["quality"] >= 5 for q in report.kept_queries)
