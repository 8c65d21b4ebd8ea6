"""MT-Bench (FastChat ``llm_judge``): questions, reference/model answers, GPT-4 judgments.

Layout as upstream: ``question.jsonl``, ``reference_answer/<model>.jsonl``,
``model_answer/<model>.jsonl``, ``model_judgment/<judge>_single.jsonl`` / ``_pair.jsonl``.
A question is a query (its first turn; every turn in ``metadata["turns"]``, category in
``metadata["category"]``, the first reference answer in ``reference``). Each answer turn is a
response (``params={"turn": n}``). Single judgments are pointwise scores (-1 = upstream could
not parse the judge: kept as invalid); pair judgments become one pairwise judgment per
presentation order (g1: model_1 shown first, g2: swapped), so position consistency can be
computed from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from judgebench.importers.base import (
    ImportBatch,
    bad,
    iter_jsonl,
    need,
    pairwise_label,
    pointwise_label,
)
from judgebench.records import Query, Response

SOURCE = "mt_bench"


def _find_questions(path: Path) -> Path:
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        candidate = folder / "question.jsonl"
        if candidate.is_file():
            return candidate
    raise bad(path, None, "cannot find question.jsonl in this folder or the two above it")


def _answers(path: Path) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for line, item in iter_jsonl(path):
        qid = need(item, "question_id", path, line, int)
        choices = need(item, "choices", path, line, list)
        if (
            not choices
            or not isinstance(choices[0], dict)
            or not isinstance(choices[0].get("turns"), list)
        ):
            raise bad(path, line, "choices[0].turns missing")
        out[qid] = [str(t) for t in choices[0]["turns"]]
    return out


def read_questions(
    path: Path, batch: ImportBatch, references: Path | None = None
) -> dict[int, Query]:
    if references is None:
        ref_dir = path.parent / "reference_answer"
        found = sorted(ref_dir.glob("gpt-4.jsonl")) or sorted(ref_dir.glob("*.jsonl"))
        references = found[0] if found else None
    refs = _answers(references) if references else {}
    batch.files.append(str(path))
    if references:
        batch.files.append(str(references))
    out: dict[int, Query] = {}
    for line, item in iter_jsonl(path):
        qid = need(item, "question_id", path, line, int)
        turns = need(item, "turns", path, line, list)
        if not turns or not all(isinstance(t, str) for t in turns):
            raise bad(path, line, "turns must be a non-empty list of strings")
        ref_turns = refs.get(qid) or item.get("reference")
        meta: dict[str, Any] = {
            "question_id": qid,
            "turns": turns,
            "category": item.get("category"),
        }
        if ref_turns:
            meta["reference_turns"] = ref_turns
        out[qid] = batch.query(
            turns[0],
            reference=ref_turns[0] if ref_turns else None,
            metadata=meta,
            node_ids=[f"mt-bench/{item['category']}"] if item.get("category") else [],
        )
    return out


def import_questions(path: Path, references: Path | None = None) -> ImportBatch:
    batch = ImportBatch("mt-bench-questions", SOURCE)
    read_questions(path, batch, references)
    return batch


def _turn_responses(
    batch: ImportBatch, query: Query, model: str, turns: list[str]
) -> list[Response]:
    return [
        batch.response(query, model, text, params={"turn": n})
        for n, text in enumerate(turns, start=1)
    ]


def import_answers(path: Path) -> ImportBatch:
    """``model_answer/*.jsonl`` or ``reference_answer/*.jsonl`` (a file or a folder of them)."""
    batch = ImportBatch("mt-bench-answers", SOURCE)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    questions = read_questions(_find_questions(files[0] if files else path), batch)
    for file in files:
        batch.files.append(str(file))
        for line, item in iter_jsonl(file):
            qid = need(item, "question_id", file, line, int)
            model = item.get("model_id") or file.stem
            if qid not in questions:
                raise bad(file, line, f"question_id {qid} is not in question.jsonl")
            choices = need(item, "choices", file, line, list)
            turns = choices[0].get("turns") if choices and isinstance(choices[0], dict) else None
            if not isinstance(turns, list):
                raise bad(file, line, "choices[0].turns missing")
            _turn_responses(batch, questions[qid], model, [str(t) for t in turns])
    return batch


_PAIR_WINNER = {"model_1": "A", "model_2": "B", "tie": "tie"}
_SWAP = {"A": "B", "B": "A", "tie": "tie"}


def import_judgments(path: Path) -> ImportBatch:
    """``model_judgment/*_single.jsonl`` or ``*_pair.jsonl`` (format detected per row)."""
    batch = ImportBatch("mt-bench-judgments", SOURCE)
    questions = read_questions(_find_questions(path), batch)
    batch.files.append(str(path))
    for line, item in iter_jsonl(path):
        qid = need(item, "question_id", path, line, int)
        if qid not in questions:
            raise bad(path, line, f"question_id {qid} is not in question.jsonl")
        query = questions[qid]
        turn = item.get("turn", 1)
        if isinstance(turn, bool) or not isinstance(turn, int) or turn < 1:
            raise bad(path, line, f"turn {turn!r} is not a turn number (1, 2, ...)")
        judge_field = item.get("judge") or ["gpt-4", "unknown"]
        judge_model = str(judge_field[0])
        judge = f"mt-bench:{judge_model}:{judge_field[1] if len(judge_field) > 1 else 'prompt'}"
        if "model" in item:
            response = batch.response(query, str(item["model"]), None, params={"turn": turn})
            score = item.get("score")
            # -1 is upstream's "no [[rating]]"; a boolean is not a score either
            valid = isinstance(score, int | float) and not isinstance(score, bool) and score >= 0
            batch.add(
                pointwise_label(
                    judge=judge,
                    judge_model=judge_model,
                    query=query,
                    response=response,
                    score=float(score) if valid else None,
                    raw=str(item.get("judgment", "")),
                    reason=None
                    if valid
                    else f"upstream score {score!r}: the judge's reply had no [[rating]]",
                    details={"turn": turn, "user_prompt": item.get("user_prompt")},
                )
            )
        elif "model_1" in item and "model_2" in item:
            m1, m2 = str(item["model_1"]), str(item["model_2"])
            r1 = batch.response(query, m1, None, params={"turn": turn})
            r2 = batch.response(query, m2, None, params={"turn": turn})
            for game, first, second, swap in (("g1", r1, r2, False), ("g2", r2, r1, True)):
                winner = item.get(f"{game}_winner")
                verdict = _PAIR_WINNER.get(str(winner))
                if verdict is not None and swap:
                    verdict = _SWAP[verdict]  # g2 names models; orient to the shown order
                batch.add(
                    pairwise_label(
                        judge=judge,
                        judge_model=judge_model,
                        query=query,
                        a=first,
                        b=second,
                        verdict=verdict,
                        raw=str(item.get(f"{game}_judgment", winner)),
                        reason=None if verdict else f"upstream winner {winner!r}",
                        details={"turn": turn, "order": game, "winner": winner},
                    )
                )
        else:
            raise bad(
                path, line, "neither a single judgment (model, score) nor a pair (model_1, model_2)"
            )
    # judged responses carry no text here: leave them to the answers import
    batch.responses = {}
    return batch
