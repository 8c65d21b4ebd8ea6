"""Engines: SQLite (WAL, BEGIN IMMEDIATE, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DatabaseError

from judgebench.errors import ConfigError, DataError

DEFAULT_URL = "sqlite:///judgebench.db"
# Execution option marking a read-only connection (see Store.read).
READ_ONLY = "judgebench_read_only"


def normalize_url(url: str | Path) -> str:
    """Accept a bare file path for SQLite; ``postgresql://`` uses psycopg 3."""
    url = str(url)
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_file(normalized_url: str) -> Path | None:
    """The database file of a SQLite URL; None for other backends and in-memory SQLite."""
    if not normalized_url.startswith("sqlite"):
        return None
    db_path = normalized_url.split(":///", 1)[-1]
    if not db_path or db_path == ":memory:":
        return None
    return Path(db_path).expanduser()


def existing_store(url: str | Path, hint: str = "run `judgebench demo` or a job first") -> str:
    """``url`` for a command that only reads a store: a SQLite file that does not exist is a
    mistyped path (a DataError saying so), not a new empty store to create."""
    db_file = _sqlite_file(normalize_url(url))
    if db_file is not None and not db_file.exists():
        raise DataError(f"no store here ({hint})", where=str(url))
    return str(url)


def make_engine(url: str | Path, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        db_file = _sqlite_file(url)
        if db_file is not None and not (parent := db_file.resolve().parent).is_dir():
            raise ConfigError(f"directory for the SQLite store does not exist: {parent}")
        engine = create_engine(
            url,
            connect_args={"timeout": 30, "isolation_level": None, "check_same_thread": False},
            **kwargs,
        )
        _sqlite_pragmas(engine)
        return engine
    if url.startswith("postgresql"):
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        _postgres_text(engine)
        return engine
    raise ConfigError(
        f"unsupported store URL scheme: {url.split('://', 1)[0]} (use sqlite or postgresql)"
    )


def _sqlite_pragmas(engine: Engine) -> None:
    # Python's sqlite3 defers BEGIN until the first DML, so a read-then-write transaction can
    # lose updates between processes. Autocommit at the driver level plus an explicit
    # BEGIN IMMEDIATE takes the write lock at the start of every transaction.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Readers (Store.read) take no write lock: in WAL mode they never wait for a writer.
        read_only = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


# PostgreSQL text cannot hold U+0000, which SQLite stores and models, requests and data files
# may carry: one such value failed its whole batch (a routing-log flush retried it forever)
NUL, NUL_STAND_IN = "\x00", "\ufffd"


def _postgres_text(engine: Engine) -> None:
    """Every NUL in a string parameter becomes U+FFFD (the replacement character) on its way
    to PostgreSQL, for every table and statement (one place, not each writer)."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _no_nul(conn, cursor, statement, parameters, context, executemany):
        return statement, without_nul(parameters)


def without_nul(parameters: Any) -> Any:
    """``parameters`` (a dict, a sequence, or a list of either for executemany) with NUL
    replaced in its strings; the same object when it holds none (the common case: checking
    costs one C-speed ``in`` per string, copying happens only for a value that needs it)."""
    if isinstance(parameters, str):
        return parameters.replace(NUL, NUL_STAND_IN) if NUL in parameters else parameters
    if isinstance(parameters, dict):
        if not any(_has_nul(v) for v in parameters.values()):
            return parameters
        return {k: without_nul(v) for k, v in parameters.items()}
    if isinstance(parameters, list | tuple):
        if not any(_has_nul(v) for v in parameters):
            return parameters
        return type(parameters)(without_nul(v) for v in parameters)
    return parameters


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def check_opens(engine: Engine) -> None:
    """Connect once: a store that cannot be opened (server refused, a file that is not a
    database) is a one-line DataError instead of a driver traceback at the first query."""
    try:
        with engine.connect():
            pass
    except DatabaseError as exc:
        reason = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        where = engine.url.render_as_string(hide_password=True)
        raise DataError(f"cannot open the store: {reason}", where=where) from None


@contextmanager
def sqlite_cursor(engine: Engine, *, write: bool = False) -> Iterator[Any]:
    """A DB-API cursor on a pooled SQLite connection, for hot paths where the ORM's cost per
    statement shows (autocommit at the driver level: a plain SELECT takes no lock). With
    ``write``, the block is one BEGIN IMMEDIATE transaction, committed when it ends and rolled
    back when it raises."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            if write:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                    cursor.execute("COMMIT")
                except BaseException:
                    cursor.execute("ROLLBACK")
                    raise
            else:
                yield cursor
        finally:
            cursor.close()
    finally:
        raw.close()


def sqlite_timestamp(when: Any) -> str:
    """A datetime as SQLAlchemy writes a SQLite DATETIME (what the ORM reads back)."""
    return str(when.strftime("%Y-%m-%d %H:%M:%S.%f"))
