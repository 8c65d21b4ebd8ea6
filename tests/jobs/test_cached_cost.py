"""Rows rebuilt from cached replies keep their cost.

A kill between the call cache's write and the rows' commit, or a second run of the same job at
once, rebuilds responses and judgments from cached replies. Each rebuilt row must store the
cost its replies were bought for (it stored 0.0, so per-model cost fell after every resume).
"""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from judgebench.db import Store
from judgebench.db.models import JudgmentRow, ResponseRow, RunItemRow
from judgebench.jobs import JobRunner, parse_job
from tests.jobs.conftest import fresh_gateway


def costs(store: Store) -> dict[str, float | None]:
    rows = {r.id: r.cost for r in store.get_responses()}
    rows.update({j.id: j.cost for j in store.get_judgments()})
    return rows


def cached_marks(store: Store) -> dict[str, bool]:
    marks = {r.id: r.cached for r in store.get_responses()}
    marks.update({j.id: j.cached for j in store.get_judgments()})
    return marks


@pytest.mark.parametrize("lost", ["responses", "judgments", "both"])
def test_rows_rebuilt_from_the_call_cache_store_their_original_cost(tiny, lost):
    data = tiny(models=("sim/coder", "sim/small"))
    store = Store(data["store"])
    fresh_gateway(store)
    JobRunner(parse_job(data)).run()
    before = costs(store)
    assert before and all(c and c > 0 for c in before.values())  # simulated models have prices
    assert not any(cached_marks(store).values())  # every reply was bought by this run

    # the rows are gone but their replies were cached: what a kill before the commit leaves
    tables = {"responses": [ResponseRow], "judgments": [JudgmentRow]}
    dropped = tables.get(lost, [ResponseRow, JudgmentRow])
    with store.session() as s:
        for table in dropped:
            s.execute(delete(table))
        s.execute(delete(RunItemRow))
    gateway = fresh_gateway(store)
    JobRunner(parse_job(data)).run()
    assert gateway.calls_made == 0 and gateway.cache_hits > 0  # all rebuilt from the cache
    after = costs(store)
    assert after.keys() == before.keys()
    assert after == pytest.approx(before)  # no row stores 0.0 for a cached reply
    rebuilt = {r.id for table in dropped for r in _rows(store, table)}
    marks = cached_marks(store)
    assert rebuilt and all(marks[i] == (i in rebuilt) for i in marks)  # exactly the rebuilt ones


def _rows(store: Store, table):  # type: ignore[no-untyped-def]
    return store.get_responses() if table is ResponseRow else store.get_judgments()
