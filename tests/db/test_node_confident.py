"""The dashboard summary's per-node count of confidently assigned queries (issue 19).

Checked against a count written out by hand for a small fixture, and against the CLI's
``taxonomy show --db`` count (``db.taxonomy.node_query_counts``), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from judgebench.db import Store
from judgebench.db import queries as q
from judgebench.db.taxonomy import node_query_counts, save_taxonomy_version
from judgebench.records import Query
from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE
from judgebench.taxonomy.tree import Taxonomy

BACKENDS = pytest.mark.parametrize("store_url", ["sqlite", "postgres"], indirect=True)
EDGE = DEFAULT_MIN_CONFIDENCE

# (leaves, confidence per leaf): a missing confidence is unknown, which counts as confident
ASSIGNMENTS = {
    "q1": (["a/x"], {"a/x": EDGE}),  # exactly min_confidence: confident
    "q2": (["a/x"], {"a/x": EDGE - 1e-6}),  # just below: not
    "q3": (["a/y"], {}),  # unknown (hand label): confident
    "q4": (["a/x", "a/y"], {"a/x": 0.9, "a/y": 0.1}),  # sure of one leaf only
    "q5": (["b/z"], {"b/z": 0.3}),
    "q6": (["a/y", "b/z"], {"a/y": 0.95, "b/z": 0.2}),
}
# by hand: node → (distinct queries under it, of those confidently assigned somewhere under it)
EXPECTED = {
    "": (6, 4),  # q1 q3 q4 q6
    "a": (5, 4),  # q1 q2 q3 q4 q6; q2 is the only unsure one
    "a/x": (3, 2),  # q1 q2 q4
    "a/y": (3, 2),  # q3 q4 q6; q4 is unsure here
    "b": (2, 0),
    "b/z": (2, 0),  # q5 q6, both unsure here (q6 counts as confident under a, not b)
}


def _taxonomy() -> Taxonomy:
    tree = Taxonomy("confident-test")
    for domain, leaves in (("a", ["x", "y"]), ("b", ["z"])):
        tree.add("", domain)
        for leaf in leaves:
            tree.add(domain, leaf)
    return tree


def _store(url: str) -> tuple[Store, Taxonomy, int]:
    store = Store(url)
    tree = _taxonomy()
    version, _ = save_taxonomy_version(store, tree)
    store.put_queries(
        Query(id=qid, text=f"query {qid}", node_ids=leaves, node_confidence=sure,
              taxonomy_version=version)
        for qid, (leaves, sure) in ASSIGNMENTS.items()
    )  # fmt: skip
    q.refresh_summary(store)
    return store, tree, version


@BACKENDS
def test_confident_counts_roll_up_with_the_min_confidence_boundary(store_url):
    store, tree, version = _store(store_url)
    nodes = q.taxonomy_nodes(store).set_index("node_id")
    got = {n: (int(r.n_queries), int(r.n_confident)) for n, r in nodes.iterrows()}
    assert got == EXPECTED
    # the same rule and rollup as `judgebench taxonomy show --db` (the CLI's default threshold)
    cli = node_query_counts(store, tree, version, DEFAULT_MIN_CONFIDENCE)
    assert {n: c for n, c in cli.items() if n} == {
        n: sure for n, (_, sure) in EXPECTED.items() if n and sure
    }
    store.engine.dispose()


@BACKENDS
def test_a_changed_confidence_is_counted_after_the_refresh(store_url):
    store, _, version = _store(store_url)
    with store.session() as s:  # q2 reassigned by hand: confidence unknown, so confident
        s.execute(
            text("UPDATE query_nodes SET confidence = NULL WHERE query_id = 'q2'"),
        )
    q.refresh_summary(store, force=True)
    nodes = q.taxonomy_nodes(store).set_index("node_id")["n_confident"]
    assert (nodes["a/x"], nodes["a"], nodes[""]) == (3, 5, 5)
    store.engine.dispose()


@BACKENDS
def test_upgrading_to_the_column_makes_the_next_refresh_fill_it(store_url):
    from judgebench.db.migrate import upgrade

    upgrade(store_url, "0010adaptive")
    store = Store(store_url, create=False)
    with store.engine.begin() as conn:  # a summary built before the column existed
        conn.execute(
            text(
                "INSERT INTO dashboard_state (id, fingerprint, version, refreshed_at, build_s) "
                "VALUES (1, 'old', 0, CURRENT_TIMESTAMP, 0)"
            )
        )
    upgrade(store_url)
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM dashboard_state")).scalar() == 0
        assert conn.execute(text("SELECT COUNT(n_confident) FROM dashboard_nodes")).scalar() == 0
    store.engine.dispose()
