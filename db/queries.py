"""Aggregation queries the dashboard (and anyone else) calls: SQLAlchemy Core, aggregation in SQL.

Two layers:

* ``refresh_summary(store)`` rebuilds the summary tables of ``db/dashboard_summary.py`` with a
  handful of ``INSERT … SELECT … GROUP BY`` statements over the core tables (sums and sums of
  squares per node × model × judge × run; internal nodes aggregate the union of their
  descendant leaves' queries, each query once). It is cheap to call: it does nothing unless the
  core tables changed (``ensure_summary``).
* The read functions (``node_scores``, ``leaderboard``, ``judge_health``, …) group those sums
  for the filters at hand and return small pandas frames; drill-down reads go to the core
  tables with ``LIMIT`` through their indexes.

Means of one judge come with bootstrap 95 % intervals from the per-query scores kept in
``dashboard_query_scores`` (the table ``judgebench.analysis.summary_report`` builds, stored in
``dashboard_node_boot``); a mix of judges falls back to the normal approximation from the sums of
squares. Win rates get Wilson intervals, which stay inside [0, 1].
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    Float,
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import BindParameter

from judgebench.db.dashboard_summary import (
    ALL_RUNS,
    JUDGMENTS_MODEL_SCORE,
    SUMMARY_TABLES,
    DashboardClosureRow,
    DashboardJudgeStatsRow,
    DashboardModelCostRow,
    DashboardNodeBootRow,
    DashboardNodeRow,
    DashboardNodeStatsRow,
    DashboardQueryNodeRow,
    DashboardQueryScoreRow,
    DashboardScoreHistRow,
    DashboardStateRow,
)
from judgebench.db.models import (
    JudgmentRow,
    QueryNodeRow,
    QueryRow,
    ResponseRow,
    RunItemRow,
    RunRow,
    TaxonomyNodeRow,
    TaxonomyVersionRow,
)
from judgebench.db.store import Store

ROOT = ""  # node id of the whole taxonomy
ROOT_NAME = "All queries"
SIM_PREFIX = "sim/"
HUMAN_PREFIX = "human"
POSITION_FLAG = "position_inconsistent"
INJECTION_FLAG = "injection"
Z95 = 1.959963984540054

_J = JudgmentRow.__table__
_QN = QueryNodeRow.__table__
_R = ResponseRow.__table__
_RI = RunItemRow.__table__
_NS = DashboardNodeStatsRow.__table__
_NODES = DashboardNodeRow.__table__
_CLOSURE = DashboardClosureRow.__table__
_QA = DashboardQueryNodeRow.__table__
_JS = DashboardJudgeStatsRow.__table__
_HIST = DashboardScoreHistRow.__table__
_COST = DashboardModelCostRow.__table__
_STATE = DashboardStateRow.__table__
_QS = DashboardQueryScoreRow.__table__
_NB = DashboardNodeBootRow.__table__

log = logging.getLogger("judgebench.dashboard")


def is_simulated(model: str | None) -> bool:
    return bool(model) and str(model).startswith(SIM_PREFIX)


def is_human_judge(judge: str | None, judge_model: str | None = None) -> bool:
    """Imported human labels are judgments whose judge (or judge model) names a human source."""
    return any(str(v or "").lower().startswith(HUMAN_PREFIX) for v in (judge, judge_model))


# --- summary build ----------------------------------------------------------------------------


def _fingerprint(conn: Connection) -> str:
    parts = [
        conn.scalar(select(func.count()).select_from(t))
        for t in (_J, _R, _QN, _RI, TaxonomyNodeRow.__table__, RunRow.__table__)
    ]
    return ":".join(str(p) for p in parts)


def current_version(conn: Connection) -> int:
    """The taxonomy version whose query assignments the dashboard shows: the newest one used."""
    version = conn.scalar(select(func.max(_QN.c.taxonomy_version)))
    if version is None:
        version = conn.scalar(select(func.max(TaxonomyVersionRow.id)))
    return int(version or 0)


def _build_nodes(
    conn: Connection, version: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    stored = {
        r.path_id: r
        for r in conn.execute(
            select(
                TaxonomyNodeRow.path_id, TaxonomyNodeRow.name, TaxonomyNodeRow.description
            ).where(TaxonomyNodeRow.version_id == version)
        )
    }
    used = set(
        conn.scalars(select(_QN.c.node_id).where(_QN.c.taxonomy_version == version).distinct())
    )
    ids: set[str] = set()
    for path in set(stored) | used:
        parts = path.split("/")
        ids.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    nodes = [
        dict(
            version=version, node_id=ROOT, name=ROOT_NAME, parent_id=None, depth=0, description=None
        )
    ]
    closure = []
    for node_id in sorted(ids):
        row = stored.get(node_id)
        name = row.name if row is not None else node_id.rsplit("/", 1)[-1]
        parent = node_id.rsplit("/", 1)[0] if "/" in node_id else ROOT
        nodes.append(
            dict(
                version=version,
                node_id=node_id,
                name=name,
                parent_id=parent,
                depth=node_id.count("/") + 1,
                description=row.description if row is not None else None,
            )
        )
        parts = node_id.split("/")
        closure.append(dict(version=version, ancestor=ROOT, node_id=node_id))
        closure.extend(
            dict(version=version, ancestor="/".join(parts[: i + 1]), node_id=node_id)
            for i in range(len(parts))
        )
    return nodes, closure


def _query_ancestors(version: int):
    """(query_id, node_id) for every node a query falls under, each pair once."""
    return (
        select(_QN.c.query_id, _CLOSURE.c.ancestor.label("node_id"))
        .join(
            _CLOSURE,
            and_(_CLOSURE.c.node_id == _QN.c.node_id, _CLOSURE.c.version == _QN.c.taxonomy_version),
        )
        .where(_QN.c.taxonomy_version == version)
        .distinct()
        .subquery("qa")
    )


def _judgment_sides():
    """One row per (judgment, evaluated model): pairwise judgments count for both sides."""
    pairwise = _J.c.kind == "pairwise"
    decided = and_(pairwise, _J.c.status == "ok", _J.c.verdict.isnot(None))
    common = [
        _J.c.id,
        _J.c.query_id,
        _J.c.judge,
        _J.c.judge_model,
        _J.c.run_id,
        _J.c.status,
        _J.c.cost,
    ]
    side_a = select(
        *common,
        _J.c.model.label("model"),
        case((pairwise, None), else_=_J.c.score).label("score"),
        case((decided, 1), else_=0).label("decided"),
        case(
            (decided & (_J.c.verdict == "A"), 1.0),
            (decided & (_J.c.verdict == "tie"), 0.5),
            else_=0.0,
        ).label("points"),
    ).where(_J.c.model.isnot(None))
    side_b = select(
        *common,
        _J.c.model_b.label("model"),
        literal(None, Float).label("score"),
        case((decided, 1), else_=0).label("decided"),
        case(
            (decided & (_J.c.verdict == "B"), 1.0),
            (decided & (_J.c.verdict == "tie"), 0.5),
            else_=0.0,
        ).label("points"),
    ).where(_J.c.model_b.isnot(None))
    return union_all(side_a, side_b).subquery("sides")


def _reused_by_runs():
    """(judgment id, run id) for runs that reused a judgment another run wrote (via run_items)."""
    written = _J.alias("written")
    return (
        select(_RI.c.item_id.label("jid"), _RI.c.run_id.label("run_id"))
        .join(written, written.c.id == _RI.c.item_id)
        .where(_RI.c.item_kind == "judgment", _RI.c.run_id != func.coalesce(written.c.run_id, ""))
        .subquery("reused")
    )


def _add_into(store: Store, conn: Connection, table, cols: list[str], source) -> None:
    """INSERT … SELECT that adds the numeric columns into rows whose key already exists."""
    key = [c.name for c in table.primary_key.columns]
    stmt = store._insert(table).from_select(cols, source)
    additive = {
        c: table.c[c] + stmt.excluded[c]
        for c in cols
        if c not in key and isinstance(table.c[c].type, (Integer, Float))
    }
    conn.execute(stmt.on_conflict_do_update(index_elements=key, set_=additive))


def _grouping(run_col) -> list:
    """A constant run id is not a grouping key (PostgreSQL sees each bound copy as different)."""
    return [] if isinstance(run_col, BindParameter) else [run_col]


def _node_stats_select(version: int, sides, run_col, extra_from=None, where=None):
    qa = _QA
    scored = and_(sides.c.status == "ok", sides.c.score.isnot(None))
    stmt = select(
        literal(version).label("version"),
        qa.c.node_id,
        sides.c.model,
        sides.c.judge,
        run_col.label("run_id"),
        func.count().label("n"),
        func.sum(case((sides.c.status == "invalid", 1), else_=0)).label("n_invalid"),
        func.sum(case((sides.c.status == "error", 1), else_=0)).label("n_error"),
        func.sum(case((scored, 1), else_=0)).label("n_scored"),
        func.coalesce(func.sum(case((scored, sides.c.score), else_=0.0)), 0.0).label("sum_score"),
        func.coalesce(
            func.sum(case((scored, sides.c.score * sides.c.score), else_=0.0)), 0.0
        ).label("sum_sq"),
        func.sum(sides.c.decided).label("n_pair"),
        func.coalesce(func.sum(sides.c.points), 0.0).label("pair_points"),
    )
    source = sides.join(qa, and_(qa.c.query_id == sides.c.query_id, qa.c.version == version))
    if extra_from is not None:
        source = source.join(extra_from, extra_from.c.jid == sides.c.id)
    if where is not None:
        stmt = stmt.where(where)
    return stmt.select_from(source).group_by(
        qa.c.node_id, sides.c.model, sides.c.judge, *_grouping(run_col)
    )


def _has_flag(flag: str):
    # flags is a JSON list of short strings; a text match works the same on SQLite and PostgreSQL
    from sqlalchemy import Text

    return cast(_J.c.flags, Text).like(f'%"{flag}%')


def _judge_stats_select(run_col, source, model_col, where=None):
    pos = _has_flag(POSITION_FLAG)
    inj = _has_flag(INJECTION_FLAG)
    stmt = (
        select(
            _J.c.judge,
            run_col.label("run_id"),
            func.coalesce(model_col, "").label("model"),
            func.max(_J.c.judge_model).label("judge_model"),
            func.count().label("n"),
            func.sum(case((_J.c.status == "invalid", 1), else_=0)).label("n_invalid"),
            func.sum(case((_J.c.status == "error", 1), else_=0)).label("n_error"),
            func.sum(case((_J.c.kind == "pairwise", 1), else_=0)).label("n_pairwise"),
            func.sum(case((pos, 1), else_=0)).label("n_position_inconsistent"),
            func.sum(case((inj, 1), else_=0)).label("n_injection"),
            func.coalesce(func.sum(_J.c.cost), 0.0).label("cost"),
        )
        .select_from(source)
        .group_by(_J.c.judge, *_grouping(run_col), model_col)
    )
    return stmt.where(where) if where is not None else stmt


# Drill-down reads the judgments in score order per model (worst queries). The index lives on
# the core table but belongs to the dashboard; it is created with the summary tables.
_MODEL_SCORE = JUDGMENTS_MODEL_SCORE
MODEL_SCORE_INDEX = str(_MODEL_SCORE.name)

SMALL_NODE = 3000  # queries; below this the drill-down reads a node's judgments directly

_refresh_lock = threading.Lock()


def refresh_summary(store: Store, *, force: bool = False) -> bool:
    """Rebuild the summary tables if the core tables changed since the last build.

    Returns True when it rebuilt. Runs in one transaction, so readers see the old summary or
    the new one, never half of it.
    """
    with _refresh_lock:
        for table in SUMMARY_TABLES:
            table.__table__.create(store.engine, checkfirst=True)
        _MODEL_SCORE.create(store.engine, checkfirst=True)
        with store.read() as conn:
            fingerprint = _fingerprint(conn)
            state = conn.execute(select(_STATE.c.fingerprint)).first()
            if not force and state is not None and state.fingerprint == fingerprint:
                return False
        started = time.perf_counter()
        with store.engine.begin() as conn:
            version = current_version(conn)
            for table in SUMMARY_TABLES:
                conn.execute(delete(table.__table__))
            nodes, closure = _build_nodes(conn, version)
            conn.execute(insert(_NODES), nodes)
            if closure:
                conn.execute(insert(_CLOSURE), closure)
            qa = _query_ancestors(version)
            conn.execute(
                insert(_QA).from_select(
                    ["version", "node_id", "query_id"],
                    select(literal(version), qa.c.node_id, qa.c.query_id),
                )
            )
            _fill_node_counts(conn, version)
            sides = _judgment_sides()
            cols = [c.name for c in _NS.columns]
            conn.execute(
                insert(_NS).from_select(cols, _node_stats_select(version, sides, literal(ALL_RUNS)))
            )
            # per run: the run that wrote each judgment, then (added in) runs that reused it
            conn.execute(
                insert(_NS).from_select(
                    cols,
                    _node_stats_select(
                        version, sides, sides.c.run_id, where=sides.c.run_id.isnot(None)
                    ),
                )
            )
            reused = _reused_by_runs()
            any_reused = bool(conn.scalar(select(func.count()).select_from(reused)))
            if any_reused:
                _add_into(
                    store,
                    conn,
                    _NS,
                    cols,
                    _node_stats_select(version, sides, reused.c.run_id, extra_from=reused),
                )
            js_cols = [c.name for c in _JS.columns]
            conn.execute(
                insert(_JS).from_select(
                    js_cols, _judge_stats_select(literal(ALL_RUNS), _J, _J.c.model)
                )
            )
            conn.execute(
                insert(_JS).from_select(
                    js_cols,
                    _judge_stats_select(_J.c.run_id, _J, _J.c.model, where=_J.c.run_id.isnot(None)),
                )
            )
            if any_reused:
                reused = _reused_by_runs()
                _add_into(
                    store,
                    conn,
                    _JS,
                    js_cols,
                    _judge_stats_select(
                        reused.c.run_id, _J.join(reused, reused.c.jid == _J.c.id), _J.c.model
                    ),
                )
            _fill_hist(conn)
            _fill_costs(conn)
            _fill_query_scores(store, conn, any_reused)
            _fill_reliability(conn)
            _fill_node_boot(conn, version)
            if store.dialect == "sqlite":
                # planner statistics, approximate and cheap, so joins start from the small side
                conn.exec_driver_sql("PRAGMA analysis_limit=1000")
                conn.exec_driver_sql("ANALYZE")
            conn.execute(
                insert(_STATE).values(
                    id=1,
                    fingerprint=fingerprint,
                    version=version,
                    build_s=time.perf_counter() - started,
                )
            )
        return True


def _confident_counts(conn: Connection, version: int) -> dict[str, int]:
    """Distinct confidently assigned queries per node, rolled up like ``n_queries``: by the CLI's
    rule (``taxonomy show --db``: ``confident_assignment``) at the taxonomy's default
    ``min_confidence``, the threshold the CLI and a job without its own use."""
    from judgebench.db.taxonomy import confident_assignment
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    stmt = (
        select(_CLOSURE.c.ancestor, func.count(_QN.c.query_id.distinct()))
        .join(
            _CLOSURE,
            and_(_CLOSURE.c.node_id == _QN.c.node_id, _CLOSURE.c.version == _QN.c.taxonomy_version),
        )
        .where(_QN.c.taxonomy_version == version, confident_assignment(DEFAULT_MIN_CONFIDENCE))
        .group_by(_CLOSURE.c.ancestor)
    )
    return dict(conn.execute(stmt).tuples().all())


def _fill_node_counts(conn: Connection, version: int) -> None:
    counts: dict[str, int] = dict(
        conn.execute(
            select(_QA.c.node_id, func.count())
            .where(_QA.c.version == version)
            .group_by(_QA.c.node_id)
        ).all()
    )
    if counts:
        from sqlalchemy import bindparam, update

        confident = _confident_counts(conn, version)
        conn.execute(
            update(_NODES)
            .where(_NODES.c.version == version, _NODES.c.node_id == bindparam("nid"))
            .values(n_queries=bindparam("cnt"), n_confident=bindparam("sure")),
            [dict(nid=k, cnt=v, sure=confident.get(k, 0)) for k, v in counts.items()],
        )


def _fill_hist(conn: Connection) -> None:
    bucket = func.round(_J.c.score)
    ok = and_(_J.c.status == "ok", _J.c.score.isnot(None))
    conn.execute(
        insert(_HIST).from_select(
            ["judge", "run_id", "score", "n"],
            select(_J.c.judge, literal(ALL_RUNS), bucket, func.count())
            .where(ok)
            .group_by(_J.c.judge, bucket),
        )
    )


def _fill_costs(conn: Connection) -> None:
    def stmt(run_col, where=None):
        s = select(
            _R.c.model,
            run_col,
            func.count(),
            func.sum(case((_R.c.status != "ok", 1), else_=0)),
            func.coalesce(func.sum(_R.c.cost), 0.0),
            func.count(_R.c.cost),
            func.coalesce(func.sum(_R.c.completion_tokens), 0),
        ).group_by(_R.c.model, *_grouping(run_col))
        return s.where(where) if where is not None else s

    cols = ["model", "run_id", "n_responses", "n_errors", "cost", "n_costed", "completion_tokens"]
    conn.execute(insert(_COST).from_select(cols, stmt(literal(ALL_RUNS))))
    conn.execute(insert(_COST).from_select(cols, stmt(_R.c.run_id, _R.c.run_id.isnot(None))))


def _query_scores_select(run_col, source=_J):
    """Per (judge, run, model, query): count and sum of ok scores (pairwise verdicts excluded)."""
    scored = and_(
        _J.c.status == "ok", _J.c.score.isnot(None), _J.c.kind != "pairwise", _J.c.model.isnot(None)
    )
    return (
        select(
            _J.c.judge,
            run_col.label("run_id"),
            _J.c.model,
            _J.c.query_id,
            func.count().label("n"),
            func.sum(_J.c.score).label("sum_score"),
        )
        .select_from(source)
        .where(scored)
        .group_by(_J.c.judge, *_grouping(run_col), _J.c.model, _J.c.query_id)
    )


def _fill_query_scores(store: Store, conn: Connection, any_reused: bool) -> None:
    cols = ["judge", "run_id", "model", "query_id", "n", "sum_score"]
    conn.execute(insert(_QS).from_select(cols, _query_scores_select(literal(ALL_RUNS))))
    written = _query_scores_select(_J.c.run_id).where(_J.c.run_id.isnot(None))
    conn.execute(insert(_QS).from_select(cols, written))
    if any_reused:
        reused = _reused_by_runs()
        source = _J.join(reused, reused.c.jid == _J.c.id)
        _add_into(store, conn, _QS, cols, _query_scores_select(reused.c.run_id, source))


RELIABLE_SUFFIX = " · reliable"  # the per-query score table of a reliability judge's verdicts


def reliability_key(judge: str) -> str:
    """Where a reliability judge's reliable/unreliable verdicts (1/0 per response) are kept in
    the per-query tables: their node table gives the share judged reliable, with CIs."""
    return judge + RELIABLE_SUFFIX


def _fill_reliability(conn: Connection) -> None:
    """Per (judge, run, model, query): how many responses a reliability judge (Meta Ranking)
    judged reliable (``details["reliable"]``: score > τ, τ recorded per judgment)."""
    stmt = select(
        _J.c.judge, _J.c.run_id, _J.c.model, _J.c.query_id, _J.c.score, _J.c.details
    ).where(_J.c.shape == "reliability", _J.c.status == "ok", _J.c.model.isnot(None))
    rows = pd.DataFrame(
        conn.execute(stmt).all(),
        columns=["judge", "run_id", "model", "query_id", "score", "details"],
    )
    if rows.empty:
        return
    rows["reliable"] = [
        float(bool((d or {}).get("reliable", s > (d or {}).get("tau", math.inf))))
        for s, d in zip(rows["score"], rows["details"], strict=True)
    ]
    rows["judge"] = rows["judge"].map(reliability_key)
    every = rows.assign(run_id=ALL_RUNS)
    keys = ["judge", "run_id", "model", "query_id"]
    both = pd.concat([every, rows[rows["run_id"].notna()]], ignore_index=True)
    sums = both.groupby(keys, as_index=False).agg(
        n=("reliable", "size"), sum_score=("reliable", "sum")
    )
    conn.execute(insert(_QS), sums.to_dict("records"))


def _fill_node_boot(conn: Connection, version: int) -> None:
    """The bootstrap node table of ``analysis.summary_report`` per (judge, run), stored.

    A judge whose every score belongs to one run gets that run's table for "all runs" too
    (the same rows: the bootstrap is not run twice).
    """
    from judgebench.analysis.feedback import summary_report

    keys = conn.execute(
        select(_QS.c.judge, _QS.c.run_id, func.count()).group_by(_QS.c.judge, _QS.c.run_id)
    ).all()
    if not keys:
        return
    membership = _confident_membership(conn, version)
    sizes = {(j, r): n for j, r, n in keys}
    runs_of: dict[str, list[str]] = {}
    for judge, run_id, _ in keys:
        if run_id != ALL_RUNS:
            runs_of.setdefault(judge, []).append(run_id)
    for judge, run_id, n in keys:
        only = runs_of.get(judge, [])
        if run_id == ALL_RUNS and len(only) == 1 and sizes[(judge, only[0])] == n:
            continue  # copied below, once that run's table exists
        scores = _read_query_scores(conn, judge, run_id)
        members = membership[membership["query_id"].isin(scores["query_id"])]
        if members.empty:
            continue
        table = summary_report(scores, members, scores["model"].nunique()).table
        rows = table[["node_id", "model", "mean", "count", "ci_low", "ci_high", "rank"]]
        rows = rows.assign(judge=judge, run_id=run_id).astype(
            {"count": int, "rank": float}, copy=False
        )
        conn.execute(insert(_NB), _records(rows))
    for judge, runs in runs_of.items():
        if len(runs) == 1 and sizes.get((judge, ALL_RUNS)) == sizes[(judge, runs[0])]:
            copy = select(
                _NB.c.judge,
                literal(ALL_RUNS),
                _NB.c.node_id,
                _NB.c.model,
                _NB.c.mean,
                _NB.c.count,
                _NB.c.ci_low,
                _NB.c.ci_high,
                _NB.c.rank,
            ).where(_NB.c.judge == judge, _NB.c.run_id == runs[0])
            conn.execute(insert(_NB).from_select([c.name for c in _NB.columns], copy))


def _confident_membership(conn: Connection, version: int) -> pd.DataFrame:
    """Leaf assignments the CLI summary's findings use: confidence unknown or at least the
    taxonomy's default ``min_confidence`` (a job can set another; the dashboard has no job)."""
    from judgebench.analysis.confidence import confident_membership
    from judgebench.taxonomy.combined import DEFAULT_MIN_CONFIDENCE

    rows = conn.execute(
        select(_QN.c.query_id, _QN.c.node_id, _QN.c.confidence).where(
            _QN.c.taxonomy_version == version
        )
    ).all()
    frame = pd.DataFrame(rows, columns=["query_id", "node_id", "confidence"])
    return confident_membership(frame, DEFAULT_MIN_CONFIDENCE)[["query_id", "node_id"]]


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for an executemany: NaN (an interval of one query) becomes NULL."""
    return [
        {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _read_query_scores(conn: Connection, judge: str, run_id: str) -> pd.DataFrame:
    stmt = select(_QS.c.query_id, _QS.c.model, (_QS.c.sum_score / _QS.c.n).label("score")).where(
        _QS.c.judge == judge, _QS.c.run_id == run_id
    )
    return pd.DataFrame(conn.execute(stmt).all(), columns=["query_id", "model", "score"])


class SummaryCache:
    """Keeps a store's summary fresh.

    ``ensure()`` checks at most every ``ttl_s`` (a few COUNTs, ~0.2 s at a million judgments).
    A server calls ``start()`` instead: a daemon thread checks every ``ttl_s`` and rebuilds
    when the core tables changed, so no user request ever waits for the check.
    """

    def __init__(self, store: Store, ttl_s: float = 10.0):
        self.store = store
        self.ttl_s = ttl_s
        self._checked = -math.inf
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.last_error: str | None = None

    def ensure(self) -> None:
        if self._thread is not None:
            return
        now = time.monotonic()
        if now - self._checked >= self.ttl_s:
            refresh_summary(self.store)
            self._checked = time.monotonic()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="judgebench-summary", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.ttl_s):
            try:
                refresh_summary(self.store)
                self.last_error = None
            except Exception as exc:  # keep serving the last good summary; say why it is old
                error = f"{type(exc).__name__}: {exc}"
                if error != self.last_error:  # once per distinct failure, not every ttl_s
                    log.warning("dashboard summary refresh failed: %s", error)
                self.last_error = error


def ensure_summary(store: Store) -> None:
    """Refresh the summary if it is missing or stale (a no-op costing a few COUNTs otherwise)."""
    refresh_summary(store)


# --- read functions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the user picked: ``None`` means everything."""

    judge: str | None = None
    run_id: str | None = None
    models: tuple[str, ...] | None = None


