"""``judgebench synth`` end to end on the simulated models: store, output file, resume, errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from judgebench.cli import app

SEEDS = [
    "Write a Python function that parses ISO 8601 dates and returns a datetime in UTC.",
    "Fix this JavaScript: my fetch call to /api/users in React returns a pending promise.",
    "Write a SQL query that finds the top 3 customers by revenue per month in 2023.",
    "How do I reverse a linked list in C++ in place? Show the code and explain the pointers.",
    "Write a bash script that backs up /var/www to S3 every night and keeps 7 copies.",
    "Explain how Rust's borrow checker rejects two mutable references with a small example.",
]


def run(*args: str):
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_synth_into_the_store_then_rerun_is_free(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("\n".join(json.dumps({"text": t}) for t in SEEDS) + "\n")
    db = str(tmp_path / "jb.db")
    args = [
        "synth",
        "--seeds",
        str(seeds),
        "--per-node",
        "2",
        "--under",
        "coding/task-types",
        "--db",
        db,
        "--encoder",
        "lexical",
        "--out",
        str(tmp_path / "kept.jsonl"),
        "--seed",
        "1",
    ]
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert "simulated" in first.output and "kept" in first.output
    kept = [json.loads(line) for line in (tmp_path / "kept.jsonl").read_text().splitlines()]
    assert kept and all(
        q["source"] == "synth" and q["provenance"]["target_node"].startswith("coding/task-types")
        for q in kept
    )
    assert all(q["metadata"] == {"simulated": True} for q in kept), kept[0]["metadata"]

    from judgebench.db import Store

    store = Store(db)
    assert {q.id for q in store.get_queries(source="synth")} == {q["id"] for q in kept}
    [synth_run] = store.list_runs(kind="synth")
    assert synth_run.status == "finished" and synth_run.config["per_node"] == 2
    second = run(*args)
    assert second.exit_code == 0
    calls_line = next(line for line in second.output.splitlines() if "│ calls" in line)
    assert calls_line.split("│")[2].strip() == "0"


def test_bad_inputs_are_one_line_errors(tmp_path, monkeypatch, capsys):
    from judgebench.cli import main

    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": \n')
    (tmp_path / "latin1.yaml").write_bytes("note: caf\u00e9\n".encode("latin-1"))
    for argv, message in [
        (["synth", "--seeds", str(bad), "--config", "latin1.yaml"], "latin1.yaml: unreadable"),
        (["synth", "--seeds", str(bad)], "bad.jsonl:2: invalid JSON"),
        (["synth", "--seeds", "missing.csv"], "missing.csv: seed file not found"),
        (["synth", "--seeds", "db"], "--seeds db needs --db"),
        (["synth", "--seeds", str(bad), "--min-quality", "9"], "min_quality"),
        (["synth", "--seeds", str(bad), "--taxonomy", "nope.yaml"], "taxonomy file not found"),
    ]:
        monkeypatch.setattr("sys.argv", ["judgebench", *argv])
        try:
            main()
        except SystemExit as exc:
            assert exc.code == 2, argv
        else:
            raise AssertionError(f"no error for {argv}")
        err = capsys.readouterr().err.strip()
        assert err.startswith("error: ") and message in err and "\n" not in err, err
    assert not (tmp_path / "synth-progress.jsonl").exists()


def test_seeds_from_the_store(tmp_path, monkeypatch):
    from judgebench.db import Store
    from judgebench.records import Query

    monkeypatch.chdir(tmp_path)
    db = str(tmp_path / "jb.db")
    Store(db).put_queries(
        [Query(text=t, source="user", node_ids=["coding/task-types/debugging"]) for t in SEEDS]
    )
    result = run(
        "synth",
        "--seeds",
        "db:user",
        "--db",
        db,
        "--per-node",
        "1",
        "--under",
        "coding/task-types/debugging",
        "--encoder",
        "lexical",
        "--reassign",
        "none",
    )
    assert result.exit_code == 0, result.output
    [query] = Store(db).get_queries(source="synth")
    user_ids = {q.id for q in Store(db).get_queries(source="user")}
    assert (
        query.provenance["seed_scope"] == "leaf" and set(query.provenance["seed_ids"]) <= user_ids
    )
    assert query.provenance["reassign"]["mode"] == "none"
