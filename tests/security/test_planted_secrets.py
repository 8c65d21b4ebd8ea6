"""Issue 15 item 1: a secret planted in every place a user could put one never reaches the
store (file and WAL), the logs, the CLI output, the exports (csv / jsonl / parquet) or the
dashboard's HTTP responses. Credentials in a job are refused; keys from the registry are used
(the simulated servers demand them) and never written; ``${VAR}`` values are shown as templates."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from judgebench.sim.server import ServerThread, SimServer
from tests.jobs.conftest import job_dict, write_queries
from tests.security.helpers import run_cli

ENV_KEY = "sk-planted-env-7c1d9e4a2b"  # registry api_key_env (an env var with an odd name)
INLINE_KEY = "planted-inline-5e8f0a3c6d"  # registry inline api_key
WRONG_KEY = "planted-wrong-9b2c7d1e4f"  # a registry key its server rejects (and echoes back)
JOB_KEY = "planted-jobparam-3a6b9c2d5e"  # what a user puts in a job's params
ODD_VAR = "planted-oddvar-8d4e1f7a0b"  # a ${VAR} of a name that says nothing about secrets
PARAM_SECRET = "planted-regparam-6f2a8c4e1d"  # a credential passed as a registry param
HEADER_SECRET = "planted-header-2d7b5e9a3c"  # a registry header
SECRETS = [ENV_KEY, INLINE_KEY, WRONG_KEY, JOB_KEY, ODD_VAR, PARAM_SECRET, HEADER_SECRET]


@pytest.fixture
def servers() -> Iterator[dict[str, SimServer]]:
    """Three simulated providers, each demanding its key."""
    started = {}
    threads = []
    for name, key in (("env", ENV_KEY), ("inline", INLINE_KEY), ("wrong", "the-right-key-0000")):
        server = SimServer(api_key=key)
        thread = ServerThread(server)
        thread.start()
        started[name], threads = server, [*threads, thread]
    yield started
    for thread in threads:
        thread.stop()


def _out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    code, out, err = run_cli(monkeypatch, capsys, *args)
    return code, out + err


def _job(tmp_path: Path, name: str, data: dict[str, Any]) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def _dashboard_responses(db: Path) -> str:
    """What the dashboard sends over HTTP: the index, the layout, and every page the router
    callback renders, plus the drill-down panel of every query."""
    from judgebench.dashboard.app import create_app
    from judgebench.dashboard.views import drilldown

    app = create_app(str(db), background_refresh=False)
    client = app.server.test_client()
    bodies = [
        client.get(p).get_data(as_text=True) for p in ("/", "/_dash-layout", "/_dash-dependencies")
    ]
    views = [v.id for v in app.jb_views] if hasattr(app, "jb_views") else []
    for path in ["/", *(f"/{v}" for v in views), "/runs", "/drilldown", "/judge-health"]:
        payload = {
            "output": "page.children",
            "outputs": {"id": "page", "property": "children"},
            "inputs": [
                {"id": "url", "property": "pathname", "value": path},
                {"id": "url", "property": "search", "value": ""},
            ],
            "changedPropIds": ["url.pathname"],
        }
        reply = client.post("/_dash-update-component", json=payload)
        assert reply.status_code in (200, 204), reply.get_data(as_text=True)[:300]
        bodies.append(reply.get_data(as_text=True))
    ctx = app.jb_context
    from judgebench.db import Store

    for query in Store(str(db)).get_queries():
        bodies.append(
            json.dumps(drilldown.query_panel(ctx, query.id).to_plotly_json(), default=str)
        )
    return "\n".join(bodies)


def test_planted_secrets_are_nowhere(tmp_path, monkeypatch, capsys, caplog, servers):  # type: ignore[no-untyped-def]
    from judgebench.jobs.export import export_run

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("JB_UPSTREAM_CREDS", ENV_KEY)
    monkeypatch.setenv("JB_RUN_TAG", ODD_VAR)
    monkeypatch.setenv("JB_PARAM_VALUE", JOB_KEY)
    registry = {
        "models": {
            "acme/env": {
                "api_base": servers["env"].url,
                "api_key_env": "JB_UPSTREAM_CREDS",
                "wire_model": "sim/coder",
                "params": {
                    "aws_secret_access_key": PARAM_SECRET,
                    "extra_headers": {"X-Tenant-Auth": HEADER_SECRET},
                },
            },
            "acme/inline": {
                "api_base": servers["inline"].url,
                "api_key": INLINE_KEY,
                "wire_model": "sim/writer",
            },
            "acme/wrong": {
                "api_base": servers["wrong"].url,
                "api_key": WRONG_KEY,
                "wire_model": "sim/small",
                "max_retries": 0,
            },
        }
    }
    (tmp_path / "judgebench.yaml").write_text(yaml.safe_dump(registry), encoding="utf-8")
    db = tmp_path / "store.db"
    queries = write_queries(tmp_path / "queries.jsonl", 3)
    good = job_dict(
        f"sqlite:///{db}", queries, models=("acme/env", "acme/inline", "acme/wrong"), pairwise=False
    )
    good["judges"] = [{"kind": "pairwise", "model": "sim/judge"}]
    good["name"] = "planted"
    good["taxonomy"] = {"source": "default", "max_depth": 2}
    good["queries"]["limit"] = 3
    good["max_error_rate"] = 1.0
    outputs = []

    # 1. credentials in the job itself: refused, exit 2, nothing stored
    refused = {
        "params.api_key": {"api_key": JOB_KEY},
        "params.api_key from an odd variable": {"api_key": "${JB_PARAM_VALUE}"},
        "params.apiKey": {"apiKey": JOB_KEY},
        "headers": {"extra_headers": {"Authorization": f"Bearer {JOB_KEY}"}},
        "URL with a password": {"api_base": f"http://user:{JOB_KEY}@127.0.0.1:1/v1"},
        "a ${VAR} of any name in params": {"user": "${JB_PARAM_VALUE}"},
        "a key-shaped value": {"note": f"sk-{JOB_KEY}"},
    }
    for name, params in refused.items():
        bad = json.loads(json.dumps(good))
        bad["models"][0]["params"] = {**bad["models"][0]["params"], **params}
        code, text = _out(monkeypatch, capsys, "run", _job(tmp_path, "bad", bad), "--no-probe")
        assert code == 2 and "model registry" in text, (name, text)
        outputs.append(text)
    assert not db.exists()  # refused before the store was created

    # 2. keys in the registry: used (each server demands its key), never written
    code, text = _out(
        monkeypatch, capsys, "run", _job(tmp_path, "bad", dict(good, name="n-${JB_RUN_TAG}"))
    )
    assert code == 2 and "not allowed in the job name" in text
    outputs.append(text)
    # a value from a variable of any name: used, but stored and shown only as its template
    tagged = tmp_path / ODD_VAR
    tagged.mkdir()
    write_queries(tagged / "queries.jsonl", 3)
    monkeypatch.setenv("JB_RUN_TAG", str(tagged))
    run_job = dict(good, queries={**good["queries"], "files": ["${JB_RUN_TAG}/queries.jsonl"]})
    job_file = _job(tmp_path, "job", run_job)
    code, text = _out(monkeypatch, capsys, "run", job_file, "--no-preflight", "--quiet")
    outputs.append(text)
    assert code in (0, 1), text
    assert servers["env"].stats["status_200"] > 0 and servers["inline"].stats["status_200"] > 0
    assert servers["wrong"].stats["status_401"] > 0  # it echoed the wrong key back

    from judgebench.db import Store

    store = Store(str(db))
    responses = store.get_responses()
    by_model = {
        m: [r for r in responses if r.model == m] for m in ("acme/env", "acme/inline", "acme/wrong")
    }
    assert by_model["acme/env"] and all(r.status == "ok" for r in by_model["acme/env"])
    assert by_model["acme/inline"] and all(r.status == "ok" for r in by_model["acme/inline"])
    assert not any(r.status == "ok" for r in by_model["acme/wrong"])
    (run,) = store.list_runs(kind="job")
    assert run.counts["responses"]["error"] == 3  # the 401s are error rows (grepped below)
    assert run.config["job"]["queries"]["files"] == ["${JB_RUN_TAG}/queries.jsonl"]
    store.engine.dispose()

    # 3. exports and the dashboard
    for fmt in ("csv", "jsonl", "parquet"):
        for path in export_run(str(db), run.id, fmt, tmp_path / f"export-{fmt}"):
            outputs.append(path.read_bytes().decode("latin-1"))
            if fmt == "parquet":
                import pandas as pd

                outputs.append(pd.read_parquet(path).to_json())
    code, text = _out(
        monkeypatch,
        capsys,
        "export",
        "--db",
        str(db),
        "--run",
        run.id,
        "--format",
        "jsonl",
        "--out",
        str(tmp_path / "cli-export"),
    )
    assert code == 0, text
    outputs.append(text)
    outputs.append(_dashboard_responses(db))
    outputs.append("\n".join(r.getMessage() + str(r.exc_text or "") for r in caplog.records))

    # 4. the store, byte for byte (main file and WAL, read before anything checkpoints)
    for part in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        if part.exists():
            outputs.append(part.read_bytes().decode("latin-1"))

    everything = "\n".join(outputs)
    for secret in SECRETS:
        where = everything.find(secret)
        assert where < 0, f"{secret} found: ...{everything[max(0, where - 200) : where + 50]!r}"
