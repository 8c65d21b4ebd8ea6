"""The end-of-job summary, per model and judge, by the judge's shape: scores (pointwise and
likelihood judges) as means with bootstrap CIs and the strongest / weakest taxonomy nodes;
verdicts (pairwise) and rankings (listwise, as pairwise outcomes per query) as win rates;
reliability as the share of responses judged reliable (and the least reliable nodes); plus
the invalid-judgment rate and cost."""

from __future__ import annotations

import math
from itertools import combinations
from typing import Any

import pandas as pd

from judgebench.jobs.config import JobConfig, JudgeSpec

TOP = 3
MIN_CI_N = 2  # below it an interval is not claimed: one value's bootstrap is a point


def _claimed(entry: dict[str, Any]) -> dict[str, Any]:
    """``entry`` without an interval when it rests on fewer than MIN_CI_N values (a bootstrap
    of one judgment is [x, x], which would read as certainty)."""
    if entry["n"] < MIN_CI_N:
        entry["ci_low"] = entry["ci_high"] = None
    return entry


def _num(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else round(f, 4)


def _mine(frame: pd.DataFrame, spec: JudgeSpec) -> pd.DataFrame:
    if not len(frame):
        return frame
    return frame[(frame["judge"] == spec.kind) & (frame["judge_model"] == spec.model)]


def build_summary(
    store: Any, run_id: str, job: JobConfig, adaptive: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    from judgebench.jobs.export import run_frames

    frames = run_frames(store, run_id, light=True)
    judgments, responses = frames["judgments"], frames["responses"]
    assignment, membership = _assignment(frames["queries"], frames["membership"], job)
    names = [m.name for m in job.models]
    models: dict[str, dict[str, Any]] = {
        m.name: {"model": m.name, "simulated": m.simulated} for m in job.models
    }
    for spec in job.judges:
        shape = spec.shape
        if shape in ("pointwise", "likelihood"):
            frame = frames["scores"] if shape == "pointwise" else frames["likelihood"]
            _scores(models, spec, _mine(frame, spec), membership, names)
        elif shape == "pairwise":
            _win_rates(models, spec.label, _mine(frames["pairs"], spec).dropna(subset=["outcome"]))
        elif shape == "listwise":
            _win_rates(models, spec.label, ranking_pairs(_mine(frames["rankings"], spec)))
        elif shape == "reliability":
            _reliability(models, spec, _mine(frames["reliability"], spec), membership)
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
    for report in adaptive or []:
        _adaptive_estimates(models, job, report)
    judge_costs = judgments["cost"].dropna() if len(judgments) else []
    return {
        "adaptive": adaptive or [],
        "run_id": run_id,
        "queries": len(frames["queries"]),
        "assignment": assignment,
        "models": [models[n] for n in names],
        "judge_cost": _num(sum(judge_costs)) if len(judge_costs) else 0.0,
        "judgments": len(judgments),
        "invalid": int((judgments["status"] == "invalid").sum()) if len(judgments) else 0,
        "usage": run_usage(store, run_id),
    }


def _adaptive_estimates(models: dict[str, dict[str, Any]], job: JobConfig, report: dict) -> None:
    """An adaptive judge's overall figures are its reweighted (stratified) estimates, not the
    plain means of a non-uniform sample. Per node, sampling is uniform within each top-level
    node, so node means and the strengths/weaknesses built on them stay as computed."""
    spec = next(j for j in job.judges if j.label == report["judge"])
    estimates = report["estimates"]

    def entry(e: dict[str, Any], scale: float = 1.0, shift: float = 0.0) -> dict[str, Any]:
        return {
            "mean": _num(shift + scale * e["mean"]),
            "ci_low": _num(shift + scale * e["lo"]),
            "ci_high": _num(shift + scale * e["hi"]),
            "n": e["n"],
            "adaptive": True,
        }

    if spec.shape == "pairwise":
        rates: dict[str, list[tuple[float, float, float]]] = {}
        for label, e in estimates.items():
            a, b = label.split(" vs ")
            rates.setdefault(a, []).append((e["mean"], e["lo"], e["hi"]))
            if spec.baseline is None:  # an all-pairs arm speaks for both models
                rates.setdefault(b, []).append((1 - e["mean"], 1 - e["hi"], 1 - e["lo"]))
        for name, rows in rates.items():
            mean = sum(r[0] for r in rows) / len(rows)
            lo = sum(r[1] for r in rows) / len(rows)  # a conservative band: mean of the bounds
            hi = sum(r[2] for r in rows) / len(rows)
            models[name].setdefault("win_rates", {})[spec.label] = {
                "win_rate": _num(100 * mean),
                "ci_low": _num(100 * lo),
                "ci_high": _num(100 * hi),
                "adaptive": True,
            }
        return
    key = "reliability" if spec.shape == "reliability" else "scores"
    for name, e in estimates.items():
        if key == "reliability":
            item = entry(e, 100.0)
            item["reliable_pct"] = item.pop("mean")
        else:
            # outcomes were rescaled to [0, 1] by the score's range (sampling.outcome): undo it
            low, high = report.get("score_range") or (0.0, 1.0)
            item = entry(e, float(high - low), float(low))
        models[name].setdefault(key, {})[spec.label] = item


def _assignment(queries: Any, membership: Any, job: JobConfig) -> tuple[dict[str, Any], Any]:
    """Per top-level node, how many queries are confidently assigned; the membership findings
    use (``queries.findings: all`` adds unassigned queries' best guesses)."""
    import pandas as pd

    from judgebench.analysis.confidence import (
        assignment_summary,
        confident_membership,
        tentative_membership,
    )
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    threshold = job.queries.min_confidence
    threshold = DEFAULT_MIN_CONFIDENCE if threshold is None else threshold
    if job.queries.findings == "all":
        membership = pd.concat([membership, tentative_membership(queries)], ignore_index=True)
    else:  # stored assignments may come from a laxer threshold (taxonomy assign --db)
        membership = confident_membership(membership, threshold)
    summary = assignment_summary(queries, threshold)
    if job.queries.assign == "embedding":  # its assignments carry no confidence to report
        summary["assigner"] = "embedding"
    return summary, membership


def _overall(report: Any) -> pd.DataFrame:
    return report.table[report.table["node_id"] == "*"].set_index("model")


def _scores(models, spec, scores, membership, names) -> None:
    """Mean score per model with its bootstrap CI, and the nodes where it is strongest /
    weakest (judgebench.analysis.feedback, per node)."""
    from judgebench.analysis.feedback import summary_report

    if scores.empty:
        return
    report = summary_report(scores, membership, len(names))
    overall = _overall(report)
    for name in names:
        if name not in overall.index:
            continue
        row = overall.loc[name]
        models[name].setdefault("scores", {})[spec.label] = _claimed(
            {
                "mean": _num(row["mean"]),
                "ci_low": _num(row["ci_low"]),
                "ci_high": _num(row["ci_high"]),
                "n": int(row["count"]),
            }
        )
        strengths = models[name].setdefault("strengths", [])
        weaknesses = models[name].setdefault("weaknesses", [])
        if len(membership):
            strengths += [
                n for n in report.strengths(name)["node_id"].head(TOP) if n not in strengths
            ]
            weaknesses += [
                n for n in report.weaknesses(name)["node_id"].head(TOP) if n not in weaknesses
            ]


def _win_rates(models: dict[str, dict[str, Any]], label: str, pairs: pd.DataFrame) -> None:
    from judgebench.analysis import win_rates

    if pairs.empty:
        return
    wr = win_rates(pairs[["query_id", "model_a", "model_b", "outcome"]], n_boot=500)
    for _, row in wr.iterrows():
        if row["model"] in models:
            models[row["model"]].setdefault("win_rates", {})[label] = _claimed(
                {
                    "win_rate": _num(row["win_rate"]),
                    "ci_low": _num(row["ci_low"]),
                    "ci_high": _num(row["ci_high"]),
                    "n": int(row["n"]),
                }
            )


def ranking_pairs(rankings: pd.DataFrame) -> pd.DataFrame:
    """A listwise judge's rankings as pairwise outcomes: per query, every two ranked models,
    1 when the first is ranked above the second (0.5 on equal scores)."""
    rows = []
    for qid, group in rankings.groupby("query_id", sort=True):
        ranked = group.sort_values("model")
        for (_, a), (_, b) in combinations(ranked.iterrows(), 2):
            outcome = 0.5 if a["score"] == b["score"] else float(a["score"] > b["score"])
            rows.append((qid, a["model"], b["model"], outcome))
    return pd.DataFrame(rows, columns=["query_id", "model_a", "model_b", "outcome"])


def _reliability(models, spec, frame, membership) -> None:
    """Share of each model's responses judged reliable (bootstrap CI), and the nodes where
    that share is lowest."""
    from judgebench.analysis.feedback import summary_report

    if frame.empty:
        return
    shares = frame.assign(score=100.0 * frame["reliable"].astype(float))
    report = summary_report(shares, membership, len(models))
    overall = _overall(report)
    for name in models:
        if name not in overall.index:
            continue
        row = overall.loc[name]
        entry = _claimed(
            {
                "reliable_pct": _num(row["mean"]),
                "ci_low": _num(row["ci_low"]),
                "ci_high": _num(row["ci_high"]),
                "n": int(row["count"]),
            }
        )
        if len(membership):
            entry["least_reliable_nodes"] = report.weaknesses(name)["node_id"].head(TOP).tolist()
        models[name].setdefault("reliability", {})[spec.label] = entry


def _fmt(v: dict[str, Any], key: str, unit: str = "") -> str:
    digits = 3 if abs(v[key]) < 10 and not unit else 1  # log-prob means need 3
    if v.get("ci_low") is None or v.get("ci_high") is None:
        return f"{v[key]:.{digits}f}{unit} (n={v.get('n', '?')}, no CI)"
    return f"{v[key]:.{digits}f}{unit} [{v['ci_low']:.{digits}f}, {v['ci_high']:.{digits}f}]"


def _lines(entries: dict[str, dict[str, Any]], key: str, unit: str = "") -> str:
    """One line per judge; the judge's kind leads when several judges fill the column."""
    shown = {k: v for k, v in entries.items() if v.get(key) is not None}
    tag = len(shown) > 1
    return "\n".join(
        (f"{label.split(':', 1)[0]}: " if tag else "") + _fmt(v, key, unit)
        for label, v in shown.items()
    )


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
    table.add_column("reliable [95% CI]")
    table.add_column("strengths")
    table.add_column("weaknesses")
    table.add_column("invalid", justify="right")
    table.add_column("cost $", justify="right")
    for m in summary["models"]:
        name = m["model"] + (" (simulated)" if m.get("simulated") else "")
        rate = m.get("invalid_rate")
        cost = m.get("cost")
        table.add_row(
            name,
            _lines(m.get("scores", {}), "mean") or "–",
            _lines(m.get("win_rates", {}), "win_rate", "%") or "–",
            _lines(m.get("reliability", {}), "reliable_pct", "%") or "–",
            "\n".join(m.get("strengths", [])[:TOP]) or "–",
            "\n".join(m.get("weaknesses", [])[:TOP]) or "–",
            f"{100 * rate:.1f}%" if rate is not None else "–",
            f"{cost:.4f}" if cost is not None else "unknown",
        )
    return table
