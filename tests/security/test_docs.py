"""docs/security.md as written: its Python example runs and prints what it says, and the
refusal it shows is the one a job with a key in its params gets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


def test_python_example_runs_as_documented(capsys):  # type: ignore[no-untyped-def]
    text = DOC.read_text(encoding="utf-8")
    (block,) = re.findall(r"```python\n(.*?)```", text, re.S)
    exec(compile(block, str(DOC), "exec"), {"__name__": "security_doc"})
    printed = capsys.readouterr().out.strip()
    assert printed and printed in block  # the comment in the example is the real output


def test_documented_refusal_is_the_real_one(tmp_path):  # type: ignore[no-untyped-def]
    from judgebench.errors import ConfigError
    from judgebench.jobs.config import parse_job

    shown = re.search(
        r"^error: (job\.yaml: models\[1\]\.params\.api_key: .*)$",
        DOC.read_text(encoding="utf-8"),
        re.M,
    )
    assert shown is not None
    job = {
        "name": "docs",
        "queries": {"files": ["q.jsonl"]},
        "models": [{"name": "sim/small"}, {"name": "acme/chat", "params": {"api_key": "x" * 12}}],
        "judges": [{"kind": "pairwise", "model": "sim/judge"}],
    }
    with pytest.raises(ConfigError) as caught:
        parse_job(job, where="job.yaml")
    assert str(caught.value) == shown.group(1)
