"""The taxonomy tree: a rooted networkx tree whose nodes are keyed by stable path ids.

A path id is the slugs of the names from the top-level domain down, joined by ``/``
(``coding/programming-languages/markup/xml``). Display names may repeat anywhere in the tree;
ids never do — siblings whose names slugify alike get ``-2``, ``-3`` suffixes. The root is an
implicit node (id ``""``) that is not counted: top-level domains have depth 1.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

import networkx as nx

from judgebench.errors import DataError
from judgebench.records import TaxonomyNode, content_key

ROOT = ""
_SYMBOLS = {"+": " plus ", "#": " sharp ", "&": " and ", "@": " at "}
_NON_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """``"C++ / C#"`` → ``"c-plus-plus-c-sharp"``: lowercase ASCII words joined by ``-``."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii").lower()
    for symbol, word in _SYMBOLS.items():
        text = text.replace(symbol, word)
    return _NON_SLUG.sub("-", text).strip("-") or "node"


def join_id(parent_id: str, slug: str) -> str:
    return f"{parent_id}/{slug}" if parent_id else slug


def parent_of(path_id: str) -> str:
    return path_id.rsplit("/", 1)[0] if "/" in path_id else ROOT


class Taxonomy:
    """A rooted tree of categories. Child order is kept (it is the order shown to LLMs)."""

    def __init__(self, name: str = "taxonomy", description: str | None = None) -> None:
        self.name = name
        self.description = description
        self.graph: nx.DiGraph = nx.DiGraph()
        self.graph.add_node(ROOT, name=name, description=description)

    # --- building ------------------------------------------------------------------------
    def add(
        self,
        parent_id: str,
        name: str,
        description: str | None = None,
        *,
        slug: str | None = None,
    ) -> str:
        """Add a child under ``parent_id`` (``""`` for a domain); returns its new path id."""
        if parent_id not in self.graph:
            raise DataError(f"no node {parent_id!r} to add {name!r} under", where="taxonomy")
        name = (name or "").strip()
        if not name:
            raise DataError(
                f"empty name for a child of {parent_id or '<root>'!r}", where="taxonomy"
            )
        base = slugify(slug) if slug else slugify(name)
        node_id = join_id(parent_id, base)
        suffix = 2
        while node_id in self.graph:
            if slug:  # an explicit id that is taken is a duplicate, not something to rename
                raise DataError(f"duplicate id {node_id!r}", where="taxonomy")
            node_id = join_id(parent_id, f"{base}-{suffix}")
            suffix += 1
        self.graph.add_node(node_id, name=name, description=(description or None))
        self.graph.add_edge(parent_id, node_id)
        return node_id

    def remove(self, node_id: str) -> list[str]:
        """Remove a node and its subtree; returns the removed ids."""
        self._require(node_id)
        gone = [node_id, *self.descendants(node_id)]
        self.graph.remove_nodes_from(gone)
        return gone

    def move(self, node_id: str, new_parent_id: str) -> dict[str, str]:
        """Reparent a subtree. Path ids below it change; returns ``{old_id: new_id}``."""
        self._require(node_id)
        if new_parent_id not in self.graph:
            raise DataError(
                f"no node {new_parent_id!r} to move {node_id!r} under", where="taxonomy"
            )
        if new_parent_id == node_id or new_parent_id in self.descendants(node_id):
            raise DataError(f"cannot move {node_id!r} under its own subtree", where="taxonomy")
        subtree = self.subtree_spec(node_id)
        self.remove(node_id)
        mapping: dict[str, str] = {}
        self._graft(new_parent_id, subtree, mapping, old_parent=parent_of(node_id))
        return mapping

    def merge(self, source_id: str, target_id: str) -> dict[str, str]:
        """Fold ``source`` into ``target`` (synonyms): the subtrees' union, ``source`` removed."""
        self._require(source_id)
        self._require(target_id)
        if (
            source_id == target_id
            or target_id in self.descendants(source_id)
            or source_id in self.descendants(target_id)
        ):
            raise DataError(
                f"cannot merge {source_id!r} with its own ancestor or descendant", where="taxonomy"
            )
        mapping: dict[str, str] = {source_id: target_id}
        source_description = self.description_of(source_id)
        children = [self.subtree_spec(c) for c in self.children(source_id)]
        self.remove(source_id)
        existing = {self.graph.nodes[c]["name"].casefold(): c for c in self.children(target_id)}
        for spec in children:
            match = existing.get(spec["name"].casefold())
            old_id = join_id(source_id, spec["slug"])
            if match:  # same-named child on both sides: merge recursively
                mapping[old_id] = match
                for grandchild in spec["children"]:
                    self._graft(match, grandchild, mapping, old_parent=old_id)
            else:
                self._graft(target_id, spec, mapping, old_parent=source_id)
        if not self.description_of(target_id) and source_description:
            self.set_description(target_id, source_description)
        return mapping

    def subtree_spec(self, node_id: str) -> dict[str, Any]:
        data = self.graph.nodes[node_id]
        return {
            "name": data["name"],
            "slug": node_id.rsplit("/", 1)[-1],
            "description": data.get("description"),
            "children": [self.subtree_spec(c) for c in self.children(node_id)],
        }

    def _graft(
        self, parent_id: str, spec: dict[str, Any], mapping: dict[str, str], old_parent: str
    ) -> str:
        old_id = join_id(old_parent, spec["slug"])
        slug = spec["slug"] if join_id(parent_id, spec["slug"]) not in self.graph else None
        new_id = self.add(parent_id, spec["name"], spec.get("description"), slug=slug)
        mapping[old_id] = new_id
        for child in spec["children"]:
            self._graft(new_id, child, mapping, old_parent=old_id)
        return new_id

    def rename(self, node_id: str, name: str) -> None:
        """Change the display name; the id stays (ids are stable, names are labels)."""
        self._require(node_id)
        if not name or not name.strip():
            raise DataError(f"node {node_id!r}: empty name", where="taxonomy")
        self.graph.nodes[node_id]["name"] = name.strip()

    def set_description(self, node_id: str, description: str | None) -> None:
        self._require(node_id)
        self.graph.nodes[node_id]["description"] = description or None

    # --- reading -------------------------------------------------------------------------
    def _require(self, node_id: str) -> None:
        if node_id == ROOT or node_id not in self.graph:
            raise DataError(f"no node {node_id!r}", where=f"taxonomy {self.name}")

    def __contains__(self, node_id: object) -> bool:
        return isinstance(node_id, str) and node_id != ROOT and node_id in self.graph

    def __len__(self) -> int:
        return self.graph.number_of_nodes() - 1

    def __iter__(self) -> Iterator[str]:
        return iter(self.ids())

    def ids(self) -> list[str]:
        """Every path id in pre-order (parents before children, siblings in order)."""
        return [
            n for n in nx.dfs_preorder_nodes(self.graph, ROOT, sort_neighbors=None) if n != ROOT
        ]

    def node(self, node_id: str) -> TaxonomyNode:
        self._require(node_id)
        data = self.graph.nodes[node_id]
        return TaxonomyNode(path_id=node_id, name=data["name"], description=data.get("description"))

    def name_of(self, node_id: str) -> str:
        return self.graph.nodes[node_id]["name"]

    def description_of(self, node_id: str) -> str | None:
        return self.graph.nodes[node_id].get("description")

    def nodes(self) -> list[TaxonomyNode]:
        return [self.node(n) for n in self.ids()]

    def children(self, node_id: str = ROOT) -> list[str]:
        if node_id not in self.graph:
            raise DataError(f"no node {node_id!r}", where=f"taxonomy {self.name}")
        return list(self.graph.successors(node_id))

    def parent(self, node_id: str) -> str | None:
        """The parent's id, or ``None`` for a top-level domain."""
        self._require(node_id)
        parent = next(iter(self.graph.predecessors(node_id)))
        return None if parent == ROOT else parent

    def ancestors(self, node_id: str) -> list[str]:
        """From the domain down to the parent."""
        chain = []
        current = self.parent(node_id)
        while current is not None:
            chain.append(current)
            current = self.parent(current)
        return chain[::-1]

    def descendants(self, node_id: str) -> list[str]:
        if node_id not in self.graph:
            raise DataError(f"no node {node_id!r}", where=f"taxonomy {self.name}")
        return [n for n in nx.dfs_preorder_nodes(self.graph, node_id) if n != node_id]

    def is_leaf(self, node_id: str) -> bool:
        return self.graph.out_degree(node_id) == 0

    def leaves(self, under: str = ROOT) -> list[str]:
        nodes = self.descendants(under) if under else self.ids()
        return [n for n in nodes if self.graph.out_degree(n) == 0]

    def domains(self) -> list[str]:
        return self.children(ROOT)

    def depth_of(self, node_id: str) -> int:
        return node_id.count("/") + 1 if node_id else 0

    @property
    def depth(self) -> int:
        """Levels below the root (a domain alone is depth 1)."""
        return max((self.depth_of(n) for n in self.ids()), default=0)

    def domain_of(self, node_id: str) -> str:
        self._require(node_id)
        return node_id.split("/", 1)[0]

    def path_names(self, node_id: str) -> list[str]:
        return [self.name_of(n) for n in [*self.ancestors(node_id), node_id]]

    def find(self, name: str, under: str = ROOT) -> list[str]:
        """Ids of nodes whose name matches ``name`` (case-insensitive)."""
        wanted = name.strip().casefold()
        return [n for n in (self.descendants(under)) if self.name_of(n).casefold() == wanted]

    def content_hash(self) -> str:
        """Hash of structure, names and descriptions (not of the taxonomy's own name)."""
        return content_key(
            "taxonomy",
            [(n, self.name_of(n), self.description_of(n)) for n in self.ids()],
            length=64,
        )

    def copy(self) -> Taxonomy:
        new = Taxonomy(self.name, self.description)
        new.graph = self.graph.copy()
        return new

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and self.content_hash() == other.content_hash()

    def __repr__(self) -> str:
        return f"Taxonomy({self.name!r}, nodes={len(self)}, leaves={len(self.leaves())}, depth={self.depth})"

    # --- views ---------------------------------------------------------------------------
    def slice(
        self,
        domains: Iterable[str] | None = None,
        max_depth: int | None = None,
        max_children: int | None = None,
        under: str | None = None,
    ) -> Taxonomy:
        """A smaller copy for demos and prompts: some domains, a depth cap, the first N children."""
        keep_domains = set(domains) if domains is not None else None
        if keep_domains is not None:
            unknown = keep_domains - set(self.domains())
            if unknown:
                raise DataError(f"no domain {sorted(unknown)[0]!r}", where=f"taxonomy {self.name}")
        out = Taxonomy(self.name, self.description)

        def copy_children(src: str, dst: str, level: int) -> None:
            if max_depth is not None and level > max_depth:
                return
            kids = self.children(src)
            if max_children is not None:
                kids = kids[:max_children]
            for child in kids:
                if src == ROOT and keep_domains is not None and child not in keep_domains:
                    continue
                new_id = out.add(
                    dst,
                    self.name_of(child),
                    self.description_of(child),
                    slug=child.rsplit("/", 1)[-1],
                )
                copy_children(child, new_id, level + 1)

        if under:
            self._require(under)
            root_id = out.add(
                ROOT, self.name_of(under), self.description_of(under), slug=under.rsplit("/", 1)[-1]
            )
            copy_children(under, root_id, 2)
        else:
            copy_children(ROOT, ROOT, 1)
        return out

    def render(
        self, *, descriptions: bool = True, max_depth: int | None = None, under: str = ROOT
    ) -> str:
        """The tree as indented text with ids, the way LLM prompts show it."""
        lines: list[str] = []
        for node_id in self.descendants(under) if under else self.ids():
            level = self.depth_of(node_id) - (self.depth_of(under) if under else 0)
            if max_depth is not None and level > max_depth:
                continue
            text = f"{'  ' * (level - 1)}- {node_id} ({self.name_of(node_id)})"
            desc = self.description_of(node_id)
            if descriptions and desc:
                text += f": {desc}"
            lines.append(text)
        return "\n".join(lines)

    def stats(self) -> dict[str, int]:
        return {
            "nodes": len(self),
            "leaves": len(self.leaves()),
            "depth": self.depth,
            "domains": len(self.domains()),
        }
