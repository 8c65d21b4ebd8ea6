"""A run's rows as pandas DataFrames (for notebooks and judgebench.analysis) and as files.

```python
from judgebench.jobs.export import run_frames
frames = run_frames("judgebench.db", run_id)      # queries, responses, judgments, scores, pairs, membership
FeedbackReport(frames["scores"], frames["membership"])
```

Frames hold the rows the run *used* (``run_items``), including rows an earlier run wrote and
this one reused, so every run of a scheduled job is a complete, comparable table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from judgebench.errors import UserError
from judgebench.records import VERDICT_OUTCOME

FORMATS = ("csv", "parquet", "jsonl")
TABLES = ("queries", "responses", "judgments")
# exported beside TABLES: a listwise judge's pairwise comparisons (the evidence of its rankings,
# invalid ones included) and the run's failed calls (stage job.responses / job.judgments ...)
EXTRA_TABLES = ("comparisons", "errors")
_KIND = {
    "queries": "query",
    "responses": "response",
    "judgments": "judgment",
    "comparisons": "comparison",
}
_CHUNK = 2000


def _store(store: Any) -> Any:
    """A store given by URL or path is only read here: a missing SQLite file is a DataError."""
    from judgebench.db import Store
    from judgebench.db.engine import existing_store

    return Store(existing_store(store)) if isinstance(store, str | Path) else store


def resolve_run(store: Any, run: str) -> str:
    """A run id, a unique id prefix, or a job name (its latest run)."""
    from sqlalchemy import select

    from judgebench.db.models import RunRow

    store = _store(store)
    with store.read_session() as s:
        if s.get(RunRow, run) is not None:
            return run
        ids = list(s.scalars(select(RunRow.id).where(RunRow.id.like(f"{run}%"))))
        if len(ids) == 1:
            return ids[0]
        named = list(
            s.scalars(
                select(RunRow.id)
                .where((RunRow.job_name == run) | (RunRow.name == run))
                .order_by(RunRow.started_at.desc())
            )
        )
    if named:
        return named[0]
    raise UserError(f"no run {run!r} (a run id, an id prefix, or a job name)", where=store.url)


def iter_rows(
    store: Any, run_id: str, table: str, columns: list[str] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """The run's rows of one table (``columns``: a subset), in chunks (flat memory)."""
    from sqlalchemy import select

    from judgebench.db.models import JudgmentRow, QueryRow, ResponseRow, RunItemRow

    if table == "errors":
        yield from _error_rows(store, run_id)
        return
    row_type = {"queries": QueryRow, "responses": ResponseRow}.get(table, JudgmentRow)
    t = row_type.__table__
    ri = RunItemRow.__table__
    stmt = (
        select(*([t.c[c] for c in columns] if columns else [t]))
        .join(ri, ri.c.item_id == t.c.id)
        .where(ri.c.run_id == run_id, ri.c.item_kind == _KIND[table])
        .order_by(t.c.id)
    )
    store = _store(store)
    with store.read() as conn:
        result = conn.execution_options(stream_results=True).execute(stmt)
        while chunk := result.mappings().fetchmany(_CHUNK):
            yield [dict(r) for r in chunk]


def _error_rows(store: Any, run_id: str) -> Iterator[list[dict[str, Any]]]:
    """The run's rows of ``errors`` (every failed call it recorded), oldest first."""
    from sqlalchemy import select

    from judgebench.db.models import ErrorRow

    t = ErrorRow.__table__
    stmt = select(t).where(t.c.run_id == run_id).order_by(t.c.id)
    with _store(store).read() as conn:
        result = conn.execution_options(stream_results=True).execute(stmt)
        while chunk := result.mappings().fetchmany(_CHUNK):
            yield [dict(r) for r in chunk]


def table_frame(
    store: Any, run_id: str, table: str, columns: list[str] | None = None
) -> pd.DataFrame:
    rows = [r for chunk in iter_rows(store, run_id, table, columns) for r in chunk]
    if not rows:
        from judgebench.db.models import JudgmentRow, QueryRow, ResponseRow

        cols = {"queries": QueryRow, "responses": ResponseRow, "judgments": JudgmentRow}[table]
        return pd.DataFrame(columns=columns or [c.name for c in cols.__table__.columns])
    return pd.DataFrame(rows)


