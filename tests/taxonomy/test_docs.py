"""The Python examples in docs/taxonomy.md run as written (with simulated models)."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md"


def test_doc_examples_run(capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 6
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), {"__name__": "taxonomy_doc"})
    out = capsys.readouterr().out
    assert "Taxonomy('judgebench-default', nodes=215, leaves=176, depth=4)" in out
    assert "['coding', 'coding/c-plus-plus', 'coding/c-sharp']" in out
    assert "(1, False)" in out and "0 True" in out
    # the combined assigner's example: a confident leaf, an abstention, a confident domain
    assert "assigned ['writing/genres/creative-writing/poetry']" in out
    assert "unassigned [] " in out and "assigned ['coding']" in out
    assert "coding 1/2, roleplay 0/0 (+1 tentative); unassigned 1" in out
    # the batched LLM assigner's example: one call for four queries, none on the rerun
    assert "batched calls: 1\ncalls on rerun: 0" in out
