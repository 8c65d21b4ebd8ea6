"""Data files as other tools write them: a UTF-8 byte-order mark (Excel's "CSV UTF-8",
Notepad) and CRLF line ends are read like plain files (a BOM was refused as invalid JSON, and
in a CSV it renamed the first column so its text was "missing"); a .gz that decompresses past
the size limit is refused at the limit, not read into memory."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from judgebench.errors import DataError
from synth.seeds import load_seed_file

BOM = b"\xef\xbb\xbf"
JSONL = b'{"text": "What is 2 + 2?"}\n{"text": "Name a prime."}\n'
CSV = b"text,id\nWhat is 2 + 2?,a\nName a prime.,b\n"


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("bom.jsonl", BOM + JSONL),
        ("crlf.jsonl", JSONL.replace(b"\n", b"\r\n")),
        ("bom-crlf.jsonl", BOM + JSONL.replace(b"\n", b"\r\n")),
        ("bom.csv", BOM + CSV),
        ("bom-crlf.csv", BOM + CSV.replace(b"\n", b"\r\n")),
    ],
)
def test_bom_and_crlf_read_like_plain_files(tmp_path: Path, name: str, content: bytes) -> None:
    plain = tmp_path / ("plain" + Path(name).suffix)
    plain.write_bytes(JSONL if name.endswith(".jsonl") else CSV)
    (tmp_path / name).write_bytes(content)
    texts = [q.text for q in load_seed_file(tmp_path / name)]
    assert texts == [q.text for q in load_seed_file(plain)] == ["What is 2 + 2?", "Name a prime."]


def test_a_gz_past_the_limit_is_refused_at_the_limit(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from judgebench.importers import base

    monkeypatch.setattr(base, "MAX_DATA_CHARS", 1000)
    path = tmp_path / "bomb.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"text": "' + b"x" * 100_000 + b'"}\n'))
    with pytest.raises(DataError, match="bomb.jsonl.gz: larger than 1,000 bytes"):
        base.read_text(path)