# what the summary needs (no texts, raw replies or details: a big run stays light)
LIGHT_COLUMNS = {
    "queries": ["id", "node_ids", "node_confidence"],
    "responses": ["id", "model", "cost", "status"],
    "judgments": [
        "id",
        "judge",
        "judge_model",
        "kind",
        "shape",
        "query_id",
        "model",
        "model_b",
        "score",
        "verdict",
        "status",
        "cost",
    ],
}


def run_frames(store: Any, run_id: str, *, light: bool = False) -> dict[str, pd.DataFrame]:
    """Everything of one run, analysis-ready: ``scores`` (query_id, model, score, judge,
    judge_model: pointwise judges), ``likelihood`` (the same for likelihood judges such as
    TRLM), ``rankings`` (listwise judges: one row per ranked candidate, score 1 = best),
    ``reliability`` (query_id, model, score, reliable, judge, judge_model), ``pairs``
    (query_id, model_a, model_b, outcome, verdict, status, judge,
    judge_model), ``membership`` (query_id, node_id, confidence), plus the raw tables (``light``: only the
    columns the summary needs)."""
    store = _store(store)
    run_id = resolve_run(store, run_id)

    def cols(table: str) -> list[str] | None:
        return LIGHT_COLUMNS[table] if light else None

    queries = table_frame(store, run_id, "queries", cols("queries"))
    responses = table_frame(store, run_id, "responses", cols("responses"))
    judgments = table_frame(store, run_id, "judgments", cols("judgments"))
    ok = judgments[judgments["status"] == "ok"] if len(judgments) else judgments
    scores = _scores(ok, ok["kind"] == "pointwise" if len(ok) else None)
    pw = judgments[judgments["kind"] == "pairwise"] if len(judgments) else judgments
    pairs = pd.DataFrame(
        {
            "query_id": pw.get("query_id", []),
            "model_a": pw.get("model", []),
            "model_b": pw.get("model_b", []),
            "outcome": [
                VERDICT_OUTCOME.get(v) if s == "ok" else None
                for v, s in zip(pw.get("verdict", []), pw.get("status", []), strict=True)
            ],
            "verdict": pw.get("verdict", []),
            "status": pw.get("status", []),
            "judge": pw.get("judge", []),
            "judge_model": pw.get("judge_model", []),
        }
    ).reset_index(drop=True)
    membership = membership_frame(store, run_id)
    return {
        "queries": queries,
        "responses": responses,
        "judgments": judgments,
        "scores": scores,
        "likelihood": _scores(ok, ok["shape"] == "likelihood" if len(ok) else None),
        "rankings": _scores(ok, ok["kind"] == "ranking" if len(ok) else None),
        "reliability": reliability_frame(store, run_id),
        "pairs": pairs,
        "membership": membership,
    }


SCORE_COLUMNS = ["query_id", "model", "score", "judge", "judge_model"]


def _scores(ok: pd.DataFrame, mask: Any) -> pd.DataFrame:
    """The usable judgments ``mask`` selects, as score rows (judge and model named)."""
    if mask is None or not mask.any():
        return pd.DataFrame(columns=SCORE_COLUMNS)
    return ok.loc[mask, SCORE_COLUMNS].reset_index(drop=True)


def reliability_frame(store: Any, run_id: str) -> pd.DataFrame:
    """The run's usable reliability judgments: ``query_id, model, score, reliable, judge,
    judge_model`` (``reliable``: the judge's decision, score > τ, kept in its details)."""
    from sqlalchemy import select

    from judgebench.db.models import JudgmentRow, RunItemRow

    t, ri = JudgmentRow.__table__, RunItemRow.__table__
    stmt = (
        select(t.c.query_id, t.c.model, t.c.score, t.c.details, t.c.judge, t.c.judge_model)
        .join(ri, ri.c.item_id == t.c.id)
        .where(ri.c.run_id == run_id, ri.c.item_kind == "judgment")
        .where(t.c.shape == "reliability", t.c.status == "ok")
        .order_by(t.c.id)
    )
    with _store(store).read() as conn:
        rows = [
            (q, m, s, bool((d or {}).get("reliable")), j, jm)
            for q, m, s, d, j, jm in conn.execute(stmt)
        ]
    columns = ["query_id", "model", "score", "reliable", "judge", "judge_model"]
    return pd.DataFrame(rows, columns=columns)


