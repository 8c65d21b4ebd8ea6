"""The migration chain: one head, and an empty store upgraded to it matches the models."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from judgebench.db.migrate import alembic_config


def test_migrations_form_one_linear_chain():
    """Parts add migrations independently; two of them chained to the same parent would leave
    two heads and `judgebench db upgrade` would refuse to run."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    heads = scripts.get_heads()
    assert len(heads) == 1, f"several migration heads: {heads}"
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].down_revision is None
    assert all(isinstance(r.down_revision, str | None) for r in revisions)  # no merge points
