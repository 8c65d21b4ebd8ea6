"""Corpus readers: parallel folders, pair files, and one-line errors that name the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from judgebench.errors import DataError
from judgebench.probes.corpus import load_corpus

from .conftest import ENGLISH, FRENCH, GERMAN, write_parallel


def test_parallel_folder_maps_codes_and_alternate_references(tmp_path: Path) -> None:
    folder = write_parallel(tmp_path / "c", {"deu": GERMAN, "fra": FRENCH, "zho-CN": GERMAN})
    (folder / "test-ref-2.deu.txt").write_text("\n".join(FRENCH) + "\n", encoding="utf-8")
    (folder / "README.md").write_text("not a language file", encoding="utf-8")
    (tmp_path / "LANGUAGES.tsv").write_text(
        "deu German\nfra French\nzho-CN  Chinese (Simplified)\n", encoding="utf-8"
    )
    corpus = load_corpus(folder)
    assert corpus.english == ENGLISH
    assert corpus.languages == ["deu", "deu-ref2", "fra", "zho-CN"]
    assert corpus.translations["deu"] == GERMAN and corpus.translations["deu-ref2"] == FRENCH
    assert corpus.language_names["zho-CN"] == "Chinese (Simplified)"
    assert corpus.language_names["deu-ref2"] == "German (reference 2)"
    subset = corpus.select(["fra"], max_pairs=3)
    assert (
        subset.languages == ["fra"]
        and len(subset.english) == 3
        and len(subset.translations["fra"]) == 3
    )
    assert subset.fingerprint() != corpus.fingerprint()


def _one_line(exc: pytest.ExceptionInfo[DataError]) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


def test_misaligned_file_is_named(tmp_path: Path) -> None:
    folder = write_parallel(tmp_path / "c", {"deu": GERMAN, "fra": FRENCH[:-1]})
    with pytest.raises(DataError) as exc:
        load_corpus(folder)
    message = _one_line(exc)
    assert "test-ref.fra.txt" in message and "5 lines" in message and "6" in message


def test_empty_and_blank_lines_are_rejected(tmp_path: Path) -> None:
    folder = write_parallel(tmp_path / "c", {"deu": GERMAN})
    (folder / "test-ref.fra.txt").write_text("\n\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test-ref\.fra\.txt: empty file"):
        load_corpus(folder)
    holes = list(FRENCH)
    holes[2] = "  "
    (folder / "test-ref.fra.txt").write_text("\n".join(holes) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test-ref\.fra\.txt: line 3 is blank"):
        load_corpus(folder)


def test_unknown_language_codes(tmp_path: Path) -> None:
    folder = write_parallel(tmp_path / "c", {"deu": GERMAN, "xyz": FRENCH})
    (folder / "LANGUAGES.tsv").write_text("deu German\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"test-ref\.xyz\.txt: unknown language code 'xyz'"):
        load_corpus(folder)
    (folder / "LANGUAGES.tsv").unlink()
    with pytest.raises(DataError, match=r"unknown language code\(s\) klingon") as exc:
        load_corpus(folder).select(["deu", "klingon"])
    assert str(folder) in _one_line(exc)


def test_missing_english_and_missing_corpus(tmp_path: Path) -> None:
    folder = write_parallel(tmp_path / "c", {"deu": GERMAN})
    (folder / "test-src.eng.txt").unlink()
    with pytest.raises(DataError, match="no English file"):
        load_corpus(folder)
    with pytest.raises(DataError, match="corpus not found"):
        load_corpus(tmp_path / "nowhere")


def test_pair_files_tsv_and_jsonl(tmp_path: Path) -> None:
    tsv = tmp_path / "pairs.deu.tsv"
    tsv.write_text(
        "english\ttranslation\n"
        + "".join(f"{e}\t{g}\n" for e, g in zip(ENGLISH, GERMAN, strict=True)),
        encoding="utf-8",
    )
    corpus = load_corpus(tsv)
    assert (
        corpus.languages == ["deu"]
        and corpus.english == ENGLISH
        and corpus.translations["deu"] == GERMAN
    )

    jsonl = tmp_path / "pairs.jsonl"
    rows = [
        {"english": e, "translation": g, "language": "deu"}
        for e, g in zip(ENGLISH, GERMAN, strict=True)
    ]
    rows += [
        {"english": e, "translation": f, "language": "fra"}
        for e, f in zip(ENGLISH, FRENCH, strict=True)
    ]
    jsonl.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    corpus = load_corpus(jsonl)
    assert corpus.languages == ["deu", "fra"] and corpus.translations["fra"] == FRENCH


def test_pair_file_errors_name_the_file_and_line(tmp_path: Path) -> None:
    no_code = tmp_path / "pairs.tsv"
    no_code.write_text("a\tb\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"pairs\.tsv: row 1: no language"):
        load_corpus(no_code)
    ragged = tmp_path / "p.deu.tsv"
    ragged.write_text("a\tb\nc\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"p\.deu\.tsv: line 2: expected 2 or 3"):
        load_corpus(ragged)
    broken = tmp_path / "p.jsonl"
    broken.write_text(
        '{"english": "a", "translation": "b", "language": "deu"}\n{oops\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"p\.jsonl: line 2: invalid JSON"):
        load_corpus(broken)
    bad_code = tmp_path / "q.jsonl"
    bad_code.write_text(
        '{"english": "a", "translation": "b", "language": "not a code!"}\n', encoding="utf-8"
    )
    with pytest.raises(DataError, match=r"q\.jsonl: row 1: unknown language code"):
        load_corpus(bad_code)
    empty = tmp_path / "e.deu.tsv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match=r"e\.deu\.tsv: empty file"):
        load_corpus(empty)
