"""Shared helpers for taxonomy tests: a small tree and a scripted model."""

from __future__ import annotations

import pytest

from judgebench.llm import ScriptedBackend, get_gateway
from judgebench.taxonomy import Taxonomy


def small_tree() -> Taxonomy:
    tax = Taxonomy("small")
    coding = tax.add("", "Coding", "Writing and fixing code")
    langs = tax.add(coding, "Programming Languages", "The language the code is in")
    tax.add(langs, "Python", "Python scripts")
    tax.add(langs, "Rust", "Systems code")
    tasks = tax.add(coding, "Task Types", "What is asked")
    tax.add(tasks, "Debugging", "Fixing errors")
    tax.add(tasks, "Code Review", "Judging code")
    writing = tax.add("", "Writing")
    tax.add(writing, "Poetry", "Verse")
    tax.add(writing, "Essay", "Argumentative texts")
    return tax


@pytest.fixture
def tree() -> Taxonomy:
    return small_tree()


@pytest.fixture
def scripted():
    """``scripted(replies=[...])`` or ``scripted(responder=fn)`` registers ``scripted/*``."""

    def make(replies=None, responder=None) -> ScriptedBackend:
        backend = ScriptedBackend(replies=replies, responder=responder)
        get_gateway().register_backend("scripted", backend)
        return backend

    return make
