"""Taxonomy of query categories: the tree, its files, the LLM builder and query assignment.

Quick start::

    from judgebench.taxonomy import load_default_taxonomy
    tax = load_default_taxonomy()
    tax.children("coding")   # ['coding/task-types', 'coding/programming-languages', ...]
"""

from __future__ import annotations

from importlib import resources

from judgebench.taxonomy.io import (
    from_data,
    from_feedbacker,
    load_taxonomy,
    problems,
    save_taxonomy,
    to_feedbacker,
    to_flat,
    to_nested,
    validate,
)
from judgebench.taxonomy.tree import ROOT, Taxonomy, slugify

DEFAULT_DOMAINS = ("writing", "roleplay", "knowledge", "coding", "mathematics", "reasoning")


def load_default_taxonomy() -> Taxonomy:
    """The general-purpose taxonomy judgebench ships (six domains, classification dimensions)."""
    source = resources.files("judgebench.taxonomy") / "data" / "default.yaml"
    with resources.as_file(source) as path:
        return load_taxonomy(path, name="judgebench-default")


__all__ = [
    "DEFAULT_DOMAINS",
    "ROOT",
    "Taxonomy",
    "from_data",
    "from_feedbacker",
    "load_default_taxonomy",
    "load_taxonomy",
    "problems",
    "save_taxonomy",
    "slugify",
    "to_feedbacker",
    "to_flat",
    "to_nested",
    "validate",
]
