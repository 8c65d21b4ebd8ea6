"""CI assertions: the job's `assert:` block and `--assert`, exit codes, JUnit XML, and
no_regression through the paired-bootstrap regression report."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from judgebench.db import Store
from judgebench.errors import ConfigError
from judgebench.jobs import JobRunner, parse_job
from judgebench.jobs.assertions import AssertSpec, Outcome, check, junit_xml, parse_cli_assertions
from tests.jobs.conftest import fresh_gateway, write_job
from tests.jobs.test_outcome import cli

PROFILES = Path(__file__).resolve().parents[2] / "judgebench" / "sim" / "profiles"


def junit_cases(path: Path) -> dict[str, str]:
    """{test case name: pass | failure | skipped} from a JUnit file."""
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    out = {}
    for case in suite.findall("testcase"):
        kinds = [c.tag for c in case if c.tag in ("failure", "skipped")]
        out[case.get("name")] = kinds[0] if kinds else "pass"
    assert int(suite.get("tests")) == len(out)
    assert int(suite.get("failures")) == sum(v == "failure" for v in out.values())
    return out


def test_a_failing_assertion_exits_1_and_writes_a_failing_junit_case(
    tiny, tmp_path, monkeypatch, capsys
):
    data = tiny(models=("sim/coder", "sim/small"))
    data["assert"] = {"min_win_rate": {"sim/small": 0.9}}
    job = write_job(tmp_path / "job.yaml", data)
    junit = tmp_path / "junit.xml"
    assert cli(monkeypatch, "run", str(job), "--quiet", "--junit", str(junit)) == 1
    out = capsys.readouterr().out
    assert "assert min_win_rate[sim/small]: FAIL" in out
    assert junit_cases(junit) == {"run status": "pass", "min_win_rate[sim/small]": "failure"}
    win = Store(data["store"]).list_runs(kind="job")[0].config["summary"]["models"][1]
    rate = win["win_rates"]["pairwise:sim/judge"]["win_rate"] / 100
    assert 0 < rate < 0.9

    # the same job with a satisfiable threshold (just under the measured rate) exits 0;
    # --assert on the command line overrides the job's block
    below = f"{{min_win_rate: {{sim/small: {rate - 0.01:.4f}}}, max_invalid_rate: 0.5}}"
    assert (
        cli(monkeypatch, "run", str(job), "--quiet", "--junit", str(junit), "--assert", below) == 0
    )
    assert junit_cases(junit) == {
        "run status": "pass",
        "min_win_rate[sim/small]": "pass",
        "max_invalid_rate": "pass",
    }
    # and one just above it fails again
    above = f"min_win_rate: {{sim/small: {rate + 0.01:.4f}}}"
    assert cli(monkeypatch, "run", str(job), "--quiet", "--assert", above) == 1


def test_bad_assertions_are_input_errors(tiny, tmp_path, monkeypatch, capsys):
    with pytest.raises(ConfigError, match="--assert"):
        parse_cli_assertions(["min_wins: 3"])
    with pytest.raises(ConfigError, match="--assert"):
        parse_cli_assertions(["not yaml: ["])
    job = write_job(tmp_path / "job.yaml", tiny(pairwise=False))
    assert cli(monkeypatch, "run", str(job), "--assert", "max_cost: -1") == 2
    assert not (tmp_path / "store.db").exists()  # refused before anything ran
    data = tiny(pairwise=False)
    data["assert"] = {"min_scor": 100}
    job = write_job(tmp_path / "job.yaml", data)
    assert cli(monkeypatch, "run", str(job)) == 2
    assert "assert.min_scor: unknown field" in capsys.readouterr().err


def test_thresholds_on_a_summary():
    summary = {
        "models": [
            {"model": "a", "scores": {"pc2:j": {"mean": 200.0}, "pc2:k": {"mean": 150.0}}},
            {"model": "b", "scores": {}},
        ],
        "judgments": 10,
        "invalid": 2,
        "usage": {"total": {"cost": 1.5, "calls_without_price": 0}},
    }
    spec = AssertSpec(min_score={"a": 160}, max_invalid_rate=0.2, max_cost=1.0)
    got = {o.name: o for o in check(spec, summary, None, "run")}
    assert got["min_score[a]"].failed and "pc2:k 150.000" in got["min_score[a]"].message
    assert got["max_invalid_rate"].passed  # 0.2 is allowed
    assert got["max_cost"].failed
    everyone = {o.name: o.passed for o in check(AssertSpec(min_score=100), summary, None, "r")}
    assert everyone == {"min_score[a]": True, "min_score[b]": False}  # b has no score at all
    xml = junit_xml([*got.values(), Outcome("skipped one", None, "nothing")], "suite")
    suite = ET.fromstring(xml.split("?>", 1)[1]).find("testsuite")
    assert suite.get("failures") == "2" and suite.get("skipped") == "1"


def profiles_dir(path: Path, drift_from: str) -> Path:
    """A profile folder whose ``sim/drift`` behaves like ``sim/<drift_from>``."""
    path.mkdir()
    shutil.copy(PROFILES / f"{drift_from}.yaml", path / "drift.yaml")
    return path


def test_no_regression_flags_a_model_that_got_worse(tiny, tmp_path, monkeypatch):
    data = tiny(models=("sim/drift", "sim/writer"), pairwise=False, reask="each_run")
    job = parse_job(data)
    store = Store(job.store)
    spec = AssertSpec.model_validate({"no_regression": {"against": "tiny", "alpha": 0.05}})

    def execution(epoch: str, behaves_like: str) -> list[Outcome]:
        monkeypatch.setenv(
            "JUDGEBENCH_SIM_PROFILES", str(profiles_dir(tmp_path / epoch, behaves_like))
        )
        fresh_gateway(store)
        result = JobRunner(job, store=store, epoch=epoch).run()
        return check(spec, result.summary, store, result.run_id)

    first = execution("e1", "coder")
    assert [o.passed for o in first] == [None]  # nothing earlier to compare with
    same = {o.name: o for o in execution("e2", "coder")}
    assert same["no_regression[sim/drift]"].passed and same["no_regression[sim/writer]"].passed
    worse = {o.name: o for o in execution("e3", "small")}
    assert worse["no_regression[sim/drift]"].failed, worse["no_regression[sim/drift]"].message
    assert worse["no_regression[sim/writer]"].passed


def test_the_documented_ci_example(tmp_path, monkeypatch, capsys):
    """docs/jobs.md: examples/ci.yaml fails its win-rate assertion (exit 1, a failing JUnit
    case); the same job with a satisfiable --assert exits 0."""
    example = Path(__file__).resolve().parents[2] / "examples" / "ci.yaml"
    monkeypatch.setenv("JUDGEBENCH_DB", str(tmp_path / "ci.db"))
    junit = tmp_path / "report.xml"
    assert cli(monkeypatch, "run", str(example), "--quiet", "--junit", str(junit)) == 1
    cases = junit_cases(junit)
    assert cases.pop("min_win_rate[sim/small]") == "failure"
    assert set(cases.values()) == {"pass"} and "max_cost" in cases
    satisfiable = "min_win_rate: {sim/small: 0.1}"
    assert cli(monkeypatch, "run", str(example), "--quiet", "--assert", satisfiable) == 0
    assert "assert min_win_rate[sim/small]: pass" in capsys.readouterr().out
