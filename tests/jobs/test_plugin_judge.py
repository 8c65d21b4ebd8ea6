"""A third-party judge: a tiny distribution built in a temp dir, installed (into a folder on
PYTHONPATH) with an entry point in ``judgebench.judges``, then named in a job that runs in a
fresh process — registered, validated by its own settings model, stored with its name and
shape, exported, and rerun for free."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.jobs.conftest import write_job

ROOT = Path(__file__).resolve().parents[2]

PLUGIN = '''
"""A stricter rubric: the built-in RubricJudge with its own settings and default rubric."""

from judgebench.judges.rubric import RubricJudge, RubricSettings


class BrevitySettings(RubricSettings):
    rubric: str = "Short and direct, yet complete; no padding or repetition."


class BrevityRubric(RubricJudge):  # no name: it takes the entry point's
    Settings = BrevitySettings
'''


def _build_plugin(tmp_path: Path) -> Path:
    src = tmp_path / "plugin"
    (src / "src" / "brevity_judge").mkdir(parents=True)
    (src / "src" / "brevity_judge" / "__init__.py").write_text(PLUGIN)
    (src / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "brevity-judge"
            version = "0.1"

            [project.entry-points."judgebench.judges"]
            brevity = "brevity_judge:BrevityRubric"
            """
        )
    )
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-build-isolation", "--no-deps"]
        + ["--no-index", "--target", str(target), str(src)],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert (target / "brevity_judge-0.1.dist-info" / "entry_points.txt").is_file()
    return target


def _cli(args: list[str], site: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-m", "judgebench", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.mark.slow
def test_an_installed_plugin_judge_runs_in_a_job(tiny, tmp_path):
    site = _build_plugin(tmp_path)
    data = tiny("plugin.db", pairwise=False)
    data["judges"] = [{"kind": "brevity", "model": "sim/judge", "scale": [1, 5]}]
    job_file = write_job(tmp_path / "job.yaml", data)

    first = _cli(["run", str(job_file), "--quiet"], site, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "judgments: 36 ok, 0 invalid, 0 error, 0 skipped" in first.stdout
    again = _cli(["run", str(job_file), "--quiet"], site, tmp_path)
    assert again.returncode == 0 and "LLM calls 0 " in again.stdout, again.stdout

    out = tmp_path / "export"
    db = data["store"]
    exported = _cli(
        ["export", "--run", "tiny", "--format", "jsonl", "--db", db, "--out", str(out)],
        site,
        tmp_path,
    )
    assert exported.returncode == 0, exported.stderr
    rows = [json.loads(x) for x in (out / "judgments.jsonl").read_text().splitlines()]
    assert len(rows) == 36 and {(r["judge"], r["shape"]) for r in rows} == {
        ("brevity", "pointwise")
    }
    assert {r["params"]["rubric"] for r in rows} == {
        "Short and direct, yet complete; no padding or repetition."
    }

    # its own settings model checks the job: a field it does not know is refused
    data["judges"][0]["max_wrods"] = 3
    bad = _cli(["run", str(write_job(tmp_path / "bad.yaml", data)), "--quiet"], site, tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.strip() == "error: bad.yaml: judges[0]: max_wrods: unknown field"
    # without the package installed the kind is unknown (a one-line error, exit 2)
    gone = _cli(["run", str(job_file), "--quiet"], tmp_path / "nothing", tmp_path)
    assert gone.returncode == 2 and "unknown judge 'brevity'" in gone.stderr