def _run_key(run_id: str | None) -> str:
    return run_id or ALL_RUNS


def summary_version(store: Store) -> int:
    with store.read() as conn:
        return int(conn.scalar(select(_STATE.c.version)) or 0)


def summary_state(store: Store) -> dict[str, Any] | None:
    with store.read() as conn:
        row = conn.execute(select(_STATE)).mappings().first()
        return dict(row) if row else None


def list_models(store: Store, run_id: str | None = None) -> list[str]:
    with store.read() as conn:
        models = set(
            conn.scalars(select(_NS.c.model).where(_NS.c.run_id == _run_key(run_id)).distinct())
        )
        models |= set(
            conn.scalars(select(_COST.c.model).where(_COST.c.run_id == _run_key(run_id)).distinct())
        )
    return sorted(m for m in models if m)


def list_judges(store: Store) -> pd.DataFrame:
    """Judges with their judgment counts, most used first; human-label sources marked."""
    stmt = (
        select(
            _JS.c.judge,
            func.max(_JS.c.judge_model).label("judge_model"),
            func.sum(_JS.c.n).label("n"),
        )
        .where(_JS.c.run_id == ALL_RUNS)
        .group_by(_JS.c.judge)
        .order_by(func.sum(_JS.c.n).desc(), _JS.c.judge)
    )
    with store.read() as conn:
        frame = pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=["judge", "judge_model", "n"]
        )
    frame["human"] = [
        is_human_judge(j, m) for j, m in zip(frame.judge, frame.judge_model, strict=True)
    ]
    return frame


