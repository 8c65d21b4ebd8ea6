"""``judgebench taxonomy`` end to end: validate, import/versions, export, show, build, assign."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from judgebench.cli import app, main
from judgebench.taxonomy import load_taxonomy, save_taxonomy


def run(*args: str):
    result = CliRunner().invoke(app, ["taxonomy", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_import_versions_export_show(tree, tmp_path):
    path = save_taxonomy(tree, tmp_path / "t.yaml")
    db = str(tmp_path / "jb.db")
    assert "ok:" in run("validate", str(path)) and "10 nodes" in run("validate", str(path))
    assert "new version 1" in run("import", str(path), "--db", db)
    assert "unchanged, existing version 1" in run("import", str(path), "--db", db)
    tree.add("writing", "Limericks")
    save_taxonomy(tree, path)
    assert "new version 2" in run("import", str(path), "--db", db, "--note", "limericks")
    listing = run("show", "--db", db, "--versions")
    assert "limericks" in listing and "small" in listing
    out = tmp_path / "fb.json"
    run("export", str(out), "--db", db, "--version", "1", "--format", "feedbacker")
    assert set(json.loads(out.read_text())["Writing"]) == {"Poetry", "Essay"}
    shown = run("show", "--db", db, "--depth", "2")
    assert "writing/limericks" in shown and "0 queries" in shown and "python" not in shown


def test_build_then_assign_into_the_store(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        "\n".join(
            json.dumps({"text": t})
            for t in [
                "Write a Python script that renames files by date.",
                "Compose a limerick about a cat who codes.",
                "Debug my Rust borrow checker error in a linked list.",
            ]
        )
    )
    db = str(tmp_path / "jb.db")
    args = [
        "build",
        "--model",
        "sim/large",
        "--base",
        "default",
        "--queries",
        str(queries),
        "--db",
        db,
        "--no-refine",
    ]
    first = run(*args)
    assert "stored as version 1" in first and "llm_calls 0" not in first
    second = run(*args)
    assert "llm_calls 0" in second and "(unchanged)" in second
    audit = run("decisions", "taxonomy-build.jsonl")
    assert "insert" in audit and "tag" in audit
    row = next(line for line in audit.splitlines() if "│ tag" in line)
    assert int(row.split("│")[-2]) > 0  # tokens were recorded
    built = load_taxonomy(tmp_path / "taxonomy.yaml")
    assert len(built) > 200
    out = tmp_path / "assigned.jsonl"
    text = run(
        "assign",
        "--queries",
        str(queries),
        "--taxonomy",
        "db",
        "--db",
        db,
        "--encoder",
        "lexical",
        "--min-confidence",
        "0",
        "--out",
        str(out),
    )
    assert "assigned 3 of 3" in text and "version 1" in text
    assert "lexical assignment without examples on" in text  # the one-line warning
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["node_ids"] and r["method"] == "combined" for r in rows)
    from judgebench.db import Store

    stored = {q.text: q for q in Store(db).get_queries()}
    for r in rows:  # the ids written are the stored queries' ids, with the same confidences
        query = stored[r["text"]]
        assert query.id == r["id"] and query.node_ids == r["node_ids"]
        assert query.node_confidence == pytest.approx(r["node_confidence"])
        assert 0 < r["confidence"] == pytest.approx(min(r["node_confidence"].values()))
    again = run("assign", "--taxonomy", "db", "--db", db, "--method", "llm", "--model", "sim/large")
    assert "3 queries already assigned under version 1" in again and "assigned 0 of 0" in again
    redo = run(
        "assign",
        "--taxonomy",
        "db",
        "--db",
        db,
        "--method",
        "llm",
        "--model",
        "sim/large",
        "--redo",
    )
    assert "of 3 queries (llm)" in redo and (tmp_path / "taxonomy-assign.jsonl").exists()
    # batched by default; --batch-size 1 asks one query per prompt
    batched = (tmp_path / "taxonomy-assign.jsonl").read_text().splitlines()
    assert batched and all(json.loads(line).get("batch") for line in batched)
    one = run(
        "assign",
        "--taxonomy",
        "db",
        "--db",
        db,
        "--method",
        "llm",
        "--model",
        "sim/large",
        "--redo",
        "--batch-size",
        "1",
        "--log",
        "single.jsonl",
    )
    assert "of 3 queries (llm)" in one
    single = (tmp_path / "single.jsonl").read_text().splitlines()
    assert single and not any(json.loads(line).get("batch") for line in single)
    shown = run("show", "--db", db, "--depth", "1")
    assert "3 queries" in shown or "2 queries" in shown or "1 queries" in shown


def test_assign_a_flat_label_set_with_examples_keeps_the_input_fields(tmp_path):
    labels = tmp_path / "labels.json"
    labels.write_text(
        json.dumps({"name": "labels", "nodes": [{"id": n, "name": n} for n in ("code", "poem")]})
    )
    examples = tmp_path / "examples.jsonl"
    lines = [{"text": f"fix my {w} program", "label": "code"} for w in ("python", "rust", "go")]
    lines += [{"text": f"a {w} poem please", "node_id": "poem"} for w in ("love", "sea", "moon")]
    examples.write_text("\n".join(json.dumps(x) for x in lines))
    queries = tmp_path / "q.jsonl"
    queries.write_text(
        json.dumps({"text": "my rust program crashes", "uid": "a1", "meta": {"k": 1}})
        + "\nwrite a poem about the sea\n"
    )
    out = tmp_path / "out.jsonl"
    common = ["--taxonomy", str(labels), "--queries", str(queries), "--examples", str(examples)]
    common += ["--encoder", "lexical"]
    text = run("assign", *common, "--min-confidence", "0", "--out", str(out))
    assert "assigned 2 of 2" in text and "warning" not in text
    first, second = [json.loads(line) for line in out.read_text().splitlines()]
    assert first["uid"] == "a1" and first["meta"] == {"k": 1}  # the input's fields are kept
    assert first["node_ids"] == ["code"] and second["node_ids"] == ["poem"]
    assert first["id"] and first["id"] != second["id"]
    assert 0.5 < first["confidence"] <= 1 and first["node_confidence"] == {
        "code": first["confidence"]
    }
    db = str(tmp_path / "jb.db")
    run("assign", *common, "--min-confidence", "0", "--db", db)
    shown = run("show", str(labels), "--db", db, "--min-confidence", "0.999")
    assert "1 queries (0 confident)" in shown  # both are assigned, neither is that sure
    assert "confident" not in run("show", str(labels), "--db", db, "--min-confidence", "0")
    strict = run("assign", *common, "--min-confidence", "1", "--out", str(out), "--db", db)
    assert "assigned 0 of 2" in strict and "unassigned 2" in strict
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(r["status"] == "unassigned" and r["node_ids"] == [] for r in rows)
    assert "below min_confidence 1" in rows[0]["reason"]
    from judgebench.analysis.confidence import assignment_counts
    from judgebench.db import Store

    counts = assignment_counts(Store(db).get_queries(), 1.0).set_index("node_id")
    # stored as unassigned, each with its best guess: the report counts them as tentative
    assert counts.loc["unassigned", "queries"] == 2
    assert counts.loc["code", "tentative"] == 1 and counts.loc["poem", "tentative"] == 1


def _build(candidates: str) -> list[str]:
    return ["taxonomy", "build", "--model", "sim/large", "--candidates", candidates]


def _assign_with(examples: str) -> list[str]:
    return ["taxonomy", "assign", "--queries", "queries.txt", "--examples", examples]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["taxonomy", "validate", "missing.yaml"], "missing.yaml: taxonomy file not found"),
        (["taxonomy", "import", "missing.yaml"], "needs --db"),
        (["taxonomy", "assign", "--method", "llm"], "--method llm needs --model"),
        (["taxonomy", "show", "--version", "3"], "--version needs --db"),
        (["taxonomy", "validate", "empty.json"], "empty.json: the taxonomy has no nodes"),
        (["taxonomy", "import", "empty.json", "--db", "t.db"], "has no nodes"),
        (_build("cut.jsonl"), "cut.jsonl: line 2 is not JSON"),
        (_build("nameless.jsonl"), "nameless.jsonl: line 1 has no 'name'"),
        (_build("missing.txt"), "missing.txt: file not found"),
        (_build("latin1.txt"), "latin1.txt: cannot read"),
        (["taxonomy", "validate", "latin1.txt"], "latin1.txt: cannot read"),
        (_assign_with("cut.jsonl"), "cut.jsonl:1: invalid JSON"),
        (_assign_with("nameless.jsonl"), "nameless.jsonl:1: needs 'text' and 'node_id'"),
        (_assign_with("missing.jsonl"), "missing.jsonl: file not found"),
        (_assign_with("unknown.jsonl"), "unknown.jsonl:1: label 'cooking' is not one node"),
        (
            ["taxonomy", "assign", "--queries", "queries.txt", "--min-confidence", "2"],
            "--min-confidence must lie in [0, 1]",
        ),
        (
            [
                "taxonomy",
                "assign",
                "--queries",
                "queries.txt",
                "--method",
                "llm",
                "--model",
                "sim/large",
                "--batch-size",
                "0",
            ],
            "--batch-size",
        ),
    ],
)
def test_errors_are_one_line(argv, message, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty.json").write_text("[]")
    (tmp_path / "cut.jsonl").write_text('Go\n{"name": "Rust"\n')
    (tmp_path / "nameless.jsonl").write_text('{"description": "systems"}\n')
    (tmp_path / "unknown.jsonl").write_text('{"text": "bake bread", "label": "cooking"}\n')
    (tmp_path / "latin1.txt").write_bytes("Café\n".encode("latin-1"))
    (tmp_path / "queries.txt").write_text("How do I sort a list?\n")
    monkeypatch.setattr("sys.argv", ["judgebench", *argv])
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert not (tmp_path / "t.db").exists()  # a refused input changes nothing
