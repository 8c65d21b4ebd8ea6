"""judge-eval with the simulated judge on a small labelled set in LLMBar format."""

from __future__ import annotations

import json

import pytest

from judgebench.analysis.judge_eval import labelled_pairs, load_label_set, run_judge_eval, summarize
from judgebench.db import Store
from judgebench.errors import UserError
from judgebench.importers import parse
from judgebench.records import Judgment

PAIRS = [
    (
        "Name the capital of France.",
        "The capital of France is Paris.",
        "Bananas are yellow and sweet.",
        1,
    ),
    (
        "List three primary colours.",
        "I like turtles.",
        "The three primary colours are red, blue and yellow.",
        2,
    ),
    ("What is 2 + 2?", "2 + 2 equals 4.", "Cats sleep a lot.", 1),
    ("Translate 'hello' to Spanish.", "The weather is nice.", "'Hello' in Spanish is 'hola'.", 2),
]


@pytest.fixture
def label_file(tmp_path):
    path = tmp_path / "LLMBar" / "Natural" / "dataset.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps([{"input": q, "output_1": a, "output_2": b, "label": y} for q, a, b, y in PAIRS])
    )
    return path


def test_judge_eval_with_the_simulated_judge_is_stored_as_a_run(label_file, tmp_path):
    from judgebench.judges import PairwiseJudge

    batch = parse("llmbar", label_file)
    items = labelled_pairs(batch)
    assert sorted(it.label for it in items) == ["A", "A", "B", "B"]
    store = Store(tmp_path / "je.db")
    judge = PairwiseJudge("sim/judge")
    metrics, run = run_judge_eval(
        judge, "tiny", batch, store, judge_config={"judge": "pairwise", "model": "sim/judge"}
    )
    assert metrics["n"] == 4
    assert 0.0 <= metrics["accuracy_with_ties"] <= 1.0
    assert metrics["position_consistency"] is not None
    assert metrics["cost"] > 0 and metrics["tokens"] > 0
    stored = store.get_run(run.id)
    assert stored.kind == "judge-eval" and stored.status == "finished"
    assert stored.config["metrics"]["n"] == 4
    judged = store.get_judgments(run_id=run.id)
    assert len(judged) == 4 and all(j.judge_model == "sim/judge" for j in judged)
    # the labels are stored too, so the dashboard shows the set like any run
    assert len(store.get_judgments(judge="gold:llmbar/natural")) == 4
    # rerunning the same configuration is the same run and adds no judgments
    again_metrics, again = run_judge_eval(
        judge, "tiny", batch, store, judge_config={"judge": "pairwise", "model": "sim/judge"}
    )
    assert again.id == run.id and len(store.get_judgments(run_id=run.id)) == 4
    assert metrics["judged_now"] == 4 and again_metrics["judged_now"] == 0
    assert again_metrics["accuracy_with_ties"] == metrics["accuracy_with_ties"]


def _judgment(verdict, status="ok", ab=None, ba=None, cost=0.01):
    return Judgment(
        judge="t",
        judge_model="m",
        kind="pairwise",
        query_id="q",
        response_id="a",
        response_b_id="b",
        template_name="t",
        template_hash="h",
        verdict=verdict if status == "ok" else None,
        status=status,
        reason=None if status == "ok" else "unparseable",
        details={"verdict_ab": ab, "verdict_ba": ba},
        cost=cost,
    )


def test_summarize_counts_invalid_and_slot_bias():
    class Item:
        def __init__(self, label):
            self.label = label

    judgments = [
        _judgment("A", ab="A", ba="A"),
        _judgment("tie", ab="A", ba="B"),  # picked slot A in both orders
        _judgment(None, status="invalid"),
        _judgment("B", ab="B", ba="B"),
    ]
    out = summarize(judgments, [Item("A"), Item("B"), Item("A"), Item("B")])
    assert out["invalid"] == 1 and out["accuracy_with_ties"] == pytest.approx(2 / 4)
    assert out["position_consistency"] == pytest.approx(2 / 3)
    assert out["prefers_first"] == 1.0
    assert out["cost"] == pytest.approx(0.04)


def test_cli_judge_eval_rerun_is_served_from_the_cache_and_compares_configs(label_file, tmp_path):
    from typer.testing import CliRunner

    from judgebench.cli import app
    from judgebench.llm import get_gateway

    runner = CliRunner()
    db = tmp_path / "cli.db"
    args = [
        "judge-eval",
        str(label_file),
        "--format",
        "llmbar",
        "--model",
        "sim/judge",
        "--db",
        str(db),
    ]
    first = runner.invoke(app, [*args, "--limit", "2"])
    assert first.exit_code == 0, first.output
    assert "(simulated)" in first.output and "position consistency" in first.output
    assert get_gateway().stats.calls > 0
    again = runner.invoke(app, [*args, "--limit", "2"])
    assert again.exit_code == 0, again.output
    assert get_gateway().stats.calls == 0  # a finished evaluation is read back, not re-judged
    config = tmp_path / "one_order.yaml"
    config.write_text("judge: pairwise\nmodel: sim/judge\nboth_orders: false\n")
    other = runner.invoke(
        app,
        [
            "judge-eval",
            str(label_file),
            "--format",
            "llmbar",
            "--judge",
            str(config),
            "--db",
            str(db),
            "--limit",
            "2",
        ],
    )
    assert other.exit_code == 0, other.output
    listing = runner.invoke(app, ["judge-evals", "--db", str(db)])
    assert listing.exit_code == 0, listing.output
    assert "both_orders=False" in listing.output and listing.output.count("pairwise") >= 2


def test_judge_eval_bad_input_is_one_line(label_file, tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("model: sim/judge\n")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "judgebench",
            "judge-eval",
            str(label_file),
            "--format",
            "llmbar",
            "--judge",
            str(bad),
            "--db",
            str(tmp_path / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert (
        result.stderr.strip().count("\n") == 0
        and "needs a mapping with at least 'judge'" in result.stderr
    )
    with pytest.raises(UserError, match="unknown label set"):
        load_label_set("no-such-set")
    with pytest.raises(UserError, match="--format"):
        load_label_set(str(label_file))


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_judge_eval_limit_below_one_is_refused_and_creates_no_store(
    limit, label_file, tmp_path, monkeypatch, capsys
):
    """``--limit 0`` used to evaluate every pair and ``--limit -1`` all but the last."""
    from judgebench.cli import main

    db = tmp_path / "x.db"
    argv = ["judge-eval", str(label_file), "--format", "llmbar", "--model", "sim/judge"]
    monkeypatch.setattr("sys.argv", ["judgebench", *argv, "--limit", limit, "--db", str(db)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "limit must be at least 1 pair" in err and "\n" not in err
    assert not db.exists()
    batch = parse("llmbar", label_file)
    with pytest.raises(UserError, match=f"got {limit}"):
        run_judge_eval(object(), "s", batch, None, limit=int(limit))


def test_judge_evals_listing_does_not_create_a_store(tmp_path, monkeypatch, capsys):
    from judgebench.cli import main

    db = tmp_path / "typo.db"
    monkeypatch.setattr("sys.argv", ["judgebench", "judge-evals", "--db", str(db)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err.strip()
    assert info.value.code == 2 and "no store here" in err and not db.exists()
