"""The tree: path ids, structure edits, views, and file round trips."""

from __future__ import annotations

import pytest

from judgebench.errors import DataError
from judgebench.taxonomy import (
    DEFAULT_DOMAINS,
    load_default_taxonomy,
    load_taxonomy,
    save_taxonomy,
    slugify,
    validate,
)


def test_slugs_keep_symbols_readable():
    assert slugify("C++ / C#") == "c-plus-plus-c-sharp"
    assert slugify("  Émile's  Poems ") == "emile-s-poems"
    assert slugify("???") == "node"


def test_ids_are_paths_and_unique_even_when_names_repeat(tree):
    again = tree.add("writing", "Poetry")
    assert again == "writing/poetry-2"
    assert tree.name_of(again) == tree.name_of("writing/poetry") == "Poetry"
    assert len(set(tree.ids())) == len(tree)
    with pytest.raises(DataError, match="duplicate id 'writing/poetry'"):
        tree.add("writing", "Other", slug="poetry")
    with pytest.raises(DataError, match="empty name"):
        tree.add("writing", "  ")


def test_navigation(tree):
    assert tree.domains() == ["coding", "writing"]
    assert tree.children("coding") == ["coding/programming-languages", "coding/task-types"]
    assert tree.parent("coding/programming-languages/python") == "coding/programming-languages"
    assert tree.parent("coding") is None
    assert tree.ancestors("coding/task-types/debugging") == ["coding", "coding/task-types"]
    assert tree.domain_of("coding/task-types/debugging") == "coding"
    assert set(tree.leaves("coding")) == {
        "coding/programming-languages/python",
        "coding/programming-languages/rust",
        "coding/task-types/debugging",
        "coding/task-types/code-review",
    }
    assert tree.depth == 3 and tree.depth_of("writing/poetry") == 2
    assert tree.descendants("writing") == ["writing/poetry", "writing/essay"]
    assert tree.find("python") == ["coding/programming-languages/python"]
    with pytest.raises(DataError, match="no node 'nope'"):
        tree.parent("nope")


def test_move_rewrites_ids_below_and_refuses_cycles(tree):
    mapping = tree.move("coding/programming-languages", "writing")
    assert mapping["coding/programming-languages/python"] == "writing/programming-languages/python"
    assert "writing/programming-languages/rust" in tree
    assert "coding/programming-languages" not in tree
    with pytest.raises(DataError, match="own subtree"):
        tree.move("writing", "writing/programming-languages")
    validate(tree)


def test_merge_unions_subtrees(tree):
    tree.add("coding/task-types/debugging", "Stack Traces")
    other = tree.add("coding/task-types", "Bug Fixing")
    tree.add(other, "Stack traces")
    tree.add(other, "Segfaults")
    mapping = tree.merge(other, "coding/task-types/debugging")
    assert mapping[other] == "coding/task-types/debugging"
    kids = [tree.name_of(k) for k in tree.children("coding/task-types/debugging")]
    assert kids == ["Stack Traces", "Segfaults"]  # same-named children merged, not duplicated
    assert other not in tree
    validate(tree)


def test_content_hash_tracks_content_not_name(tree):
    before = tree.content_hash()
    copy = tree.copy()
    copy.name = "renamed"
    assert copy.content_hash() == before
    copy.set_description("writing/poetry", "Rhymes")
    assert copy.content_hash() != before
    assert tree.content_hash() == before  # the copy is independent


def test_slice_and_render(tree):
    part = tree.slice(domains=["coding"], max_depth=2)
    assert part.ids() == ["coding", "coding/programming-languages", "coding/task-types"]
    first = tree.slice(max_children=1)
    assert first.ids() == [
        "coding",
        "coding/programming-languages",
        "coding/programming-languages/python",
    ]
    text = tree.render(max_depth=2)
    assert "- coding (Coding): Writing and fixing code" in text
    assert "  - coding/task-types (Task Types): What is asked" in text
    assert "python" not in text
    with pytest.raises(DataError, match="no domain 'math'"):
        tree.slice(domains=["math"])


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
@pytest.mark.parametrize("fmt", ["nested", "flat"])
def test_file_round_trip(tree, tmp_path, suffix, fmt):
    tree.add("writing", "Poetry")  # a repeated name survives through its id
    path = save_taxonomy(tree, tmp_path / f"t{suffix}", fmt=fmt)
    loaded = load_taxonomy(path)
    assert loaded.ids() == tree.ids()
    assert loaded == tree
    assert loaded.name == "small"


def test_default_taxonomy_shape():
    tax = load_default_taxonomy()
    assert tuple(tax.domains()) == DEFAULT_DOMAINS
    assert len(tax) >= 150
    validate(tax)
    for domain in tax.domains():
        assert len(tax.children(domain)) >= 2, domain  # classification dimensions
    described = sum(bool(tax.description_of(n)) for n in tax.ids())
    assert described == len(tax)
    assert "coding/programming-languages/markup-and-configuration/xml" in tax
