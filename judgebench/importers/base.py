"""Shared reading and writing for importers.

Readers yield ``(line, item)`` so every bad row is reported as ``<file>:<line>: <what>`` (one
line, a :class:`DataError`). An import parses everything before it writes anything, then writes
through :class:`judgebench.db.Store` (insert-or-ignore by natural key: re-importing is a no-op)
and records a ``Run`` of kind ``import`` linking what it brought in.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from judgebench.errors import DataError
from judgebench.records import Judgment, Query, Response, Run, Verdict, text_hash, utcnow

if TYPE_CHECKING:
    from judgebench.db import Store


def bad(path: Path | str, line: int | None, message: str) -> DataError:
    where = f"{path}:{line}" if line is not None else str(path)
    return DataError(message, where=where)


# far above any benchmark file (the largest we know is tens of MB): a 2 GB sparse file or a
# gzip bomb is refused instead of exhausting memory (a MemoryError traceback)
MAX_DATA_CHARS = 1 << 30


def read_text(path: Path) -> str:
    """The text of a data file (``.gz`` decompressed), for every reader of user files. A UTF-8
    byte-order mark (spreadsheets write one) is dropped; CRLF lines are left to the readers."""
    if not path.is_file():
        raise DataError("file not found", where=str(path))
    too_big = DataError(f"larger than {MAX_DATA_CHARS:,} bytes of text", where=str(path))
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8-sig") as handle:
                text = handle.read(MAX_DATA_CHARS + 1)  # stops a bomb at the limit
        elif path.stat().st_size > MAX_DATA_CHARS:  # checked before reading a byte
            raise too_big
        else:
            text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, EOFError) as exc:
        raise DataError(f"cannot read: {exc}", where=str(path)) from None
    except MemoryError:
        raise too_big from None
    if len(text) > MAX_DATA_CHARS:
        raise too_big
    return text


def iter_json_items(path: Path) -> Iterator[tuple[int, Any]]:
    """The items of a JSON array file (optionally .gz), each with the line it starts on."""
    text = read_text(path)
    decoder = json.JSONDecoder()
    pos, line = 0, 1

    def skip_ws(p: int) -> int:
        nonlocal line
        while p < len(text) and text[p] in " \t\r\n":
            if text[p] == "\n":
                line += 1
            p += 1
        return p

    pos = skip_ws(pos)
    if pos >= len(text) or text[pos] != "[":
        raise bad(path, line, "expected a JSON array of objects")
    pos = skip_ws(pos + 1)
    if pos < len(text) and text[pos] == "]":
        return
    while True:
        start_line = line
        try:
            item, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise bad(
                path, line + text.count("\n", pos, exc.pos), f"invalid JSON: {exc.msg}"
            ) from None
        except RecursionError:  # thousands of nested brackets: the parser's stack ran out
            raise bad(path, line, "JSON nested too deeply") from None
        except ValueError as exc:  # int() refuses numbers of over 4,300 digits
            raise bad(path, line, f"invalid JSON: {_int_problem(exc)}") from None
        line += text.count("\n", pos, end)
        yield start_line, item
        pos = skip_ws(end)
        if pos < len(text) and text[pos] == ",":
            pos = skip_ws(pos + 1)
            continue
        if pos < len(text) and text[pos] == "]":
            return
        raise bad(path, line, "expected ',' or ']' between array items")


def _int_problem(exc: ValueError) -> str:
    """The first clause of int()'s refusal ("Exceeds the limit (4300 digits) ...")."""
    return str(exc).split(":")[0]


