"""Minimum-children pruning against Feedbacker's own code.

Reference: liudan193/Feedbacker, taxonomy/layer_pruning.py, ``filter_tree(tree, max_depth,
min_nodes)``, run per domain with ``max_depth = 4; max_depth -= 1`` and ``min_nodes = 5``. Its
``tree`` is ONE domain's tree, so its depth 1 is the classification-dimension layer. The
function is transcribed below (comments shortened) and applied to each domain's subtree; our
``prune`` on the whole taxonomy (domains on top) must give the same tree.
"""

from __future__ import annotations

import random

from judgebench.taxonomy import Taxonomy
from judgebench.taxonomy.prune import prune


def feedbacker_filter_tree(tree: dict, max_depth: int, min_nodes: int) -> dict:
    def process_subtree(subtree, current_depth):
        if not subtree:
            return {}
        result = {}
        for key, value in subtree.items():
            if current_depth < max_depth:
                result[key] = process_subtree(value, current_depth + 1)
            else:
                direct_child_count = len(value)
                if direct_child_count >= min_nodes:
                    result[key] = process_subtree(value, current_depth + 1)
                else:
                    result[key] = {}
        return result

    return process_subtree(tree, 1)


def random_tree(rng: random.Random, depth: int, prefix: str) -> dict:
    if depth == 0:
        return {}
    width = rng.choice([0, 1, 2, 3, 5, 6]) if depth < 5 else rng.choice([2, 5, 6])
    return {f"{prefix}{i}": random_tree(rng, depth - 1, f"{prefix}{i}.") for i in range(width)}


def to_taxonomy(domains: dict[str, dict]) -> Taxonomy:
    tax = Taxonomy("ref")

    def add(parent: str, children: dict) -> None:
        for name, sub in children.items():
            add(tax.add(parent, name), sub)

    add("", domains)
    return tax


def as_dict(tax: Taxonomy, node: str = "") -> dict:
    return {tax.name_of(kid): as_dict(tax, kid) for kid in tax.children(node)}


def test_min_children_depth_matches_feedbacker_filter_tree():
    rng = random.Random(7)
    pruned = 0
    for trial in range(20):
        domains = {f"D{trial}x{d}": random_tree(rng, 5, f"n{d}.") for d in range(2)}
        expected = {
            name: feedbacker_filter_tree(sub, max_depth=4 - 1, min_nodes=5)
            for name, sub in domains.items()
        }
        tax = to_taxonomy(domains)
        prune(tax, max_depth=None, min_children=5, collapse_chains=False)
        assert as_dict(tax) == expected
        pruned += expected != domains
    assert pruned >= 10  # the rule did fold sub-trees in most trials


def test_a_category_with_few_children_keeps_them():
    # domain → dimension → category with 2 sub-categories: Feedbacker keeps them (its depth 2
    # is below max_depth 3); the old rule (from our depth 3) folded them away
    domains = {"Coding": {"Task Types": {"Debugging": {"Python": {}, "C": {}}, "Review": {}}}}
    tax = to_taxonomy(domains)
    prune(tax, max_depth=None, min_children=5, collapse_chains=False)
    assert as_dict(tax) == domains
