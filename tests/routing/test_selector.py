"""The selection network: it learns who is better where, the load-balancing penalty prevents
collapse, thresholds drop weak models, and a saved model routes the same after loading."""

from __future__ import annotations

import numpy as np
import pytest

from judgebench.errors import DataError
from judgebench.records import Judgment, Query
from judgebench.routing import SelectionModel, SelectorSettings, judged_scores, score_matrix
from judgebench.routing.selector import SelectionNetwork, usage


def _regions(n: int = 400, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three models: model 0 a little better on average; 1 and 2 best in their own region."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 8))
    region = np.tanh(2 * X[:, 0])
    Y = np.column_stack([np.full(n, 0.62), 0.55 + 0.15 * region, 0.55 - 0.15 * region])
    return X, Y + rng.normal(0, 0.05, Y.shape)


def test_selector_learns_who_is_better_where():
    X, Y = _regions()
    net = SelectionNetwork(SelectorSettings(balance=0.0, epochs=300)).fit(X[:300], Y[:300])
    w = net.weights(X[300:])
    rows = np.arange(100)
    routed = Y[300:][rows, w.argmax(axis=1)].mean()
    best_single = Y[300:].mean(axis=0).max()
    assert routed > best_single + 0.02  # held-out: routing beats always-model-0
    assert net.history[-1]["cross_entropy"] < net.history[0]["cross_entropy"]


def test_without_the_balance_penalty_the_selector_collapses():
    # features carry no information about who wins: only the average matters, and model 0 is
    # a little better on average, so an unpenalised selector sends (nearly) everything to it
    rng = np.random.default_rng(1)
    X, held_out = rng.normal(size=(800, 8)), rng.normal(size=(400, 8))
    Y = np.array([0.6, 0.56, 0.55, 0.54]) + rng.normal(0, 0.1, (800, 4))

    def share(balance: float) -> np.ndarray:
        net = SelectionNetwork(SelectorSettings(balance=balance, epochs=200)).fit(X, Y)
        return usage(net.weights(held_out))

    free, balanced = share(0.0), share(3.0)
    used = lambda s: int((s >= 0.1).sum())  # noqa: E731
    assert used(free) == 1 and free.max() > 0.9
    assert used(balanced) >= 2 and balanced.max() < 0.7


def test_weights_under_threshold_are_dropped_and_renormalised():
    X, Y = _regions(200)
    net = SelectionNetwork(SelectorSettings(drop_below=0.3, epochs=50)).fit(X, Y)
    raw, kept = net.weights(X), net.selected(X)
    assert np.allclose(kept.sum(axis=1), 1.0)
    assert ((raw < 0.3) & (raw < raw.max(axis=1, keepdims=True)) <= (kept == 0)).all()
    assert (kept.argmax(axis=1) == raw.argmax(axis=1)).all()


def test_fit_rejects_missing_scores():
    with pytest.raises(ValueError, match="NaN"):
        SelectionNetwork().fit(np.zeros((3, 2)), np.array([[0.1, np.nan]] * 3))


def _pair(q: Query, b: str, p_b: float | None, status: str = "ok") -> Judgment:
    return Judgment(
        judge="annotator",
        judge_model="annotator",
        kind="pairwise",
        query_id=q.id,
        model="baseline",
        model_b=b,
        template_name="imported",
        template_hash="x",
        verdict=None if p_b is None else ("B" if p_b > 0.5 else "A"),
        details={} if p_b is None else {"p_b": p_b},
        status=status,
        reason=None if status == "ok" else "unparsed",
    )


def test_judged_scores_from_pairwise_and_pointwise_never_default():
    q = Query(text="What is the capital of France?")
    js = [
        _pair(q, "m1", 0.8),
        _pair(q, "m1", 0.6),
        _pair(q, "m2", None, status="invalid"),
        Judgment(
            judge="rubric",
            judge_model="j",
            query_id=q.id,
            model="m3",
            template_name="t",
            template_hash="h",
            score=7,
            params={"scale": [1, 10]},
        ),
    ]
    scores = judged_scores(js, baseline="baseline")
    assert scores[q.id]["m1"] == pytest.approx(0.7)
    assert "m2" not in scores[q.id]  # an invalid judgment is no score, not a default one
    assert scores[q.id]["m3"] == pytest.approx(6 / 9)
    kept, matrix = score_matrix([q], scores, ["m1", "m2"])
    assert kept == [] and matrix.shape == (0,)


def test_selection_model_round_trip(tmp_path):
    texts = [f"write a python function number {i} that sorts a list" for i in range(20)]
    texts += [f"write a short poem number {i} about the sea" for i in range(20)]
    queries = [Query(text=t, node_ids=["coding" if "python" in t else "writing"]) for t in texts]
    Y = np.array([[0.9, 0.2] if "python" in t else [0.2, 0.9] for t in texts])
    model = SelectionModel.train(
        queries,
        Y,
        ["coder", "writer"],
        encoder="lexical",
        settings=SelectorSettings(epochs=150, balance=0.5),
    )
    probe = ["write a python function that merges lists", "write a poem about rain"]
    w = model.weights(probe)  # no node given: inferred from the nearest training queries
    assert list(w.argmax(axis=1)) == [0, 1]
    again = SelectionModel.load(model.save(tmp_path / "sel.npz"))
    assert np.allclose(again.weights(probe), w)
    with pytest.raises(DataError, match="at least 10"):
        SelectionModel.train(queries[:3], Y[:3], ["coder", "writer"], encoder="lexical")
    (tmp_path / "bad.npz").write_text("nope")
    with pytest.raises(DataError, match="not a saved selection model"):
        SelectionModel.load(tmp_path / "bad.npz")
