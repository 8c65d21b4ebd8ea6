"""An ``assert:`` threshold that can never be checked as meant is bad input, refused before
the run: a win rate outside 0..1 (``5`` meant as 5 %), NaN, or a per-model threshold naming a
model the job does not run (a typo failed only after the whole run, exit 1). In the job file
and in ``--assert`` alike: one line, exit 2, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.helpers import run_cli
from tests.security.test_bad_cli_inputs import _job, _snapshot, world  # noqa: F401 - fixture

BAD: list[tuple[dict[str, Any], str]] = [
    ({"min_win_rate": 5}, "less than or equal to 1"),
    ({"min_win_rate": -0.1}, "greater than or equal to 0"),
    ({"min_win_rate": {"sim/coder": 90}}, "min_win_rate"),
    ({"min_win_rate": {"sim/nope": 0.5}}, "'sim/nope' is not a model of this job"),
    ({"min_score": {"sim/coder": 1, "sim/Writer": 2}}, "'sim/Writer' is not a model"),
    ({"min_score": float("nan")}, "finite number"),
]


@pytest.mark.parametrize(("block", "reason"), BAD, ids=[r for _, r in BAD])
@pytest.mark.parametrize("where", ["job", "--assert"])
def test_unmeetable_assertion_is_bad_input(world, monkeypatch, capsys, block, reason, where):  # type: ignore[no-untyped-def]  # noqa: F811
    import yaml

    if where == "job":
        args = ["run", _job(world, "a-job", **{"assert": block}), "--no-probe"]
    else:
        text = yaml.safe_dump(block, default_flow_style=True).strip()
        args = ["run", _job(world, "a-cli"), "--no-probe", "--assert", text]
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, *args)
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err[-1500:]
    assert reason in errors[0], errors[0]
    assert _snapshot(world["db"]) == before
