"""Query files and job shapes a new user brings: chat-style rows (HF datasets' `messages` /
`conversations`, Arena-Hard's `turns: [{content}]`), numeric ids (0 included), and a comparing
judge with a single model, which is refused before anything is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from judgebench.errors import DataError
from judgebench.synth import load_seed_file
from tests.jobs.conftest import write_job

ROWS = [
    {
        "id": 1,
        "conversations": [
            {"from": "system", "value": "You are terse."},
            {"from": "human", "value": "Write a Python function that reverses a linked list."},
            {"from": "gpt", "value": "def rev(h): ..."},
            {"from": "human", "value": "Now add tests."},
        ],
    },
    {
        "id": "b2",
        "messages": [
            {"role": "system", "content": "Réponds en français."},
            {"role": "user", "content": [{"type": "text", "text": "Explique la pluie. 🌧️"}]},
        ],
    },
    {"question_id": 81, "turns": [{"content": "Solve step by step: 17 * 23 = ?"}]},
    {"id": 0, "prompt": "写一首关于秋天的短诗。"},
]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_chat_style_rows_ask_the_first_user_turn_and_keep_what_is_left_out(tmp_path):
    queries = load_seed_file(_write(tmp_path / "chat.jsonl", ROWS))
    assert [q.text for q in queries] == [
        "Write a Python function that reverses a linked list.",
        "Explique la pluie. 🌧️",
        "Solve step by step: 17 * 23 = ?",  # was the dict's repr "{'content': ...}"
        "写一首关于秋天的短诗。",
    ]
    assert queries[0].metadata == {
        "system_prompt": "You are terse.",
        "user_turns": 2,
        "seed_file_id": "1",
    }
    assert queries[1].metadata["system_prompt"] == "Réponds en français."
    assert queries[2].metadata == {"seed_file_id": "81"}
    assert queries[3].metadata == {"seed_file_id": "0"}  # id 0 is an id, not a missing one


def test_a_csv_cell_holding_a_messages_list_is_a_chat_row(tmp_path):
    import csv

    path = tmp_path / "chat.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "messages"])
        writer.writerow([7, json.dumps(ROWS[1]["messages"], ensure_ascii=False)])
    (query,) = load_seed_file(path)
    assert query.text == "Explique la pluie. 🌧️"
    assert query.metadata == {"system_prompt": "Réponds en français.", "seed_file_id": "7"}


@pytest.mark.parametrize(
    "row, message",
    [
        ({"messages": [{"role": "assistant", "content": "Hi"}]}, "messages: no user turn"),
        ({"conversations": [{"from": "human", "value": "   "}]}, "row has no query text"),
        ({"turns": [{"speaker": "x"}]}, r"turns\[0\]: a turn must be a string"),
    ],
)
def test_a_chat_row_without_a_usable_user_turn_is_one_line_naming_file_and_line(
    tmp_path, row, message
):
    path = _write(tmp_path / "bad.jsonl", [{"text": "fine"}, row])
    with pytest.raises(DataError, match=message) as err:
        load_seed_file(path)
    assert f"{path}:2" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("kind", ["pairwise", "prp"])
def test_a_comparing_judge_with_one_model_is_refused_before_any_write(tmp_path, kind):
    queries = _write(tmp_path / "q.jsonl", [{"text": "What is 2+2?"}])
    job = {
        "name": "one",
        "store": f"sqlite:///{tmp_path / 'one.db'}",
        "queries": {"files": [str(queries)], "encoder": "lexical"},
        "models": [{"name": "sim/coder"}],
        "judges": [{"kind": "rubric", "model": "sim/judge"}, {"kind": kind, "model": "sim/judge"}],
    }
    job_file = write_job(tmp_path / "job.yaml", job)
    result = subprocess.run(
        [sys.executable, "-m", "judgebench", "run", str(job_file), "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"error: job.yaml: job: judges[1]: {kind} compares models, so it needs at least two "
        "models, got 1"
    )
    assert not (tmp_path / "one.db").exists()


class Notes:
    """A progress display that keeps its notes."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def start(self, key: str, description: str, total: int) -> None:
        pass

    def advance(self, key: str, n: int = 1) -> None:
        pass

    def note(self, text: str) -> None:
        self.notes.append(text)

    def outcomes(self, key: str, errors: int, invalid: int) -> None:
        pass


