"""Every judge kind in a job: the example job end to end (export carries each judge and its
shape, a rerun makes 0 calls), unknown kinds refused before any write, kill -9 / budget stop
then resume giving the rows of an uninterrupted run, and judges needing an extra skipped."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from judgebench.cli import app
from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from tests.jobs.conftest import (
    EXAMPLES,
    all_judges,
    fresh_gateway,
    job_dict,
    llm_call_rows,
    table_rows,
    write_job,
    write_queries,
)

SHAPES = {
    "pc2": "pointwise",
    "rubric": "pointwise",
    "pairwise": "pairwise",
    "prp": "listwise",
    "meta_ranking": "reliability",
    "trlm": "likelihood",
}


def _run(job_data: dict):  # type: ignore[no-untyped-def]
    job = parse_job(job_data)
    store = Store(job.store)
    gateway = fresh_gateway(store)
    return JobRunner(job, store=store).run(), gateway


def test_the_all_judges_example_exports_every_judge_and_reruns_for_free(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGEBENCH_DB", f"sqlite:///{tmp_path / 'all.db'}")
    monkeypatch.chdir(tmp_path)
    cli = CliRunner()
    first = cli.invoke(app, ["run", str(EXAMPLES / "all-judges.yaml"), "--quiet"])
    assert first.exit_code == 0, first.output
    assert "judgments: 102 ok, 0 invalid, 0 error, 0 skipped" in first.output
    again = cli.invoke(app, ["run", str(EXAMPLES / "all-judges.yaml"), "--quiet"])
    assert again.exit_code == 0 and "LLM calls 0 " in again.output, again.output
    out = tmp_path / "export"
    exported = cli.invoke(
        app,
        ["export", "--run", "all-judges", "--format", "jsonl", "--db", str(tmp_path / "all.db")]
        + ["--out", str(out)],
    )
    assert exported.exit_code == 0, exported.output
    rows = [json.loads(line) for line in (out / "judgments.jsonl").read_text().splitlines()]
    assert {r["judge"] for r in rows} == set(SHAPES)
    assert all(r["shape"] == SHAPES[r["judge"]] for r in rows)
    # the summary reads each judge by its shape
    run = Store(str(tmp_path / "all.db")).list_runs(kind="job")[0]
    by_model = {m["model"]: m for m in run.config["summary"]["models"]}
    for m in by_model.values():
        assert set(m["scores"]) == {"pc2:sim/judge", "rubric:sim/judge", "trlm:sim/large"}
        assert set(m["win_rates"]) == {"pairwise:sim/judge", "prp:sim/judge"}
        assert 0 <= m["reliability"]["meta_ranking:sim/judge"]["reliable_pct"] <= 100
    assert set(by_model["sim/small"]["win_rates"]["pairwise:sim/judge"]) >= {"win_rate", "n"}
    # a reliability row says whether the response is reliable under the calibrated tau
    meta = [r for r in rows if r["judge"] == "meta_ranking"]
    tau = meta[0]["details"]["tau_calibrated"]["tau"]
    assert all(r["details"]["reliable"] == (r["score"] > tau) for r in meta)


def test_an_unknown_judge_kind_is_one_line_exit_2_and_writes_nothing(tiny, tmp_path):
    data = tiny("never.db")
    data["judges"][1]["kind"] = "pariwise"
    job_file = write_job(tmp_path / "job.yaml", data)
    result = subprocess.run(
        [sys.executable, "-m", "judgebench", "run", str(job_file), "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: job.yaml: judges[1]: unknown judge 'pariwise' — did you mean 'pairwise'?"
    )
    assert not (tmp_path / "never.db").exists() and not result.stdout


def test_judge_settings_are_checked_by_the_judges_own_model(tiny):
    data = tiny()
    data["judges"] = [{"kind": "meta_ranking", "model": "sim/judge", "n_refs": 3}]
    with pytest.raises(Exception, match=r"judges\[0\]: references: field required"):
        parse_job(data)
    data["judges"] = [{"kind": "prp", "model": "sim/judge", "method": "bubble"}]
    with pytest.raises(Exception, match=r"judges\[0\]: method: Input should be 'allpairs'"):
        parse_job(data)
    data["judges"] = [{"kind": "rubric", "model": "sim/judge", "baseline": "sim/small"}]
    with pytest.raises(Exception, match="baseline: rubric is not a pairwise judge"):
        parse_job(data)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alljudges")
    queries = write_queries(folder / "queries.jsonl", 8)
    url = f"sqlite:///{folder / 'ref.db'}"
    result, _ = _run(job_dict(url, queries, judges=all_judges(), chunk_size=3))
    assert result.status == "ok", result.reason
    return queries, url


@pytest.mark.slow
def test_kill_9_then_rerun_equals_an_uninterrupted_run_for_every_judge(uninterrupted, tmp_path):
    from judgebench.db.models import JudgmentRow
    from tests.jobs.test_resume import _kill_after

    queries, ref_url = uninterrupted
    url = f"sqlite:///{tmp_path / 'killed.db'}"
    data = job_dict(url, queries, judges=all_judges(), chunk_size=3)
    assert _kill_after(write_job(tmp_path / "job.yaml", data), url, JudgmentRow, 30) >= 30
    assert len(table_rows(url)["judgments"]) < len(table_rows(ref_url)["judgments"])
    before = llm_call_rows(url)
    result, gateway = _run(data)
    assert result.status == "ok", result.reason
    assert gateway.stats.calls == llm_call_rows(url) - before  # nothing recorded is re-asked
    assert table_rows(url) == table_rows(ref_url)
    rerun, gateway = _run(data)
    assert rerun.status == "ok" and gateway.stats.calls == 0


def test_a_budget_stop_then_resume_equals_an_uninterrupted_run(uninterrupted, tmp_path):
    queries, ref_url = uninterrupted
    url = f"sqlite:///{tmp_path / 'capped.db'}"
    data = job_dict(url, queries, judges=all_judges(), chunk_size=3)
    stopped, gateway = _run({**data, "budget": {"max_calls": 120}})
    assert stopped.status == "stopped" and gateway.stats.calls <= 120
    result, _ = _run({**data, "budget": {"max_calls": 5000}})
    assert result.status == "ok", result.reason
    assert table_rows(url) == table_rows(ref_url)
    assert llm_call_rows(url) == llm_call_rows(ref_url)


def test_a_judge_needing_the_local_extra_is_skipped_with_a_note(tiny, monkeypatch, caplog):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a)
    )
    data = tiny(pairwise=False)
    data["judges"].append({"kind": "trlm", "backend": "hf:/models/gpt2"})
    result, _ = _run(data)
    assert result.status == "ok", result.reason
    assert "skipped judge trlm:hf:/models/gpt2: needs the local extra" in caplog.text
    assert {j.judge for j in Store(data["store"]).get_judgments()} == {"pc2"}


def test_rankings_become_pairwise_outcomes_per_query():
    import pandas as pd

    from judgebench.jobs.summary import ranking_pairs

    rankings = pd.DataFrame(
        {
            "query_id": ["q1", "q1", "q1", "q2", "q2"],
            "model": ["m/b", "m/a", "m/c", "m/a", "m/b"],
            "score": [1.0, 0.5, 0.0, 0.0, 0.0],
        }
    )
    pairs = ranking_pairs(rankings)
    assert pairs.values.tolist() == [
        ["q1", "m/a", "m/b", 0.0],
        ["q1", "m/a", "m/c", 1.0],
        ["q1", "m/b", "m/c", 1.0],
        ["q2", "m/a", "m/b", 0.5],
    ]


@pytest.mark.real_data
def test_meta_ranking_references_from_a_judge_eval_label_set(tiny):
    from tests.conftest import shared_path

    shared_path("llmbar", "LLMBar/Natural", "dataset.json")  # skips when the data is absent
    data = tiny(pairwise=False)
    data["judges"] = [
        {
            "kind": "meta_ranking",
            "model": "sim/judge",
            "references": "label-set:llmbar-natural",
            "n_refs": 2,
        }
    ]
    result, _ = _run(data)
    assert result.status == "ok", result.reason
    judged = Store(data["store"]).get_judgments(judge="meta_ranking")
    assert len(judged) == 36 and all(j.shape == "reliability" for j in judged)
    # every reference compared with is an LLMBar pair's response (both labels drawn)
    refs = {(r["correct"]) for j in judged for r in j.details["references"]}
    assert refs == {True, False}


def test_a_likelihood_judge_is_built_once_per_worker_not_per_chunk(tiny, monkeypatch):
    from judgebench.judges.trlm import TRLMScorer

    built = []
    make = TRLMScorer.from_settings.__func__  # type: ignore[attr-defined]

    def counting(cls, settings, resources):  # type: ignore[no-untyped-def]
        built.append(settings.backend)
        return make(cls, settings, resources)

    monkeypatch.setattr(TRLMScorer, "from_settings", classmethod(counting))
    data = tiny(judges=[{"kind": "trlm", "backend": "sim/large"}], chunk_size=3)
    result, _ = _run(data)
    assert result.status == "ok" and result.stages["judgments"]["ok"] == 36
    assert built == ["sim/large"]  # 4 chunks, one scorer (a local model would load once)
