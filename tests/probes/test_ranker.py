"""The score arithmetic against explicit loops: cosines, the anisotropy baseline, bootstrap CIs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from judgebench.errors import DataError, UserError
from judgebench.probes.ranker import (
    bootstrap_weights,
    format_layers,
    language_scores,
    pair_terms,
    parse_layers,
    read_reference_csv,
    spearman,
)


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(
        sum(x * y for x, y in zip(a, b, strict=True))
        / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    )


def test_pair_terms_match_explicit_loops() -> None:
    rng = np.random.default_rng(3)
    english = rng.normal(size=(2, 5, 4)) + 2.0  # an offset makes the space anisotropic
    other = rng.normal(size=(2, 5, 4)) + 2.0
    matched, mismatched = pair_terms(english, other)
    for layer in range(2):
        for i in range(5):
            assert matched[layer, i] == pytest.approx(
                _cos(english[layer, i], other[layer, i]), abs=1e-12
            )
            others = [_cos(english[layer, i], other[layer, j]) for j in range(5) if j != i]
            assert mismatched[layer, i] == pytest.approx(sum(others) / len(others), abs=1e-12)


def test_baseline_is_subtracted_and_identical_pairs_score_one_minus_baseline() -> None:
    rng = np.random.default_rng(0)
    english = rng.normal(size=(3, 40, 8)) + 1.5
    weights = bootstrap_weights(40, 200, seed=1)
    same = language_scores(english, english.copy(), layers=(1, 2, 3), weights=weights)
    assert np.allclose(same.raw, 1.0)
    assert np.all(same.baseline > 0.3)  # the offset shows up as anisotropy
    assert np.allclose(same.score, same.raw - same.baseline)
    assert same.agg_score == pytest.approx(1.0 - same.agg_baseline)

    # Unrelated "translations" drawn from the same anisotropic space: high raw cosine, score ≈ 0.
    unrelated = language_scores(
        english, rng.normal(size=(3, 40, 8)) + 1.5, layers=(1, 2, 3), weights=weights
    )
    assert unrelated.agg_raw > 0.5
    assert abs(unrelated.agg_score) < 0.05


def test_layer_set_aggregate_is_mean_of_chosen_layers() -> None:
    rng = np.random.default_rng(5)
    english, other = rng.normal(size=(4, 30, 6)), rng.normal(size=(4, 30, 6))
    other[1] = english[1] + 0.1 * other[1]  # layer 2 aligned
    weights = bootstrap_weights(30, 100, seed=0)
    scores = language_scores(english, other, layers=(2, 4), weights=weights)
    assert scores.agg_score == pytest.approx((scores.score[1] + scores.score[3]) / 2)
    assert scores.agg_raw == pytest.approx((scores.raw[1] + scores.raw[3]) / 2)
    assert scores.score[1] == max(scores.score)


def test_bootstrap_is_seeded_and_brackets_the_estimate() -> None:
    rng = np.random.default_rng(7)
    english, other = rng.normal(size=(2, 50, 6)), rng.normal(size=(2, 50, 6))
    other = english + 0.8 * other
    a = language_scores(english, other, layers=(1, 2), weights=bootstrap_weights(50, 500, seed=42))
    b = language_scores(english, other, layers=(1, 2), weights=bootstrap_weights(50, 500, seed=42))
    c = language_scores(english, other, layers=(1, 2), weights=bootstrap_weights(50, 500, seed=43))
    assert a.agg_ci == b.agg_ci
    assert a.agg_ci != c.agg_ci
    assert a.agg_ci[0] < a.agg_score < a.agg_ci[1]
    assert np.all(a.ci_low < a.score) and np.all(a.score < a.ci_high)
    # The CI shrinks with more pairs (standard error ~ 1/sqrt(n)).
    big_e, big_o = rng.normal(size=(1, 800, 6)), rng.normal(size=(1, 800, 6))
    big = language_scores(
        big_e, big_e + 0.8 * big_o, layers=(1,), weights=bootstrap_weights(800, 500, seed=0)
    )
    assert big.agg_ci[1] - big.agg_ci[0] < a.agg_ci[1] - a.agg_ci[0]


def test_bootstrap_weights_rows_are_resamples() -> None:
    weights = bootstrap_weights(20, 30, seed=0)
    assert weights.shape == (30, 20)
    assert np.allclose(weights.sum(axis=1), 1.0)
    assert np.allclose((weights * 20) % 1, 0)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (None, (1, 2, 3, 4, 5, 6)),
        ("all", (1, 2, 3, 4, 5, 6)),
        ("last", (6,)),
        ("-1", (6,)),
        ("1-3,6", (1, 2, 3, 6)),
        ("-2--1", (5, 6)),
        ("2,2,1", (1, 2)),
    ],
)
def test_parse_layers(spec: str | None, expected: tuple[int, ...]) -> None:
    assert parse_layers(spec, 6) == expected


@pytest.mark.parametrize(
    ("spec", "written"), [("all", "1-6"), ("last", "6"), ("5-6", "5,6"), ("1-3,6", "1,2,3,6")]
)
def test_format_layers_reads_back(spec: str, written: str) -> None:
    assert format_layers(parse_layers(spec, 6)) == written
    assert parse_layers(written, 6) == parse_layers(spec, 6)


@pytest.mark.parametrize("spec", ["0", "7", "x", "3-1", ","])
def test_parse_layers_rejects(spec: str) -> None:
    with pytest.raises(UserError, match="--layers"):
        parse_layers(spec, 6)


def test_spearman_and_reference_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "share.csv"
    path.write_text("language,value\ndeu,5.1\nfra,4.0\nkan,0.1\nzul,0.05\n", encoding="utf-8")
    reference = read_reference_csv(str(path))
    assert reference == {"deu": 5.1, "fra": 4.0, "kan": 0.1, "zul": 0.05}
    result = spearman({"deu": 0.9, "fra": 0.8, "kan": 0.2, "zul": 0.1, "xho": 0.3}, reference)
    assert result.rho == pytest.approx(1.0)
    assert result.n == 4 and result.missing == ["xho"]
    reversed_ = spearman({"deu": 0.1, "fra": 0.2, "kan": 0.8, "zul": 0.9}, reference)
    assert reversed_.rho == pytest.approx(-1.0)
    bad = tmp_path / "bad.csv"
    bad.write_text("deu,5\nfra,lots\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"bad.csv: line 2"):
        read_reference_csv(str(bad))