def test_repeated_texts_and_foreign_node_labels_are_said_not_silently_dropped(tmp_path):
    from judgebench.db import Store
    from judgebench.jobs import JobRunner, parse_job
    from tests.jobs.conftest import fresh_gateway, job_dict

    rows = [
        {"id": 5, "text": "Write a short poem about autumn."},
        {"id": 6, "text": "Write a short poem about autumn."},  # same text, another id
        {"uid": "a1", "prompt": "Sort a list in Python.", "category": "arena-hard-v0.1"},
    ]
    queries = _write(tmp_path / "q.jsonl", rows)
    data = job_dict(
        f"sqlite:///{tmp_path / 'n.db'}",
        queries,
        models=("sim/coder",),
        judges=[{"kind": "rubric", "model": "sim/judge"}],
    )
    store = Store(data["store"])
    fresh_gateway(store)
    notes = Notes()
    result = JobRunner(parse_job(data), store=store, progress=notes).run()
    assert result.queries == 2
    assert "1 imported rows repeat an earlier row's text: kept once" in notes.notes
    assert any(
        n.startswith("node labels not in taxonomy") and "'arena-hard-v0.1'" in n
        for n in notes.notes
    ), notes.notes
    sorted_q = next(q for q in store.get_queries() if q.text.startswith("Sort"))
    assert sorted_q.node_ids and "arena-hard-v0.1" not in sorted_q.node_ids


def test_a_bad_query_file_leaves_no_store_behind(tmp_path):
    queries = _write(tmp_path / "q.jsonl", [{"text": "Sort a list."}, {"text": "  \t "}])
    job = {
        "name": "ws",
        "store": f"sqlite:///{tmp_path / 'ws.db'}",
        "queries": {"files": [str(queries)], "encoder": "lexical"},
        "models": [{"name": "sim/coder"}],
        "judges": [{"kind": "rubric", "model": "sim/judge"}],
    }
    result = subprocess.run(
        [sys.executable, "-m", "judgebench", "run", str(write_job(tmp_path / "job.yaml", job))],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().endswith(
        f"error: {queries}:2: row has no query text "
        + (
            "(expected one of text, query, prompt, instruction, question, or a non-empty first "
            "user turn in turns, messages, conversations, conversation)"
        )
    )
    assert not (tmp_path / "ws.db").exists()  # the store was created before the file was read


def test_two_judges_of_one_kind_and_model_are_refused(tmp_path):
    from judgebench.jobs import parse_job
    from tests.jobs.conftest import job_dict

    data = job_dict(
        f"sqlite:///{tmp_path / 'two.db'}",
        _write(tmp_path / "q.jsonl", [{"text": "Sort a list."}]),
        judges=[
            {"kind": "rubric", "model": "sim/judge", "rubric": "Is it correct?"},
            {"kind": "rubric", "model": "sim/generalist", "rubric": "Is it correct?"},
            {"kind": "rubric", "model": "sim/judge", "rubric": "Is it funny?", "scale": [1, 5]},
        ],
    )
    # the summary read both sim/judge rubrics as one judge: one mean over the 1-10 and the 1-5
    # scale's scores
    with pytest.raises(Exception, match=r"judges\[2\]: a second rubric judge with model "):
        parse_job(data)
    data["judges"].pop()
    assert [j.label for j in parse_job(data).judges] == [
        "rubric:sim/judge",
        "rubric:sim/generalist",
    ]