def default_judge(store: Store) -> str | None:
    """The most used scoring machine judge, else the most used machine judge.

    Scores of different judges live on different scales, so one is picked; a scoring judge
    first because the CLI summary's strengths and weaknesses come from scores.
    """
    stmt = (
        select(_JS.c.judge, func.sum(_JS.c.n).label("n"), func.sum(_JS.c.n_pairwise).label("pw"))
        .where(_JS.c.run_id == ALL_RUNS)
        .group_by(_JS.c.judge)
    )
    with store.read() as conn:
        rows = [r for r in conn.execute(stmt) if not is_human_judge(r.judge)]
    # scoring judges (not only pairwise verdicts) first, then by volume, then by name
    rows.sort(key=lambda r: (r.pw >= r.n, -r.n, r.judge))
    return str(rows[0].judge) if rows else None


def judge_shapes(store: Store) -> dict[str, str]:
    """judge → its shape (pointwise, pairwise, listwise, reliability, likelihood).

    A judge has one shape, so one of its rows tells (a listwise judge's stored comparisons carry
    its shape too): one indexed lookup per judge. Rows stored before judges declared shapes
    count as pairwise or pointwise by their kind.
    """
    shapes: dict[str, str] = {}
    with store.read() as conn:
        for judge in conn.scalars(select(_JS.c.judge).where(_JS.c.run_id == ALL_RUNS).distinct()):
            row = conn.execute(
                select(_J.c.shape, _J.c.kind).where(_J.c.judge == judge).limit(1)
            ).first()
            if row is not None:
                shapes[judge] = row.shape or ("pairwise" if row.kind == "pairwise" else "pointwise")
    return shapes


