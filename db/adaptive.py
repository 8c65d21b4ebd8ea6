"""Adaptive sampling's record: every judged draw of an adaptive run, with its weight.

``weight`` is the draw's Horvitz–Thompson weight when the run's sampling stopped
(``N_cell / n_cell`` for its (arm, stratum) cell), so ``sum(weight * outcome) / N_arm`` over
an arm's draws is its stratified estimate, and analyses of the stored judgments can reweight a
non-uniform sample back to the whole query set (see judgebench.analysis.adaptive).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Float, Integer, String, delete, select
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base


class AdaptiveDrawRow(Base):
    __tablename__ = "adaptive_draws"
    run_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    judgment_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    judge: Mapped[str] = mapped_column(String(200))
    arm: Mapped[str] = mapped_column(String(400))
    query_id: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(300))
    round: Mapped[int] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Float)


def put_draws(store: Any, run_id: str, rows: list[dict[str, Any]]) -> None:
    """Replace the run's draws of these judges (weights change as a resumed run goes on)."""
    judges = sorted({r["judge"] for r in rows})
    with store.session() as s:
        if judges:
            s.execute(
                delete(AdaptiveDrawRow).where(
                    AdaptiveDrawRow.run_id == run_id, AdaptiveDrawRow.judge.in_(judges)
                )
            )
        store.insert_ignore(s, AdaptiveDrawRow, [{**r, "run_id": run_id} for r in rows])


def get_draws(store: Any, run_id: str) -> list[dict[str, Any]]:
    fields = ("judgment_id", "judge", "arm", "query_id", "stratum", "round", "weight")
    with store.read_session() as s:
        rows = s.scalars(select(AdaptiveDrawRow).where(AdaptiveDrawRow.run_id == run_id))
        return [{f: getattr(r, f) for f in fields} for r in rows]


def adaptive_runs(store: Any, run_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Of these runs, the adaptive ones: per run, each adaptive judge's report (stop reason,
    judgments made, a full run's count, saved) as the run recorded it."""
    from judgebench.db.models import RunRow

    with store.read_session() as s:
        sampled = set(
            s.scalars(
                select(AdaptiveDrawRow.run_id).where(AdaptiveDrawRow.run_id.in_(run_ids)).distinct()
            )
        )
        if not sampled:
            return {}
        rows = s.execute(select(RunRow.id, RunRow.config).where(RunRow.id.in_(sampled)))
        return {rid: list((config or {}).get("adaptive") or []) for rid, config in rows}


def sampling_text(reports: list[dict[str, Any]]) -> str:
    """``adaptive: 51/144 judged (93 saved, target_met)`` over an adaptive run's judges."""
    if not reports:
        return "full"
    judged = sum(r["judged"] for r in reports)
    full = sum(r["full"] for r in reports)
    reasons = ", ".join(sorted({r["stop_reason"] for r in reports}))
    return f"adaptive: {judged}/{full} judged ({full - judged} saved, {reasons})"
