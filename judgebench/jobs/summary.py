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
        "models": [models[n] for n in names],
        "judge_cost": _num(sum(judge_costs)) if len(judge_costs) else 0.0,
        "judgments": len(judgments),
        "invalid": int((judgments["status"] == "invalid").sum()) if len(judgments) else 0,
    }


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
