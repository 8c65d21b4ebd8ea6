"""The store side of the gateway's call cache: :class:`SQLCallCache` on the ``llm_calls`` table.

Insert-or-ignore by key, so any number of processes can share one store: the first writer of a
key wins and the others' rows are dropped (the replies are equivalent by construction of the
key). Requests are stored without transport settings; API keys never reach this table.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update

from judgebench.db.models import LLMCallRow
from judgebench.db.store import Store
from judgebench.llm.cache import CacheEntry
from judgebench.llm.secrets import redact
from judgebench.records import utcnow

_CHUNK = 500


class SQLCallCache:
    """A :class:`judgebench.llm.cache.CallCache` in a :class:`Store` (SQLite or PostgreSQL)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._sqlite = store.dialect == "sqlite"

    def __repr__(self) -> str:
        return f"SQLCallCache({self.store.engine.url.render_as_string(hide_password=True)!r})"

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        keys = list(keys)
        found: dict[str, dict[str, Any]] = {}
        if not keys:
            return found
        if self._sqlite:
            # a plain autocommit read: no BEGIN IMMEDIATE, so readers never queue behind writers
            raw = self.store.engine.raw_connection()
            try:
                cursor = raw.cursor()
                for start in range(0, len(keys), _CHUNK):
                    chunk = keys[start : start + _CHUNK]
                    marks = ",".join("?" * len(chunk))
                    cursor.execute(
                        f"SELECT key, response FROM llm_calls WHERE key IN ({marks})", chunk
                    )
                    for key, response in cursor.fetchall():
                        found[key] = (
                            json.loads(response) if isinstance(response, str | bytes) else response
                        )
                cursor.close()
            finally:
                raw.close()
            return found
        with self.store.session() as s:
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                for key, response in s.execute(
                    select(LLMCallRow.key, LLMCallRow.response).where(LLMCallRow.key.in_(chunk))
                ):
                    found[key] = response
        return found

    def put_many(self, entries: Sequence[CacheEntry]) -> int:
        if not entries:
            return 0
        if self._sqlite:
            return self._put_many_sqlite(entries)
        rows = [
            dict(
                key=e.key,
                model=e.model,
                request=json.loads(_request_json(e.request)),
                response=e.response,
                prompt_tokens=e.prompt_tokens,
                completion_tokens=e.completion_tokens,
                cost=e.cost,
                latency_s=e.latency_s,
                hits=0,
            )
            for e in entries
        ]
        with self.store.session() as s:
            return self.store.insert_ignore(s, LLMCallRow, rows)

    def _put_many_sqlite(self, entries: Sequence[CacheEntry]) -> int:
        # the hot path of every batch: one executemany in one BEGIN IMMEDIATE transaction,
        # with the JSON serialised once here instead of through the ORM's type layer
        created = utcnow().strftime("%Y-%m-%d %H:%M:%S.%f")  # SQLAlchemy's SQLite DATETIME form
        rows = [
            (
                e.key,
                e.model,
                _request_json(e.request),
                json.dumps(e.response, ensure_ascii=False),
                e.prompt_tokens,
                e.completion_tokens,
                e.cost,
                e.latency_s,
                created,
            )
            for e in entries
        ]
        raw = self.store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("BEGIN IMMEDIATE")
            try:
                before = raw.total_changes
                cursor.executemany(
                    "INSERT OR IGNORE INTO llm_calls (key, model, request, response, prompt_tokens,"
                    " completion_tokens, cost, latency_s, hits, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?)",
                    rows,
                )
                new = raw.total_changes - before
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            cursor.close()
        finally:
            raw.close()
        return int(new)

    def record_hits(self, hits: Mapping[str, int]) -> None:
        if not hits:
            return
        stmt = (
            update(LLMCallRow)
            .where(LLMCallRow.key == bindparam("k"))
            .values(hits=LLMCallRow.hits + bindparam("n"))
            .execution_options(synchronize_session=False)
        )
        with self.store.session() as s:
            s.connection().execute(stmt, [{"k": k, "n": n} for k, n in hits.items()])

    def stats(self) -> dict[str, int]:
        from sqlalchemy import func

        with self.store.session() as s:
            rows, hits = s.execute(
                select(func.count(), func.coalesce(func.sum(LLMCallRow.hits), 0))
            ).one()
        return {"entries": int(rows), "hits": int(hits)}


def _request_json(request: dict[str, Any]) -> str:
    """The stored request. The gateway never puts keys in requests; anything key-shaped that a
    caller put in a message is redacted anyway (belt and braces)."""
    return redact(json.dumps(request, ensure_ascii=False, default=str))
