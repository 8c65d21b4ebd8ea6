"""Job files: one-line errors with the YAML path of the bad field; ${ENV} interpolation."""

from __future__ import annotations

import pytest

from judgebench.errors import ConfigError
from judgebench.jobs.config import load_job
from tests.jobs.conftest import write_job


def test_bad_fields_name_the_file_and_the_yaml_path(tiny, tmp_path):
    data = tiny()
    del data["judges"][1]["model"]
    path = write_job(tmp_path / "job.yaml", data)
    with pytest.raises(ConfigError) as err:
        load_job(path)
    assert str(err.value) == "job.yaml: judges[1]: model: field required"

    data = tiny()
    data["models"][0]["name"] = "coder"
    with pytest.raises(ConfigError, match=r"job.yaml: models\[0\].name: needs a provider prefix"):
        load_job(write_job(path, data))

    data = tiny()
    data["concurency"] = 3
    with pytest.raises(ConfigError, match="job.yaml: concurency: unknown field"):
        load_job(write_job(path, data))

    data = tiny()
    data["judges"][0]["aux_models"] = ["sim/large"]
    with pytest.raises(
        ConfigError, match=r"judges\[0\]: aux_models: pc2 needs at least 2 aux_models"
    ):
        load_job(write_job(path, data))

    data = tiny()
    data["queries"]["synth"] = {"settings": {"per_node": 2, "per_nod": 3}}
    with pytest.raises(ConfigError) as err:
        load_job(write_job(path, data))
    assert str(err.value) == "job.yaml: queries.synth.settings: per_nod: unknown field"

    path.write_text("name: [unclosed\n")
    with pytest.raises(ConfigError, match="job.yaml: not valid YAML"):
        load_job(path)
    with pytest.raises(ConfigError, match="job file not found"):
        load_job(tmp_path / "missing.yaml")


def test_env_interpolation_and_unset_variables(tiny, tmp_path, monkeypatch):
    data = tiny()
    data["store"] = "sqlite:///${JB_TEST_DIR}/x.db"
    path = write_job(tmp_path / "job.yaml", data)
    monkeypatch.delenv("JB_TEST_DIR", raising=False)
    with pytest.raises(
        ConfigError, match=r"job.yaml: store: environment variable JB_TEST_DIR is not set"
    ):
        load_job(path)
    monkeypatch.setenv("JB_TEST_DIR", str(tmp_path))
    job = load_job(path)
    assert job.store == f"sqlite:///{tmp_path}/x.db"
    # the stored copy of the config keeps the template, never the environment's value
    assert job.public_dump()["store"] == "sqlite:///${JB_TEST_DIR}/x.db"
    data["store"] = "${JB_UNSET_DB:-fallback.db}"
    job = load_job(write_job(path, data))
    assert job.store == "fallback.db"  # like every --db: relative to the working directory
    # a name is stored and listed as it is: it cannot come from the environment
    with pytest.raises(ConfigError, match=r"job.yaml: name: \$\{VAR\} is not allowed"):
        load_job(write_job(path, {**data, "name": "nightly-${JB_TEST_DIR}"}))


def test_identity_ignores_budget_and_concurrency(tiny):
    from judgebench.jobs import parse_job

    a = parse_job(tiny())
    b = parse_job({**tiny(), "concurrency": 3, "budget": {"max_calls": 5}, "chunk_size": 2})
    c = parse_job({**tiny(), "reask": "each_run"})
    assert a.identity() == b.identity() != c.identity()


def test_bundled_and_example_jobs_are_valid(monkeypatch):
    from pathlib import Path

    from judgebench.jobs.demo import DEMO_JOB, demo_job

    root = Path(__file__).resolve().parents[2]
    monkeypatch.delenv("JUDGEBENCH_DB", raising=False)
    example = load_job(root / "examples" / "job.yaml")
    assert example.store.endswith("example.db") and len(example.models) == 3
    assert Path(example.queries.files[0]).is_file()
    demo = load_job(DEMO_JOB)
    assert [m.name for m in demo.models] == [
        "sim/coder",
        "sim/writer",
        "sim/generalist",
        "sim/small",
    ]
    assert {j.kind for j in demo.judges} == {"pc2", "pairwise"}
    assert demo_job("x.db", fast=True).queries.synth.settings["per_node"] == 1
