"""Judge meta-evaluation: run any pairwise judge configuration over a human-labelled set.

Reports agreement with the human (or gold) label, position consistency, invalid rate and cost,
and stores everything as a ``judge-eval`` run so configurations compare side by side (what
AlpacaEval's evaluators leaderboard does for its own judges, for any judge a user builds).
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from judgebench.analysis.agreement import pairwise_agreement, position_consistency
from judgebench.errors import ConfigError, UserError
from judgebench.records import Judgment, Query, Response, Run

if TYPE_CHECKING:
    from judgebench.db import Store
    from judgebench.importers import ImportBatch

# name → (importer format, path under the shared data folder)
LABEL_SETS: dict[str, tuple[str, str]] = {
    "llmbar-natural": ("llmbar", "llmbar/LLMBar/Natural"),
    "llmbar-adversarial": ("llmbar", "llmbar/LLMBar/Adversarial"),
    "llmbar-mtbench": ("llmbar", "llmbar/Processed/MT-Bench"),
    "llmbar-llmeval2": ("llmbar", "llmbar/Processed/LLMEval_2"),
    "llmbar-faireval": ("llmbar", "llmbar/Processed/FairEval"),
    "pandalm": ("pandalm", "pandalm_testset/testset-v1.json"),
}


@dataclass
class LabelledPair:
    query: Query
    response_a: Response
    response_b: Response
    label: str  # "A" | "B" | "tie"


def labelled_pairs(batch: ImportBatch) -> list[LabelledPair]:
    """One item per labelled pair; several human labels (PandaLM) → their majority (ties kept)."""
    labels: dict[tuple[str, str], list[str]] = {}
    for j in batch.judgments.values():
        if j.judge.startswith(("human:", "gold:")) and j.status == "ok" and j.response_b_id:
            labels.setdefault((j.response_id or "", j.response_b_id), []).append(j.verdict or "")
    items = []
    for (a_id, b_id), votes in labels.items():
        counts = Counter(votes).most_common()
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            continue  # no majority: not a usable label
        a, b = batch.responses[a_id], batch.responses[b_id]
        items.append(LabelledPair(batch.queries[a.query_id], a, b, counts[0][0]))
    return items


def load_label_set(
    name_or_path: str, data: Path | None = None, format: str | None = None
) -> tuple[str, ImportBatch]:
    """A named set (see ``LABEL_SETS``, read from the shared data) or a path with a format."""
    from judgebench.importers import parse

    if name_or_path in LABEL_SETS:
        fmt, rel = LABEL_SETS[name_or_path]
        default = Path(__file__).resolve().parents[3] / "shared" / "data"
        root = data or Path(os.environ.get("JUDGEBENCH_SHARED_DATA", default))
        path = root / rel
        if not path.exists():
            raise UserError(f"label set {name_or_path!r} not found at {path}; pass --data DIR")
        return name_or_path, parse(fmt, path)
    path = Path(name_or_path)
    if not path.exists():
        raise UserError(
            f"unknown label set {name_or_path!r}: one of {', '.join(LABEL_SETS)}, or a path with --format"
        )
    if not format:
        raise UserError("a label-set path needs --format (llmbar, pandalm or judgebench)")
    return path.stem, parse(format, path)


def summarize(judgments: list[Judgment], items: list[LabelledPair]) -> dict[str, Any]:
    """Agreement, position consistency, invalid rate and cost of a judge over labelled pairs."""
    predicted = [j.verdict if j.status == "ok" else None for j in judgments]
    gold = [it.label for it in items]
    out: dict[str, Any] = pairwise_agreement(predicted, gold)
    ab = [j.details.get("verdict_ab") for j in judgments]
    ba = [j.details.get("verdict_ba") for j in judgments]
    if any(v is not None for v in ba):
        # verdict_ba is already mapped back to the original labels: consistent means equal
        consistency = position_consistency(ab, ba, flip={"A": "A", "B": "B", "tie": "tie"})
        out["position_consistency"] = consistency["consistency"]
        flips = [(x, y) for x, y in zip(ab, ba, strict=True) if x and y and x != y]
        # slot A chosen in both orders reads as (A, B) once the swapped verdict is mapped back
        out["prefers_first"] = (
            sum(1 for x, y in flips if (x, y) == ("A", "B")) / len(flips) if flips else 0.0
        )
    else:
        out["position_consistency"] = None
    out["errors"] = sum(1 for j in judgments if j.status == "error")
    out["cost"] = sum(j.cost or 0.0 for j in judgments)
    out["tokens"] = sum(j.usage.total_tokens for j in judgments)
    return out


async def evaluate_judge(judge: Any, items: list[LabelledPair]) -> list[Judgment]:
    """Run a pairwise judge (anything with ``evaluate_pairs``) over the labelled pairs."""
    return list(
        await judge.evaluate_pairs([(it.query, it.response_a, it.response_b) for it in items])
    )


def check_limit(limit: int | None) -> None:
    """``limit`` is a number of pairs: 0 or a negative slice would silently mean all or most."""
    if limit is not None and limit < 1:
        raise ConfigError(f"limit must be at least 1 pair, got {limit}")


def run_judge_eval(
    judge: Any,
    set_name: str,
    batch: ImportBatch,
    store: Store | None = None,
    *,
    limit: int | None = None,
    judge_config: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], Run | None]:
    """Evaluate ``judge`` on a parsed label set; with a store, save labels, judgments and a run.

    The run's id follows from the set, the judge configuration and the limit, so running the
    same evaluation again resumes it: pairs already judged in that run are read back, not sent
    to the judge again (a finished evaluation reruns with zero LLM calls).
    """
    from judgebench.llm import run_sync

    check_limit(limit)
    items = labelled_pairs(batch)
    items.sort(key=lambda it: (it.query.id, it.response_a.id))
    if limit is not None:
        items = items[:limit]
    config = {
        "set": set_name,
        "judge": judge_config or {"name": getattr(judge, "name", type(judge).__name__)},
        "limit": limit,
    }
    identity = Run(kind="judge-eval", name=f"{set_name}:{config['judge']}", config=config)
    done: dict[tuple[str | None, str | None], Judgment] = {}
    if store is not None:
        from judgebench.importers import write_batch

        write_batch(batch, store)
        done = {
            (j.response_id, j.response_b_id): j for j in store.get_judgments(run_id=identity.id)
        }
        store.put_run(identity)
    todo = [it for it in items if (it.response_a.id, it.response_b.id) not in done]
    fresh = run_sync(lambda: evaluate_judge(judge, todo)) if todo else []
    by_pair = {**done, **{(j.response_id, j.response_b_id): j for j in fresh}}
    judgments = [by_pair[(it.response_a.id, it.response_b.id)] for it in items]
    metrics = summarize(judgments, items)
    metrics["set"] = set_name
    metrics["judge_model"] = getattr(judge, "model", None)
    metrics["judged_now"] = len(fresh)
    if store is None:
        return metrics, None
    run = identity.model_copy(update={"config": {**config, "metrics": metrics}})
    store.put_run(run)
    for j in fresh:
        if j.run_id is None:
            object.__setattr__(j, "run_id", run.id)
    store.put_judgments(fresh)
    store.link_run_items(run.id, "judgment", [j.id for j in judgments])
    store.finish_run(run.id)
    return metrics, run


def judge_eval_table(runs: list[Run]) -> pd.DataFrame:
    """Stored judge-eval runs as one row each: set, judge, model, agreement, consistency, cost."""
    rows = []
    for run in runs:
        metrics = run.config.get("metrics") or {}
        judge = run.config.get("judge") or {}
        options = {k: v for k, v in judge.items() if k not in {"judge", "model"}}
        rows.append(
            {
                "set": run.config.get("set"),
                "judge": judge.get("judge"),
                "model": judge.get("model"),
                "options": ", ".join(f"{k}={v}" for k, v in sorted(options.items())),
                "n": metrics.get("n"),
                "accuracy": metrics.get("accuracy_with_ties"),
                "accuracy_no_ties": metrics.get("accuracy_without_ties"),
                "kappa": metrics.get("kappa"),
                "position_consistency": metrics.get("position_consistency"),
                "invalid_rate": metrics.get("invalid_rate"),
                "cost": metrics.get("cost"),
                "run_id": run.id,
            }
        )
    columns = [
        "set",
        "judge",
        "model",
        "options",
        "n",
        "accuracy",
        "accuracy_no_ties",
        "kappa",
        "position_consistency",
        "invalid_rate",
        "cost",
        "run_id",
    ]
    return pd.DataFrame(rows, columns=columns).sort_values(
        ["set", "accuracy"], ascending=[True, False], ignore_index=True
    )
