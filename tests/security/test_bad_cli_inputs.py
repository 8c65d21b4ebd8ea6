"""Issue 15 items 6 and 8: a bad input (job, registry, data file, flag) is refused with one
line on stderr and exit 2, before the first write: the store is unchanged, byte for byte and
row for row, whatever the case in the table below."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.jobs.conftest import job_dict, write_queries
from tests.security.helpers import BOMB, run_cli


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A store holding one finished run of a tiny simulated job, and the job's files."""
    from judgebench.db import Store
    from judgebench.jobs import JobRunner, parse_job
    from judgebench.llm import set_gateway

    base = tmp_path_factory.mktemp("bad-cli")
    queries = write_queries(base / "queries.jsonl", 4)
    db = base / "store.db"
    good = job_dict(f"sqlite:///{db}", queries, models=("sim/coder", "sim/writer"), pairwise=False)
    good["judges"] = [{"kind": "pairwise", "model": "sim/judge"}]
    (base / "good.yaml").write_text(yaml.safe_dump(good), encoding="utf-8")
    set_gateway(None)
    result = JobRunner(parse_job(good)).run()
    assert result.status == "ok"
    Store(db).engine.dispose()
    set_gateway(None)
    return {"base": base, "db": db, "good": good, "run": result.run_id}


def _snapshot(db: Path) -> tuple[str, dict[str, list[Any]]]:
    """(sha256 of the file and its WAL, every table's rows in order). The WAL is folded into
    the file first, so a connection of an earlier case closing later (SQLite checkpoints on the
    last close) cannot change the bytes; any write since the last snapshot still does."""
    import sqlite3

    con = sqlite3.connect(db)
    try:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    digest = hashlib.sha256()
    for part in (db, db.with_name(db.name + "-wal")):
        if part.exists():
            digest.update(part.read_bytes())
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        rows = {n: sorted(map(repr, con.execute(f'select * from "{n}"'))) for n in sorted(names)}
    finally:
        con.close()
    return digest.hexdigest(), rows


def _job(world: dict[str, Any], name: str, **changes: Any) -> str:
    """A job file beside the good one with ``changes`` applied (``None`` deletes a key)."""
    data = json.loads(json.dumps(world["good"]))
    for key, value in changes.items():
        target, _, leaf = key.rpartition(".")
        node = data
        for part in filter(None, target.split(".")):
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[leaf] = value
    folder = world["base"] / name
    folder.mkdir(exist_ok=True)
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return str(path)


