"""Pre-flight (`judgebench check`, the start of `run`) and where the settings file comes from."""

from __future__ import annotations

import socket

import pytest
import yaml

from judgebench.config import CONFIG_ENV, discover_config
from judgebench.db import Store
from judgebench.errors import ConfigError
from tests.jobs.conftest import write_job
from tests.jobs.test_outcome import cli


def closed_port() -> int:
    """A local port nothing listens on (connection refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_check_names_an_unknown_model_and_writes_nothing(tiny, tmp_path, monkeypatch, capsys):
    data = tiny(models=("sim/does-not-exist", "sim/small"))
    job = write_job(tmp_path / "job.yaml", data)
    assert cli(monkeypatch, "check", str(job)) == 2
    err = capsys.readouterr().err
    problems = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(problems) == 1
    assert "job.yaml: models[0].name: sim/does-not-exist" in problems[0]
    # `run` checks first: the same exit, before the store exists
    assert cli(monkeypatch, "run", str(job), "--quiet") == 2
    assert not (tmp_path / "store.db").exists()
    # and without the check, the run is stored as failed
    assert cli(monkeypatch, "run", str(job), "--quiet", "--no-preflight") == 1
    (run,) = Store(data["store"]).list_runs(kind="job")
    assert run.status == "failed" and "sim/does-not-exist" in run.reason


def test_missing_key_and_dead_endpoint_are_named_never_the_key(tiny, tmp_path, monkeypatch, capsys):
    secret = "sk-test-4f1e9c0d7b"
    monkeypatch.setenv("JB_PRESENT_KEY", secret)
    monkeypatch.delenv("JB_ABSENT_KEY", raising=False)
    base = f"http://127.0.0.1:{closed_port()}/v1"
    registry = {
        "models": {
            "local/keyless": {"api_base": base, "api_key_env": "JB_ABSENT_KEY"},
            "local/dead": {"api_base": base, "api_key_env": "JB_PRESENT_KEY"},
        }
    }
    (tmp_path / "judgebench.yaml").write_text(yaml.safe_dump(registry), encoding="utf-8")
    job = write_job(tmp_path / "job.yaml", tiny(models=("local/keyless", "sim/small")))
    assert cli(monkeypatch, "check", str(job)) == 2
    err = capsys.readouterr().err
    assert f"settings: {tmp_path / 'judgebench.yaml'}" in err  # found next to the job file
    assert "models[0].name: local/keyless: API key variable JB_ABSENT_KEY is not set" in err

    job = write_job(tmp_path / "job.yaml", tiny(models=("local/dead", "sim/small")))
    assert cli(monkeypatch, "check", str(job)) == 2
    out, err = capsys.readouterr()
    assert "models[0].name: local/dead: probe call failed" in err
    assert secret not in out + err
    # --no-probe checks resolution and keys only
    assert cli(monkeypatch, "check", str(job), "--no-probe") == 0


def test_litellm_models_need_a_known_provider_and_its_key(tiny, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    data = tiny()
    data["judges"][0]["aux_models"] = ["sim/large", "openai/gpt-4o-mini"]
    data["judges"][1]["model"] = "nope/judge-model"  # a misspelt judge model
    job = write_job(tmp_path / "job.yaml", data)
    assert cli(monkeypatch, "check", str(job), "--no-probe") == 2
    problems = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error:")]
    assert problems == [
        "error: job.yaml: judges[0].aux_models[1]: openai/gpt-4o-mini: "
        "environment variable OPENAI_API_KEY is not set",
        "error: job.yaml: judges[1].model: nope/judge-model: no backend for this model "
        "(not a sim/ profile, no api_base in <defaults>, unknown to litellm)",
    ]


def test_a_probe_that_answered_is_not_asked_again(tiny, tmp_path, monkeypatch, capsys):
    data = tiny(pairwise=False)
    Store(data["store"])  # an existing store keeps probe replies in its call cache
    job = write_job(tmp_path / "job.yaml", data)
    assert cli(monkeypatch, "check", str(job)) == 0
    assert "probe sim: ok" in capsys.readouterr().out
    assert cli(monkeypatch, "check", str(job)) == 0
    assert "probe sim: cached" in capsys.readouterr().out


def test_config_discovery_order(tmp_path, monkeypatch):
    jobs, cwd = tmp_path / "jobs", tmp_path / "cwd"
    jobs.mkdir(), cwd.mkdir()
    for folder in (jobs, cwd):
        (folder / "judgebench.yaml").write_text("models: {}\n", encoding="utf-8")
    explicit, from_env = tmp_path / "explicit.yaml", tmp_path / "env.yaml"
    explicit.write_text("{}\n"), from_env.write_text("{}\n")
    monkeypatch.chdir(cwd)
    monkeypatch.setenv(CONFIG_ENV, str(from_env))
    job = jobs / "job.yaml"
    assert discover_config(explicit, job) == explicit.resolve()
    assert discover_config(None, job) == from_env.resolve()
    monkeypatch.delenv(CONFIG_ENV)
    assert discover_config(None, job) == (jobs / "judgebench.yaml").resolve()
    assert discover_config(None, None) == (cwd / "judgebench.yaml").resolve()
    (cwd / "judgebench.yaml").unlink()
    assert discover_config(None, None) is None
    with pytest.raises(ConfigError, match="--config"):  # a named file must exist
        discover_config(tmp_path / "typo.yaml", job)


def test_the_run_records_the_settings_file_it_used(tiny, tmp_path, monkeypatch):
    registry = tmp_path / "judgebench.yaml"
    registry.write_text(yaml.safe_dump({"models": {"sim/*": {"max_concurrency": 8}}}))
    data = tiny(pairwise=False)
    job = write_job(tmp_path / "job.yaml", data)
    monkeypatch.chdir(tmp_path.parent)  # not the job's folder: found next to the job file
    assert cli(monkeypatch, "run", str(job), "--quiet", "--no-probe") == 0
    (run,) = Store(data["store"]).list_runs(kind="job")
    assert run.config["settings"] == str(registry.resolve())
