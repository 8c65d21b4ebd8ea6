"""Bad taxonomy files and trees get one-line errors that name the file and the node."""

from __future__ import annotations

import json

import pytest

from judgebench.errors import DataError
from judgebench.taxonomy import Taxonomy, load_taxonomy, problems, validate


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.json", '{"children": [', "not valid JSON"),
        ("broken.yaml", "children:\n  - name: a\n   - b: [", "not valid YAML"),
        ("list.json", "[1, 2]", "child 1 of '<root>': expected a mapping"),
        ("scalar.yaml", "just text", "not a taxonomy"),
        (
            "empty.json",
            '{"children": [{"name": "Coding", "children": [{"name": " "}]}]}',
            "child 1 of 'coding': empty name",
        ),
        (
            "dup.json",
            '{"children": [{"name": "A", "id": "x"}, {"name": "B", "id": "x"}]}',
            "node 'b': duplicate id 'x'",
        ),
        ("badid.yaml", "children:\n  - {name: A, id: Not A Slug}\n", "is not a slug"),
        (
            "field.yaml",
            "children:\n  - {name: A, colour: red}\n",
            "node 'a': unknown field 'colour'",
        ),
        (
            "cycle.json",
            json.dumps(
                {
                    "nodes": [
                        {"id": "a", "name": "A", "parent": "b"},
                        {"id": "b", "name": "B", "parent": "a"},
                    ]
                }
            ),
            "cycle",
        ),
        (
            "orphan.json",
            json.dumps({"nodes": [{"id": "a", "name": "A", "parent": "zz"}]}),
            "node 'a': parent 'zz' does not exist",
        ),
        (
            "flatdup.json",
            json.dumps({"nodes": [{"id": "a", "name": "A"}, {"id": "a", "name": "B"}]}),
            "node 'a': duplicate id",
        ),
        (
            "fb.json",
            json.dumps({"writing": {"Poems": []}}),
            "node 'writing/poems': expected a mapping of children, got list",
        ),
        ("fb2.json", json.dumps({"writing": 3}), "not a taxonomy"),
    ],
)
def test_bad_files(tmp_path, name, text, message):
    path = _write(tmp_path, name, text)
    with pytest.raises(DataError) as info:
        load_taxonomy(path)
    error = str(info.value)
    assert message in error and str(path) in error, error
    assert "\n" not in error


def test_yaml_alias_cycle_is_named(tmp_path):
    text = "children:\n  - &a\n    name: Loop\n    children:\n      - *a\n"
    # refused while parsing (judgebench.safe_yaml), before the recursive tree is built
    with pytest.raises(DataError, match="anchor at line 2 refers to itself"):
        load_taxonomy(_write(tmp_path, "loop.yaml", text))


def test_missing_file(tmp_path):
    with pytest.raises(DataError, match="taxonomy file not found"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_problems_in_a_hand_edited_graph():
    tax = Taxonomy("t")
    a = tax.add("", "A")
    b = tax.add(a, "B")
    assert problems(tax) == []
    tax.graph.add_edge(b, a)  # a second parent and a cycle
    found = problems(tax)
    assert any("2 parents (not a tree)" in p for p in found)
    assert any("cycle" in p for p in found)
    with pytest.raises(
        DataError, match=r"taxonomy t: node 'a': has 2 parents \(not a tree\) \(and \d+ more\)"
    ):
        validate(tax)
    clean = Taxonomy("t")
    clean.add("", "A")
    clean.graph.nodes["a"]["name"] = ""
    with pytest.raises(DataError, match="node 'a': empty name"):
        validate(clean)


def test_csv_needs_its_columns(tmp_path):
    good = _write(tmp_path, "t.csv", "id,name,parent,description\nc,Coding,,code\nc/py,Python,c,\n")
    assert load_taxonomy(good).ids() == ["c", "c/py"]
    with pytest.raises(DataError, match="bad.csv: CSV needs columns id"):
        load_taxonomy(_write(tmp_path, "bad.csv", "a,b\n1,2\n"))
