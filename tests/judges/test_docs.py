"""The Python examples in docs/judges.md run as written (with simulated models)."""

from __future__ import annotations

import re
from pathlib import Path

from judgebench.judges.registry import JUDGES

DOC = Path(__file__).resolve().parents[2] / "docs" / "judges.md"


def test_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    try:
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), {"__name__": "judges_doc"})
    finally:
        for name in ("conciseness", "word-budget"):
            JUDGES._classes.pop(name, None)
    out = capsys.readouterr().out
    assert "verdict:" in out and "cited source:" in out
    assert "override_instructions" in out
    assert "word-budget job: ok {'ok': 2, 'invalid': 0, 'error': 0, 'skipped': 0}" in out
