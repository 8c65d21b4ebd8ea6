"""Schema migrations with Alembic: ``judgebench db upgrade`` and the helpers behind it."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import Engine, inspect

from judgebench.db.engine import check_opens, make_engine, normalize_url
from judgebench.errors import UserError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head", engine: Engine | None = None) -> None:
    """Bring the database at ``url`` to ``revision`` (creating it when empty)."""
    cfg = alembic_config(url)
    engine = engine or make_engine(url)
    check_opens(engine)
    try:
        with engine.begin() as connection:  # a failure rolls the whole upgrade back
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, revision)
    except CommandError as exc:  # e.g. an unknown revision
        where = engine.url.render_as_string(hide_password=True)
        raise UserError(f"cannot upgrade to {revision!r}: {exc}", where=where) from None


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    check_opens(engine)
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()


def autogenerate(url: str, message: str) -> None:
    """Developers: write a new migration from the difference between the models and ``url``."""
    cfg = alembic_config(url)
    engine = make_engine(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.revision(cfg, message=message, autogenerate=True)
