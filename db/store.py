"""The Store: transactional, idempotent reads and writes of judgebench records."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from judgebench.db.base import Base
from judgebench.db.engine import DEFAULT_URL, READ_ONLY, make_engine, normalize_url
from judgebench.db.models import (
    ErrorRow,
    JudgmentRow,
    QueryNodeRow,
    QueryRow,
    ResponseRow,
    RunItemRow,
    RunRow,
)
from judgebench.records import (
    CriterionScore,
    ErrorRecord,
    Judgment,
    Query,
    Response,
    Run,
    Usage,
    utcnow,
)

_CHUNK = 500


class Store:
    """One database. ``Store()`` is a SQLite file in the working directory; pass a URL for others."""

    def __init__(
        self, url: str | Path = DEFAULT_URL, *, create: bool = True, engine: Engine | None = None
    ):
        self.url = normalize_url(url)
        self.engine = engine or make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if create:
            self.create_all()

    # --- plumbing --------------------------------------------------------------------------
    def create_all(self) -> None:
        """Bring the schema up to date: Alembic migrations, the same as ``judgebench db upgrade``.

        Tables a migration does not cover yet (during development) are created directly; a
        test checks that the migrations and the models agree.
        """
        import judgebench.db.tables  # noqa: F401  (registers every table module)
        from judgebench.db.migrate import upgrade

        upgrade(self.url, engine=self.engine)
        Base.metadata.create_all(self.engine, checkfirst=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def _tx(self, session: Session | None) -> Iterator[Session]:
        """The caller's transaction when given (several writes commit together), else a new one."""
        if session is not None:
            yield session
        else:
            with self.session() as own:
                yield own

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only connection: on SQLite it takes no write lock, so readers (the
        dashboard, exports) never queue behind a running job's writes."""
        with self.engine.connect().execution_options(**{READ_ONLY: True}) as conn:
            yield conn

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """An ORM session on a :meth:`read` connection (no write lock on SQLite)."""
        with self.read() as conn, Session(bind=conn) as session:
            yield session

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _insert(self, table: Any):
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def insert_ignore(self, session: Session, table: Any, rows: Sequence[dict[str, Any]]) -> int:
        """Insert rows whose primary key is not there yet; returns how many were new."""
        new = 0
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            if not chunk:
                continue
            # RETURNING counts the rows really inserted on every backend (executemany rowcount
            # is not reliable across drivers).
            pk = [c for c in getattr(table, "__table__", table).primary_key.columns]
            stmt = self._insert(table).on_conflict_do_nothing().returning(*pk)
            new += len(session.connection().execute(stmt, chunk).all())
        return new

    def upsert(
        self, session: Session, table: Any, rows: Sequence[dict[str, Any]], keys: Sequence[str]
    ) -> None:
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            stmt = self._insert(table)
            cols = {c: stmt.excluded[c] for c in chunk[0] if c not in keys}
            session.connection().execute(
                stmt.on_conflict_do_update(index_elements=list(keys), set_=cols), chunk
            )

    def existing_ids(self, table: Any, ids: Iterable[str]) -> set[str]:
        with self.read_session() as s:
            return set(_scalars_in(s, select(table.id), table.id, ids))

    # --- queries ---------------------------------------------------------------------------
    def put_queries(self, queries: Iterable[Query], *, session: Session | None = None) -> int:
        queries = list(queries)
        rows = [
            dict(
                id=q.id,
                text=q.text,
                source=q.source,
                reference=q.reference,
                node_ids=q.node_ids,
                taxonomy_version=q.taxonomy_version,
                node_confidence=q.node_confidence or None,
                provenance=q.provenance,
                # the column is named "metadata" (ORM attribute "meta"); core inserts key by column
                **{"metadata": q.metadata},
            )
            for q in queries
        ]
        links = [
            dict(
                query_id=q.id,
                node_id=n,
                taxonomy_version=q.taxonomy_version or 0,
                confidence=q.node_confidence.get(n),
            )
            for q in queries
            for n in q.node_ids
        ]
        with self._tx(session) as s:
            new = self.insert_ignore(s, QueryRow, rows)
            self.insert_ignore(s, QueryNodeRow, links)
        return new

    def set_query_nodes(
        self,
        query_id: str,
        node_ids: list[str],
        taxonomy_version: int | None,
        confidence: dict[str, float] | None = None,
    ) -> None:
        """Replace a query's node assignment (re-assignment after a taxonomy change);
        ``confidence`` holds the assigner's probability per node, where it gives one."""
        version = taxonomy_version or 0
        confidence = confidence or {}
        with self.session() as s:
            s.execute(
                update(QueryRow)
                .where(QueryRow.id == query_id)
                .values(
                    node_ids=node_ids,
                    taxonomy_version=taxonomy_version,
                    node_confidence=confidence or None,
                )
            )
            s.query(QueryNodeRow).filter_by(query_id=query_id, taxonomy_version=version).delete()
            self.insert_ignore(
                s,
                QueryNodeRow,
                [
                    dict(
                        query_id=query_id,
                        node_id=n,
                        taxonomy_version=version,
                        confidence=confidence.get(n),
                    )
                    for n in node_ids
                ],
            )

    def get_queries(
        self, ids: Iterable[str] | None = None, source: str | None = None
    ) -> list[Query]:
        with self.read_session() as s:
            stmt = select(QueryRow)
            if source is not None:
                stmt = stmt.where(QueryRow.source == source)
            if ids is not None:
                rows: list[QueryRow] = _scalars_in(s, stmt, QueryRow.id, ids)
            else:
                rows = list(s.scalars(stmt.order_by(QueryRow.created_at, QueryRow.id)))
            return [_query(r) for r in rows]

    # --- responses -------------------------------------------------------------------------
    def put_responses(
        self, responses: Iterable[Response], *, session: Session | None = None
    ) -> int:
        rows = [
            dict(
                id=r.id,
                query_id=r.query_id,
                model=r.model,
                params=r.params,
                sample_index=r.sample_index,
                text=r.text,
                prompt_tokens=r.usage.prompt_tokens,
                completion_tokens=r.usage.completion_tokens,
                latency_s=r.latency_s,
                cost=r.cost,
                cached=r.cached,
                status=r.status,
                error=r.error,
                run_id=r.run_id,
                created_at=r.created_at,
            )
            for r in responses
        ]
        with self._tx(session) as s:
            return self.insert_ignore(s, ResponseRow, rows)

    def get_responses(
        self,
        query_ids: Iterable[str] | None = None,
        model: str | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Response]:
        with self.read_session() as s:
            stmt = select(ResponseRow)
            if model is not None:
                stmt = stmt.where(ResponseRow.model == model)
            out: list[ResponseRow]
            if query_ids is not None:
                out = _scalars_in(s, stmt, ResponseRow.query_id, query_ids)
            elif ids is not None:
                out = _scalars_in(s, stmt, ResponseRow.id, ids)
            else:
                out = list(s.scalars(stmt))
            return [_response(r) for r in out]

    # --- judgments -------------------------------------------------------------------------
    def put_judgments(
        self, judgments: Iterable[Judgment], *, session: Session | None = None
    ) -> int:
        rows = [_judgment_row(j) for j in judgments]
        with self._tx(session) as s:
            return self.insert_ignore(s, JudgmentRow, rows)

    def get_judgments(
        self,
        judge: str | None = None,
        model: str | None = None,
        query_ids: Iterable[str] | None = None,
        run_id: str | None = None,
        status: str | None = None,
        ids: Iterable[str] | None = None,
    ) -> list[Judgment]:
        with self.read_session() as s:
            stmt = select(JudgmentRow)
            if judge is not None:
                stmt = stmt.where(JudgmentRow.judge == judge)
            if model is not None:
                stmt = stmt.where(JudgmentRow.model == model)
            if run_id is not None:
                stmt = stmt.where(JudgmentRow.run_id == run_id)
            if status is not None:
                stmt = stmt.where(JudgmentRow.status == status)
            rows: list[JudgmentRow]
            if query_ids is not None:
                rows = _scalars_in(s, stmt, JudgmentRow.query_id, query_ids)
            elif ids is not None:
                rows = _scalars_in(s, stmt, JudgmentRow.id, ids)
            else:
                rows = list(s.scalars(stmt))
            return [_judgment(r) for r in rows]

    # --- runs and errors -------------------------------------------------------------------
    def put_run(self, run: Run, *, session: Session | None = None) -> None:
        row = dict(
            id=run.id,
            kind=run.kind,
            name=run.name,
            config=run.config,
            status=run.status,
            reason=run.reason,
            job_name=run.job_name,
            started_at=run.started_at,
            finished_at=run.finished_at,
            counts=run.counts,
        )
        with self._tx(session) as s:
            self.upsert(s, RunRow, [row], keys=["id"])

    def finish_run(
        self,
        run_id: str,
        status: str = "finished",
        reason: str | None = None,
        counts: dict[str, dict[str, int]] | None = None,
    ) -> None:
        values: dict[str, Any] = dict(status=status, reason=reason, finished_at=utcnow())
        if counts is not None:
            values["counts"] = counts
        with self.session() as s:
            s.execute(update(RunRow).where(RunRow.id == run_id).values(**values))

    def get_run(self, run_id: str) -> Run | None:
        with self.read_session() as s:
            row = s.get(RunRow, run_id)
            return _run(row) if row else None

    def list_runs(self, kind: str | None = None, job_name: str | None = None) -> list[Run]:
        with self.read_session() as s:
            stmt = select(RunRow).order_by(RunRow.started_at)
            if kind:
                stmt = stmt.where(RunRow.kind == kind)
            if job_name:
                stmt = stmt.where(RunRow.job_name == job_name)
            return [_run(r) for r in s.scalars(stmt)]

    def link_run_items(
        self,
        run_id: str,
        item_kind: str,
        item_ids: Iterable[str],
        *,
        session: Session | None = None,
    ) -> None:
        rows = [dict(run_id=run_id, item_kind=item_kind, item_id=i) for i in item_ids]
        with self._tx(session) as s:
            self.insert_ignore(s, RunItemRow, rows)

    def record_error(self, error: ErrorRecord, *, session: Session | None = None) -> None:
        with self._tx(session) as s:
            s.add(
                ErrorRow(
                    stage=error.stage,
                    subject=error.subject[:500],
                    message=error.message,
                    run_id=error.run_id,
                    created_at=error.created_at,
                )
            )

    def get_errors(self, stage: str | None = None, run_id: str | None = None) -> list[ErrorRecord]:
        with self.read_session() as s:
            stmt = select(ErrorRow).order_by(ErrorRow.id)
            if stage:
                stmt = stmt.where(ErrorRow.stage == stage)
            if run_id:
                stmt = stmt.where(ErrorRow.run_id == run_id)
            return [
                ErrorRecord(
                    stage=r.stage,
                    subject=r.subject,
                    message=r.message,
                    run_id=r.run_id,
                    created_at=_aware(r.created_at),
                )
                for r in s.scalars(stmt)
            ]


