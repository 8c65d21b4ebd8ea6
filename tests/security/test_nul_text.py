"""A NUL character (U+0000) in text we store: a query or data file, a model's reply, a router
request. SQLite keeps it; PostgreSQL text cannot hold it, and one such value failed its whole
batch (a routing-log flush kept the batch pending and failed again at every later flush, so no
decision after it was ever logged). Every string reaching PostgreSQL has NUL replaced by U+FFFD
in one place, the engine; the rows are written, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.engine import NUL_STAND_IN, without_nul
from judgebench.records import Query, Response

TEXT = "before\x00after"


def test_without_nul_replaces_only_what_needs_it() -> None:
    clean = {"a": "x", "b": 1, "c": [1, "y"]}
    assert without_nul(clean) is clean  # no copy in the common case
    rows = [{"a": "x"}, {"a": "p\x00q", "n": None, "j": {"k": ["\x00"]}}]
    assert without_nul(rows) == [{"a": "x"}, {"a": "p\ufffdq", "n": None, "j": {"k": ["\ufffd"]}}]
    assert without_nul(("a\x00", 2)) == ("a\ufffd", 2)


@pytest.mark.parametrize(
    "store_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_text_with_nul_is_stored(store_url: str) -> None:
    from judgebench.db import Store
    from judgebench.db.routing import RoutedRequestRow

    store = Store(store_url)
    query = Query(text=TEXT)
    store.put_queries([query])
    store.put_responses([Response(query_id=query.id, model="sim/coder", text=TEXT)])
    row = dict(
        id="r1", router="r", kind="selection", strategy="top1", query_id=query.id,
        query_preview=TEXT, status="ok", n_stages=0, latency_s=0.0, stages=[],
        details={"note": TEXT}, created_at=datetime.now(UTC),
    )  # fmt: skip
    with store.session() as s:
        assert store.insert_ignore(s, RoutedRequestRow, [row]) == 1
    stored = store.get_queries()[0].text
    reply = store.get_responses()[0].text
    assert stored == reply
    assert stored in (TEXT, TEXT.replace("\x00", NUL_STAND_IN))  # as given (SQLite) or marked
    assert stored.startswith("before") and stored.endswith("after")
    store.engine.dispose()
