"""Human labels from the dashboard: sample judged items, store a person's label as a human
judgment, measure judge–human agreement, export and import labels.

A label is a :class:`judgebench.records.Judgment` whose judge is ``human:<labeller>`` (so every
view that knows human labels, e.g. judge health, counts it), with the labeller's note as its
rationale. Pairwise labels are a verdict (A, B or tie) on the same two responses, in the same
order, as the judged item; pointwise labels a score on the judge's item.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import and_, delete, select

from judgebench.db import Store
from judgebench.db import queries as q
from judgebench.db.models import JudgmentRow, QueryNodeRow, QueryRow, ResponseRow
from judgebench.errors import DataError, UserError
from judgebench.records import Judgment

LABEL_PREFIX = "human:"
LABEL_TEMPLATE = "dashboard:label"
LABEL_HASH = "manual"
CANDIDATES = 400  # judged items read per sample: a random slice of the judge's rows by id
CONFIDENCE_BINS = ("low", "high")

_J = JudgmentRow.__table__


@dataclass(frozen=True)
class Item:
    """One judged item to label: a pairwise comparison or a scored response."""

    judgment_id: str
    kind: str  # "pairwise" or "pointwise"
    query_id: str
    response_id: str
    response_b_id: str | None
    model: str | None
    model_b: str | None
    node: str
    confidence: str  # "low" or "high": the stratum by judge confidence


def label_judge(labeller: str) -> str:
    """The judge name of one person's labels (``human:ann``)."""
    name = " ".join(str(labeller or "").split())
    if not name:
        raise UserError("a label needs the labeller's name", where="labelling")
    if len(name) > 80:
        raise UserError("the labeller's name is longer than 80 characters", where="labelling")
    return LABEL_PREFIX + name


# --- sampling ---------------------------------------------------------------------------------


def _confidence(rows: pd.DataFrame) -> pd.Series:
    """Low: a pairwise verdict that is a tie or flipped with the order; a score in the middle
    half of the judge's scores on these items. High: the rest."""
    pairwise = rows["kind"] == "pairwise"
    flipped = rows["flags"].map(lambda f: any(str(x).startswith(q.POSITION_FLAG) for x in f or []))
    low_pair = pairwise & ((rows["verdict"] == "tie") | flipped)
    scores = rows["score"].where(~pairwise)
    lo, hi = scores.quantile(0.25), scores.quantile(0.75)
    low_score = ~pairwise & scores.between(lo, hi) & (hi > lo)
    return pd.Series(["low" if x else "high" for x in (low_pair | low_score)], index=rows.index)


def sample_items(
    store: Store, judge: str, n: int = 10, *, seed: int | None = None, labeller: str | None = None
) -> list[Item]:
    """Up to ``n`` items ``judge`` decided, stratified by top-level node × judge confidence.

    Strata take turns (largest first), so a small sample still covers every domain and both
    confidence levels. Items this labeller already labelled are skipped. Reads a random slice
    of ``CANDIDATES`` rows through the primary key (ids are content hashes, so a slice starting
    at a random id is a random sample), never the judge's whole table.
    """
    if n < 1 or n > 200:
        raise UserError(f"sample size {n}: use 1 to 200", where="labelling")
    rng = random.Random(seed)
    start = f"{rng.getrandbits(64):016x}"
    cols = [
        _J.c.id,
        _J.c.kind,
        _J.c.query_id,
        _J.c.response_id,
        _J.c.response_b_id,
        _J.c.model,
        _J.c.model_b,
        _J.c.score,
        _J.c.verdict,
        _J.c.flags,
    ]
    # `judge || ''`: no index on judge, so the planner walks the primary key from `start` and
    # stops at the first CANDIDATES matches instead of sorting all of the judge's rows by id
    ok = and_(_J.c.judge.concat("") == judge, _J.c.status == "ok", _J.c.response_id.isnot(None))
    with store.read() as conn:
        rows = conn.execute(
            select(*cols).where(ok, _J.c.id >= start).order_by(_J.c.id).limit(CANDIDATES)
        ).all()
        if len(rows) < CANDIDATES:  # wrap around to the start of the id range
            rows += conn.execute(
                select(*cols)
                .where(ok, _J.c.id < start)
                .order_by(_J.c.id)
                .limit(CANDIDATES - len(rows))
            ).all()
    frame = pd.DataFrame(rows, columns=[c.name for c in cols])
    if frame.empty:
        return []
    if labeller:
        done = _labelled_pairs(store, label_judge(labeller), frame)
        keep = [
            (a, b) not in done for a, b in zip(frame.response_id, frame.response_b_id, strict=True)
        ]
        frame = frame[keep]
    nodes = _domains(store, list(frame["query_id"].unique()))
    frame = frame.assign(
        node=frame["query_id"].map(nodes).fillna("(unassigned)"), confidence=_confidence(frame)
    )
    return _round_robin(frame, n, rng)