def verdict_counts(store: Store, judge: str, run_id: str | None = None) -> pd.DataFrame:
    """Per model: wins, ties and losses in one pairwise judge's decided comparisons (on the
    queries placed in the taxonomy, like every other figure)."""
    stmt = (
        select(_J.c.model, _J.c.model_b, _J.c.verdict, func.count().label("n"))
        .where(_J.c.judge == judge, _J.c.kind == "pairwise", _J.c.status == "ok")
        .where(_J.c.verdict.in_(["A", "B", "tie"]))
        # the queries every other figure covers: those placed in the taxonomy
        .where(_J.c.query_id.in_(select(_QA.c.query_id).where(_QA.c.node_id == ROOT)))
        .group_by(_J.c.model, _J.c.model_b, _J.c.verdict)
    )
    if run_id:
        stmt = stmt.where(_J.c.run_id == run_id)
    with store.read() as conn:
        rows = pd.DataFrame(conn.execute(stmt).all(), columns=["a", "b", "verdict", "n"])
    out = pd.DataFrame(columns=["model", "wins", "ties", "losses"])
    if rows.empty:
        return out
    as_a = rows.assign(
        model=rows["a"], outcome=rows["verdict"].map({"A": "wins", "B": "losses", "tie": "ties"})
    )
    as_b = rows.assign(
        model=rows["b"], outcome=rows["verdict"].map({"A": "losses", "B": "wins", "tie": "ties"})
    )
    both = pd.concat([as_a, as_b], ignore_index=True)
    wide = both.pivot_table(
        index="model", columns="outcome", values="n", aggfunc="sum", fill_value=0
    )
    return wide.reindex(columns=["wins", "ties", "losses"], fill_value=0).astype(int).reset_index()


