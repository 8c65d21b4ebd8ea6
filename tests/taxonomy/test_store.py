"""Taxonomy versions in the store: new version only on change, loads, and per-node counts."""

from __future__ import annotations

import pytest

from judgebench.db import Store
from judgebench.db.taxonomy import (
    find_version,
    list_taxonomy_versions,
    load_taxonomy_version,
    node_query_counts,
    save_taxonomy_version,
)
from judgebench.errors import DataError
from judgebench.records import Query


@pytest.fixture(
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store(request, tmp_path):
    if request.param == "sqlite":
        return Store(tmp_path / "jb.db")
    from tests.pg import create_database

    server = request.getfixturevalue("postgres_url")
    return Store(create_database(server, f"tax_{abs(hash(request.node.nodeid)) % 10**10}"))


def test_versions_follow_content(store, tree):
    assert save_taxonomy_version(store, tree) == (1, True)
    assert save_taxonomy_version(store, tree.copy()) == (1, False)
    changed = tree.copy()
    changed.add("writing", "Poetry")  # a repeated name
    assert save_taxonomy_version(store, changed, note="more poems") == (2, True)
    versions = list_taxonomy_versions(store, "small")
    assert [(v.id, v.parent_version, v.nodes, v.note) for v in versions] == [
        (1, None, len(tree), None),
        (2, 1, len(changed), "more poems"),
    ]
    assert load_taxonomy_version(store, 1) == tree
    latest = load_taxonomy_version(store, name="small")
    assert latest == changed and latest.ids() == changed.ids()
    assert find_version(store, tree) == 1
    with pytest.raises(DataError, match="no taxonomy version 9"):
        load_taxonomy_version(store, 9)
    with pytest.raises(DataError, match="no taxonomy named 'other'"):
        load_taxonomy_version(store, name="other")


def test_queries_keep_their_version_and_counts_roll_up(store, tree):
    v1, _ = save_taxonomy_version(store, tree)
    store.put_queries(
        [
            Query(
                text="fix my python",
                node_ids=["coding/programming-languages/python", "coding/task-types/debugging"],
                taxonomy_version=v1,
            ),
            Query(
                text="rust borrow",
                node_ids=["coding/programming-languages/rust"],
                taxonomy_version=v1,
            ),
            Query(text="a poem", node_ids=["writing/poetry"], taxonomy_version=v1),
        ]
    )
    counts = node_query_counts(store, tree, v1)
    assert counts["coding"] == 2  # distinct queries, not label count
    assert counts["coding/programming-languages"] == 2
    assert counts["coding/task-types/debugging"] == 1
    assert counts["writing"] == 1
    changed = tree.copy()
    changed.remove("writing/essay")
    v2, _ = save_taxonomy_version(store, changed)
    assert node_query_counts(store, changed, v2) == {}
    assert {q.taxonomy_version for q in store.get_queries()} == {v1}


def test_confidence_is_stored_per_node_and_counted(store, tree):
    version, _ = save_taxonomy_version(store, tree)
    sure, unsure, hand = (
        Query(
            text="fix my python",
            node_ids=["coding/programming-languages/python"],
            node_confidence={"coding/programming-languages/python": 0.95},
            taxonomy_version=version,
        ),
        Query(text="rust?", taxonomy_version=version),
        Query(text="a poem", node_ids=["writing/poetry"], taxonomy_version=version),
    )
    store.put_queries([sure, unsure, hand])
    # a reassignment replaces nodes and confidences together
    store.set_query_nodes(
        unsure.id,
        ["coding/programming-languages/rust"],
        version,
        {"coding/programming-languages/rust": 0.4},
    )
    got = {q.id: q for q in store.get_queries()}
    assert got[sure.id].node_confidence == {"coding/programming-languages/python": 0.95}
    assert got[unsure.id].node_confidence == {"coding/programming-languages/rust": 0.4}
    assert got[hand.id].node_confidence == {}  # unknown, not zero
    assert node_query_counts(store, tree, version)["coding"] == 2
    confident = node_query_counts(store, tree, version, min_confidence=0.6)
    assert confident["coding"] == 1 and "coding/programming-languages/rust" not in confident
    assert confident["writing/poetry"] == 1  # a hand label counts as confident