def _domains(store: Store, query_ids: list[str]) -> dict[str, str]:
    """query → its top-level taxonomy node (the first, for a query in several)."""
    qn = QueryNodeRow.__table__
    with store.read() as conn:
        version = q.current_version(conn)
        rows = conn.execute(
            select(qn.c.query_id, qn.c.node_id)
            .where(qn.c.query_id.in_(query_ids), qn.c.taxonomy_version == version)
            .order_by(qn.c.query_id, qn.c.node_id)
        ).all()
    out: dict[str, str] = {}
    for query_id, node_id in rows:
        out.setdefault(query_id, str(node_id).split("/")[0])
    return out


def _labelled_pairs(store: Store, judge: str, frame: pd.DataFrame) -> set[tuple[Any, Any]]:
    with store.read() as conn:
        rows = conn.execute(
            select(_J.c.response_id, _J.c.response_b_id).where(
                _J.c.judge == judge, _J.c.response_id.in_(list(frame["response_id"]))
            )
        ).all()
    return {(a, b) for a, b in rows}


def _round_robin(frame: pd.DataFrame, n: int, rng: random.Random) -> list[Item]:
    strata = [
        list(g.itertuples())
        for _, g in sorted(frame.groupby(["node", "confidence"]), key=lambda kv: -len(kv[1]))
    ]
    for members in strata:
        rng.shuffle(members)
    picked: list[Any] = []
    while len(picked) < n and any(strata):
        for members in strata:
            if members and len(picked) < n:
                picked.append(members.pop())
    return [
        Item(
            judgment_id=r.id,
            kind="pairwise" if r.kind == "pairwise" else "pointwise",
            query_id=r.query_id,
            response_id=r.response_id,
            response_b_id=r.response_b_id,
            model=r.model,
            model_b=r.model_b,
            node=r.node,
            confidence=r.confidence,
        )
        for r in picked
    ]


# --- one item, and saving its label -----------------------------------------------------------


def item_texts(store: Store, item: Item) -> dict[str, Any]:
    """The query and the response(s) a person reads to label the item (the judge's own
    decision is left out so it does not anchor the label)."""
    ids = [i for i in (item.response_id, item.response_b_id) if i]
    with store.read() as conn:
        query = conn.execute(select(QueryRow.text).where(QueryRow.id == item.query_id)).scalar()
        found = conn.execute(
            select(ResponseRow.id, ResponseRow.text).where(ResponseRow.id.in_(ids))
        ).all()
    texts = {i: t for i, t in found}
    return dict(
        query=query or "",
        a=texts.get(item.response_id, ""),
        b=texts.get(item.response_b_id, "") if item.response_b_id else None,
    )


def save_label(
    store: Store,
    item: Item,
    labeller: str,
    *,
    verdict: str | None = None,
    score: float | None = None,
    note: str | None = None,
) -> Judgment:
    """Store a person's label as a human judgment; labelling the same item again replaces it."""
    judge = label_judge(labeller)
    if item.kind == "pairwise":
        if verdict not in ("A", "B", "tie"):
            raise UserError(f"a pairwise label is A, B or tie, not {verdict!r}", where="labelling")
        score = None
    else:
        if score is None or not math.isfinite(float(score)):
            raise UserError("a pointwise label needs a score", where="labelling")
        verdict, score = None, float(score)
    label = Judgment(
        judge=judge,
        judge_model="human",
        kind="pairwise" if item.kind == "pairwise" else "pointwise",
        shape="pairwise" if item.kind == "pairwise" else "pointwise",
        query_id=item.query_id,
        response_id=item.response_id,
        response_b_id=item.response_b_id,
        model=item.model,
        model_b=item.model_b,
        template_name=LABEL_TEMPLATE,
        template_hash=LABEL_HASH,
        score=score,
        verdict=verdict,
        rationale=(note or "").strip() or None,
        details={"labeller": judge.removeprefix(LABEL_PREFIX), "judged_item": item.judgment_id},
    )
    with store.session() as s:
        _check_judged(s, item)
        s.execute(delete(JudgmentRow).where(JudgmentRow.id == label.id))
        store.put_judgments([label], session=s)
    return label


