"""Meta Ranking's references file as users bring it: text holding U+2028 (JSON writes it raw
with ensure_ascii=False; HaluEval has it), and a file too small for any judgment to succeed,
which is refused before the run instead of failing every judgment after the responses."""

from __future__ import annotations

import json

import pytest

from judgebench.errors import ConfigError
from judgebench.judges.meta_ranking import MetaRankingSettings, load_references


def _refs(path, n: int, sep: str = " ") -> str:  # type: ignore[no-untyped-def]
    rows = [
        {"query": f"Question{sep}{i}?", "response": f"Answer{sep}{i}.", "correct": i % 2 == 0}
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return str(path)


def test_a_line_separator_inside_a_string_is_text_not_a_line_break(tmp_path):
    refs = load_references(_refs(tmp_path / "r.jsonl", 3, sep="\u2028"))
    assert [r.query for r in refs] == [f"Question\u2028{i}?" for i in range(3)]


@pytest.mark.parametrize(
    "n_rows, settings, refused",
    [
        (1, {"n_refs": 4}, True),  # needs 2
        (2, {"n_refs": 4}, False),
        (2, {"n_refs": 4, "min_valid_references": 3}, True),
        (5, {"n_refs": 5}, False),
    ],
)
def test_too_few_references_are_refused_when_the_inputs_are_checked(
    tmp_path, n_rows, settings, refused
):
    path = _refs(tmp_path / "r.jsonl", n_rows)
    spec = MetaRankingSettings.model_validate(
        {"model": "sim/judge", "references": path, **settings}
    )
    if not refused:
        spec.check_inputs()
        return
    with pytest.raises(ConfigError, match=rf"{n_rows} reference\(s\), but a judgment needs"):
        spec.check_inputs()
