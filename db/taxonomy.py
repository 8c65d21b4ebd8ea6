"""Versioned taxonomies in the store.

A taxonomy is saved as a new version only when its content (structure, names, descriptions)
changed since the latest version of the same name; saving an unchanged tree returns the
existing version. Versions are immutable, so queries and judgments that carry a
``taxonomy_version`` keep pointing at the tree they were made under.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select

from judgebench.db.models import QueryNodeRow, TaxonomyNodeRow, TaxonomyVersionRow
from judgebench.db.store import Store, _aware
from judgebench.errors import DataError
from judgebench.taxonomy.tree import ROOT, Taxonomy, parent_of


@dataclass(frozen=True)
class TaxonomyVersion:
    id: int
    name: str
    content_hash: str
    parent_version: int | None
    note: str | None
    created_at: datetime
    nodes: int


def save_taxonomy_version(
    store: Store, taxonomy: Taxonomy, *, name: str | None = None, note: str | None = None
) -> tuple[int, bool]:
    """Store ``taxonomy`` under ``name`` (default: its own); returns ``(version, created)``."""
    name = name or taxonomy.name
    digest = taxonomy.content_hash()
    with store.session() as s:
        latest = s.scalars(
            select(TaxonomyVersionRow)
            .where(TaxonomyVersionRow.name == name)
            .order_by(TaxonomyVersionRow.id.desc())
            .limit(1)
        ).first()
        if latest is not None and latest.content_hash == digest:
            return latest.id, False
        row = TaxonomyVersionRow(
            name=name, content_hash=digest, parent_version=latest.id if latest else None, note=note
        )
        s.add(row)
        s.flush()
        positions: dict[str, int] = {}
        nodes = []
        for node_id in taxonomy.ids():
            parent = parent_of(node_id)
            positions[parent] = positions.get(parent, -1) + 1
            nodes.append(
                dict(
                    version_id=row.id,
                    path_id=node_id,
                    name=taxonomy.name_of(node_id),
                    description=taxonomy.description_of(node_id),
                    parent_id=parent or None,
                    depth=taxonomy.depth_of(node_id),
                    position=positions[parent],
                )
            )
        store.insert_ignore(s, TaxonomyNodeRow, nodes)
        return row.id, True


def list_taxonomy_versions(store: Store, name: str | None = None) -> list[TaxonomyVersion]:
    with store.read_session() as s:
        counts = dict(
            s.execute(
                select(TaxonomyNodeRow.version_id, func.count()).group_by(
                    TaxonomyNodeRow.version_id
                )
            ).all()
        )
        stmt = select(TaxonomyVersionRow).order_by(TaxonomyVersionRow.id)
        if name:
            stmt = stmt.where(TaxonomyVersionRow.name == name)
        return [
            TaxonomyVersion(
                id=r.id,
                name=r.name,
                content_hash=r.content_hash,
                parent_version=r.parent_version,
                note=r.note,
                created_at=_aware(r.created_at),
                nodes=counts.get(r.id, 0),
            )
            for r in s.scalars(stmt)
        ]


def resolve_version(store: Store, version: int | None = None, name: str | None = None) -> int:
    """The version id for ``version`` or the latest of ``name`` (or the latest overall)."""
    with store.read_session() as s:
        if version is not None:
            if s.get(TaxonomyVersionRow, version) is None:
                raise DataError(f"no taxonomy version {version}", where=store.url)
            return version
        stmt = select(TaxonomyVersionRow.id).order_by(TaxonomyVersionRow.id.desc()).limit(1)
        if name:
            stmt = stmt.where(TaxonomyVersionRow.name == name)
        found = s.scalars(stmt).first()
        if found is None:
            raise DataError(
                f"no taxonomy named {name!r}" if name else "no taxonomy stored", where=store.url
            )
        return found


def load_taxonomy_version(
    store: Store, version: int | None = None, name: str | None = None
) -> Taxonomy:
    """A stored version as a ``Taxonomy`` (latest of ``name`` when ``version`` is not given)."""
    version_id = resolve_version(store, version, name)
    with store.read_session() as s:
        meta = s.get(TaxonomyVersionRow, version_id)
        assert meta is not None
        rows = list(
            s.scalars(
                select(TaxonomyNodeRow)
                .where(TaxonomyNodeRow.version_id == version_id)
                .order_by(TaxonomyNodeRow.depth, TaxonomyNodeRow.position)
            )
        )
        taxonomy = Taxonomy(meta.name)
    for row in rows:
        taxonomy.add(
            row.parent_id or ROOT, row.name, row.description, slug=row.path_id.rsplit("/", 1)[-1]
        )
    if taxonomy.content_hash() != meta.content_hash:
        raise DataError(
            f"taxonomy version {version_id}: stored nodes do not match its content hash",
            where=store.url,
        )
    return taxonomy


def confident_assignment(min_confidence: float) -> ColumnElement[bool]:
    """The SQL rule for a confidently assigned ``query_nodes`` row: its confidence is at least
    ``min_confidence``, or unknown (hand labels, LLM assignment, rows stored before issue 19)."""
    return or_(QueryNodeRow.confidence.is_(None), QueryNodeRow.confidence >= min_confidence)


def node_query_counts(
    store: Store, taxonomy: Taxonomy, version: int | None, min_confidence: float | None = None
) -> dict[str, int]:
    """Distinct queries per node under ``version``; an internal node counts its descendants' union.
    With ``min_confidence``: only assignments at least that sure (or of unknown confidence)."""
    stmt = select(QueryNodeRow.query_id, QueryNodeRow.node_id).where(
        QueryNodeRow.taxonomy_version == (version or 0)
    )
    if min_confidence is not None:
        stmt = stmt.where(confident_assignment(min_confidence))
    with store.read_session() as s:
        pairs = s.execute(stmt).all()
    members: dict[str, set[str]] = {}
    for query_id, node_id in pairs:
        current = node_id
        while current:
            if current in taxonomy:
                members.setdefault(current, set()).add(query_id)
            current = parent_of(current)
    return {node_id: len(ids) for node_id, ids in members.items()}


def find_version(store: Store, taxonomy: Taxonomy) -> int | None:
    """The newest stored version with exactly this content (any name), or None."""
    with store.read_session() as s:
        return s.scalars(
            select(TaxonomyVersionRow.id)
            .where(TaxonomyVersionRow.content_hash == taxonomy.content_hash())
            .order_by(TaxonomyVersionRow.id.desc())
            .limit(1)
        ).first()