def _check_judged(session: Any, item: Item) -> None:
    """The item names a stored judgment and its query and responses: the browser sends the
    item back, and a forged one would store a label about things that were never judged."""
    row = session.get(JudgmentRow, item.judgment_id)
    sent = (item.query_id, item.response_id, item.response_b_id)
    if row is None or (row.query_id, row.response_id, row.response_b_id) != sent:
        raise UserError(f"no judged item {item.judgment_id!r} in this store", where="labelling")


# --- agreement --------------------------------------------------------------------------------


def agreement(store: Store, judge: str) -> dict[str, Any]:
    """How far ``judge`` agrees with the human labels on the same items (the user's own data).

    Pairwise: accuracy with ties, accuracy without ties, Cohen's κ (``analysis.agreement.
    pairwise_agreement``; a judgment of the swapped pair counts with its verdict mirrored) and
    the judge's position consistency on the labelled pairs. Pointwise: Spearman ρ.
    """
    from judgebench.analysis.agreement import pairwise_agreement

    rows = _label_pairs(store, judge)
    out: dict[str, Any] = dict(judge=judge, n=len(rows), labellers=0)
    if rows.empty:
        return out
    out["labellers"] = int(rows["labeller"].nunique())
    pair = rows[rows["kind"] == "pairwise"]
    if len(pair):
        mirror = {"A": "B", "B": "A", "tie": "tie"}
        predicted = [
            mirror.get(v, v) if sw else v
            for v, sw in zip(pair["m_verdict"], pair["swapped"], strict=True)
        ]
        stats = pairwise_agreement(predicted, list(pair["h_verdict"]))
        out.update(
            n_pairwise=stats["n"],
            accuracy=stats["accuracy_with_ties"],
            accuracy_no_ties=stats["accuracy_without_ties"],
            kappa=stats["kappa"],
            position_consistency=1 - float(pair["inconsistent"].mean()),
        )
    point = rows[rows["kind"] != "pairwise"]
    if len(point) > 2:
        out["spearman"] = float(point["h_score"].rank().corr(point["m_score"].rank()))
    out["n_pointwise"] = len(point)
    return out


def _is_label(table: Any) -> list[Any]:
    """Conditions for dashboard labels; the judge prefix as a range, so the (judge, …) index
    finds the few label rows without reading every judgment."""
    upper = LABEL_PREFIX[:-1] + chr(ord(LABEL_PREFIX[-1]) + 1)
    return [
        table.c.judge >= LABEL_PREFIX,
        table.c.judge < upper,
        table.c.template_name == LABEL_TEMPLATE,
    ]


def _label_pairs(store: Store, judge: str) -> pd.DataFrame:
    """Each label with the judge's decision on the same item (the labels first, found through
    the judge index; then the judge's rows on those queries, through the query index)."""
    columns = [
        "labeller",
        "kind",
        "h_verdict",
        "h_score",
        "m_verdict",
        "m_score",
        "flags",
        "swapped",
    ]
    label_cols = [_J.c.judge, _J.c.kind, _J.c.query_id, _J.c.response_id, _J.c.response_b_id,
                  _J.c.verdict, _J.c.score, _J.c.details]  # fmt: skip
    machine_cols = [_J.c.id, _J.c.query_id, _J.c.response_id, _J.c.response_b_id, _J.c.verdict,
                    _J.c.score, _J.c.flags]  # fmt: skip
    with store.read() as conn:
        labels = pd.DataFrame(
            conn.execute(select(*label_cols).where(*_is_label(_J), _J.c.status == "ok")).all(),
            columns=[c.name for c in label_cols],
        )
        if labels.empty:
            return pd.DataFrame(columns=columns)
        machine = pd.DataFrame(
            conn.execute(
                select(*machine_cols).where(
                    _J.c.query_id.in_(list(labels["query_id"].unique())),
                    _J.c.judge == judge,
                    _J.c.status == "ok",
                )
            ).all(),
            columns=[c.name for c in machine_cols],
        )
    labels["b"] = labels["response_b_id"].fillna("")
    machine["b"] = machine["response_b_id"].fillna("")
    machine = machine.rename(columns={"verdict": "m_verdict", "score": "m_score", "id": "m_id"})
    keep = ["m_id", "m_verdict", "m_score", "flags"]
    same = labels.merge(machine[["response_id", "b", *keep]], on=["response_id", "b"])
    swapped = labels.merge(
        machine[["response_id", "b", *keep]].rename(
            columns={"response_id": "b", "b": "response_id"}
        ),
        on=["response_id", "b"],
    )
    swapped = swapped[swapped["b"] != ""]  # a pointwise item has no swapped order
    rows = pd.concat([same.assign(swapped=False), swapped.assign(swapped=True)], ignore_index=True)
    rows = rows.rename(columns={"judge": "labeller", "verdict": "h_verdict", "score": "h_score"})
    # a label made on one judged item compares with that judgment (not every order or run
    # the judge saw the pair in); labels without one compare with every matching judgment
    target = rows["details"].map(lambda d: (d or {}).get("judged_item") or None)
    rows = rows[target.isna() | (target == rows["m_id"])].reset_index(drop=True)
    rows["inconsistent"] = rows["flags"].map(
        lambda f: any(str(x).startswith(q.POSITION_FLAG) for x in f or [])
    )
    return rows


