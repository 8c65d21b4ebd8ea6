"""Rule-based pruning (no LLM): collapse single-child chains, cap depth, require ``min_children``.

Every rule returns where removed nodes went (``{removed_id: surviving_id}``), so queries
assigned to a removed node can be moved to the node that absorbed it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from judgebench.taxonomy.tree import Taxonomy


@dataclass
class PruneReport:
    collapsed: dict[str, str] = field(default_factory=dict)
    too_deep: dict[str, str] = field(default_factory=dict)
    too_few_children: dict[str, str] = field(default_factory=dict)

    @property
    def mapping(self) -> dict[str, str]:
        """Removed id → surviving id, following chains (a node folded twice lands on the last)."""
        merged = {**self.collapsed, **self.too_deep, **self.too_few_children}

        def follow(node: str) -> str:
            seen = set()
            while node in merged and node not in seen:
                seen.add(node)
                node = merged[node]
            return node

        return {old: follow(new) for old, new in merged.items()}

    @property
    def removed(self) -> int:
        return len(self.collapsed) + len(self.too_deep) + len(self.too_few_children)


def collapse_single_child_chains(taxonomy: Taxonomy) -> dict[str, str]:
    """A node with exactly one child absorbs it: the grandchildren move up, the child goes.

    The parent keeps its (more general) name and id, so domains stay where they are.
    """
    mapping: dict[str, str] = {}
    changed = True
    while changed:
        changed = False
        for node_id in taxonomy.ids():
            if node_id not in taxonomy:
                continue
            kids = taxonomy.children(node_id)
            if len(kids) != 1:
                continue
            only = kids[0]
            if not taxonomy.description_of(node_id) and taxonomy.description_of(only):
                taxonomy.set_description(node_id, taxonomy.description_of(only))
            moved = {}
            for grandchild in taxonomy.children(only):
                moved.update(taxonomy.move(grandchild, node_id))
            mapping.update(moved)
            taxonomy.remove(only)
            mapping[only] = node_id
            changed = True
    return mapping


def cap_depth(taxonomy: Taxonomy, max_depth: int) -> dict[str, str]:
    """Fold every node deeper than ``max_depth`` into its ancestor at ``max_depth``."""
    mapping: dict[str, str] = {}
    for node_id in taxonomy.ids():
        if (
            node_id in taxonomy
            and taxonomy.depth_of(node_id) == max_depth
            and not taxonomy.is_leaf(node_id)
        ):
            for gone in taxonomy.descendants(node_id):
                mapping[gone] = node_id
            for child in taxonomy.children(node_id):
                taxonomy.remove(child)
    return mapping


FEEDBACKER_MIN_CHILDREN_FROM_DEPTH = 4
"""Feedbacker (taxonomy/layer_pruning.py, ``filter_tree`` with ``max_depth = 4 - 1``) counts
depth inside one domain's tree, classification dimensions being depth 1: nodes at its depth ≥ 3
keep their children only with ≥ ``min_nodes`` (5). Here the domain is depth 1, so that is 4."""


def require_min_children(
    taxonomy: Taxonomy, min_children: int, from_depth: int = FEEDBACKER_MIN_CHILDREN_FROM_DEPTH
) -> dict[str, str]:
    """A node at depth ≥ ``from_depth`` (domain = 1, classification dimension = 2) keeps its
    children only if it has at least ``min_children`` (Feedbacker used 5): fewer are folded into
    it, which becomes a leaf. The default applies the rule where Feedbacker does."""
    mapping: dict[str, str] = {}
    for node_id in reversed(taxonomy.ids()):  # bottom-up, so folding cascades correctly
        if node_id not in taxonomy or taxonomy.depth_of(node_id) < from_depth:
            continue
        kids = taxonomy.children(node_id)
        if 0 < len(kids) < min_children:
            for gone in taxonomy.descendants(node_id):
                mapping[gone] = node_id
            for child in kids:
                taxonomy.remove(child)
    return mapping


def prune(
    taxonomy: Taxonomy,
    *,
    max_depth: int | None = 6,
    min_children: int | None = None,
    min_children_from_depth: int = FEEDBACKER_MIN_CHILDREN_FROM_DEPTH,
    collapse_chains: bool = True,
) -> PruneReport:
    """Apply the rules in place (chains, depth, min_children) and report what went where."""
    report = PruneReport()
    if collapse_chains:
        report.collapsed = collapse_single_child_chains(taxonomy)
    if max_depth is not None:
        report.too_deep = cap_depth(taxonomy, max_depth)
    if min_children:
        report.too_few_children = require_min_children(
            taxonomy, min_children, min_children_from_depth
        )
    return report
