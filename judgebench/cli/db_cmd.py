"""``judgebench db``: schema migrations and a look at what a store holds."""

from __future__ import annotations

import typer

db_app = typer.Typer(help="The SQL store: migrations and status.", no_args_is_help=True)

DB_OPTION = typer.Option(
    "judgebench.db", "--db", envvar="JUDGEBENCH_DB", help="Store URL or SQLite file path."
)


@db_app.command("upgrade")
def upgrade_cmd(db: str = DB_OPTION, revision: str = typer.Argument("head")) -> None:
    """Create or migrate the store's schema to REVISION (default: the newest)."""
    from judgebench.db.migrate import current_revision, upgrade

    upgrade(db, revision)
    typer.echo(f"{db}: schema at revision {current_revision(db)}")


@db_app.command("status")
def status_cmd(db: str = DB_OPTION) -> None:
    """Print the schema revision and row counts per table."""
    from rich.console import Console
    from rich.table import Table
    from sqlalchemy import func, inspect, select

    import judgebench.db.tables  # noqa: F401
    from judgebench.db.base import Base
    from judgebench.db.engine import existing_store, make_engine
    from judgebench.db.migrate import current_revision

    engine = make_engine(existing_store(db, "create one with `judgebench db upgrade`"))
    table = Table(title=f"{db} (revision {current_revision(db)})")
    table.add_column("table")
    table.add_column("rows", justify="right")
    existing = set(inspect(engine).get_table_names())
    with engine.connect() as conn:
        for name, tbl in sorted(Base.metadata.tables.items()):
            rows = (
                conn.execute(select(func.count()).select_from(tbl)).scalar()
                if name in existing
                else "-"
            )
            table.add_row(name, str(rows))
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
