"""Judge settings that parse but cannot run are bad input, refused before the run: inf / NaN
in any float (they do not survive the job's JSON round trip to its workers: a pydantic
traceback mid-run), a judge temperature or max_tokens outside the API's range (every judge call
refused), a rubric scale that does not increase (the judge raised after the run row).
One line naming judge and field, exit 2, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.helpers import run_cli
from tests.security.test_bad_cli_inputs import _job, _snapshot, world  # noqa: F401 - fixture

INF, NAN = float("inf"), float("nan")
BAD: list[tuple[dict[str, Any], str]] = [
    *[
        ({"kind": kind, "model": "sim/judge", "temperature": value}, reason)
        for kind in ("pairwise", "rubric", "prp")
        for value, reason in ((INF, "finite number"), (NAN, "finite number"), (2.5, "less than"))
    ],
    ({"kind": "pairwise", "model": "sim/judge", "max_tokens": 2**31}, "less than or equal"),
    ({"kind": "rubric", "model": "sim/judge", "scale": [10, 1]}, "two increasing integers"),
    ({"kind": "rubric", "model": "sim/judge", "scale": [5, 5]}, "two increasing integers"),
    ({"kind": "meta_ranking", "model": "sim/judge", "references": "r.jsonl", "tau": NAN}, "tau"),
    ({"kind": "meta_ranking", "model": "sim/judge", "references": "r.jsonl", "lam": INF}, "lam"),
    ({"kind": "trlm", "backend": "sim/judge", "alpha": NAN}, "alpha"),
]


@pytest.mark.parametrize(("judge", "reason"), BAD, ids=[f"{j}" for j, _ in BAD])
def test_unrunnable_judge_settings_are_bad_input(world, monkeypatch, capsys, judge, reason):  # type: ignore[no-untyped-def]  # noqa: F811
    job = _job(world, f"js-{judge['kind']}", judges=[judge])
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, "run", job, "--no-probe", "--no-preflight")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err[-1500:]
    assert "judges[0]" in errors[0] and reason in errors[0], errors[0]
    assert _snapshot(world["db"]) == before


REFERENCE_FILES: list[tuple[str, str | bytes | None]] = [
    ("missing.jsonl", None),
    ("rows-not-objects.jsonl", '[1]\n"x"\n'),
    ("no-correct.jsonl", '{"query": "q", "response": "r"}\n'),
    ("broken.jsonl", '{"query": \n'),
    ("latin.jsonl", b'{"query": "caf\xe9", "response": "r", "correct": true}\n'),
    ("huge.jsonl", '{"query": ' + "9" * 5000 + "}\n"),
]


@pytest.mark.parametrize(("name", "content"), REFERENCE_FILES, ids=[n for n, _ in REFERENCE_FILES])
@pytest.mark.parametrize("field", ["references", "calibrate.labels"])
def test_bad_meta_ranking_file_is_refused_before_the_run_row(
    world: dict[str, Any],  # noqa: F811 - the fixture imported above
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes | None,
    field: str,
) -> None:
    """Meta Ranking's references (and calibration labels) were read when the judge was built,
    after the run row: a missing or malformed file left a failed run behind."""
    good = world["base"] / "files" / "good-refs.jsonl"
    good.parent.mkdir(exist_ok=True)
    # enough references for a judgment (half of n_references), so only the bad file is refused
    good.write_text(
        "".join(f'{{"query": "q{i}", "response": "r", "correct": true}}\n' for i in range(8)),
        encoding="utf-8",
    )
    path = world["base"] / "files" / f"{field}-{name}"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    judge: dict[str, Any] = {"kind": "meta_ranking", "model": "sim/judge", "references": str(good)}
    if field == "references":
        judge["references"] = str(path)
    else:
        judge["calibrate"] = {"labels": str(path)}
    job = _job(world, f"mr-{field}-{name}", judges=[judge])
    before = _snapshot(world["db"])
    code, _, err = run_cli(monkeypatch, capsys, "run", job, "--no-probe", "--no-preflight")
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in err, err[-1500:]
    assert path.name in errors[0], errors[0]
    assert _snapshot(world["db"]) == before
