"""The SQL store: SQLite by default (one file), PostgreSQL by URL."""

from judgebench.db.engine import DEFAULT_URL, make_engine, normalize_url
from judgebench.db.store import Store

__all__ = ["DEFAULT_URL", "Store", "make_engine", "normalize_url"]
