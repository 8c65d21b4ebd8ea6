"""The Python examples in docs/simulator.md run as written."""

from __future__ import annotations

import re
from pathlib import Path

from judgebench.sim.tasks import unregister_task

DOC = Path(__file__).resolve().parents[2] / "docs" / "simulator.md"


def test_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 2
    try:
        for block in blocks:
            exec(compile(block, str(DOC), "exec"), {})
    finally:
        unregister_task("example.pairwise")
    out = capsys.readouterr().out
    assert "```python" in out and "[[A]]" in out
