"""Runs: how each run ended (ok / partial / failed, with counts), whether its judges sampled
adaptively (and the judgments that saved), what it cost, and for a scheduled job whether the
latest run regressed against the one before."""

from __future__ import annotations

import pandas as pd
from dash import Input, dcc, html

from judgebench.dashboard.components import (
    controls,
    labelled,
    model_label,
    table_card,
    table_data,
    table_outputs,
)
from judgebench.dashboard.registry import DashboardContext, View
from judgebench.db import queries as q
from judgebench.db.adaptive import adaptive_runs, sampling_text

NOT_OK = ("partial", "failed", "stopped")
REGRESSION_BOOT = 500


def _counts_text(counts: object) -> str:
    """``{stage: {ok, invalid, error, skipped}}`` as one short line."""
    if not isinstance(counts, dict) or not counts:
        return ""
    parts = []
    for stage, c in counts.items():
        if isinstance(c, dict):
            shown = ", ".join(f"{k} {v}" for k, v in c.items() if v)
            parts.append(f"{stage}: {shown or 'nothing'}")
    return " · ".join(parts)


def runs_table(ctx: DashboardContext) -> pd.DataFrame:
    """Newest first: status, reason, stage counts, and the cost split with its total."""
    runs = q.runs_overview(ctx.store)
    columns = ["run", "job", "kind", "status", "reason", "counts", "sampling", "started",
               "responses $", "judges $", "synthesis $", "total $"]  # fmt: skip
    if runs.empty:
        return pd.DataFrame(columns=columns)
    adaptive = adaptive_runs(ctx.store, list(runs["id"]))
    return pd.DataFrame(
        {
            "run": runs["name"],
            "job": runs["job_name"],
            "kind": runs["kind"],
            "status": runs["status"],
            "reason": runs["reason"].fillna(""),
            "counts": runs["counts"].map(_counts_text),
            "sampling": [sampling_text(adaptive.get(r, [])) for r in runs["id"]],
            "started": runs["started_at"].astype(str).str.slice(0, 16),
            "responses $": runs["cost_responses"],
            "judges $": runs["cost_judgments"],
            "synthesis $": runs["cost_synthesis"],
            "total $": runs["cost_total"],
        }
    )


def failed_banner(ctx: DashboardContext) -> html.Div | None:
    """Scheduled executions that did not end ok: a scheduled job's failure must be seen."""
    from judgebench.db.jobs import failed_scheduled_runs

    failed = failed_scheduled_runs(ctx.store, limit=5)
    if not failed:
        return None
    return html.Div(
        [html.B(f"{len(failed)} recent scheduled run(s) did not end ok: ")]
        + [
            html.Span(
                f"{f['schedule_id']} {f['status']} at {str(f['fire_time'])[:16]}"
                + (f" ({f['note']})" if f.get("note") else "")
                + "; "
            )
            for f in failed
        ],
        className="jb-banner jb-banner-alert",
        id="runs-failed",
    )


def regression_table(
    ctx: DashboardContext, judge: str | None, job_name: str | None
) -> pd.DataFrame:
    """The latest run of ``job_name`` against the one before, per model: the paired bootstrap
    regression report (``analysis.regression_report``, queries scored in both runs) overall
    and for every node where the change is significant."""
    from judgebench.analysis.feedback import regression_report

    columns = ["model", "node", "n", "before", "after", "delta", "ci_low", "ci_high",
               "p_value", "change", "runs"]  # fmt: skip
    runs = q.list_runs(ctx.store)
    runs = runs[runs["job_name"] == job_name] if job_name else runs.iloc[0:0]
    if not judge or len(runs) < 2:
        return pd.DataFrame(columns=columns)
    prev, last = runs.iloc[-2], runs.iloc[-1]
    rows = []
    for model in q.list_models(ctx.store, str(last["id"])):
        before = q.query_scores(ctx.store, judge, str(prev["id"]), model)
        after = q.query_scores(ctx.store, judge, str(last["id"]), model)
        if before.empty or after.empty:
            continue
        membership = q.query_membership(ctx.store, after["query_id"])
        report = regression_report(before, after, membership, n_boot=REGRESSION_BOOT)
        shown = report[(report["node_id"] == "*") | (report["change"] != "unchanged")]
        for r in shown.itertuples():
            rows.append(
                dict(
                    model=model_label(model),
                    node="overall" if r.node_id == "*" else r.node_id,
                    n=r.n,
                    before=r.mean_before,
                    after=r.mean_after,
                    delta=r.delta,
                    ci_low=r.ci_low,
                    ci_high=r.ci_high,
                    p_value=r.p_value,
                    change=r.change,
                    runs=f"{prev['name']} → {last['name']}",
                )  # fmt: skip
            )
    return pd.DataFrame(rows, columns=columns)


def layout(ctx: DashboardContext, params: dict[str, str]) -> html.Div:
    jobs = q.job_names(ctx.store)
    return html.Div(
        [
            failed_banner(ctx),
            table_card("Runs (newest first)", "runs-table"),
            controls(
                labelled(
                    "Scheduled job",
                    dcc.Dropdown(
                        id="runs-job",
                        options=[{"label": j, "value": j} for j in jobs],
                        value=params.get("job") or (jobs[-1] if jobs else None),
                        clearable=False,
                    ),
                )
            ),
            html.P(
                "The latest run against the one before, per model, on the judge picked above: "
                "paired by query, bootstrap interval of the mean difference, p < 0.05 flags a "
                "regression or an improvement (overall, and every node that changed).",
                className="jb-note",
            ),
            table_card("Run over run", "runs-regression"),
        ]
    )


def register(app, ctx: DashboardContext) -> None:
    @app.callback(*table_outputs("runs-table"), Input("filter-run", "value"))
    def _runs(_):
        return table_data(runs_table(ctx))

    @app.callback(
        *table_outputs("runs-regression"),
        Input("runs-job", "value"),
        Input("filter-judge", "value"),
    )
    def _regression(job, judge):
        return table_data(regression_table(ctx, judge, job))


VIEW = View(
    id="runs",
    title="Runs",
    layout=layout,
    register=register,
    order=15,
    description="How every run ended (ok, partial or failed, with counts), what it cost split into responses, judges and synthesis, and whether a scheduled job's latest run regressed.",
)