COST_PARTS = ("responses", "judgments", "synthesis")  # the job's usage parts (jobs.summary)


def runs_overview(store: Store, limit: int = 200) -> pd.DataFrame:
    """The latest runs, newest first: status and reason, per-stage counts, and the cost split
    into responses, judges (incl. auxiliary answers and criteria) and synthesis, with the total
    (the usage rows a job keeps for its budget: every LLM call it made, cached ones at 0)."""
    from judgebench.db.jobs import JobUsageRow

    t = RunRow.__table__
    u = JobUsageRow.__table__
    stmt = (
        select(
            t.c.id,
            t.c.kind,
            t.c.name,
            t.c.job_name,
            t.c.status,
            t.c.reason,
            t.c.counts,
            t.c.started_at,
            t.c.finished_at,
        )  # fmt: skip
        .order_by(t.c.started_at.desc())
        .limit(limit)
    )
    with store.read() as conn:
        runs = pd.DataFrame(conn.execute(stmt).mappings().all())
        if runs.empty:
            return runs
        keys = list(runs["id"]) + [f"{r}:{p}" for r in runs["id"] for p in COST_PARTS]
        usage = dict(conn.execute(select(u.c.run_id, u.c.cost).where(u.c.run_id.in_(keys))).all())
    for part in COST_PARTS:
        runs[f"cost_{part}"] = [usage.get(f"{r}:{part}") for r in runs["id"]]
    runs["cost_total"] = [usage.get(r) for r in runs["id"]]
    return runs


def query_scores(store: Store, judge: str, run_id: str | None, model: str) -> pd.DataFrame:
    """One model's per-query mean scores under one judge in one run (``query_id, score``)."""
    stmt = select(_QS.c.query_id, (_QS.c.sum_score / _QS.c.n).label("score")).where(
        _QS.c.judge == judge, _QS.c.run_id == _run_key(run_id), _QS.c.model == model
    )
    with store.read() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=["query_id", "score"])


def query_membership(store: Store, query_ids: Iterable[str]) -> pd.DataFrame:
    """``query_id, node_id`` (leaves, the dashboard's taxonomy version) of some queries."""
    ids = list(query_ids)
    with store.read() as conn:
        version = current_version(conn)
        rows = []
        for start in range(0, len(ids), 5000):  # bounded IN lists
            rows += conn.execute(
                select(_QN.c.query_id, _QN.c.node_id).where(
                    _QN.c.taxonomy_version == version, _QN.c.query_id.in_(ids[start : start + 5000])
                )
            ).all()
    return pd.DataFrame(rows, columns=["query_id", "node_id"])


def list_runs(store: Store) -> pd.DataFrame:
    t = RunRow.__table__
    stmt = select(t.c.id, t.c.kind, t.c.name, t.c.job_name, t.c.status, t.c.started_at).order_by(
        t.c.started_at
    )
    with store.read() as conn:
        return pd.DataFrame(
            conn.execute(stmt).mappings().all(),
            columns=["id", "kind", "name", "job_name", "status", "started_at"],
        )


_NODE_COLUMNS = ["node_id", "name", "parent_id", "depth", "description", "n_queries", "n_confident"]


def taxonomy_nodes(store: Store) -> pd.DataFrame:
    """Every node the dashboard draws (with the root ""), its parent, depth, query count and how
    many of those queries are confidently assigned (``n_confident``)."""
    stmt = select(*[_NODES.c[c] for c in _NODE_COLUMNS]).order_by(_NODES.c.depth, _NODES.c.node_id)
    with store.read() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=_NODE_COLUMNS)


def _with_stats(frame: pd.DataFrame) -> pd.DataFrame:
    n = frame["n_scored"].astype(float)
    mean = frame["sum_score"] / n.where(n > 0)
    var = (frame["sum_sq"] - n * mean**2) / (n - 1).where(n > 1)
    sd = var.clip(lower=0) ** 0.5
    half = Z95 * sd / n.where(n > 0) ** 0.5
    frame["mean"] = mean
    frame["sd"] = sd
    frame["ci_low"] = mean - half
    frame["ci_high"] = mean + half
    pairs = frame["n_pair"].astype(float)
    frame["win_rate"] = frame["pair_points"] / pairs.where(pairs > 0)
    frame["win_low"], frame["win_high"] = wilson_interval(frame["pair_points"], pairs)
    total = frame["n"].astype(float)
    frame["invalid_rate"] = (frame["n_invalid"] + frame["n_error"]) / total.where(total > 0)
    frame["simulated"] = frame["model"].map(is_simulated)
    return frame