def iter_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    """JSON Lines; split on "\\n" only (strings may contain U+2028, which splitlines breaks on)."""
    for number, raw in enumerate(read_text(path).split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise bad(path, number, f"invalid JSON: {exc.msg}") from None
        except RecursionError:  # thousands of nested brackets: the parser's stack ran out
            raise bad(path, number, "JSON nested too deeply") from None
        except ValueError as exc:  # int() refuses numbers of over 4,300 digits
            raise bad(path, number, f"invalid JSON: {_int_problem(exc)}") from None
        yield number, item


def iter_json_or_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    text_start = read_text(path).lstrip()[:1]
    return iter_json_items(path) if text_start == "[" else iter_jsonl(path)


def iter_csv(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(read_text(path), newline=""))
    for row in reader:
        if None in row:
            raise bad(path, reader.line_num, "row has more fields than the header")
        yield reader.line_num, row


def need(item: Any, key: str, path: Path, line: int, kind: type | tuple[type, ...] = str) -> Any:
    """``item[key]``, or a one-line error naming the file, line and field."""
    if not isinstance(item, dict):
        raise bad(path, line, f"expected a JSON object, got {type(item).__name__}")
    if key not in item or item[key] is None:
        raise bad(path, line, f"missing field {key!r}")
    value = item[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int subclass: `"label": true` must not pass as label 1
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kinds):
        raise bad(
            path,
            line,
            f"field {key!r} should be {getattr(kind, '__name__', kind)}, got {type(value).__name__}",
        )
    return value


def need_text(item: Any, key: str, path: Path, line: int) -> str:
    """A text field; bare JSON scalars are kept as their text (PandaLM has answers that are
    the JSON literal ``true``: the model answered "True")."""
    value = need(item, key, path, line, (str, int, float, bool))
    return value if isinstance(value, str) else str(value)


def imported_template(name: str) -> tuple[str, str]:
    """Template name and hash for labels that came from outside (the source is the template)."""
    return f"import:{name}", text_hash(f"import:{name}")


def _label(
    *,
    kind: str,
    judge: str,
    judge_model: str,
    query: Query,
    response: Response,
    response_b: Response | None,
    decided: bool,
    what: str,
    raw: str,
    reason: str | None,
    **fields: Any,
) -> Judgment:
    """A label from a file: ok when it parsed, else invalid with the raw value and the reason."""
    name, digest = imported_template(judge)
    return Judgment(
        judge=judge,
        judge_model=judge_model,
        kind=kind,
        query_id=query.id,
        response_id=response.id,
        response_b_id=response_b.id if response_b else None,
        model=response.model,
        model_b=response_b.model if response_b else None,
        template_name=name,
        template_hash=digest,
        raw_replies=[raw],
        status="ok" if decided else "invalid",
        reason=None if decided else (reason or f"unparseable {what} {raw!r}"),
        **fields,
    )


def pairwise_label(
    *,
    judge: str,
    judge_model: str,
    query: Query,
    a: Response,
    b: Response,
    verdict: Verdict | str | None,
    raw: str,
    reason: str | None = None,
    rationale: str | None = None,
    details: dict[str, Any] | None = None,
) -> Judgment:
    """A pairwise judgment from a label file (verdict ``A`` = the first response is better)."""
    return _label(
        kind="pairwise",
        judge=judge,
        judge_model=judge_model,
        query=query,
        response=a,
        response_b=b,
        decided=verdict is not None,
        what="verdict",
        raw=raw,
        reason=reason,
        verdict=verdict,
        rationale=rationale,
        details=details or {},
    )


def pointwise_label(
    *,
    judge: str,
    judge_model: str,
    query: Query,
    response: Response,
    score: float | None,
    raw: str,
    reason: str | None = None,
    rationale: str | None = None,
    details: dict[str, Any] | None = None,
) -> Judgment:
    """A pointwise judgment (a score) from a label file."""
    return _label(
        kind="pointwise",
        judge=judge,
        judge_model=judge_model,
        query=query,
        response=response,
        response_b=None,
        decided=score is not None,
        what="score",
        raw=raw,
        reason=reason,
        score=score,
        rationale=rationale,
        details=details or {},
    )


@dataclass
class ImportBatch:
    """Everything one import read, ready to write (nothing is written while parsing)."""

    format: str
    source: str
    files: list[str] = field(default_factory=list)
    queries: dict[str, Query] = field(default_factory=dict)
    responses: dict[str, Response] = field(default_factory=dict)
    judgments: dict[str, Judgment] = field(default_factory=dict)

    def query(self, text: str, *, source: str | None = None, **fields: Any) -> Query:
        q = Query(text=text, source=source or self.source, **fields)
        return self.queries.setdefault(q.id, q)

    def response(self, query: Query, model: str, text: str | None, **fields: Any) -> Response:
        r = Response(query_id=query.id, model=model, text=text, **fields)
        kept = self.responses.setdefault(r.id, r)
        if kept.text != r.text and r.text is not None and kept.text is not None:
            raise DataError(
                f"two different answers of {model!r} to the same query ({query.text[:60]!r}...): "
                "give them distinct params or sample indexes",
                where=self.files[-1] if self.files else self.source,
            )
        return kept

    def add(self, judgment: Judgment) -> Judgment:
        return self.judgments.setdefault(judgment.id, judgment)

    def counts(self) -> dict[str, int]:
        invalid = sum(1 for j in self.judgments.values() if j.status != "ok")
        return {
            "queries": len(self.queries),
            "responses": len(self.responses),
            "judgments": len(self.judgments),
            "invalid_judgments": invalid,
        }


@dataclass
class ImportResult:
    run_id: str
    format: str
    files: list[str]
    read: dict[str, int]
    new: dict[str, int]

    def line(self) -> str:
        parts = ", ".join(
            f"{self.read[k]} {k} ({self.new.get(k, 0)} new)"
            for k in ("queries", "responses", "judgments")
        )
        invalid = self.read.get("invalid_judgments", 0)
        return (
            f"imported {self.format}: {parts}; {invalid} invalid judgments kept; run {self.run_id}"
        )


def write_batch(batch: ImportBatch, store: Store) -> ImportResult:
    """Write a parsed batch and record the import as a run: one transaction, so a crash
    leaves all of it or none; a rerun is a no-op (natural keys)."""
    run = Run(
        kind="import",
        name=f"{batch.format}:{batch.source}",
        config={"format": batch.format, "files": batch.files},
    )
    records: list[Response | Judgment] = [*batch.responses.values(), *batch.judgments.values()]
    for record in records:
        if record.run_id is None:
            object.__setattr__(record, "run_id", run.id)
    finished = run.model_copy(update={"status": "finished", "finished_at": utcnow()})
    with store.session() as s:
        store.put_run(finished, session=s)
        new = {
            "queries": store.put_queries(batch.queries.values(), session=s),
            "responses": store.put_responses(batch.responses.values(), session=s),
            "judgments": store.put_judgments(batch.judgments.values(), session=s),
        }
        store.link_run_items(run.id, "query", batch.queries, session=s)
        store.link_run_items(run.id, "response", batch.responses, session=s)
        store.link_run_items(run.id, "judgment", batch.judgments, session=s)
    return ImportResult(run.id, batch.format, batch.files, batch.counts(), new)
