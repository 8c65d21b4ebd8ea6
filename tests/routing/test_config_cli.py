"""router.yaml and the ``judgebench router`` commands: one-line errors, serve, train, log,
calibrate."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml
from typer.testing import CliRunner

from judgebench.cli import app, main
from judgebench.db import Store
from judgebench.errors import ConfigError, DataError
from judgebench.records import Judgment, Query, Response
from judgebench.routing import CascadeRouter, SelectionRouter, build_router, load_config
from judgebench.routing.config import load_references

REPO = Path(__file__).resolve().parents[2]


def _refs_file(tmp_path: Path, refs) -> Path:  # type: ignore[no-untyped-def]
    path = tmp_path / "refs.jsonl"
    path.write_text(
        "\n".join(
            json.dumps({"query": r.query, "response": r.response, "correct": r.correct})
            for r in refs
        )
    )
    return path


def _cascade_yaml(tmp_path: Path, refs, **extra) -> Path:  # type: ignore[no-untyped-def]
    _refs_file(tmp_path, refs)
    cfg = {
        "name": "test-cascade",
        "kind": "cascade",
        "store": "jb.db",
        "cascade": {
            "models": ["sim/large", "sim/small"],
            "judge": {"model": "sim/judge", "n_references": 2},
            "references": "refs.jsonl",
        },
        "server": {"port": 0, "api_key_env": "JB_CLI_TEST_KEYS"},
        **extra,
    }
    path = tmp_path / "router.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_config_builds_a_cascade_with_paths_relative_to_the_file(tmp_path, refs):
    cfg = load_config(_cascade_yaml(tmp_path, refs))
    assert cfg.cascade.references == tmp_path / "refs.jsonl" and cfg.store == str(
        tmp_path / "jb.db"
    )
    router = build_router(cfg)
    assert isinstance(router, CascadeRouter) and router.models == ["sim/small", "sim/large"]
    out = router.complete_sync([{"role": "user", "content": "What is 4 + 4?"}])
    assert out.text and type(router.log).__name__ == "SqlRoutingLog"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.pop("kind"), "router.yaml: kind: Field required"),
        (lambda c: c.update(kind="selection"), "kind selection needs a 'selection:' section"),
        (
            lambda c: c["cascade"].update(models=["sim/small"]),
            "cascade.models: List should have at least 2 items",
        ),
        (lambda c: c["server"].update(port="soon"), "server.port: Input should be a valid integer"),
        (lambda c: c.update(surprise=1), "surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_configs_are_one_line_errors(tmp_path, refs, mutate, message):
    path = _cascade_yaml(tmp_path, refs)
    data = yaml.safe_load(path.read_text())
    mutate(data)
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="router.yaml: ") as err:
        load_config(path)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_bad_thresholds_and_references(tmp_path, refs):
    path = _cascade_yaml(tmp_path, refs)
    data = yaml.safe_load(path.read_text())
    data["cascade"]["thresholds"] = [0.1, 0.2, 0.3]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match="cascade.thresholds: 2 models need 1 thresholds"):
        build_router(load_config(path))
    (tmp_path / "refs.jsonl").write_text('{"query": "q", "response": "r"}\n')
    with pytest.raises(DataError, match="refs.jsonl:1: need query"):
        load_references(tmp_path / "refs.jsonl")
    gsm = tmp_path / "gsm.jsonl"
    gsm.write_text(
        '{"question": "1+1?", "solution": "2", "is_correct": true}\n{"question": "2+2?", "solution": "5", "is_correct": false}\n'
    )
    assert [r.correct for r in load_references(gsm)] == [True, False]


def test_serve_command_answers_over_http(tmp_path, refs):
    path = _cascade_yaml(tmp_path, refs)
    env = {**os.environ, "JB_CLI_TEST_KEYS": "k1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "judgebench", "router", "serve", str(path), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        line = proc.stdout.readline()
        assert "router test-cascade (cascade: sim/small, sim/large) on http://127.0.0.1:" in line, (
            line
        )
        url = line.split(" on ")[1].split(" ")[0]
        reply = httpx.post(
            f"{url}/chat/completions",
            json={"messages": [{"role": "user", "content": "What is 5 + 6?"}]},
            headers={"Authorization": "Bearer k1"},
            timeout=30,
        )
        assert reply.status_code == 200 and reply.headers["X-Judgebench-Model"] in (
            "sim/small",
            "sim/large",
        )
    finally:
        proc.terminate()
        proc.wait(10)
    deadline = time.time() + 5
    while time.time() < deadline:  # the shutdown flush has written the decision
        result = CliRunner().invoke(app, ["router", "log", "--db", str(tmp_path / "jb.db")])
        if "test-cascade" in result.output:
            break
        time.sleep(0.2)
    assert "test-cascade" in result.output and "1" in result.output


def test_serve_without_keys_is_a_one_line_error(tmp_path, refs, monkeypatch, capsys):
    monkeypatch.delenv("JB_CLI_TEST_KEYS", raising=False)
    monkeypatch.setattr(
        "sys.argv", ["judgebench", "router", "serve", str(_cascade_yaml(tmp_path, refs))]
    )
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "JB_CLI_TEST_KEYS holds no API key" in err and "\n" not in err


def test_train_from_stored_judgments_then_serve_config(tmp_path):
    store = Store(tmp_path / "jb.db")
    judgments, queries = [], []
    for i in range(12):
        for kind, text in (
            ("code", f"Write a Python function number {i} to sort a list."),
            ("poem", f"Write a poem number {i} about snow."),
        ):
            q = Query(text=text, node_ids=[kind])
            queries.append(q)
            for model, good in (("sim/coder", kind == "code"), ("sim/writer", kind == "poem")):
                answer = Response(query_id=q.id, model=model, text=f"{model} answer {i}")
                judgments.append(
                    Judgment(
                        judge="rubric",
                        judge_model="sim/judge",
                        query_id=q.id,
                        response_id=answer.id,
                        model=model,
                        template_name="t",
                        template_hash="h",
                        score=9 if good else 3,
                        params={"scale": [1, 10]},
                    )
                )
    store.put_queries(queries)
    store.put_judgments(judgments)
    out = tmp_path / "sel.npz"
    result = CliRunner().invoke(
        app,
        [
            "router",
            "train",
            "--db",
            str(tmp_path / "jb.db"),
            "--judge",
            "rubric",
            "--models",
            "sim/coder,sim/writer",
            "--out",
            str(out),
            "--encoder",
            "lexical",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "trained on 17 queries × 2 models" in result.output and "7 held out" in result.output
    evaluated = CliRunner().invoke(
        app, ["router", "eval", str(out), "--db", str(tmp_path / "jb.db"), "--judge", "rubric"]
    )
    assert evaluated.exit_code == 0, evaluated.output
    assert (
        "7 held-out queries" in evaluated.output
        and "learned top-1" in evaluated.output
        and "APGR" in evaluated.output
    )
    cfg = tmp_path / "sel.yaml"
    cfg.write_text(yaml.safe_dump({"kind": "selection", "selection": {"model_file": "sel.npz"}}))
    router = build_router(load_config(cfg))
    assert isinstance(router, SelectionRouter)
    assert (
        router.complete_sync(
            [{"role": "user", "content": "Write a Python function to merge lists."}]
        ).model
        == "sim/coder"
    )


def test_calibrate_command_prints_the_curve_and_writes_thresholds(tmp_path, refs):
    path = _cascade_yaml(tmp_path, refs)
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_text(
        "\n".join(
            json.dumps({"question": f"What is {a} + {a}?", "answer": f"#### {2 * a}"})
            for a in range(2, 8)
        )
    )
    result = CliRunner().invoke(
        app,
        [
            "router",
            "calibrate",
            str(path),
            "--labelled",
            str(labelled),
            "--value",
            "0.5",
            "--write",
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "cost–quality curve" in result.output and "thresholds written" in result.output
    written = yaml.safe_load(path.read_text())["cascade"]["thresholds"]
    assert len(written) == 1 and (written[0] is None or math.isfinite(written[0]))


def test_read_only_commands_name_a_missing_store_or_file_and_create_nothing(tmp_path, refs):
    missing = tmp_path / "typo.db"
    for args in (
        ["router", "log", "--db", str(missing)],
        ["router", "train", "--db", str(missing), "--judge", "rubric", "--models", "a/x,b/y"],
    ):
        result = CliRunner().invoke(app, args)
        assert isinstance(result.exception, DataError) and "no store here" in str(result.exception)
    assert not missing.exists()
    config = str(_cascade_yaml(tmp_path, refs))
    result = CliRunner().invoke(
        app, ["router", "calibrate", config, "--labelled", "nope.jsonl", "--value", "0.5"]
    )
    assert isinstance(result.exception, DataError)
    assert str(result.exception) == "nope.jsonl: labelled file not found"