_STAT_COLUMNS = [
    "n",
    "n_invalid",
    "n_error",
    "n_scored",
    "sum_score",
    "sum_sq",
    "n_pair",
    "pair_points",
]


def node_scores(
    store: Store,
    filters: Filters = Filters(),
    *,
    node_ids: Iterable[str] | None = None,
    max_depth: int | None = None,
) -> pd.DataFrame:
    """Per model × node: count, mean score with 95 % CI, win rate, invalid rate, rank (1 = best).

    Summed over judges unless one is picked; ranks are by mean score, or by win rate for nodes
    judged only pairwise.
    """
    cols = [func.sum(_NS.c[c]).label(c) for c in _STAT_COLUMNS]
    stmt = (
        select(_NS.c.node_id, _NS.c.model, *cols)
        .where(_NS.c.run_id == _run_key(filters.run_id))
        .group_by(_NS.c.node_id, _NS.c.model)
    )
    if filters.judge:
        stmt = stmt.where(_NS.c.judge == filters.judge)
    if filters.models:
        stmt = stmt.where(_NS.c.model.in_(list(filters.models)))
    if node_ids is not None:
        stmt = stmt.where(_NS.c.node_id.in_(list(node_ids)))
    if max_depth is not None:
        depth = select(_NODES.c.node_id).where(_NODES.c.depth <= max_depth)
        stmt = stmt.where(_NS.c.node_id.in_(depth))
    with store.read() as conn:
        frame = pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=["node_id", "model", *_STAT_COLUMNS]
        )
    frame = _with_bootstrap_ci(store, _with_stats(frame), filters)
    metric = frame["mean"].where(frame["mean"].notna(), frame["win_rate"])
    frame["value"] = metric
    frame["rank"] = frame.groupby("node_id")["value"].rank(ascending=False, method="min")
    return frame


BOOT_OVERALL = "*"  # the analysis library's name for the whole taxonomy in a node table


def node_table(
    store: Store, judge: str, run_id: str | None = None, node_ids: Iterable[str] | None = None
) -> pd.DataFrame:
    """The stored ``analysis.summary_report`` table of one judge and run: per node × model the
    mean, query count, bootstrap 95 % CI and rank; node ``"*"`` is overall. The CLI summary's
    strengths and weaknesses are ``strengths_weaknesses`` of exactly this table."""
    columns = ["node_id", "model", "mean", "count", "ci_low", "ci_high", "rank"]
    stmt = select(*[_NB.c[c] for c in columns]).where(
        _NB.c.judge == judge, _NB.c.run_id == _run_key(run_id)
    )
    if node_ids is not None:
        stmt = stmt.where(_NB.c.node_id.in_(list(node_ids)))
    with store.read() as conn:
        frame = pd.DataFrame(conn.execute(stmt).all(), columns=columns)
    if frame.empty:
        return frame
    # the report's own row order (depth, node, rank, model): findings with equal gaps keep
    # the order of their nodes' first rows, so another order would list ties differently
    depth = frame["node_id"].map(lambda n: 0 if n == BOOT_OVERALL else n.count("/") + 1)
    frame = frame.assign(depth=depth).astype({"count": int, "rank": int})
    frame = frame.sort_values(["depth", "node_id", "rank", "model"], ignore_index=True)
    return frame.drop(columns="depth")


