"""End to end on tiny models: stored scores, the anisotropy correction, resume, CSV and the CLI."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from judgebench.db import Store
from judgebench.errors import ConfigError
from judgebench.probes.encoder import HiddenStateEncoder
from judgebench.probes.language_ranker import (
    RankerSettings,
    layer_matrix,
    run_language_ranker,
    write_csv,
)

from .conftest import ENGLISH, FRENCH, GERMAN, write_parallel


class CountingEncoder(HiddenStateEncoder):
    """The real encoder, counting how many sentences it was asked to encode."""

    encoded = 0

    def run_packed(self, packed, pooling):  # type: ignore[no-untyped-def]
        self.encoded += packed[0]
        return super().run_packed(packed, pooling)


def _counting(path: Path) -> CountingEncoder:
    base = HiddenStateEncoder.load(str(path), device="cpu")
    encoder = CountingEncoder(base.model, base.tokenizer, name=str(path), device="cpu")
    return encoder


@pytest.mark.parametrize("pooling", ["last", "mean"])
def test_scores_stored_and_corrected(
    tiny_encoder_path: Path, parallel_folder: Path, tmp_path: Path, pooling: str
) -> None:
    store = Store(tmp_path / "p.db")
    settings = RankerSettings(pooling=pooling, n_boot=200)
    report = run_language_ranker(
        str(tiny_encoder_path), parallel_folder, store=store, settings=settings
    )
    assert sorted(report.computed) == ["cpy", "deu", "fra"]
    by_code = {row["language"]: row for row in report.ranking}
    # A copy of English is identical: raw cosine 1 at every layer, score = 1 − baseline, ranked first.
    assert by_code["cpy"]["raw"] == pytest.approx(1.0, abs=1e-5)
    assert by_code["cpy"]["score"] == pytest.approx(1.0 - by_code["cpy"]["baseline"], abs=1e-6)
    assert report.ranking[0]["language"] == "cpy"
    for row in report.ranking:
        assert row["score"] == pytest.approx(row["raw"] - row["baseline"], abs=1e-9)
        assert row["ci_low"] <= row["score"] <= row["ci_high"]
        assert row["n_pairs"] == len(ENGLISH)
    assert len(report.per_layer) == 3 * 3  # 3 languages × 3 layers, embeddings excluded
    languages, layers, matrix = layer_matrix(report)
    assert layers == [1, 2, 3] and languages[0] == "cpy" and not np.isnan(matrix).any()
    # The aggregate is the mean of the per-layer scores.
    deu_layers = [r["score"] for r in report.per_layer if r["language"] == "deu"]
    assert by_code["deu"]["score"] == pytest.approx(sum(deu_layers) / 3)


def test_pooling_and_layer_set_change_the_run(
    tiny_decoder_path: Path, parallel_folder: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "p.db")
    last = run_language_ranker(
        str(tiny_decoder_path), parallel_folder, store=store, settings=RankerSettings(n_boot=50)
    )
    mean = run_language_ranker(
        str(tiny_decoder_path),
        parallel_folder,
        store=store,
        settings=RankerSettings(pooling="mean", n_boot=50),
    )
    top = run_language_ranker(
        str(tiny_decoder_path),
        parallel_folder,
        store=store,
        settings=RankerSettings(layers="last", n_boot=50),
    )
    assert len({last.run_id, mean.run_id, top.run_id}) == 3
    assert mean.computed and top.computed  # different settings are not "already done"
    deu = {r["language"]: r for r in last.ranking}["deu"]["raw"]
    assert deu != pytest.approx({r["language"]: r for r in mean.ranking}["deu"]["raw"])
    last_layer = [r for r in last.per_layer if r["language"] == "deu" and r["layer"] == 2][0]
    assert {r["language"]: r for r in top.ranking}["deu"]["score"] == pytest.approx(
        last_layer["score"]
    )


def test_resume_skips_stored_languages(tiny_decoder_path: Path, tmp_path: Path) -> None:
    folder = write_parallel(tmp_path / "c", {"deu": GERMAN, "fra": FRENCH})
    store = Store(tmp_path / "p.db")
    settings = RankerSettings(n_boot=100)
    encoder = _counting(tiny_decoder_path)
    first = run_language_ranker(encoder, folder, store=store, settings=settings, languages=["deu"])
    assert first.computed == ["deu"] and encoder.encoded == 2 * len(ENGLISH)

    encoder.encoded = 0
    second = run_language_ranker(encoder, folder, store=store, settings=settings)
    assert second.computed == ["fra"] and second.skipped == ["deu"]
    assert encoder.encoded == 2 * len(ENGLISH)  # English + French only
    assert sorted(r["language"] for r in second.ranking) == [
        "deu",
        "fra",
    ]  # stored + new, ranked together
    assert second.ranking[0]["raw"] >= second.ranking[1]["raw"]  # ranked by the paper's metric
    # The stored German score is the same one a fresh store computes: idempotent, deterministic.
    fresh = run_language_ranker(encoder, folder, store=Store(tmp_path / "q.db"), settings=settings)
    stored = {r["language"]: r["score"] for r in second.ranking}
    # (float32 states: batch composition moves the last bits, so not bit-identical)
    assert {r["language"]: r["score"] for r in fresh.ranking} == pytest.approx(stored, abs=1e-6)

    # A finished run does not even load the model.
    def no_load(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("model loaded for finished work")

    import judgebench.probes.language_ranker as module

    original = module.HiddenStateEncoder.load
    module.HiddenStateEncoder.load = no_load  # type: ignore[method-assign]
    try:
        third = run_language_ranker(str(tiny_decoder_path), folder, store=store, settings=settings)
    finally:
        module.HiddenStateEncoder.load = original  # type: ignore[method-assign]
    assert third.computed == []


def test_groups_bounded_by_memory(tiny_encoder_path: Path, parallel_folder: Path) -> None:
    encoder = _counting(tiny_encoder_path)
    calls: list[int] = []
    original = encoder.run_packed

    def spy(packed, pooling="last"):  # type: ignore[no-untyped-def]
        calls.append(packed[0])
        return original(packed, pooling)

    encoder.run_packed = spy  # type: ignore[method-assign]
    # A tiny budget: every language becomes its own group after the English one.
    run_language_ranker(encoder, parallel_folder, settings=RankerSettings(n_boot=20), memory_mb=0)
    assert calls == [len(ENGLISH)] * 4


def test_csv_export(tiny_encoder_path: Path, parallel_folder: Path, tmp_path: Path) -> None:
    report = run_language_ranker(
        str(tiny_encoder_path), parallel_folder, settings=RankerSettings(n_boot=20)
    )
    out = tmp_path / "r.csv"
    assert write_csv(report, out) == 3 + 9
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["rank"] for r in rows[:3]] == ["1", "2", "3"] and rows[0]["layer"] == "0"
    assert {r["layer"] for r in rows[3:]} == {"1", "2", "3"}
    assert float(rows[0]["score"]) == pytest.approx(report.ranking[0]["score"])


def test_bad_input_changes_nothing(
    tiny_encoder_path: Path, parallel_folder: Path, tmp_path: Path
) -> None:
    store = Store(tmp_path / "p.db")
    with pytest.raises(ConfigError, match="model folder not found"):
        run_language_ranker(str(tmp_path / "missing-model"), parallel_folder, store=store)
    from judgebench.db.probes import language_ranker_runs

    assert language_ranker_runs(store) == []


def test_cli_runs_and_reports(
    tiny_encoder_path: Path, parallel_folder: Path, tmp_path: Path
) -> None:
    from judgebench.cli import app

    reference = tmp_path / "ref.csv"
    reference.write_text("language,value\ncpy,100\ndeu,3\nfra,2\n", encoding="utf-8")
    args = [
        "probe", "language-ranker", "--model", str(tiny_encoder_path), "--corpus", str(parallel_folder),
        "--db", str(tmp_path / "cli.db"), "--csv", str(tmp_path / "out.csv"), "--reference-csv", str(reference),
        "--bootstrap", "50", "-l", "deu,fra", "-l", "cpy",
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "cpy" in result.output and "Spearman rho" in result.output
    assert "3 languages computed" in result.output
    again = CliRunner().invoke(app, args)
    assert "0 languages computed, 3 already stored" in again.output
    assert (tmp_path / "out.csv").read_text(encoding="utf-8").count("\n") == 1 + 3 + 9


def test_cli_one_line_errors(parallel_folder: Path, tmp_path: Path) -> None:
    for extra, expected in (
        (["--model", str(tmp_path / "nope")], "model folder not found"),
        (["--model", "minilm", "--languages", "xx"], "unknown language code(s) xx"),
        (["--model", "minilm", "--pooling", "max"], "unknown pooling"),
    ):
        cmd = [sys.executable, "-m", "judgebench", "probe", "language-ranker", "--corpus", str(parallel_folder),
               "--db", str(tmp_path / "e.db"), *extra]  # fmt: skip
        result = subprocess.run(cmd, capture_output=True, text=True)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0]
