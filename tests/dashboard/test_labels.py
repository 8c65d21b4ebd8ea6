"""Labels made on the dashboard: sampling, storage as human judgments, agreement, export/import."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from judgebench.dashboard import labels as lab
from judgebench.dashboard.sample import PAIR_JUDGE
from judgebench.db import Store
from judgebench.errors import DataError, UserError


@pytest.fixture()
def store(sample_url, tmp_path) -> Store:
    """A private copy of the sample store: these tests write labels."""
    path = tmp_path / "labels.db"
    shutil.copy(sample_url.removeprefix("sqlite:///"), path)
    return Store(path)


def test_sample_is_stratified_by_node_and_confidence(store):
    items = lab.sample_items(store, PAIR_JUDGE, 12, seed=3)
    assert len(items) == 12 and all(i.kind == "pairwise" for i in items)
    assert len({i.judgment_id for i in items}) == 12
    # round robin over strata: a dozen items reach every domain and both confidence levels
    assert len({i.node for i in items}) >= 5
    assert {i.confidence for i in items} == {"low", "high"}
    with pytest.raises(UserError, match="sample size"):
        lab.sample_items(store, PAIR_JUDGE, 0)


def test_a_label_is_a_human_judgment_with_the_labellers_name(store):
    item = lab.sample_items(store, PAIR_JUDGE, 1, seed=1)[0]
    lab.save_label(store, item, "Ann Lee", verdict="B", note="B cites the source")
    stored = store.get_judgments(judge="human:Ann Lee")
    assert len(stored) == 1
    label = stored[0]
    assert (label.verdict, label.rationale, label.response_id) == (
        "B",
        "B cites the source",
        item.response_id,
    )
    assert label.score is None and label.details["labeller"] == "Ann Lee"
    lab.save_label(store, item, "Ann Lee", verdict="tie")  # relabelling replaces
    assert [j.verdict for j in store.get_judgments(judge="human:Ann Lee")] == ["tie"]
    # the labeller is not offered the item again
    again = lab.sample_items(store, PAIR_JUDGE, 200, seed=1, labeller="Ann Lee")
    assert item.judgment_id not in {i.judgment_id for i in again}
    with pytest.raises(UserError, match="A, B or tie"):
        lab.save_label(store, item, "Ann Lee", verdict="C")
    with pytest.raises(UserError, match="name"):
        lab.save_label(store, item, "  ", verdict="A")


def test_agreement_follows_the_labels(store):
    judged = {j.id: j for j in store.get_judgments(judge=PAIR_JUDGE, status="ok")}
    items = [
        i
        for i in lab.sample_items(store, PAIR_JUDGE, 40, seed=5)
        if judged[i.judgment_id].verdict != "tie"
    ]
    items = items[:4]
    assert lab.agreement(store, PAIR_JUDGE)["n"] == 0
    mirror = {"A": "B", "B": "A"}
    # agree on three, disagree on the fourth
    for k, item in enumerate(items):
        said = judged[item.judgment_id].verdict
        lab.save_label(store, item, "bo", verdict=said if k < 3 else mirror[said])
    found = lab.agreement(store, PAIR_JUDGE)
    assert found["n"] == 4 and found["accuracy"] == pytest.approx(0.75)
    # Cohen's κ by hand: κ = (p_o − p_e) / (1 − p_e), p_e from the two raters' marginals
    machine = [judged[i.judgment_id].verdict for i in items]
    human = machine[:3] + [mirror[machine[3]]]
    p_o = 0.75
    p_e = sum((machine.count(c) / 4) * (human.count(c) / 4) for c in ("A", "B"))
    assert found["kappa"] == pytest.approx((p_o - p_e) / (1 - p_e))
    flipped = [lab.q.POSITION_FLAG in " ".join(judged[i.judgment_id].flags) for i in items]
    assert found["position_consistency"] == pytest.approx(1 - sum(flipped) / 4)


def test_labels_export_and_import_round_trip(store, tmp_path):
    items = lab.sample_items(store, PAIR_JUDGE, 3, seed=2)
    for item, verdict in zip(items, ["A", "B", "tie"], strict=True):
        lab.save_label(store, item, "cy", verdict=verdict, note=f"note {verdict}")
    text = lab.labels_jsonl(store)
    records = [json.loads(line) for line in text.splitlines()]
    assert [r["verdict"] for r in records] == ["A", "B", "tie"] and records[0]["labeller"] == "cy"
    other = tmp_path / "other.db"
    shutil.copy(store.url.removeprefix("sqlite:///"), other) if store.url.startswith(
        "sqlite"
    ) else None
    fresh = Store(other)
    with fresh.session() as s:  # the copy starts without cy's labels
        from sqlalchemy import delete

        from judgebench.db.models import JudgmentRow

        s.execute(delete(JudgmentRow).where(JudgmentRow.judge == "human:cy"))
    assert lab.import_labels(fresh, text) == 3
    assert sorted(j.verdict for j in fresh.get_judgments(judge="human:cy")) == ["A", "B", "tie"]


def test_a_bad_label_file_is_refused_whole(store):
    item = lab.sample_items(store, PAIR_JUDGE, 1, seed=4)[0]
    good = dict(labeller="di", kind="pairwise", query_id=item.query_id, response_id=item.response_id,
                response_b_id=item.response_b_id, model=item.model, model_b=item.model_b, verdict="A")  # fmt: skip
    bad = dict(good, verdict="maybe")
    text = json.dumps(good) + "\n" + json.dumps(bad) + "\n"
    with pytest.raises(DataError, match="line 2: verdict 'maybe'"):
        lab.import_labels(store, text, where="labels.jsonl")
    unknown = dict(good, response_id="nope")
    with pytest.raises(DataError, match="response nope is not in this store"):
        lab.import_labels(store, json.dumps(unknown))
    with pytest.raises(DataError, match="line 1: missing field 'kind'"):
        lab.import_labels(store, json.dumps({"labeller": "di"}))
    assert store.get_judgments(judge="human:di") == []  # nothing written


def test_pointwise_labels_are_scores_and_agreement_is_spearman(store):
    from judgebench.dashboard.sample import JUDGE

    items = lab.sample_items(store, JUDGE, 6, seed=9)
    assert all(i.kind == "pointwise" and i.response_b_id is None for i in items)
    judged = {j.id: j.score for j in store.get_judgments(judge=JUDGE, status="ok")}
    machine = [judged[i.judgment_id] for i in items]
    human = [1, 5, 2, 4, 3, 6]
    for item, score in zip(items, human, strict=True):
        lab.save_label(store, item, "eve", score=score)
    with pytest.raises(UserError, match="needs a score"):
        lab.save_label(store, items[0], "eve", score=None)
    found = lab.agreement(store, JUDGE)
    # Spearman ρ = Pearson correlation of the ranks (average ranks for ties)
    expected = pd.Series(machine).rank().corr(pd.Series(human, dtype=float).rank())
    assert found["n"] == 6 and found["spearman"] == pytest.approx(expected)
    assert "accuracy" not in found  # verdict figures only for pairwise labels


def test_the_page_refuses_bad_uploads_and_tampered_state(store):
    import base64

    from judgebench.dashboard.registry import DashboardContext
    from judgebench.dashboard.views import labelling

    ctx = DashboardContext(store)
    latin = "data:;base64," + base64.b64encode("é".encode("latin-1")).decode()
    assert "not a UTF-8 JSONL file" in labelling.import_upload(ctx, latin, "x.jsonl", 0)[0]
    bad = "data:;base64," + base64.b64encode(b'{"kind": "pairwise"}').decode()
    message, saved = labelling.import_upload(ctx, bad, "x.jsonl", 0)
    assert message.startswith("x.jsonl: line 1: missing field") and saved is labelling.no_update
    with pytest.raises(UserError, match="press Sample"):
        labelling.stored_item([{"judgment_id": "x"}], 0)
    assert "press Sample" in str(labelling.item_panel(ctx, [{"bogus": 1}], 0))