def _file(world: dict[str, Any], name: str, content: str | bytes) -> str:
    path = world["base"] / "files" / name
    path.parent.mkdir(exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def _folder_with_registry(world: dict[str, Any], name: str, registry: str) -> str:
    job = _job(world, name)
    (Path(job).parent / "judgebench.yaml").write_text(registry, encoding="utf-8")
    return job


def _router_yaml(world: dict[str, Any], name: str, references: str) -> str:
    """A cascade router config (its store beside it, not the world's)."""
    cfg = {
        "name": name,
        "kind": "cascade",
        "store": str(world["base"] / f"{name}.db"),
        "cascade": {
            "models": ["sim/large", "sim/small"],
            "judge": {"model": "sim/judge", "n_references": 1},
            "references": references,
        },
    }
    return _file(world, f"{name}.yaml", yaml.safe_dump(cfg))


def _judge_template(world: dict[str, Any], name: str, path: str, key: str = "pairwise") -> str:
    """The good job with its pairwise judge's ``key`` template overridden by ``path``."""
    judge = {"kind": "pairwise", "model": "sim/judge", "templates": {key: path}}
    return _job(world, name, judges=[judge])


def _sparse(world: dict[str, Any], name: str) -> str:
    path = Path(_file(world, name, ""))
    with path.open("r+b") as fh:
        fh.truncate(2 << 30)  # no blocks written: 2 GB that read() would still return
    return str(path)


DEEP = "[" * 100_000 + "]" * 100_000
GOOD_REFS = (
    '{"query": "What is 2+2?", "response": "Step 1: 2+2 = 4. Answer: 4", "correct": true}\n'
    '{"query": "What is 3+3?", "response": "about 7", "correct": false}\n'
)
LATIN = b'{"query": "caf\xe9", "response": "4", "correct": true}\n'

Case = Callable[[dict[str, Any]], list[str]]
CASES: dict[str, tuple[Case, str]] = {
    # --- job files (item 6: no failed run row, no new taxonomy version) ---
    "query file with a broken line": (
        lambda w: [
            "run",
            _job(w, "q1", **{"queries.files": [_file(w, "q.jsonl", '{"text": "a"}\n{oops\n')]}),
            "--no-probe",
        ],
        "q.jsonl",
    ),
    "query file missing": (
        lambda w: [
            "run",
            _job(w, "q2", **{"queries.files": [str(w["base"] / "nope.jsonl")]}),
            "--no-probe",
        ],
        "nope.jsonl",
    ),
    "query file not UTF-8": (
        lambda w: [
            "run",
            _job(w, "q3", **{"queries.files": [_file(w, "latin.jsonl", b'{"text": "caf\xe9"}\n')]}),
            "--no-probe",
        ],
        "latin.jsonl",
    ),
    "query rows without text": (
        lambda w: [
            "run",
            _job(w, "q4", **{"queries.files": [_file(w, "notext.jsonl", '{"id": 1}\n')]}),
            "--no-probe",
        ],
        "notext.jsonl",
    ),
    "taxonomy file not YAML": (
        lambda w: [
            "run",
            _job(w, "t1", taxonomy={"source": _file(w, "tax.yaml", "children: [a\n")}),
            "--no-probe",
        ],
        "tax.yaml",
    ),
    "taxonomy file with a cycle": (
        lambda w: [
            "run",
            _job(
                w,
                "t2",
                taxonomy={
                    "source": _file(
                        w, "loop.yaml", "children:\n  - &a\n    name: L\n    children: [*a]\n"
                    )
                },
            ),
            "--no-probe",
        ],
        "loop.yaml",
    ),
    "taxonomy file missing": (
        lambda w: [
            "run",
            _job(w, "t3", taxonomy={"source": str(w["base"] / "none.yaml")}),
            "--no-probe",
        ],
        "none.yaml",
    ),
    "taxonomy slice under an unknown node": (
        lambda w: [
            "run",
            _job(w, "t4", taxonomy={"source": "default", "under": "no/such/node"}),
            "--no-probe",
        ],
        "no/such/node",
    ),
    "synth seeds file missing": (
        lambda w: [
            "run",
            _job(w, "s1", **{"queries.synth": {"seeds": str(w["base"] / "seeds.jsonl")}}),
            "--no-probe",
        ],
        "seeds.jsonl",
    ),
    "synth under an unknown node": (
        lambda w: ["run", _job(w, "s2", **{"queries.synth": {"under": ["nowhere"]}}), "--no-probe"],
        "nowhere",
    ),
    "job file not UTF-8": (
        lambda w: ["run", _file(w, "latin-job.yaml", b"name: caf\xe9\n"), "--no-probe"],
        "not UTF-8",
    ),
    "job file alias bomb": (
        lambda w: ["run", _file(w, "bomb-job.yaml", BOMB), "--no-probe"],
        "expands",
    ),
    "job with concurrency 0": (
        lambda w: ["run", _job(w, "j1", concurrency=0), "--no-probe"],
        "concurrency",
    ),
    "job with an unknown field": (
        lambda w: ["run", _job(w, "j2", modles=[]), "--no-probe"],
        "modles",
    ),
    # --- the model registry (judgebench.yaml) ---
    "registry not YAML": (
        lambda w: ["run", _folder_with_registry(w, "r1", "models:\n  a: b: c\n"), "--no-probe"],
        "judgebench.yaml",
    ),
    "registry with an unknown field": (
        lambda w: ["run", _folder_with_registry(w, "r2", "modelz: {}\n"), "--no-probe"],
        "modelz",
    ),
    "registry alias bomb": (
        lambda w: ["run", _folder_with_registry(w, "r3", BOMB), "--no-probe"],
        "expands",
    ),
    "registry model without http base": (
        lambda w: [
            "run",
            _folder_with_registry(w, "r4", "models:\n  x/y: {api_base: ftp://h}\n"),
            "--no-probe",
        ],
        "api_base",
    ),
    "--config file missing": (
        lambda w: ["run", _job(w, "c1"), "--config", str(w["base"] / "nope.yaml"), "--no-probe"],
        "nope.yaml",
    ),
    # --- flags (item 8) ---
    "dashboard --port -1": (
        lambda w: ["dashboard", "--db", str(w["db"]), "--port", "-1"],
        "--port",
    ),
    "dashboard --port 70000": (
        lambda w: ["dashboard", "--db", str(w["db"]), "--port", "70000"],
        "--port",
    ),
    "scheduler --poll -1": (
        lambda w: ["scheduler", "--db", str(w["db"]), "--poll", "-1"],
        "--poll",
    ),
    "scheduler --poll 0": (lambda w: ["scheduler", "--db", str(w["db"]), "--poll", "0"], "--poll"),
    "scheduler --max-s -5": (
        lambda w: ["scheduler", "--db", str(w["db"]), "--max-s", "-5"],
        "--max-s",
    ),
    "scheduler --poll abc": (
        lambda w: ["scheduler", "--db", str(w["db"]), "--poll", "abc"],
        "--poll",
    ),
    "export --out an existing file": (
        lambda w: [
            "export",
            "--db",
            str(w["db"]),
            "--run",
            w["run"],
            "--out",
            _file(w, "exists.txt", "x"),
        ],
        "exists.txt",
    ),
    "export --out under a file": (
        lambda w: [
            "export",
            "--db",
            str(w["db"]),
            "--run",
            w["run"],
            "--out",
            _file(w, "exists2.txt", "x") + "/sub",
        ],
        "exists2.txt",
    ),
    "export --format xml": (
        lambda w: [
            "export",
            "--db",
            str(w["db"]),
            "--run",
            w["run"],
            "--format",
            "xml",
            "--out",
            str(w["base"] / "x"),
        ],
        "xml",
    ),
    "export of an unknown run": (
        lambda w: [
            "export",
            "--db",
            str(w["db"]),
            "--run",
            "no-such-run",
            "--out",
            str(w["base"] / "x"),
        ],
        "no-such-run",
    ),
    "run --junit into a folder": (
        lambda w: ["run", _job(w, "g1"), "--no-probe", "--junit", str(w["base"])],
        "--junit",
    ),
    "taxonomy export into a folder": (lambda w: ["taxonomy", "export", str(w["base"])], "folder"),
    "taxonomy export under a file": (
        lambda w: ["taxonomy", "export", _file(w, "plain.txt", "x") + "/t.yaml"],
        "plain.txt",
    ),
    "router train --out a folder": (
        lambda w: [
            "router",
            "train",
            "--db",
            str(w["db"]),
            "--judge",
            "j",
            "--models",
            "a,b",
            "--out",
            str(w["base"]),
        ],
        "--out",
    ),
    "sim-server --port -5": (lambda w: ["sim-server", "--port", "-5"], "--port"),
    "sim-server --fault-500 2": (lambda w: ["sim-server", "--fault-500", "2"], "fault rate 500"),
    "sim-server --latency-ms -1": (lambda w: ["sim-server", "--latency-ms", "-1"], "latency_ms"),
    "probe --confidence 1.5": (
        lambda w: [
            "probe",
            "language-ranker",
            "--corpus",
            "x.tsv",
            "--db",
            str(w["db"]),
            "--confidence",
            "1.5",
        ],
        "--confidence",
    ),
    "probe --bootstrap 0": (
        lambda w: [
            "probe",
            "language-ranker",
            "--corpus",
            "x.tsv",
            "--db",
            str(w["db"]),
            "--bootstrap",
            "0",
        ],
        "--bootstrap",
    ),
    "probe --top -1": (
        lambda w: [
            "probe",
            "language-ranker",
            "--corpus",
            "x.tsv",
            "--db",
            str(w["db"]),
            "--top",
            "-1",
        ],
        "--top",
    ),
    "judge-eval --limit 0": (
        lambda w: ["judge-eval", "llmbar-natural", "--db", str(w["db"]), "--limit", "0"],
        "limit must be at least 1",
    ),
    "synth --per-node 0": (
        lambda w: ["synth", "--seeds", "db", "--db", str(w["db"]), "--per-node", "0"],
        "--per-node",
    ),
    "router references not UTF-8": (
        lambda w: [
            "router",
            "calibrate",
            _router_yaml(w, "r-latin", _file(w, "refs-latin.jsonl", LATIN)),
            "--labelled",
            _file(w, "lab.jsonl", GOOD_REFS),
            "--value",
            "0.5",
        ],
        "refs-latin.jsonl",
    ),
    "router calibrate --labelled not UTF-8": (
        lambda w: [
            "router",
            "calibrate",
            _router_yaml(w, "r-good", _file(w, "refs.jsonl", GOOD_REFS)),
            "--labelled",
            _file(w, "lab-latin.jsonl", LATIN),
            "--value",
            "0.5",
        ],
        "lab-latin.jsonl",
    ),
    # --- other commands that write to the store ---
    "taxonomy import of a bad file": (
        lambda w: [
            "taxonomy",
            "import",
            _file(w, "tax-bad.yaml", "children: [a\n"),
            "--db",
            str(w["db"]),
        ],
        "tax-bad.yaml",
    ),
    "taxonomy import of an alias bomb": (
        lambda w: ["taxonomy", "import", _file(w, "tax-bomb.yaml", BOMB), "--db", str(w["db"])],
        "expands",
    ),
    "import of a file with a broken line": (
        lambda w: [
            "import",
            "llmbar",
            _file(w, "llmbar.jsonl", '{"input": "a"}\n{oops\n'),
            "--db",
            str(w["db"]),
        ],
        "llmbar.jsonl",
    ),
    "import of a 2 GB sparse file": (
        lambda w: ["import", "gsm8k", _sparse(w, "huge.jsonl"), "--db", str(w["db"])],
        "huge.jsonl: larger than",
    ),
    "query file a 2 GB sparse file": (
        lambda w: [
            "run",
            _job(w, "q6", **{"queries.files": [_sparse(w, "huge-queries.jsonl")]}),
            "--no-probe",
        ],
        "huge-queries.jsonl: larger than",
    ),
    "import of a non-UTF-8 file": (
        lambda w: ["import", "gsm8k", _file(w, "gsm.jsonl", LATIN), "--db", str(w["db"])],
        "gsm.jsonl",
    ),
    "import of JSON nested 100,000 deep": (
        lambda w: ["import", "llmbar", _file(w, "deep.json", DEEP + "\n"), "--db", str(w["db"])],
        "nested too deeply",
    ),
    "import of a JSONL line nested 100,000 deep": (
        lambda w: ["import", "llmbar", _file(w, "deep.jsonl", DEEP + "\n"), "--db", str(w["db"])],
        "nested too deeply",
    ),
    "query file nested 100,000 deep": (
        lambda w: [
            "run",
            _job(w, "q5", **{"queries.files": [_file(w, "deepq.jsonl", DEEP + "\n")]}),
            "--no-probe",
        ],
        "nested too deeply",
    ),
    "taxonomy file nested 100,000 deep": (
        lambda w: ["taxonomy", "import", _file(w, "deep-tax.json", DEEP), "--db", str(w["db"])],
        "nested too deeply",
    ),
    "router references nested 100,000 deep": (
        lambda w: [
            "router",
            "calibrate",
            _router_yaml(w, "r-deep", _file(w, "refs-deep.jsonl", DEEP + "\n")),
            "--labelled",
            _file(w, "lab2.jsonl", GOOD_REFS),
            "--value",
            "0.5",
        ],
        "refs-deep.jsonl",
    ),
    "schedule add with a bad cron": (
        lambda w: ["schedule", "add", _job(w, "sched1"), "--cron", "every day"],
        "cron",
    ),
    "schedule add of a bad job": (
        lambda w: ["schedule", "add", _job(w, "sched2", concurrency=0), "--cron", "0 2 * * *"],
        "concurrency",
    ),
    "taxonomy assign --queries not UTF-8": (
        lambda w: [
            "taxonomy",
            "assign",
            "--queries",
            _file(w, "assign-latin.txt", b"caf\xe9\n"),
            "--db",
            str(w["db"]),
        ],
        "assign-latin.txt",
    ),
    # --- judge template overrides (were read at the first judge call: a traceback, exit 1,
    # a run row and its responses already written) ---
    "judge template file missing": (
        lambda w: ["run", _judge_template(w, "tpl1", str(w["base"] / "nope.j2")), "--no-probe"],
        "nope.j2",
    ),
    "judge template not valid jinja2": (
        lambda w: [
            "run",
            _judge_template(w, "tpl2", _file(w, "broken.j2", "{% if %}\n")),
            "--no-probe",
        ],
        "broken.j2: line 1",
    ),
    "judge template not UTF-8": (
        lambda w: [
            "run",
            _judge_template(w, "tpl3", _file(w, "latin.j2", b"caf\xe9 {{ query }}")),
            "--no-probe",
        ],
        "latin.j2: not UTF-8",
    ),
    "judge template a directory": (
        lambda w: ["run", _judge_template(w, "tpl4", str(w["base"])), "--no-probe"],
        "template file not found",
    ),
    "judge template a 2 GB sparse file": (
        lambda w: ["run", _judge_template(w, "tpl5", _sparse(w, "huge.j2")), "--no-probe"],
        "huge.j2: larger than",
    ),
    "judge template of no such name": (
        lambda w: [
            "run",
            _judge_template(w, "tpl6", _file(w, "ok.j2", "{{ query }}"), key="pairwyse"),
            "--no-probe",
        ],
        "templates.pairwyse: no such judge template",
    ),
    "unknown option": (lambda w: ["export", "--db", str(w["db"]), "--bogus"], "--bogus"),
    "missing option": (lambda w: ["export", "--db", str(w["db"])], "--run"),
}


RUNS = sorted(c for c in CASES if "--no-probe" in CASES[c][0].__code__.co_consts)


@pytest.mark.parametrize(
    ("case", "preflight"),
    [(c, True) for c in sorted(CASES)] + [(c, False) for c in RUNS],
)
def test_bad_input_is_refused_and_changes_nothing(world, monkeypatch, capsys, case, preflight):  # type: ignore[no-untyped-def]
    """``--no-preflight`` too: the runner checks its inputs itself (a scheduled run has no
    preflight), before the lease, the run row or the taxonomy version is written."""
    make, named = CASES[case]
    args = make(world) + ([] if preflight else ["--no-preflight"])
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, *args)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2, err
    assert len(errors) == 1 and "Traceback" not in err, err
    assert named in errors[0], errors[0]
    after = _snapshot(world["db"])
    assert after[1] == before[1]  # row for row
    assert after[0] == before[0]  # byte for byte, WAL included
