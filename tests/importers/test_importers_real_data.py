"""Must-show reproductions on the real shared data (skipped with a message when absent)."""

from __future__ import annotations

import pandas as pd
import pytest

from judgebench.analysis.reproductions import alpacaeval_comparison, pandalm_tables
from judgebench.db import Store
from judgebench.importers import import_path, parse
from tests.conftest import shared_path

pytestmark = pytest.mark.real_data

BASELINE = "gpt4_1106_preview"


@pytest.fixture(scope="module")
def alpaca():
    outputs = parse("alpaca-eval-outputs", shared_path("alpaca_eval", "model_outputs"))
    annotations = parse(
        "alpaca-eval-annotations",
        shared_path("alpaca_eval", "annotations_weighted_alpaca_eval_gpt4_turbo.csv"),
    )
    board = pd.read_csv(
        shared_path(
            "alpaca_eval",
            "leaderboards",
            "data_AlpacaEval_2",
            "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
        ),
        index_col=0,
    )
    return outputs, annotations, board


def test_alpacaeval_win_rates_reproduce_the_leaderboard(alpaca):
    outputs, annotations, board = alpaca
    # both imports refer to the same queries (instruction text ↔ eval_set index)
    assert set(annotations.queries) == set(outputs.queries)
    assert len(outputs.queries) == 805
    table, summary = alpacaeval_comparison(
        annotations.judgments.values(), outputs.responses.values(), board, BASELINE
    )
    listed = table.dropna(subset=["official_raw"])
    assert len(listed) >= 25
    assert (listed["raw"] - listed["official_raw"]).abs().max() < 0.05
    assert summary["max_abs_raw_vs_official_raw"] < 0.05


def test_alpacaeval_length_controlled_is_closer_to_official_lc(alpaca):
    outputs, annotations, board = alpaca
    table, summary = alpacaeval_comparison(
        annotations.judgments.values(), outputs.responses.values(), board, BASELINE
    )
    shown = table.dropna(subset=["lc_ours", "official_lc"])
    print("\nAlpacaEval 2 (weighted GPT-4-turbo judge) vs", BASELINE)
    print(shown[["raw", "lc_ours", "official_lc"]].round(2).to_string())
    print({k: round(v, 4) for k, v in summary.items()})
    assert summary["models_with_lc"] >= 25
    assert summary["mae_ours_vs_official_lc"] < summary["mae_raw_vs_official_lc"]
    assert summary["mae_ours_vs_official_lc"] < 2.5
    assert summary["spearman_ours_vs_official_lc"] > summary["spearman_raw_vs_official_lc"]


def test_pandalm_agreement_tables_through_the_store(tmp_path):
    store = Store(tmp_path / "pandalm.db")
    result = import_path("pandalm", shared_path("pandalm_testset"), store)
    assert result.read["invalid_judgments"] == 25  # the 25 "garbage" GPT-3.5 verdicts, kept
    judgments = store.get_judgments()
    invalid = [j for j in judgments if j.status == "invalid"]
    assert {j.raw_replies[0] for j in invalid} == {"garbage"}
    assert all(j.verdict is None and j.score is None for j in invalid)
    tables = pandalm_tables(judgments)
    kappa = tables["kappa"].set_index(["rater_a", "rater_b"])["kappa"].round(2)
    print("\nPandaLM inter-annotator Cohen's kappa\n", tables["kappa"].round(4).to_string())
    assert kappa[("annotator1", "annotator2")] == 0.85
    assert kappa[("annotator1", "annotator3")] == 0.88
    assert kappa[("annotator2", "annotator3")] == 0.86
    majority = tables["majority"].set_index("label")["count"]
    print(tables["majority"].to_string())
    assert majority["tie"] == 105 and majority["A"] == 422 and majority["B"] == 472
    judges = tables["judges"].set_index("judge")
    print(
        judges[["n", "invalid", "accuracy", "precision_macro", "recall_macro", "f1_macro", "kappa"]]
        .round(4)
        .to_string()
    )
    assert judges.loc["gpt-3.5-turbo", "invalid"] == 25
    assert judges.loc["pandalm-7b", "invalid"] == 0
    assert 0.55 < judges.loc["gpt-3.5-turbo", "accuracy"] < 0.8
    assert 0.55 < judges.loc["pandalm-7b", "accuracy"] < 0.8


@pytest.mark.parametrize(
    ("name", "pairs", "labels"),
    [
        ("llmbar-natural", 100, {"A", "B"}),
        ("llmbar-adversarial", 319, {"A", "B"}),
        ("llmbar-mtbench", 200, {"A", "B"}),
        ("llmbar-llmeval2", 200, {"A", "B"}),
        ("llmbar-faireval", 66, {"A", "B"}),
        ("pandalm", 999, {"A", "B", "tie"}),
    ],
)
def test_named_judge_eval_sets_load_with_their_published_sizes(name, pairs, labels, shared_data):
    from judgebench.analysis.judge_eval import labelled_pairs, load_label_set

    _, batch = load_label_set(name, shared_data)
    items = labelled_pairs(batch)
    assert len(items) == pairs
    assert {it.label for it in items} == labels


def test_alpacaeval_feedback_by_source_dataset(alpaca):
    """The whole feedback path on real data: per-dataset node table and findings."""
    from judgebench.analysis import (
        FeedbackReport,
        alpaca_prefs_frame,
        lengths_frame,
        membership_frame,
        pairs_frame,
    )

    outputs, annotations, _ = alpaca
    prefs = alpaca_prefs_frame(
        pairs_frame(annotations.judgments.values()),
        lengths_frame(outputs.responses.values()),
        BASELINE,
    )
    scores = prefs.rename(columns={"outcome": "score"})[["query_id", "model", "score"]]
    membership = membership_frame(outputs.queries.values())
    assert set(membership["node_id"]) == {
        "alpaca_eval/helpful_base",
        "alpaca_eval/koala",
        "alpaca_eval/oasst",
        "alpaca_eval/selfinstruct",
        "alpaca_eval/vicuna",
    }
    report = FeedbackReport(scores, membership, n_boot=200)
    overall = report.table[report.table["node_id"] == "*"].set_index("model")
    best = overall["mean"].idxmax()
    assert overall.loc[best, "rank"] == 1 and best == "example"  # 76.9 % (see the leaderboard test)
    assert report.table["node_id"].nunique() == 1 + 1 + 5  # overall, root, five datasets
    # every finding is separated and names its evidence queries
    for row in report.findings.itertuples():
        assert row.separated_from and len(row.evidence) == 3
