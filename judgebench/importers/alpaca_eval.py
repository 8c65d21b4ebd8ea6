"""AlpacaEval: model outputs (``model_outputs.json[.gz]``) and per-item annotation CSVs.

Outputs become queries (source ``alpaca_eval``; metadata and node ``alpaca_eval/<dataset>``) and one
response per generator. Annotations (``instruction_idx, dataset, generator_1, generator_2,
preference, annotator``) become pairwise judgments with the annotator as judge:
``preference`` ∈ [1, 2] is P(output_2 preferred) + 1, kept exactly as ``details["p_b"]``; the
verdict is B above 1.5, A below, tie at 1.5 (AlpacaEval 1 writes a draw as 0). A blank
preference is an invalid judgment (the upstream annotator could not be parsed).
"""

from __future__ import annotations

import math
from pathlib import Path

from judgebench.importers.base import (
    ImportBatch,
    bad,
    iter_csv,
    iter_json_items,
    need,
    pairwise_label,
)
from judgebench.records import Query

SOURCE = "alpaca_eval"


def _by_dataset(dataset: str | None) -> dict:
    """Query fields: the source sub-dataset (helpful_base, koala, ...) doubles as a node, so
    per-node analyses and the dashboard can break results down by it."""
    if not dataset:
        return {}
    return {"metadata": {"dataset": dataset}, "node_ids": [f"alpaca_eval/{dataset}"]}


def _output_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted([*path.glob("*.json"), *path.glob("*.json.gz")])
        files = [f for f in files if f.name != "eval_set.json"]
        if not files:
            raise bad(path, None, "no *.json or *.json.gz model output files in this folder")
        return files
    return [path]


def import_outputs(path: Path, batch: ImportBatch | None = None) -> ImportBatch:
    """A model_outputs file, or a folder of them (one per model)."""
    batch = batch or ImportBatch("alpaca-eval-outputs", SOURCE)
    for file in _output_files(path):
        batch.files.append(str(file))
        for line, item in iter_json_items(file):
            instruction = need(item, "instruction", file, line)
            output = need(item, "output", file, line)
            generator = need(item, "generator", file, line)
            dataset = item.get("dataset")
            query = batch.query(instruction, **_by_dataset(dataset))
            batch.response(query, generator, output)
    return batch


def _eval_set(path: Path, eval_set: Path | None) -> tuple[Path, dict[int, tuple[str, str | None]]]:
    candidates = (
        [eval_set]
        if eval_set
        else [path.parent / "eval_set.json", path.parent.parent / "eval_set.json"]
    )
    for candidate in candidates:
        if candidate and candidate.is_file():
            table: dict[int, tuple[str, str | None]] = {}
            for line, item in iter_json_items(candidate):
                idx = need(item, "instruction_idx", candidate, line, int)
                table[idx] = (need(item, "instruction", candidate, line), item.get("dataset"))
            return candidate, table
    raise bad(
        path,
        None,
        "annotations refer to instructions by index: put eval_set.json beside the CSV or pass --eval-set",
    )


def _verdict(preference: float) -> str:
    if preference == 0 or math.isclose(preference, 1.5):
        return "tie"
    return "B" if preference > 1.5 else "A"


def import_annotations(
    path: Path, eval_set: Path | None = None, batch: ImportBatch | None = None
) -> ImportBatch:
    """An annotations CSV (``preference`` per instruction and generator pair)."""
    batch = batch or ImportBatch("alpaca-eval-annotations", SOURCE)
    set_path, instructions = _eval_set(path, eval_set)
    batch.files += [str(path), str(set_path)]
    queries: dict[int, Query] = {}
    for line, row in iter_csv(path):
        for col in ("instruction_idx", "generator_1", "generator_2", "preference"):
            if col not in row:
                raise bad(path, line, f"missing column {col!r}")
        try:
            idx = int(row["instruction_idx"])
        except ValueError:
            raise bad(
                path, line, f"instruction_idx {row['instruction_idx']!r} is not an integer"
            ) from None
        if idx not in instructions:
            raise bad(path, line, f"instruction_idx {idx} is not in {set_path.name}")
        if idx not in queries:
            text, dataset = instructions[idx]
            queries[idx] = batch.query(text, **_by_dataset(dataset))
        query = queries[idx]
        annotator = row.get("annotator") or "alpaca_eval_annotator"
        a = batch.response(query, row["generator_1"], None)
        b = batch.response(query, row["generator_2"], None)
        raw = (row["preference"] or "").strip()
        verdict = None
        details: dict[str, float] = {}
        reason = None
        if raw:
            try:
                preference = float(raw)
            except ValueError:
                raise bad(path, line, f"preference {raw!r} is not a number") from None
            if not (preference == 0 or 1.0 <= preference <= 2.0):
                raise bad(path, line, f"preference {preference} outside [1, 2] (0 = draw)")
            verdict = _verdict(preference)
            details = {
                "preference": preference,
                "p_b": 0.5 if preference == 0 else preference - 1.0,
            }
        else:
            reason = "no preference: the annotator's reply was not parsed upstream"
        batch.add(
            pairwise_label(
                judge=annotator,
                judge_model=annotator,
                query=query,
                a=a,
                b=b,
                verdict=verdict,
                raw=raw,
                reason=reason,
                details=details,
            )
        )
    # annotations reference responses by (query, generator); texts come from the outputs import
    batch.responses = {}
    return batch
