"""Domain detection from visible text."""

from __future__ import annotations

import json

import pytest

from judgebench.sim.domains import DOMAINS, domain_of
from tests.conftest import shared_path
from tests.sim.conftest import QUERIES


def test_domains_are_the_default_taxonomy_tops():
    assert DOMAINS == ("writing", "roleplay", "knowledge", "coding", "mathematics", "reasoning")


def test_domain_of_built_in_queries():
    total = correct = 0
    for domain, queries in QUERIES.items():
        for query in queries:
            total += 1
            correct += domain_of(query) == domain
    assert correct / total >= 0.9, f"{correct}/{total}"


def test_domain_of_is_deterministic_and_has_a_fallback():
    assert domain_of("") == "knowledge"
    assert domain_of("hmm") == "knowledge"
    text = QUERIES["coding"][0]
    assert {domain_of(text) for _ in range(5)} == {"coding"}


@pytest.mark.real_data
def test_domain_of_mt_bench_questions():
    path = shared_path("mt_bench", "mt_bench", "question.jsonl")
    to_domain = {
        "writing": "writing",
        "roleplay": "roleplay",
        "reasoning": "reasoning",
        "math": "mathematics",
        "coding": "coding",
        "stem": "knowledge",
        "humanities": "knowledge",
    }
    rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    pairs = [(to_domain[r["category"]], r["turns"][0]) for r in rows if r["category"] in to_domain]
    accuracy = sum(domain_of(text) == gold for gold, text in pairs) / len(pairs)
    # a lexicon reader, not a classifier: well above the 1/6 chance level
    assert accuracy >= 0.8, accuracy


@pytest.mark.real_data
def test_domain_of_arena_hard_v2_prompts():
    path = shared_path("arena_hard", "v2.0", "question.jsonl")
    to_domain = {"creative_writing": "writing", "coding": "coding", "math": "mathematics"}
    rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    pairs = [
        (to_domain[r["subcategory"]], r["prompt"]) for r in rows if r["subcategory"] in to_domain
    ]
    accuracy = sum(domain_of(text) == gold for gold, text in pairs) / len(pairs)
    # hard, long, multilingual prompts: a lexicon reader gets about half (chance: 1/6)
    assert accuracy >= 0.45, accuracy
