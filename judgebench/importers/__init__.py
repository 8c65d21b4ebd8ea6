"""Importers of real benchmark data into the store (read-only on the source files).

``import_path(format, path, store)`` parses every row first (a bad row raises a one-line
:class:`judgebench.errors.DataError` naming file and line, and nothing is written), then writes
queries, responses and judgments (judge = the source) and records an ``import`` run.
See docs/importers.md.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from judgebench.errors import UserError
from judgebench.importers import alpaca_eval, correctness, mt_bench, pairwise_sets
from judgebench.importers.base import ImportBatch, ImportResult, write_batch

if TYPE_CHECKING:
    from judgebench.db import Store

FORMATS: dict[str, tuple[Callable[..., ImportBatch], str]] = {
    "alpaca-eval-outputs": (
        alpaca_eval.import_outputs,
        "AlpacaEval model_outputs.json[.gz] file or folder",
    ),
    "alpaca-eval-annotations": (
        alpaca_eval.import_annotations,
        "AlpacaEval annotations CSV (eval_set.json beside it)",
    ),
    "mt-bench-questions": (
        mt_bench.import_questions,
        "MT-Bench question.jsonl (+ reference_answer/)",
    ),
    "mt-bench-answers": (
        mt_bench.import_answers,
        "MT-Bench model_answer/ or reference_answer/ jsonl",
    ),
    "mt-bench-judgments": (
        mt_bench.import_judgments,
        "MT-Bench model_judgment/*_single|_pair.jsonl",
    ),
    "llmbar": (
        pairwise_sets.import_llmbar,
        "LLMBar dataset.json file or folder (incl. Processed/)",
    ),
    "pandalm": (
        pairwise_sets.import_pandalm,
        "PandaLM testset-v1.json, or its folder with judge outputs",
    ),
    "judgebench": (pairwise_sets.import_judgebench, "JudgeBench-style pairs (json/jsonl)"),
    "gsm8k": (correctness.import_gsm8k, "GSM8K labelled solutions (or test.jsonl)"),
    "halueval": (correctness.import_halueval, "HaluEval general_data.jsonl"),
}


def parse(format: str, path: str | Path, **options: object) -> ImportBatch:
    """Read and validate a source without writing anything."""
    if format not in FORMATS:
        raise UserError(f"unknown import format {format!r}; one of: {', '.join(FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise UserError("no such file or folder", where=str(path))
    reader, _ = FORMATS[format]
    given = {k: v for k, v in options.items() if v is not None}
    accepted = inspect.signature(reader).parameters
    for name in given:
        if name not in accepted:
            flag = "--" + name.replace("_", "-")
            raise UserError(f"option {flag} does not apply to format {format!r}")
    batch = reader(path, **given)
    counts = batch.counts()
    if not any(counts[k] for k in ("queries", "responses", "judgments")):
        # an empty (or all-blank) file imported "0 rows" with exit 0 and a row in the store
        raise UserError(f"nothing to import: no {format} rows", where=str(path))
    return batch


def import_path(format: str, path: str | Path, store: Store, **options: object) -> ImportResult:
    """Parse ``path`` as ``format`` and write it to ``store`` (idempotent)."""
    return write_batch(parse(format, path, **options), store)


__all__ = ["FORMATS", "ImportBatch", "ImportResult", "import_path", "parse", "write_batch"]