def wilson_interval(points: Any, n: Any, z: float = Z95) -> tuple[Any, Any]:
    """Wilson score interval of a rate (points / n; ties count ½): always inside [0, 1], unlike
    the normal approximation (Wilson 1927; Brown, Cai & DasGupta 2001 recommend it)."""
    n = np.asarray(n, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.asarray(points, dtype=float) / np.where(n > 0, n, np.nan)
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def _with_bootstrap_ci(store: Store, frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """Bootstrap intervals (from per-query scores, stored) where one judge is picked; the
    normal approximation stays for mixes of judges, which no stored table covers."""
    frame["ci_method"] = "normal"
    if not filters.judge or frame.empty:
        return frame
    nodes = set(frame["node_id"])
    wanted = None if len(nodes) > 50 else [BOOT_OVERALL if n == ROOT else n for n in nodes]
    boot = node_table(store, filters.judge, filters.run_id, wanted)
    if boot.empty:
        return frame
    boot = boot.assign(node_id=boot["node_id"].replace({BOOT_OVERALL: ROOT}))
    keyed = boot.set_index(["node_id", "model"])[["ci_low", "ci_high"]]
    index = pd.MultiIndex.from_arrays([frame["node_id"], frame["model"]])
    found = index.isin(keyed.index)
    if found.any():
        hits = keyed.reindex(index[found])
        frame.loc[found, "ci_low"] = hits["ci_low"].to_numpy()
        frame.loc[found, "ci_high"] = hits["ci_high"].to_numpy()
        frame.loc[found, "ci_method"] = "bootstrap"
    return frame


def leaderboard(
    store: Store,
    filters: Filters = Filters(),
    node_id: str = ROOT,
    scores: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One node's models, best first, with generation cost and invalid-judgment rate.

    ``scores``: a ``node_scores`` frame for the same filters that holds the node (e.g. from
    ``domain_scores``), so a page showing both reads the summary once."""
    if scores is not None:
        frame = scores[scores["node_id"] == node_id]
    else:
        frame = node_scores(store, filters, node_ids=[node_id])
    costs = model_costs(store, filters.run_id)
    frame = frame.merge(costs, on="model", how="left")
    return frame.sort_values(["rank", "model"]).reset_index(drop=True)


def domain_scores(store: Store, filters: Filters = Filters()) -> pd.DataFrame:
    """Per model × top-level domain (depth 1), plus the overall root row."""
    return node_scores(store, filters, max_depth=1)


def model_costs(store: Store, run_id: str | None = None) -> pd.DataFrame:
    stmt = select(
        _COST.c.model,
        _COST.c.n_responses,
        _COST.c.n_errors,
        _COST.c.cost,
        _COST.c.n_costed,
        _COST.c.completion_tokens,
    ).where(_COST.c.run_id == _run_key(run_id))
    with store.read() as conn:
        frame = pd.DataFrame(
            conn.execute(stmt).mappings().all(),
            columns=["model", "n_responses", "n_errors", "cost", "n_costed", "completion_tokens"],
        )
    frame["cost"] = frame["cost"].where(frame["n_costed"] > 0)
    frame["cost_per_response"] = frame["cost"] / frame["n_costed"].where(frame["n_costed"] > 0)
    # what judging the model cost (machine judges; a pairwise judgment counts for model A)
    judging = (
        select(_JS.c.model, func.sum(_JS.c.cost).label("judge_cost"))
        .where(_JS.c.run_id == _run_key(run_id), _JS.c.model != "")
        .where(~_JS.c.judge.startswith(HUMAN_PREFIX))
        .group_by(_JS.c.model)
    )
    with store.read() as conn:
        judge_cost = dict(conn.execute(judging).all())
    frame["judge_cost"] = frame["model"].map(judge_cost)
    return frame


def judge_health(store: Store, run_id: str | None = None) -> pd.DataFrame:
    """Per judge: volume, invalid and error rates, position consistency, injection flags, cost."""
    sums = [
        "n",
        "n_invalid",
        "n_error",
        "n_pairwise",
        "n_position_inconsistent",
        "n_injection",
        "cost",
    ]
    stmt = (
        select(
            _JS.c.judge,
            func.max(_JS.c.judge_model).label("judge_model"),
            *[func.sum(_JS.c[c]).label(c) for c in sums],
        )
        .where(_JS.c.run_id == _run_key(run_id))
        .group_by(_JS.c.judge)
        .order_by(_JS.c.judge)
    )
    with store.read() as conn:
        frame = pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=["judge", "judge_model", *sums]
        )
    n = frame["n"].astype(float).where(frame["n"] > 0)
    frame["invalid_rate"] = frame["n_invalid"] / n
    frame["error_rate"] = frame["n_error"] / n
    pairs = frame["n_pairwise"].astype(float).where(frame["n_pairwise"] > 0)
    frame["position_consistency"] = 1 - frame["n_position_inconsistent"] / pairs
    frame["human"] = [
        is_human_judge(j, m) for j, m in zip(frame.judge, frame.judge_model, strict=True)
    ]
    return frame


def score_distribution(store: Store, judges: Iterable[str] | None = None) -> pd.DataFrame:
    stmt = (
        select(_HIST.c.judge, _HIST.c.score, _HIST.c.n)
        .where(_HIST.c.run_id == ALL_RUNS)
        .order_by(_HIST.c.judge, _HIST.c.score)
    )
    if judges is not None:
        stmt = stmt.where(_HIST.c.judge.in_(list(judges)))
    with store.read() as conn:
        return pd.DataFrame(conn.execute(stmt).mappings().all(), columns=["judge", "score", "n"])


def human_agreement(store: Store, limit: int = 100_000) -> pd.DataFrame:
    """Agreement of every machine judge with imported human labels on the same items.

    Pairwise: accuracy with ties (exact verdict) and without (pairs where both decided); a
    judgment in the swapped order counts with its verdict mirrored. Pointwise: Spearman ρ.
    """
    human_judges = [j for j in list_judges(store).query("human").judge]
    columns = ["judge", "human_source", "kind", "n", "accuracy", "accuracy_no_ties", "spearman"]
    if not human_judges:
        return pd.DataFrame(columns=columns)
    h = _J.alias("h")
    m = _J.alias("m")
    same = and_(
        m.c.response_id == h.c.response_id,
        func.coalesce(m.c.response_b_id, "") == func.coalesce(h.c.response_b_id, ""),
    )
    swapped = and_(m.c.response_id == h.c.response_b_id, m.c.response_b_id == h.c.response_id)
    stmt = (
        select(
            m.c.judge,
            h.c.judge.label("human_source"),
            h.c.kind,
            h.c.verdict.label("h_verdict"),
            h.c.score.label("h_score"),
            m.c.verdict.label("m_verdict"),
            m.c.score.label("m_score"),
            swapped.label("swapped"),
        )
        .select_from(
            h.join(
                m, and_(m.c.query_id == h.c.query_id, or_(same, swapped), m.c.judge != h.c.judge)
            )
        )
        .where(
            h.c.judge.in_(human_judges),
            h.c.status == "ok",
            m.c.status == "ok",
            m.c.judge.notin_(human_judges),
        )
        .limit(limit)
    )
    with store.read() as conn:
        rows = pd.DataFrame(conn.execute(stmt).mappings().all())
    if rows.empty:
        return pd.DataFrame(columns=columns)
    mirror = {"A": "B", "B": "A", "tie": "tie"}
    rows["m_verdict"] = [
        mirror.get(v, v) if s else v for v, s in zip(rows.m_verdict, rows.swapped, strict=True)
    ]
    out = []
    for (judge, source, kind), g in rows.groupby(["judge", "human_source", "kind"]):
        if kind == "pairwise":
            g = g[g.h_verdict.notna() & g.m_verdict.notna()]
            decided = g[(g.h_verdict != "tie") & (g.m_verdict != "tie")]
            acc = float((g.h_verdict == g.m_verdict).mean()) if len(g) else math.nan
            acc_nt = (
                float((decided.h_verdict == decided.m_verdict).mean()) if len(decided) else math.nan
            )
            out.append(
                dict(
                    judge=judge,
                    human_source=source,
                    kind=kind,
                    n=len(g),
                    accuracy=acc,
                    accuracy_no_ties=acc_nt,
                    spearman=math.nan,
                )
            )
        else:
            g = g[g.h_score.notna() & g.m_score.notna()]
            rho = float(g.h_score.rank().corr(g.m_score.rank())) if len(g) > 2 else math.nan
            out.append(
                dict(
                    judge=judge,
                    human_source=source,
                    kind=kind,
                    n=len(g),
                    accuracy=math.nan,
                    accuracy_no_ties=math.nan,
                    spearman=rho,
                )
            )
    return pd.DataFrame(out, columns=columns)


def run_trend(
    store: Store, judge: str | None = None, job_name: str | None = None, node_id: str = ROOT
) -> pd.DataFrame:
    """Per run (oldest first) × model: mean score with CI at one node: the regression trend lines."""
    runs = RunRow.__table__
    cols = [func.sum(_NS.c[c]).label(c) for c in _STAT_COLUMNS]
    stmt = (
        select(
            runs.c.id.label("run_id"),
            runs.c.name,
            runs.c.job_name,
            runs.c.started_at,
            _NS.c.model,
            *cols,
        )
        .select_from(_NS.join(runs, runs.c.id == _NS.c.run_id))
        .where(_NS.c.node_id == node_id)
        .group_by(runs.c.id, runs.c.name, runs.c.job_name, runs.c.started_at, _NS.c.model)
        .order_by(runs.c.started_at)
    )
    if judge:
        stmt = stmt.where(_NS.c.judge == judge)
    if job_name:
        stmt = stmt.where(runs.c.job_name == job_name)
    with store.read() as conn:
        frame = pd.DataFrame(
            conn.execute(stmt).mappings().all(),
            columns=["run_id", "name", "job_name", "started_at", "model", *_STAT_COLUMNS],
        )
    return _with_stats(frame)


def job_names(store: Store) -> list[str]:
    runs = RunRow.__table__
    with store.read() as conn:
        return sorted(n for n in conn.scalars(select(runs.c.job_name).distinct()) if n)


# --- drill-down (core tables, indexed, limited) -----------------------------------------------


def _node_query_ids(version: int, node_id: str):
    return select(_QA.c.query_id).where(_QA.c.version == version, _QA.c.node_id == node_id)


def node_queries(
    store: Store, node_id: str, filters: Filters = Filters(), limit: int = 50
) -> pd.DataFrame:
    """Up to ``limit`` queries of a node with each model's mean score on them (wide frame)."""
    version = summary_version(store)
    ids_stmt = _node_query_ids(version, node_id).order_by(_QA.c.query_id).limit(limit)
    with store.read() as conn:
        ids = list(conn.scalars(ids_stmt))
        if not ids:
            return pd.DataFrame(columns=["query_id", "text"])
        texts = dict(
            conn.execute(select(QueryRow.id, QueryRow.text).where(QueryRow.id.in_(ids))).all()
        )
        stmt = (
            select(_J.c.query_id, _J.c.model, func.avg(_J.c.score).label("score"))
            .with_hint(_J, "INDEXED BY ix_judgments_query_id", dialect_name="sqlite")
            .where(
                _J.c.query_id.in_(ids),
                _J.c.status == "ok",
                _J.c.score.isnot(None),
                _J.c.kind != "pairwise",
            )
            .group_by(_J.c.query_id, _J.c.model)
        )
        if filters.judge:
            stmt = stmt.where(_J.c.judge == filters.judge)
        scores = pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=["query_id", "model", "score"]
        )
        if scores.empty:  # a verdict judge: each model's win rate on the query instead
            scores = _query_win_rates(conn, ids, filters.judge)
    frame = pd.DataFrame({"query_id": ids, "text": [texts.get(i, "") for i in ids]})
    if not scores.empty:
        wide = scores.pivot_table(index="query_id", columns="model", values="score").reset_index()
        frame = frame.merge(wide, on="query_id", how="left")
    return frame


WIN_RATE_SUFFIX = " (win rate)"


def _query_win_rates(conn: Connection, ids: list[str], judge: str | None) -> pd.DataFrame:
    """Per (query, model): points (win 1, tie ½) over decided pairwise comparisons, as
    ``score`` with the model named "<model> (win rate)" so no one reads it as a score."""
    stmt = select(_J.c.query_id, _J.c.model, _J.c.model_b, _J.c.verdict).where(
        _J.c.query_id.in_(ids),
        _J.c.kind == "pairwise",
        _J.c.status == "ok",
        _J.c.verdict.in_(["A", "B", "tie"]),
    )
    if judge:
        stmt = stmt.where(_J.c.judge == judge)
    rows = pd.DataFrame(conn.execute(stmt).all(), columns=["query_id", "a", "b", "verdict"])
    if rows.empty:
        return pd.DataFrame(columns=["query_id", "model", "score"])
    points_a = rows["verdict"].map({"A": 1.0, "B": 0.0, "tie": 0.5})
    sides = pd.concat(
        [
            pd.DataFrame({"query_id": rows["query_id"], "model": rows["a"], "score": points_a}),
            pd.DataFrame({"query_id": rows["query_id"], "model": rows["b"], "score": 1 - points_a}),
        ]
    )
    sides["model"] = sides["model"] + WIN_RATE_SUFFIX
    return sides.groupby(["query_id", "model"], as_index=False)["score"].mean()


def worst_queries(
    store: Store, node_id: str, model: str, filters: Filters = Filters(), limit: int = 5
) -> pd.DataFrame:
    """The model's lowest-scored queries under a node: the evidence behind a weakness."""
    version = summary_version(store)
    with store.read() as conn:
        size = conn.scalar(
            select(_NODES.c.n_queries).where(
                _NODES.c.version == version, _NODES.c.node_id == node_id
            )
        )
    columns = (_J.c.query_id, QueryRow.text, _J.c.score, _J.c.judge)
    ok = (_J.c.model == model, _J.c.status == "ok", _J.c.score.isnot(None))
    if (size or 0) <= SMALL_NODE:
        # a small node: read its queries' judgments and sort them
        members = _node_query_ids(version, node_id).subquery("members")
        stmt = (
            select(*columns)
            .select_from(
                members.join(_J, _J.c.query_id == members.c.query_id).join(
                    QueryRow, QueryRow.id == _J.c.query_id
                )
            )
            .with_hint(_J, "INDEXED BY ix_judgments_query_id", dialect_name="sqlite")
            .where(*ok)
        )
    else:
        # a large node: walk the model's judgments in score order and stop at the first `limit`
        # inside the node (a handful of index probes whatever the node's size)
        member = (
            select(_QA.c.query_id)
            .where(
                _QA.c.version == version, _QA.c.node_id == node_id, _QA.c.query_id == _J.c.query_id
            )
            .exists()
        )
        stmt = (
            select(*columns)
            .select_from(_J.join(QueryRow, QueryRow.id == _J.c.query_id))
            .with_hint(_J, f"INDEXED BY {MODEL_SCORE_INDEX}", dialect_name="sqlite")
            .where(*ok, member)
        )
    stmt = stmt.order_by(_J.c.score, _J.c.query_id).limit(limit)
    if filters.judge:
        stmt = stmt.where(_J.c.judge == filters.judge)
    with store.read() as conn:
        return pd.DataFrame(
            conn.execute(stmt).mappings().all(), columns=["query_id", "text", "score", "judge"]
        )


def query_detail(store: Store, query_id: str) -> dict[str, Any] | None:
    """A query with every model's responses and every judgment of them (criteria, raw replies, flags)."""
    with store.read() as conn:
        q = conn.execute(select(QueryRow).where(QueryRow.id == query_id)).mappings().first()
        if q is None:
            return None
        responses = [
            dict(r)
            for r in conn.execute(
                select(_R).where(_R.c.query_id == query_id).order_by(_R.c.model)
            ).mappings()
        ]
        judgments = [
            dict(r)
            for r in conn.execute(
                select(_J)
                .where(_J.c.query_id == query_id)
                .order_by(_J.c.model, _J.c.judge, _J.c.kind)
            ).mappings()
        ]
        run_ids = {r["run_id"] for r in responses if r["run_id"]}
        runs = RunRow.__table__
        run_names = (
            dict(conn.execute(select(runs.c.id, runs.c.name).where(runs.c.id.in_(run_ids))).all())
            if run_ids
            else {}
        )
    by_response: dict[str | None, list[dict[str, Any]]] = {}
    for j in judgments:
        by_response.setdefault(j["response_id"], []).append(j)
        if j.get("response_b_id"):
            by_response.setdefault(j["response_b_id"], []).append(j)
    for r in responses:
        r["simulated"] = is_simulated(r["model"])
        r["run_name"] = run_names.get(r["run_id"])
        r["judgments"] = by_response.get(r["id"], [])
    return dict(
        id=q["id"],
        text=q["text"],
        reference=q["reference"],
        source=q["source"],
        node_ids=list(q["node_ids"] or []),
        responses=responses,
        judgments=judgments,
    )
