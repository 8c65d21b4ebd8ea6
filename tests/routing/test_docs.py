"""The Python examples in docs/routing.md run as written (simulated models, offline)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "routing.md"


def test_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    namespace: dict = {"__name__": "routing_doc"}
    for block in blocks:  # later blocks reuse names from earlier ones, as a reader would
        exec(compile(block, str(DOC), "exec"), namespace)
    out = capsys.readouterr().out
    assert "['sim/small', 'sim/generalist', 'sim/large']" in out
    assert "cost–quality curve" in out and "APGR" in out and "oracle" in out
