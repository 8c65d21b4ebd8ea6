"""How a job run ended: per-stage counts and the run's status.

Every stage's work items (responses: queries × models; judgments: queries × what each judge
compares) end in one of four states: ``ok`` (a usable row), ``invalid`` (a judge reply that
never parsed: stored with the raw reply and the reason), ``error`` (a failed call, recorded in
``errors``) or ``skipped`` (never attempted: a missing upstream response or a budget stop).

The run is ``failed`` when a stage produced nothing usable, ``partial`` when the share of items
that are not ``ok`` in some stage exceeds the job's ``max_error_rate`` (default 0), else ``ok``.
"""

from __future__ import annotations

from collections.abc import Sequence

STATES = ("ok", "invalid", "error", "skipped")


def stage_counts(expected: int, stored: dict[str, int], errors: int) -> dict[str, int]:
    """One stage's counts from the rows the run links (by status), this invocation's errors
    and the number of items the stage should have produced."""
    ok = int(stored.get("ok", 0))
    invalid = int(stored.get("invalid", 0))
    error = int(stored.get("error", 0)) + errors
    skipped = max(expected - ok - invalid - error, 0)
    return {"ok": ok, "invalid": invalid, "error": error, "skipped": skipped}


def not_ok_rate(counts: dict[str, int]) -> float:
    total = sum(counts.get(s, 0) for s in STATES)
    return (total - counts.get("ok", 0)) / total if total else 0.0


def decide(
    counts: dict[str, dict[str, int]],
    max_error_rate: float = 0.0,
    empty_units: Sequence[str] = (),
) -> tuple[str, str | None]:
    """(status, reason) of a run from its per-stage counts; ``empty_units`` names the models or
    judges that produced nothing (``responses of sim/x``): each one fails the run, since that
    model's (judge's) results are missing altogether."""
    if not counts:
        return "failed", "no stage ran"
    if empty_units:
        return "failed", "nothing usable from " + ", ".join(empty_units)
    for stage, c in counts.items():
        if sum(c.get(s, 0) for s in STATES) == 0:
            return "failed", f"{stage}: no work items (no queries?)"
        if c.get("ok", 0) == 0:
            return "failed", f"{stage}: nothing usable ({describe(c)})"
    over = [
        f"{stage}: {100 * not_ok_rate(c):.1f}% not ok ({describe(c)})"
        for stage, c in counts.items()
        if not_ok_rate(c) > max_error_rate
    ]
    if over:
        return "partial", "; ".join(over) + f" > max_error_rate {max_error_rate:g}"
    return "ok", None


def describe(counts: dict[str, int]) -> str:
    """``12 ok, 1 invalid, 0 error, 0 skipped``."""
    return ", ".join(f"{counts.get(s, 0)} {s}" for s in STATES)


def counts_lines(counts: dict[str, dict[str, int]] | None) -> list[str]:
    """One printable line per stage."""
    return [f"{stage}: {describe(c)}" for stage, c in (counts or {}).items()]