def membership_frame(store: Any, run_id: str, version: int | None = None) -> pd.DataFrame:
    """``query_id, node_id, confidence`` of the run's queries (their latest taxonomy version by
    default); ``confidence`` is the assigner's probability, NaN where unknown."""
    from sqlalchemy import func, select

    from judgebench.db.models import QueryNodeRow, RunItemRow

    qn = QueryNodeRow.__table__
    ri = RunItemRow.__table__
    store = _store(store)
    with store.read() as conn:
        if version is None:
            version = conn.scalar(
                select(func.max(qn.c.taxonomy_version))
                .join(ri, ri.c.item_id == qn.c.query_id)
                .where(ri.c.run_id == run_id, ri.c.item_kind == "query")
            )
        rows = conn.execute(
            select(qn.c.query_id, qn.c.node_id, qn.c.confidence)
            .join(ri, ri.c.item_id == qn.c.query_id)
            .where(
                ri.c.run_id == run_id,
                ri.c.item_kind == "query",
                qn.c.taxonomy_version == (version or 0),
            )
        ).all()
    return pd.DataFrame(rows, columns=["query_id", "node_id", "confidence"])


def export_run(store: Any, run: str, fmt: str, out: str | Path) -> list[Path]:
    """Write the run's queries, responses and judgments as ``<out>/<table>.<fmt>``, and beside
    them its listwise comparisons and its errors (``comparisons``, ``errors``); returns the
    files. JSON columns stay JSON (text in CSV); a CSV cell a spreadsheet would run as a
    formula starts with ``'`` (:func:`spreadsheet_safe`)."""
    if fmt not in FORMATS:
        raise UserError(f"unknown format {fmt!r}: use {', '.join(FORMATS)}", where="--format")
    store = _store(store)
    run_id = resolve_run(store, run)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for table in TABLES + EXTRA_TABLES:
        path = out / f"{table}.{fmt}"
        _write(path, fmt, iter_rows(store, run_id, table), _columns(table))
        written.append(path)
    return written


def _columns(table: str) -> list[str]:
    """The columns of an exported table, so a file with no row still has its header."""
    from judgebench.db.models import ErrorRow, JudgmentRow, QueryRow, ResponseRow

    row_type = {"queries": QueryRow, "responses": ResponseRow, "errors": ErrorRow}
    return [c.name for c in row_type.get(table, JudgmentRow).__table__.columns]


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
        for k, v in row.items()
    }


# A cell starting with one of these is a formula to Excel, LibreOffice and Sheets (OWASP "CSV
# injection"): a model reply or query "=HYPERLINK(...)" would run when the export is opened
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def spreadsheet_safe(value: Any) -> Any:
    """``value`` for a CSV cell: text a spreadsheet would evaluate gets a leading ``'`` (shown
    as text, the quote hidden); everything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv_row(row: dict[str, Any]) -> dict[str, Any]:
    return {k: spreadsheet_safe(v) for k, v in _flat(row).items()}


def _write(
    path: Path, fmt: str, chunks: Iterator[list[dict[str, Any]]], columns: list[str]
) -> None:
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for chunk in chunks:
                for row in chunk:
                    fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
        return
    if fmt == "csv":
        first = True
        with path.open("w", encoding="utf-8", newline="") as fh:
            for chunk in chunks:
                pd.DataFrame([_csv_row(r) for r in chunk]).to_csv(fh, header=first, index=False)
                first = False
            if first:  # no row (a clean run's errors): the header alone, readable by pandas
                pd.DataFrame(columns=columns).to_csv(fh, index=False)
        return
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise UserError(
            "parquet export needs pyarrow: pip install pyarrow", where="--format"
        ) from None
    writer = None
    try:
        for chunk in chunks:
            table = pa.Table.from_pandas(
                pd.DataFrame([_flat(r) for r in chunk]), preserve_index=False
            )
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema)
            writer.write_table(table.cast(writer.schema))
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), path)
