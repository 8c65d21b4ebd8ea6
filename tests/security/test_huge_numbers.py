"""Numbers Python will not convert: an integer of more than 4,300 digits (``int()`` refuses it
with a ValueError, which is not a JSONDecodeError nor a YAMLError) and a YAML date that does not
exist. In every file the CLI reads they are bad input: one line naming the file, exit 2, the
store unchanged; they were tracebacks."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.security.helpers import run_cli
from tests.security.test_bad_cli_inputs import (  # noqa: F401 - world is a fixture
    GOOD_REFS,
    _file,
    _job,
    _router_yaml,
    _snapshot,
    world,
)

HUGE = "9" * 5000


def _job_text(w: dict[str, Any], name: str, line: str) -> str:
    """The good job with one more top-level line (a YAML value Python cannot build)."""
    return _file(w, name, yaml.safe_dump(w["good"]) + line + "\n")


CASES = {
    "query file (JSONL)": (
        lambda w: [
            "run",
            _job(
                w,
                "h1",
                **{"queries.files": [_file(w, "h.jsonl", '{"text": "a", "n": ' + HUGE + "}\n")]},
            ),
            "--no-probe",
        ],
        "h.jsonl",
    ),
    "query file (JSON array)": (
        lambda w: [
            "run",
            _job(
                w,
                "h2",
                **{"queries.files": [_file(w, "h.json", '[{"text": "a", "n": ' + HUGE + "}]")]},
            ),
            "--no-probe",
        ],
        "h.json",
    ),
    "job file": (
        lambda w: ["run", _job_text(w, "h-job.yaml", f"x: {HUGE}"), "--no-probe"],
        "h-job.yaml",
    ),
    "job file, a date that does not exist": (
        lambda w: ["run", _job_text(w, "d-job.yaml", "x: 2026-13-45"), "--no-probe"],
        "d-job.yaml",
    ),
    "taxonomy JSON": (
        lambda w: [
            "taxonomy",
            "import",
            _file(w, "h-tax.json", '{"name": "r", "x": ' + HUGE + "}"),
            "--db",
            str(w["db"]),
        ],
        "h-tax.json",
    ),
    "taxonomy YAML": (
        lambda w: [
            "taxonomy",
            "import",
            _file(w, "h-tax.yaml", f"name: r\nx: {HUGE}\n"),
            "--db",
            str(w["db"]),
        ],
        "h-tax.yaml",
    ),
    "import (JSON array)": (
        lambda w: [
            "import",
            "llmbar",
            _file(w, "h-imp.json", '[{"input": "a", "x": ' + HUGE + "}]"),
            "--db",
            str(w["db"]),
        ],
        "h-imp.json",
    ),
    "router references": (
        lambda w: [
            "router",
            "calibrate",
            _router_yaml(w, "r-huge", _file(w, "h-refs.jsonl", '{"query": ' + HUGE + "}\n")),
            "--labelled",
            _file(w, "h-lab-ok.jsonl", GOOD_REFS),
            "--value",
            "0.5",
        ],
        "h-refs.jsonl",
    ),
    "router calibrate --labelled": (
        lambda w: [
            "router",
            "calibrate",
            _router_yaml(w, "r-huge2", _file(w, "h-refs-ok.jsonl", GOOD_REFS)),
            "--labelled",
            _file(w, "h-lab.jsonl", '{"query": ' + HUGE + "}\n"),
            "--value",
            "0.5",
        ],
        "h-lab.jsonl",
    ),
    "router calibrate --labelled, a line that is not an object": (
        lambda w: [
            "router",
            "calibrate",
            _router_yaml(w, "r-huge3", _file(w, "h-refs-ok3.jsonl", GOOD_REFS)),
            "--labelled",
            _file(w, "h-lab-list.jsonl", "[1, 2]\n"),
            "--value",
            "0.5",
        ],
        "h-lab-list.jsonl",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unconvertible_number_is_bad_input(world, monkeypatch, capsys, case):  # type: ignore[no-untyped-def]  # noqa: F811
    make, named = CASES[case]
    args = make(world)
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, *args)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2, err[-2000:]
    assert len(errors) == 1 and "Traceback" not in err, err[-2000:]
    assert named in errors[0] and HUGE not in errors[0], errors[0][:300]
    assert _snapshot(world["db"]) == before
