"""MiniLM on a slice of NTREX-128 (real model, real parallel text)."""

from __future__ import annotations

import pytest

from judgebench.db import Store
from judgebench.probes.language_ranker import RankerSettings, run_language_ranker

from ..conftest import shared_path

pytestmark = pytest.mark.real_data


def test_minilm_on_ntrex_slice(tmp_path) -> None:  # type: ignore[no-untyped-def]
    corpus = shared_path("ntrex128_subset", "NTREX-128")
    languages = ["eng-GB", "spa", "spa-ref2", "deu", "amh"]
    report = run_language_ranker(
        "minilm",
        corpus,
        languages=languages,
        settings=RankerSettings(max_pairs=40, n_boot=300),
        store=Store(tmp_path / "r.db"),
        device="cpu",
    )
    assert sorted(report.computed) == sorted(languages)
    by_code = {row["language"]: row for row in report.ranking}
    assert by_code["deu"]["language_name"] == "German"
    # British English is nearly the same text as the source: first, far ahead.
    assert report.ranking[0]["language"] == "eng-GB"
    assert by_code["eng-GB"]["ci_low"] > by_code["spa"]["ci_high"]
    # Two independent Spanish references score alike: each inside the other's CI.
    spa, ref2 = by_code["spa"], by_code["spa-ref2"]
    assert (
        spa["ci_low"] <= ref2["score"] <= spa["ci_high"]
        or ref2["ci_low"] <= spa["score"] <= ref2["ci_high"]
    )
    # An English-only model: a Latin-script European language beats Amharic (Ge'ez script).
    assert by_code["spa"]["score"] > by_code["amh"]["score"]
    assert all(row["baseline"] > 0 for row in report.ranking)  # MiniLM's space is anisotropic
