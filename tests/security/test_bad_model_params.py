"""A job's model ``params`` are sent with every call: a value the API refuses (``temperature:
hot``, ``max_tokens: -5``, ``stop: 5``) failed every call of the run, or crashed it with a
ValueError traceback after the run row was written. They are checked with the job, by the
router's request rules: one line naming the model and the field, exit 2, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.helpers import run_cli
from tests.security.test_bad_cli_inputs import _job, _snapshot, world  # noqa: F401 - fixture

WRONG: list[tuple[str, Any, str]] = (
    [
        (name, value, f"'{name}' must be")
        for name in ("temperature", "top_p", "presence_penalty", "frequency_penalty")
        for value in ("hot", [0.5], -5, 1e9, True)
    ]
    + [
        (name, value, f"'{name}' must be")
        for name in ("max_tokens", "max_completion_tokens", "seed")
        for value in ("10", 1.5, -5 if name != "seed" else 2**64, {"a": 1}, 10**30)
    ]
    + [
        ("stop", 5, "'stop' must be a string or a list of strings"),
        ("stop", ["a", 1], "'stop' must be a string or a list of strings"),
        ("stop", ["a", "b", "c", "d", "e"], "at most 4"),
    ]
)


@pytest.mark.parametrize(
    ("field", "value", "reason"), WRONG, ids=[f"{f}={v!r}" for f, v, _ in WRONG]
)
def test_unsendable_model_param_is_bad_input(world, monkeypatch, capsys, field, value, reason):  # type: ignore[no-untyped-def]  # noqa: F811
    job = _job(world, f"p-{field}", **{f"models.1.params.{field}": value})
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, "run", job, "--no-probe", "--no-preflight")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err[-1500:]
    assert "models[1].params" in errors[0] and reason in errors[0], errors[0]
    assert _snapshot(world["db"]) == before


def test_sendable_params_still_parse():  # type: ignore[no-untyped-def]
    from judgebench.jobs.config import ModelSpec

    params = {"temperature": 0, "top_p": 1.0, "max_tokens": 600, "seed": -3, "stop": ["\n\n"]}
    assert ModelSpec(name="sim/a", params=params).params == params
