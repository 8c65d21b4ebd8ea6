"""Importers on small files in each real format: records, labels, invalid rows, errors."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from judgebench.db import Store
from judgebench.errors import DataError, UserError
from judgebench.importers import FORMATS, import_path, parse
from judgebench.importers.base import iter_json_items, iter_jsonl


def write_json(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "jb.db")


def test_json_array_reader_reports_item_lines_and_bad_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[\n  {"x": 1},\n  {"x": 2,\n   "y": 3}\n]\n')
    assert [(line, item["x"]) for line, item in iter_json_items(path)] == [(2, 1), (3, 2)]
    broken = tmp_path / "b.json"
    broken.write_text('[\n {"x": 1},\n {"x": }\n]')
    with pytest.raises(DataError, match=r"b\.json:3: invalid JSON"):
        list(iter_json_items(broken))


def test_jsonl_splits_on_newline_only(tmp_path):
    path = tmp_path / "u.jsonl"
    path.write_text('{"t": "a\u2028b"}\n\n{"t": "c"}\n', encoding="utf-8")
    items = list(iter_jsonl(path))
    assert [line for line, _ in items] == [1, 3]
    assert items[0][1]["t"] == "a\u2028b"


def test_alpaca_eval_outputs_and_annotations(tmp_path, store):
    folder = tmp_path / "alpaca"
    write_json(
        folder / "eval_set.json",
        [
            {"instruction_idx": 0, "instruction": "Say hi", "dataset": "helpful_base"},
            {"instruction_idx": 1, "instruction": "Count to 3", "dataset": "koala"},
        ],
    )
    for model, outs in (("base", ["hi", "1 2 3"]), ("cand", ["hello there", "one, two, three"])):
        write_json(
            folder / "model_outputs" / f"{model}.json.gz",
            [
                {
                    "instruction": "Say hi",
                    "output": outs[0],
                    "generator": model,
                    "dataset": "helpful_base",
                },
                {
                    "instruction": "Count to 3",
                    "output": outs[1],
                    "generator": model,
                    "dataset": "koala",
                },
            ],
        )
    ann = folder / "annotations.csv"
    with ann.open("w", newline="") as handle:
        w = csv.writer(handle)
        w.writerow(
            ["instruction_idx", "dataset", "generator_1", "generator_2", "preference", "annotator"]
        )
        w.writerow([0, "helpful_base", "base", "cand", "1.8", "weighted_judge"])
        w.writerow([1, "koala", "base", "cand", "", "weighted_judge"])
    out = import_path("alpaca-eval-outputs", folder / "model_outputs", store)
    assert out.new == {"queries": 2, "responses": 4, "judgments": 0}
    assert sorted(n for q in store.get_queries() for n in q.node_ids) == [
        "alpaca_eval/helpful_base",
        "alpaca_eval/koala",
    ]
    res = import_path("alpaca-eval-annotations", ann, store)
    assert res.read["invalid_judgments"] == 1
    judgments = {j.status: j for j in store.get_judgments(judge="weighted_judge")}
    ok, invalid = judgments["ok"], judgments["invalid"]
    assert ok.verdict == "B" and ok.details["p_b"] == pytest.approx(0.8)
    assert ok.model == "base" and ok.model_b == "cand"
    # the judgment points at the responses imported from the outputs
    texts = {r.id: r.text for r in store.get_responses()}
    assert texts[ok.response_b_id] == "hello there"
    assert invalid.verdict is None and invalid.score is None and "not parsed" in invalid.reason
    assert store.get_run(res.run_id).kind == "import"
    # idempotent: a second import adds nothing
    again = import_path("alpaca-eval-annotations", ann, store)
    assert again.new["judgments"] == 0 and again.run_id == res.run_id


def test_alpaca_annotations_need_the_eval_set_and_valid_preferences(tmp_path):
    ann = tmp_path / "ann.csv"
    ann.write_text(
        "instruction_idx,dataset,generator_1,generator_2,preference,annotator\n0,x,a,b,1.5,j\n"
    )
    with pytest.raises(DataError, match="eval_set.json"):
        parse("alpaca-eval-annotations", ann)
    write_json(tmp_path / "eval_set.json", [{"instruction_idx": 0, "instruction": "q"}])
    assert parse("alpaca-eval-annotations", ann).judgments  # a 1.5 is a tie
    ann.write_text(
        "instruction_idx,dataset,generator_1,generator_2,preference,annotator\n0,x,a,b,1.5,j\n0,x,a,c,7,j\n"
    )
    with pytest.raises(DataError, match=r"ann\.csv:3: preference 7.0 outside"):
        parse("alpaca-eval-annotations", ann)


def test_mt_bench_questions_answers_and_judgments(tmp_path, store):
    root = tmp_path / "mt_bench"
    write_jsonl(
        root / "question.jsonl",
        [
            {
                "question_id": 81,
                "category": "writing",
                "turns": ["Write a poem.", "Make it rhyme."],
            },
            {"question_id": 111, "category": "math", "turns": ["2+2?", "Times 3?"]},
        ],
    )
    write_jsonl(
        root / "reference_answer" / "gpt-4.jsonl",
        [
            {
                "question_id": 111,
                "answer_id": "x",
                "model_id": "gpt-4",
                "choices": [{"index": 0, "turns": ["4", "12"]}],
            },
        ],
    )
    write_jsonl(
        root / "model_answer" / "vicuna.jsonl",
        [
            {
                "question_id": 81,
                "model_id": "vicuna",
                "choices": [{"index": 0, "turns": ["Roses...", "Roses, noses"]}],
            },
            {
                "question_id": 111,
                "model_id": "vicuna",
                "choices": [{"index": 0, "turns": ["4", "12"]}],
            },
        ],
    )
    write_jsonl(
        root / "model_judgment" / "gpt-4_single.jsonl",
        [
            {
                "question_id": 81,
                "model": "vicuna",
                "judge": ["gpt-4", "single-v1"],
                "judgment": "Rating: [[7]]",
                "score": 7,
                "turn": 1,
            },
            {
                "question_id": 111,
                "model": "vicuna",
                "judge": ["gpt-4", "single-math-v1"],
                "judgment": "no rating",
                "score": -1,
                "turn": 1,
            },
        ],
    )
    write_jsonl(
        root / "model_judgment" / "gpt-4_pair.jsonl",
        [
            {
                "question_id": 81,
                "model_1": "vicuna",
                "model_2": "llama",
                "g1_winner": "model_1",
                "g2_winner": "model_1",
                "judge": ["gpt-4", "pair-v2"],
                "g1_judgment": "[[A]]",
                "g2_judgment": "[[B]]",
                "turn": 1,
            },
        ],
    )
    import_path("mt-bench-questions", root / "question.jsonl", store)
    queries = {q.metadata["question_id"]: q for q in store.get_queries()}
    assert queries[111].reference == "4" and queries[81].reference is None
    assert queries[81].metadata["turns"] == ["Write a poem.", "Make it rhyme."]
    assert queries[81].node_ids == ["mt-bench/writing"]
    import_path("mt-bench-answers", root / "model_answer", store)
    vicuna = [r for r in store.get_responses(model="vicuna")]
    assert sorted((r.params["turn"], r.text) for r in vicuna if r.query_id == queries[81].id) == [
        (1, "Roses..."),
        (2, "Roses, noses"),
    ]
    import_path("mt-bench-judgments", root / "model_judgment" / "gpt-4_single.jsonl", store)
    single = {j.status: j for j in store.get_judgments(model="vicuna") if j.kind == "pointwise"}
    assert single["ok"].score == 7.0
    assert single["invalid"].score is None and "-1" in single["invalid"].reason
    ids = {r.id for r in vicuna}
    assert single["ok"].response_id in ids
    import_path("mt-bench-judgments", root / "model_judgment" / "gpt-4_pair.jsonl", store)
    pair = [j for j in store.get_judgments() if j.kind == "pairwise"]
    by_order = {j.details["order"]: j for j in pair}
    # g1: vicuna shown first and won → A; g2: llama shown first, vicuna (shown second) won → B
    assert by_order["g1"].verdict == "A" and by_order["g1"].model == "vicuna"
    assert by_order["g2"].verdict == "B" and by_order["g2"].model == "llama"


def test_a_boolean_is_not_an_integer_label(tmp_path):
    """``"label": true`` passed the int check (bool subclasses int) and became label 1 (A)."""
    path = write_json(
        tmp_path / "LLMBar" / "Natural" / "dataset.json",
        [{"input": "Q", "output_1": "a", "output_2": "b", "label": True}],
    )
    with pytest.raises(
        DataError, match=r"dataset\.json:\d+: field 'label' should be int, got bool"
    ):
        parse("llmbar", path)


def test_mt_bench_judgment_with_a_boolean_score_or_bad_turn(tmp_path):
    """``"score": true`` was imported as a 1.0 rating; ``"turn": "x"`` raised a traceback."""
    root = tmp_path / "mt_bench"
    write_jsonl(root / "question.jsonl", [{"question_id": 1, "category": "math", "turns": ["Q"]}])
    base = {"question_id": 1, "model": "m", "judge": ["gpt-4", "single-v1"], "judgment": "x"}
    path = write_jsonl(root / "model_judgment" / "j.jsonl", [{**base, "score": True, "turn": 1}])
    (judgment,) = parse("mt-bench-judgments", path).judgments.values()
    assert judgment.status == "invalid" and judgment.score is None and "True" in judgment.reason
    path = write_jsonl(root / "model_judgment" / "j.jsonl", [{**base, "score": 5, "turn": "x"}])
    with pytest.raises(DataError, match=r"j\.jsonl:1: turn 'x' is not a turn number"):
        parse("mt-bench-judgments", path)


def test_llmbar_pandalm_and_judgebench_styles(tmp_path):
    llm = write_json(
        tmp_path / "LLMBar" / "Adversarial" / "Neighbor" / "dataset.json",
        [
            {"input": "Q", "output_1": "good", "output_2": "bad", "label": 1},
            {
                "input": "Q",
                "output_1": "worse",
                "output_2": "better",
                "label": 2,
            },  # same input, other pair
        ],
    )
    batch = parse("llmbar", tmp_path / "LLMBar")
    assert len(batch.queries) == 1 and len(batch.responses) == 4
    verdicts = sorted(j.verdict for j in batch.judgments.values())
    assert verdicts == ["A", "B"]
    assert {j.judge for j in batch.judgments.values()} == {"gold:llmbar/adversarial/neighbor"}
    write_json(llm, [{"input": "Q", "output_1": "a", "output_2": "b", "label": 3}])
    with pytest.raises(DataError, match=r"dataset\.json:2: label 3"):
        parse("llmbar", llm)

    panda = tmp_path / "panda"
    write_json(
        panda / "testset-v1.json",
        [
            {
                "idx": 0,
                "cmp_key": "llama-7b_opt-7b",
                "instruction": "Fix",
                "input": "teh cat",
                "response1": "the cat",
                "response2": True,
                "annotator1": 1,
                "annotator2": 1,
                "annotator3": 0,
            },
        ],
    )
    write_json(
        panda / "gpt-3.5-turbo-testset-v1.json",
        [{"idx": 0, "gpt_result": "garbage", "gpt_reason": "?"}],
    )
    batch = parse("pandalm", panda)
    humans = [j for j in batch.judgments.values() if j.judge.startswith("human:")]
    assert sorted(j.verdict for j in humans) == ["A", "A", "tie"]
    shipped = [j for j in batch.judgments.values() if j.judge.startswith("pandalm-shipped")]
    assert (
        shipped[0].status == "invalid"
        and shipped[0].raw_replies == ["garbage"]
        and shipped[0].verdict is None
    )
    assert {r.model for r in batch.responses.values()} == {"llama-7b", "opt-7b"}
    assert "True" in {r.text for r in batch.responses.values()}
    assert next(iter(batch.queries.values())).text == "Fix\n\nteh cat"

    jb = write_jsonl(
        tmp_path / "jb.jsonl",
        [
            {
                "pair_id": "p1",
                "source": "mmlu-pro",
                "question": "Q?",
                "response_model": "gpt-4o",
                "response_A": "x",
                "response_B": "y",
                "label": "B>A",
            },
        ],
    )
    batch = parse("judgebench", jb)
    (judgment,) = batch.judgments.values()
    assert judgment.verdict == "B" and judgment.details["set"] == "judgebench/mmlu-pro"
    write_jsonl(
        jb,
        [
            {
                "pair_id": "p1",
                "question": "Q?",
                "response_A": "x",
                "response_B": "y",
                "label": "A>>B",
            }
        ],
    )
    with pytest.raises(DataError, match=r"jb\.jsonl:1: label 'A>>B'"):
        parse("judgebench", jb)


def test_correctness_sets(tmp_path):
    gsm = write_jsonl(
        tmp_path / "gsm.jsonl",
        [
            {
                "question_idx": 0,
                "question": "1+1?",
                "ground_truth": "2\nA: 2",
                "model": "6b",
                "solution": "A: 2",
                "is_correct": True,
            },
            {
                "question_idx": 0,
                "question": "1+1?",
                "ground_truth": "2\nA: 2",
                "model": "175b",
                "solution": "A: 3",
                "is_correct": False,
            },
        ],
    )
    batch = parse("gsm8k", gsm)
    assert len(batch.queries) == 1
    assert sorted(j.score for j in batch.judgments.values()) == [0.0, 1.0]
    halu = write_jsonl(
        tmp_path / "h.jsonl",
        [
            {
                "ID": "1",
                "user_query": "Who?",
                "chatgpt_response": "Me",
                "hallucination": "yes",
                "hallucination_spans": ["Me"],
            },
        ],
    )
    (j,) = parse("halueval", halu).judgments.values()
    assert j.score == 0.0 and j.details["spans"] == ["Me"]
    write_jsonl(
        halu,
        [{"ID": "1", "user_query": "Who?", "chatgpt_response": "Me", "hallucination": "maybe"}],
    )
    with pytest.raises(DataError, match=r"h\.jsonl:1: hallucination 'maybe'"):
        parse("halueval", halu)


def test_bad_input_changes_nothing_and_names_the_problem(tmp_path, store):
    path = write_jsonl(
        tmp_path / "h.jsonl",
        [
            {"ID": "1", "user_query": "Who?", "chatgpt_response": "Me", "hallucination": "no"},
            {"ID": "2", "user_query": "Why?", "hallucination": "no"},
        ],
    )
    with pytest.raises(DataError, match=r"h\.jsonl:2: missing field 'chatgpt_response'"):
        import_path("halueval", path, store)
    assert store.get_queries() == [] and store.list_runs() == []
    with pytest.raises(UserError, match="unknown import format"):
        parse("nope", path)
    with pytest.raises(UserError, match="--eval-set does not apply to format 'halueval'"):
        parse("halueval", path, eval_set=path)
    with pytest.raises(UserError, match="no such file"):
        parse("halueval", tmp_path / "missing.jsonl")
    assert set(FORMATS) >= {
        "alpaca-eval-outputs",
        "mt-bench-judgments",
        "llmbar",
        "pandalm",
        "judgebench",
        "gsm8k",
        "halueval",
    }


def test_cli_import_and_dry_run(tmp_path):
    from typer.testing import CliRunner

    from judgebench.cli import app

    path = write_jsonl(
        tmp_path / "h.jsonl",
        [{"ID": "1", "user_query": "Q", "chatgpt_response": "A", "hallucination": "no"}],
    )
    db = tmp_path / "cli.db"
    runner = CliRunner()
    dry = runner.invoke(app, ["import", "halueval", str(path), "--db", str(db), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "nothing written" in dry.output
    result = runner.invoke(app, ["import", "halueval", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 judgments (1 new)" in result.output
    assert len(Store(db).get_judgments(judge="human:halueval")) == 1


def test_an_import_that_fails_midway_leaves_nothing(tmp_path, monkeypatch):
    """All rows of one import commit together: a failure while writing leaves no partial import."""
    from judgebench.db import Store
    from judgebench.importers import base

    path = tmp_path / "pairs.json"
    path.write_text(
        '[{"input": "Say hi", "output_1": "hi", "output_2": "hello there", "label": 1},'
        ' {"input": "Say bye", "output_1": "bye", "output_2": "ciao", "label": 2}]',
        encoding="utf-8",
    )
    from judgebench.importers import parse

    batch = parse("llmbar", path)
    assert batch.counts()
    store = Store(tmp_path / "s.db")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "put_judgments", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        base.write_batch(batch, store)
    assert store.get_queries() == [] and store.get_responses() == []
    assert store.list_runs(kind="import") == []