def published_sets(store: Store) -> pd.DataFrame:
    """The judge-eval runs stored here (LLMBar, PandaLM, …): agreement of each configured
    judge with those sets' human labels, to read the user's own figure against."""
    from judgebench.analysis.judge_eval import judge_eval_table

    return judge_eval_table(store.list_runs(kind="judge-eval"))


# --- export / import --------------------------------------------------------------------------


def export_labels(store: Store) -> list[dict[str, Any]]:
    """Every dashboard label, one plain record each (JSONL-ready)."""
    stmt = select(_J).where(*_is_label(_J)).order_by(_J.c.created_at, _J.c.id)
    with store.read() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [
        dict(
            labeller=r["judge"].removeprefix(LABEL_PREFIX),
            kind=r["kind"],
            query_id=r["query_id"],
            response_id=r["response_id"],
            response_b_id=r["response_b_id"],
            model=r["model"],
            model_b=r["model_b"],
            verdict=r["verdict"],
            score=r["score"],
            note=r["rationale"],
            judged_item=(r["details"] or {}).get("judged_item"),
            created_at=str(r["created_at"]),
        )
        for r in rows
    ]


def labels_jsonl(store: Store) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in export_labels(store))


def import_labels(store: Store, text: str, where: str = "labels") -> int:
    """Labels from JSONL (as ``labels_jsonl`` writes); returns how many were stored.

    Every line is checked first: a bad one is a one-line DataError naming the line, and
    nothing is written.
    """
    items: list[tuple[Item, dict[str, Any]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
            kind = record["kind"]
            if kind not in ("pairwise", "pointwise"):
                raise ValueError(f"kind {kind!r} is neither pairwise nor pointwise")
            label_judge(record["labeller"])
            item = Item(
                judgment_id=str(record.get("judged_item") or ""),
                kind=kind,
                query_id=str(record["query_id"]),
                response_id=str(record["response_id"]),
                response_b_id=record.get("response_b_id"),
                model=record.get("model"),
                model_b=record.get("model_b"),
                node="",
                confidence="",
            )
            if kind == "pairwise" and record.get("verdict") not in ("A", "B", "tie"):
                raise ValueError(f"verdict {record.get('verdict')!r} is not A, B or tie")
            if kind == "pointwise" and not isinstance(record.get("score"), int | float):
                raise ValueError("a pointwise label needs a numeric score")
        except (ValueError, KeyError, UserError) as exc:
            what = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise DataError(f"line {number}: {what}", where=where) from None
        items.append((item, record))
    known = store.existing_ids(ResponseRow, {i.response_id for i, _ in items})
    for number, (item, _) in enumerate(items, start=1):
        if item.response_id not in known:
            raise DataError(
                f"label {number}: response {item.response_id} is not in this store", where=where
            )
    for item, record in items:
        save_label(
            store,
            item,
            record["labeller"],
            verdict=record.get("verdict"),
            score=record.get("score"),
            note=record.get("note"),
        )
    return len(items)
