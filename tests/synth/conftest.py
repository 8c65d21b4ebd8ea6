"""Shared helpers for synthesis tests: a small taxonomy, seeds, a scripted responder."""

from __future__ import annotations

import random
import re
from collections.abc import Callable

import pytest

from judgebench.llm import ScriptedBackend, get_gateway
from judgebench.records import Query, TaxonomyNode

ALL_YES = '{"clarity": "yes", "completeness": "yes", "complexity": "yes", "real_world": "yes", %s}'
DOMAIN_YES = {
    "coding": '"problem_solving": "yes", "domain_expertise": "yes", "explicit_requirements": "yes"',
    "writing": '"purposeful_writing": "yes", "audience_style": "yes", "explicit_constraints": "yes"',
}


def checklist_reply(domain: str = "coding", no: int = 0) -> str:
    """A well-formed checklist reply with ``no`` items answered "no"."""
    reply = ALL_YES % DOMAIN_YES[domain]
    for _ in range(no):
        reply = reply.replace('"yes"', '"no"', 1)
    return reply


LEAVES = [
    TaxonomyNode(path_id="coding/languages/python", name="Python"),
    TaxonomyNode(path_id="writing/business/email", name="Business email"),
]


def make_seeds() -> list[Query]:
    texts = {
        "coding/languages/python": [
            "Write a Python function that merges two sorted lists without using sort.",
            "How do I read a large CSV file in Python in chunks with pandas?",
            "Explain Python decorators with an example that caches results.",
        ],
        "writing/business/email": [
            "Draft a polite email to a supplier asking to delay the March delivery by two weeks.",
            "Write an email announcing the new remote work policy to 40 staff members.",
            "Compose a follow-up email after a sales meeting with Acme Corp in Berlin.",
        ],
    }
    return [
        Query(text=t, node_ids=[node], source="seed")
        for node, items in texts.items()
        for t in items
    ]


def target_of(prompt: str) -> str:
    match = re.search(r"Target category: (\S+)", prompt)
    return match.group(1) if match else ""


def is_generation(prompt: str) -> bool:
    return "<query> and </query>" in prompt


_VOCAB = [
    a + b
    for a in ("ka", "lo", "mi", "ne", "pu", "ro", "si", "ta", "vu", "ze")
    for b in ("bar", "dex", "fin", "gol", "hum", "jot", "kip", "lum", "mor", "nib")
]


def unique_query(prompt: str, model: str) -> str:
    """A distinct query per prompt: the target seed's nonce (one per attempt) picks its words."""
    nonce = re.search(r"<<<TARGET_SEED-([0-9a-f]{8})>>>", prompt).group(1)
    words = " ".join(random.Random(nonce).sample(_VOCAB, 25))
    return f"<query>Write a {target_of(prompt)} program handling {words} with tests.</query>"


def responder(
    generate: Callable[[str, str], str] = unique_query,
    judge: Callable[[str, str], str] | None = None,
) -> Callable[[str, str], str]:
    def respond(prompt: str, model: str) -> str:
        if is_generation(prompt):
            return generate(prompt, model)
        if judge is not None:
            return judge(prompt, model)
        domain = re.search(r"Domain: (\w+)", prompt).group(1)
        return checklist_reply(domain)

    return respond


@pytest.fixture
def scripted():
    """Register a scripted backend: ``scripted(responder)`` returns it (its ``prompts`` log calls)."""

    def install(respond: Callable[[str, str], str]) -> ScriptedBackend:
        backend = ScriptedBackend(responder=respond)
        get_gateway().register_backend("scripted", backend)
        return backend

    return install


@pytest.fixture
def lexical():
    from judgebench.embed import LexicalEncoder

    return LexicalEncoder()