def _scalars_in(session: Session, stmt: Any, column: Any, values: Iterable[str]) -> list[Any]:
    """``stmt`` filtered to ``column IN values``, in chunks (SQLite caps bound parameters)."""
    wanted = list(values)
    found: list[Any] = []
    for start in range(0, len(wanted), _CHUNK):
        found.extend(session.scalars(stmt.where(column.in_(wanted[start : start + _CHUNK]))))
    return found


# --- row ↔ record ----------------------------------------------------------------------------


def _aware(value: datetime | None) -> datetime:
    from datetime import UTC

    if value is None:
        return utcnow()
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _query(r: QueryRow) -> Query:
    return Query(
        id=r.id,
        text=r.text,
        source=r.source,
        reference=r.reference,
        node_ids=list(r.node_ids or []),
        taxonomy_version=r.taxonomy_version,
        node_confidence=dict(r.node_confidence or {}),
        provenance=dict(r.provenance or {}),
        metadata=dict(r.meta or {}),
    )


def _response(r: ResponseRow) -> Response:
    return Response(
        id=r.id,
        query_id=r.query_id,
        model=r.model,
        text=r.text,
        params=dict(r.params or {}),
        sample_index=r.sample_index,
        usage=Usage(prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens),
        latency_s=r.latency_s,
        cost=r.cost,
        cached=bool(r.cached),
        status=r.status,
        error=r.error,
        run_id=r.run_id,
        created_at=_aware(r.created_at),
    )


