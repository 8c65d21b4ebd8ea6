"""The end-of-job summary: per model, overall score with CI, top strengths and weaknesses
(judgebench.analysis), pairwise win rate, invalid-judgment rate and cost."""

from __future__ import annotations

import math
from typing import Any

from judgebench.jobs.config import JobConfig

TOP = 3


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, 4)


def build_summary(store: Any, run_id: str, job: JobConfig) -> dict[str, Any]:
    from judgebench.analysis import win_rates
    from judgebench.analysis.feedback import summary_report
    from judgebench.jobs.export import run_frames

    frames = run_frames(store, run_id, light=True)
    judgments, responses = frames["judgments"], frames["responses"]
    scores, pairs, membership = frames["scores"], frames["pairs"], frames["membership"]
    assignment, membership = _assignment(frames["queries"], membership, job)
    names = [m.name for m in job.models]
    models: dict[str, dict[str, Any]] = {
        m.name: {"model": m.name, "simulated": m.simulated} for m in job.models
    }
    for spec in job.judges:
        label = f"{spec.kind}:{spec.model}"
        if spec.kind == "pc2" and len(scores):
            mine = scores[(scores["judge"] == "pc2") & (scores["judge_model"] == spec.model)]
            if mine.empty:
                continue
            report = summary_report(mine, membership, len(names))
            overall = report.table[report.table["node_id"] == "*"].set_index("model")
            for name in names:
                if name not in overall.index:
                    continue
                row = overall.loc[name]
                models[name].setdefault("scores", {})[label] = {
                    "mean": _num(row["mean"]),
                    "ci_low": _num(row["ci_low"]),
                    "ci_high": _num(row["ci_high"]),
                    "n": int(row["count"]),
                }
                models[name].setdefault("strengths", [])
                models[name].setdefault("weaknesses", [])
                if len(membership):
                    models[name]["strengths"] += (
                        report.strengths(name)["node_id"].head(TOP).tolist()
                    )
                    models[name]["weaknesses"] += (
                        report.weaknesses(name)["node_id"].head(TOP).tolist()
                    )
        elif spec.kind == "pairwise" and len(pairs):
            mine = pairs[(pairs["judge"] == "pairwise") & (pairs["judge_model"] == spec.model)]
            mine = mine.dropna(subset=["outcome"])
            if mine.empty:
                continue
            wr = win_rates(mine[["query_id", "model_a", "model_b", "outcome"]], n_boot=500)
            for _, row in wr.iterrows():
                if row["model"] in models:
                    models[row["model"]].setdefault("win_rates", {})[label] = {
                        "win_rate": _num(row["win_rate"]),
                        "ci_low": _num(row["ci_low"]),
                        "ci_high": _num(row["ci_high"]),
                        "n": int(row["n"]),
                    }
    for name in names:
        if len(judgments):
            mine = judgments[(judgments["model"] == name) | (judgments["model_b"] == name)]
            n = len(mine)
            models[name]["judgments"] = n
            models[name]["invalid_rate"] = (
                _num((mine["status"] == "invalid").sum() / n) if n else None
            )
        if len(responses):
            mine = responses[responses["model"] == name]
            costs = mine["cost"].dropna()
            models[name]["responses"] = len(mine)
            models[name]["cost"] = _num(costs.sum()) if len(costs) == len(mine) else None
    judge_costs = judgments["cost"].dropna() if len(judgments) else []
    return {
        "run_id": run_id,
        "queries": len(frames["queries"]),
        "assignment": assignment,
        "models": [models[n] for n in names],
        "judge_cost": _num(sum(judge_costs)) if len(judge_costs) else 0.0,
        "judgments": len(judgments),
        "invalid": int((judgments["status"] == "invalid").sum()) if len(judgments) else 0,
        "usage": run_usage(store, run_id),
    }


def _assignment(queries: Any, membership: Any, job: JobConfig) -> tuple[dict[str, Any], Any]:
    """Per top-level node, how many queries are confidently assigned; the membership findings
    use (``queries.findings: all`` adds unassigned queries' best guesses)."""
    import pandas as pd

    from judgebench.analysis.confidence import assignment_summary, tentative_membership
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    threshold = job.queries.min_confidence
    threshold = DEFAULT_MIN_CONFIDENCE if threshold is None else threshold
    if job.queries.findings == "all":
        membership = pd.concat([membership, tentative_membership(queries)], ignore_index=True)
    return assignment_summary(queries, threshold), membership


# what each part of a run's usage is called when printed
PARTS = {
    "responses": "responses",
    "judgments": "judges (incl. auxiliary answers, criteria)",
    "synthesis": "synthesis",
}


def run_usage(store: Any, run_id: str) -> dict[str, dict[str, Any]]:
    """LLM usage of the run over every invocation: per part (responses, judgments incl.
    auxiliary answers and criteria, synthesis) and ``total``. Cost is in USD; a call without a
    price adds to ``calls_without_price`` (the cost is then a lower bound)."""
    from judgebench.db.jobs import get_usage, part_usage_key

    out = {part: get_usage(store, part_usage_key(run_id, part)) for part in PARTS}
    out["total"] = get_usage(store, run_id)
    return out


def cost_lines(summary: dict[str, Any]) -> list[str]:
    """``total cost $x (n tokens)`` and one line per part, for the console."""
    usage = summary.get("usage") or {}
    if not usage:
        return []

    def text(u: dict[str, Any]) -> str:
        tokens = int(u.get("prompt_tokens", 0)) + int(u.get("completion_tokens", 0))
        unpriced = int(u.get("calls_without_price", 0))
        least = "at least " if unpriced else ""
        more = f"; {unpriced} without a price" if unpriced else ""
        cost = float(u.get("cost") or 0)
        return f"{least}${cost:.4f} ({tokens:,} tokens, {u.get('calls', 0)} calls{more})"

    lines = [f"total cost {text(usage['total'])}"]
    lines += [
        f"  {label}: {text(usage[part])}"
        for part, label in PARTS.items()
        if (usage.get(part) or {}).get("calls")  # a part that made no call (no synthesis)
    ]
    return lines


def summary_table(summary: dict[str, Any]) -> Any:
    """The summary as a rich table."""
    from rich.table import Table

    table = Table(title=f"run {summary['run_id'][:12]} · {summary['queries']} queries")
    table.add_column("model")
    table.add_column("score [95% CI]")
    table.add_column("win rate [95% CI]")
    table.add_column("strengths")
    table.add_column("weaknesses")
    table.add_column("invalid", justify="right")
    table.add_column("cost $", justify="right")
    for m in summary["models"]:
        name = m["model"] + (" (simulated)" if m.get("simulated") else "")
        scores = "\n".join(
            f"{v['mean']:.1f} [{v['ci_low']:.0f}, {v['ci_high']:.0f}]"
            for v in m.get("scores", {}).values()
            if v["mean"] is not None
        )
        wins = "\n".join(
            f"{v['win_rate']:.1f}% [{v['ci_low']:.0f}, {v['ci_high']:.0f}]"
            for v in m.get("win_rates", {}).values()
            if v["win_rate"] is not None
        )
        rate = m.get("invalid_rate")
        cost = m.get("cost")
        table.add_row(
            name,
            scores or "–",
            wins or "–",
            "\n".join(m.get("strengths", [])[:TOP]) or "–",
            "\n".join(m.get("weaknesses", [])[:TOP]) or "–",
            f"{100 * rate:.1f}%" if rate is not None else "–",
            f"{cost:.4f}" if cost is not None else "unknown",
        )
    return table
