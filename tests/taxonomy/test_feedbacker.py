"""Feedbacker's released tree imports with unique path ids and round-trips (real data)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from judgebench.errors import DataError
from judgebench.taxonomy import (
    Taxonomy,
    from_feedbacker,
    load_taxonomy,
    save_taxonomy,
    to_feedbacker,
)
from tests.conftest import shared_path

pytestmark = pytest.mark.real_data


def test_feedbacker_tree_imports_and_round_trips(tmp_path):
    path = shared_path("query_taxonomies", "feedbacker", "cata_tree.json")
    raw = json.loads(path.read_text(encoding="utf-8"))
    tax = load_taxonomy(path)
    assert (len(tax), len(tax.leaves()), tax.depth) == (694, 588, 6)
    assert tax.domains() == [
        "writing",
        "roleplay",
        "knowledge",
        "coding",
        "mathematics",
        "reasoning",
    ]
    assert len(set(tax.ids())) == 694
    names = Counter(tax.name_of(n) for n in tax.ids())
    assert names["Fantasy"] >= 2  # repeated names, distinct ids
    fantasy = [n for n in tax.ids() if tax.name_of(n) == "Fantasy"]
    assert len(set(fantasy)) == len(fantasy)
    assert to_feedbacker(tax) == raw
    for fmt, suffix in [("nested", ".yaml"), ("flat", ".json"), ("feedbacker", ".json")]:
        again = load_taxonomy(save_taxonomy(tax, tmp_path / f"{fmt}{suffix}", fmt=fmt))
        assert again.ids() == tax.ids() and again == tax, fmt


def test_feedbacker_export_refuses_repeated_sibling_names():
    tax = Taxonomy()
    tax.add("", "Writing")
    tax.add("writing", "Poetry")
    tax.add("writing", "Poetry")
    with pytest.raises(DataError, match="node 'writing/poetry-2': sibling name 'Poetry' repeats"):
        to_feedbacker(tax)
    assert from_feedbacker({"writing": {"Poetry": {}}}).ids() == ["writing", "writing/poetry"]


def test_feedbacker_flat_csv_matches_the_nested_tree():
    nested = load_taxonomy(shared_path("query_taxonomies", "feedbacker", "cata_tree.json"))
    flat = load_taxonomy(shared_path("query_taxonomies", "feedbacker", "cata_tree_flat.csv"))
    assert flat.ids() == nested.ids() and flat == nested