def _judgment_row(j: Judgment) -> dict[str, Any]:
    return dict(
        id=j.id,
        judge=j.judge,
        judge_model=j.judge_model,
        kind=j.kind,
        shape=j.shape,
        query_id=j.query_id,
        response_id=j.response_id,
        response_b_id=j.response_b_id,
        model=j.model,
        model_b=j.model_b,
        template_name=j.template_name,
        template_hash=j.template_hash,
        params=j.params,
        score=j.score,
        verdict=j.verdict,
        criteria=[c.model_dump() for c in j.criteria],
        rationale=j.rationale,
        raw_replies=j.raw_replies,
        flags=j.flags,
        details=j.details,
        status=j.status,
        reason=j.reason,
        prompt_tokens=j.usage.prompt_tokens,
        completion_tokens=j.usage.completion_tokens,
        cost=j.cost,
        cached=j.cached,
        run_id=j.run_id,
        taxonomy_version=j.taxonomy_version,
        created_at=j.created_at,
    )


def _judgment(r: JudgmentRow) -> Judgment:
    return Judgment(
        id=r.id,
        judge=r.judge,
        judge_model=r.judge_model,
        kind=r.kind,
        shape=r.shape,
        query_id=r.query_id,
        response_id=r.response_id,
        response_b_id=r.response_b_id,
        model=r.model,
        model_b=r.model_b,
        template_name=r.template_name,
        template_hash=r.template_hash,
        params=dict(r.params or {}),
        score=r.score,
        verdict=r.verdict,
        criteria=[CriterionScore(**c) for c in r.criteria or []],
        rationale=r.rationale,
        raw_replies=list(r.raw_replies or []),
        flags=list(r.flags or []),
        details=dict(r.details or {}),
        status=r.status,
        reason=r.reason,
        usage=Usage(prompt_tokens=r.prompt_tokens, completion_tokens=r.completion_tokens),
        cost=r.cost,
        cached=bool(r.cached),
        run_id=r.run_id,
        taxonomy_version=r.taxonomy_version,
        created_at=_aware(r.created_at),
    )


def _run(r: RunRow) -> Run:
    return Run(
        id=r.id,
        kind=r.kind,
        name=r.name,
        config=dict(r.config or {}),
        status=r.status,
        reason=r.reason,
        job_name=r.job_name,
        started_at=_aware(r.started_at),
        finished_at=_aware(r.finished_at) if r.finished_at else None,
        counts=r.counts,
    )
