"""Correctness-labelled answers: GSM8K model solutions and HaluEval general.

Each labelled answer becomes a query, a response and a pointwise label judgment whose score is
1.0 (correct / no hallucination) or 0.0, judge named after the source.
"""

from __future__ import annotations

from pathlib import Path

from judgebench.importers.base import ImportBatch, bad, iter_jsonl, need, pointwise_label


def _final_answer(solution: str) -> str | None:
    for marker in ("####", "A:"):
        if marker in solution:
            return solution.rsplit(marker, 1)[1].strip()
    return None


def import_gsm8k(path: Path) -> ImportBatch:
    """``model_solutions_flat.jsonl`` (question, ground_truth, model, solution, is_correct) or the
    plain ``test.jsonl`` (question, answer → queries with their reference)."""
    batch = ImportBatch("gsm8k", "gsm8k")
    batch.files.append(str(path))
    for line, item in iter_jsonl(path):
        question = need(item, "question", path, line)
        if "solution" not in item:
            answer = need(item, "answer", path, line)
            batch.query(
                question, reference=answer, metadata={"final_answer": _final_answer(answer)}
            )
            continue
        truth = need(item, "ground_truth", path, line)
        model = need(item, "model", path, line)
        correct = need(item, "is_correct", path, line, bool)
        query = batch.query(
            question, reference=truth, metadata={"question_idx": item.get("question_idx")}
        )
        response = batch.response(query, model, need(item, "solution", path, line))
        batch.add(
            pointwise_label(
                judge="gold:gsm8k",
                judge_model="gold",
                query=query,
                response=response,
                score=1.0 if correct else 0.0,
                raw=str(correct).lower(),
                details={"is_correct": correct},
            )
        )
    return batch


def import_halueval(path: Path) -> ImportBatch:
    """HaluEval general (``user_query, chatgpt_response, hallucination`` yes|no, spans)."""
    batch = ImportBatch("halueval", "halueval")
    batch.files.append(str(path))
    for line, item in iter_jsonl(path):
        query = batch.query(need(item, "user_query", path, line), metadata={"id": item.get("ID")})
        response = batch.response(query, "chatgpt", need(item, "chatgpt_response", path, line))
        label = str(need(item, "hallucination", path, line)).strip().lower()
        if label not in ("yes", "no"):
            raise bad(path, line, f"hallucination {label!r} should be yes or no")
        batch.add(
            pointwise_label(
                judge="human:halueval",
                judge_model="human",
                query=query,
                response=response,
                score=1.0 if label == "no" else 0.0,
                raw=label,
                details={
                    "hallucination": label == "yes",
                    "spans": item.get("hallucination_spans") or [],
                },
            )
        )
    return batch
