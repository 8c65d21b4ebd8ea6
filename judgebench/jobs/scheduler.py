"""Scheduled jobs: APScheduler 3 with its SQLAlchemy job store in the judgebench store.

APScheduler 3 has no locking between processes, so every execution first *claims* its
(schedule id, scheduled fire time) in ``job_claims`` (insert-or-ignore, one transaction): of
any number of scheduler processes sharing the store, exactly one runs it; the others record
nothing and move on. Fire times that were skipped while no scheduler ran are coalesced into
one execution, and each skipped time is recorded as a ``coalesced`` claim row (misfires past
the grace time as ``missed``).

A claim is backed by a lease (``judgebench.db.leases``) that the running scheduler renews
every ``ttl / 3`` seconds. If that scheduler dies mid-execution (kill -9, a lost machine), the
lease expires, or at once on the same host where the claimer's pid is gone; every scheduler
checks for such orphaned claims on each poll (:func:`adopt_orphans`), and exactly one takes
the execution over and resumes its run, so the tick completes exactly once.

Each execution is its own run (``runs.job_name`` = the job's name, epoch = the fire time), so
the dashboard and ``judgebench.analysis.regression_report`` compare runs over time.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from judgebench.errors import UserError

JOB_FUNC = "judgebench.jobs.scheduler:execute"
TABLE = "apscheduler_jobs"
MISFIRE_GRACE_S = 3600


def _store(db: str) -> Any:
    from judgebench.db import Store

    return Store(db)


def _scheduler(db: str, *, admin: bool = True) -> Any:
    """``admin``: a scheduler with no thread that only reads and writes the job store (adding
    a schedule must never run it); else the background scheduler that runs due jobs."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.base import BaseScheduler

    class _StoreOnly(BaseScheduler):
        def wakeup(self) -> None:
            pass

        def shutdown(self, wait: bool = True) -> None:
            super().shutdown(wait)

    store = _store(db)  # creates judgebench's tables (and checks the URL) first
    kind = _StoreOnly if admin else BackgroundScheduler
    return kind(
        jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=TABLE)},
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE_S},
        timezone=UTC,
    )


def _trigger(cron: str) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    try:
        return CronTrigger.from_crontab(cron, timezone=UTC)
    except ValueError as exc:
        raise UserError(f"bad cron expression {cron!r}: {exc}", where="--cron") from None


def add_schedule(
    db: str,
    job_file: str | Path,
    cron: str,
    schedule_id: str,
    *,
    run_first_at: datetime | None = None,
) -> dict[str, Any]:
    """Add (or replace) a schedule; ``run_first_at`` makes the first execution due then."""
    from judgebench.jobs.config import load_job

    job_file = str(Path(job_file).resolve())
    load_job(job_file)  # a bad job fails now, not at 2 am
    db = _absolute(db)
    trigger = _trigger(cron)
    sched = _scheduler(db)
    sched.start(paused=True)
    try:
        job = sched.add_job(
            JOB_FUNC,
            trigger=trigger,
            id=schedule_id,
            name=schedule_id,
            kwargs={"schedule_id": schedule_id, "job_file": job_file, "db": db, "cron": cron},
            replace_existing=True,
            **({"next_run_time": run_first_at} if run_first_at else {}),
        )
        next_run = job.next_run_time
    finally:
        sched.shutdown(wait=False)
    return {"id": schedule_id, "cron": cron, "next_run": next_run}


def _absolute(db: str) -> str:
    """A SQLite path made absolute: the scheduler may run from another directory."""
    from judgebench.db import normalize_url

    url = normalize_url(db)
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            return "sqlite:///" + str(Path(path).expanduser().resolve())
    return db


def list_schedules(db: str) -> list[dict[str, Any]]:
    from judgebench.db.engine import existing_store
    from judgebench.db.jobs import list_claims

    sched = _scheduler(existing_store(db, "add a schedule first"))
    sched.start(paused=True)
    try:
        jobs = sched.get_jobs()
    finally:
        sched.shutdown(wait=False)
    store = _store(db)
    out = []
    for job in jobs:
        claims = [
            c for c in list_claims(store, job.id) if c["status"] not in ("coalesced", "missed")
        ]
        last = _last_execution(claims[-1]) if claims else None
        out.append(
            {
                "id": job.id,
                "cron": job.kwargs.get("cron", str(job.trigger)),
                "job_file": job.kwargs.get("job_file", ""),
                "next_run": job.next_run_time,
                "last": last,
            }
        )
    return out


def _last_execution(claim: dict[str, Any]) -> str:
    """``<fire time> <status>``, with the reason when it did not end ok."""
    text = f"{claim['fire_time']} {claim['status']}"
    if claim["status"] not in ("ok", "running") and claim.get("note"):
        text += f" ({claim['note'][:120]})"
    return text


def _get(db: str, schedule_id: str) -> Any:
    from judgebench.db.engine import existing_store

    sched = _scheduler(existing_store(db, "add a schedule first"))
    sched.start(paused=True)
    try:
        job = sched.get_job(schedule_id)
    finally:
        sched.shutdown(wait=False)
    if job is None:
        raise UserError(f"no schedule {schedule_id!r} (see judgebench schedule list)", where=db)
    return job


def remove_schedule(db: str, schedule_id: str) -> None:
    _get(db, schedule_id)
    sched = _scheduler(db)
    sched.start(paused=True)
    try:
        sched.remove_job(schedule_id)
    finally:
        sched.shutdown(wait=False)


def run_now(db: str, schedule_id: str) -> str:
    job = _get(db, schedule_id)
    fire = "now:" + datetime.now(UTC).isoformat(timespec="seconds")
    return execute(**{**job.kwargs, "fire_time": fire})


# --- one execution ------------------------------------------------------------------------------


def latest_fire_time(cron: str, now: datetime | None = None) -> datetime | None:
    """The most recent scheduled time at or before ``now`` (what the scheduler just fired)."""
    trigger = _trigger(cron)
    now = now or datetime.now(UTC)
    start = now - timedelta(days=8)
    prev = None
    nxt = trigger.get_next_fire_time(None, start)
    for _ in range(20000):
        if nxt is None or nxt > now:
            break
        prev = nxt
        nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(microseconds=1))
    return prev


def _skipped_times(cron: str, after: datetime, before: datetime) -> list[datetime]:
    trigger = _trigger(cron)
    out: list[datetime] = []
    nxt = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
    while nxt is not None and nxt < before and len(out) < 1000:
        out.append(nxt)
        nxt = trigger.get_next_fire_time(nxt, nxt + timedelta(microseconds=1))
    return out


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def execute(
    schedule_id: str, job_file: str, db: str, cron: str, fire_time: str | None = None
) -> str:
    """Run one scheduled execution unless another process already claimed it."""
    from judgebench.db.jobs import claim, list_claims

    store = _store(db)
    if fire_time is None:
        fired = latest_fire_time(cron) or datetime.now(UTC)
        fire_time = fired.isoformat()
        # fire times since the last execution that never ran were coalesced into this one
        done = [c for c in list_claims(store, schedule_id) if not c["fire_time"].startswith("now:")]
        if done:
            last = max(datetime.fromisoformat(c["fire_time"]) for c in done)
            for skipped in _skipped_times(cron, last, fired):
                claim(
                    store,
                    schedule_id,
                    skipped.isoformat(),
                    _owner(),
                    status="coalesced",
                    note=f"coalesced into {fire_time}",
                )
    if not claim(store, schedule_id, fire_time, _owner()):
        return f"skipped: {fire_time} already claimed"
    return _run_claimed(store, schedule_id, job_file, db, fire_time)


def claim_lease(schedule_id: str, fire_time: str) -> str:
    """The lease a running execution holds (and renews) while it works."""
    return f"claim:{schedule_id}@{fire_time}"


def _run_claimed(store: Any, schedule_id: str, job_file: str, db: str, fire_time: str) -> str:
    """Run a claimed execution under its lease; a scheduler that dies stops renewing it, and
    another one takes the execution over (:func:`adopt_orphans`)."""
    from judgebench.db import leases
    from judgebench.db.jobs import finish_claim
    from judgebench.jobs.config import load_job
    from judgebench.jobs.runner import JobRunner

    name, holder = claim_lease(schedule_id, fire_time), leases.holder_id()
    if leases.acquire(store, name, holder) is None:
        return f"skipped: {fire_time} is being run by another scheduler"
    with leases.Held(store, name, holder):
        try:
            job = load_job(job_file)
            job.store = db  # the store the schedule was added to (an absolute path)
            # a taken-over execution may find the dead claimer's run lease until it expires
            result = JobRunner(job, epoch=fire_time, if_running="wait").run()
        except BaseException as exc:
            finish_claim(
                store, schedule_id, fire_time, "failed", note=f"{type(exc).__name__}: {exc}"[:500]
            )
            raise
        finish_claim(
            store, schedule_id, fire_time, result.status, run_id=result.run_id, note=result.reason
        )
    return f"{result.status} run {result.run_id} ({result.calls} LLM calls)"


def adopt_orphans(db: str) -> list[str]:
    """Take over executions whose claimer died: claims still ``running`` whose lease expired
    (or whose holder's process is gone, on this host). Each is resumed under a new lease, so
    its run completes exactly once whoever finishes it."""
    from judgebench.db import leases
    from judgebench.db.jobs import list_claims, take_over_claim

    store = _store(db)
    now = datetime.now(UTC)
    done = []
    for c in list_claims(store):
        if c["status"] != "running":
            continue
        name = claim_lease(c["schedule_id"], c["fire_time"])
        lease = leases.read(store, name)
        claimed = c["claimed_at"] if c["claimed_at"].tzinfo else c["claimed_at"].replace(tzinfo=UTC)
        if lease is None and (now - claimed).total_seconds() < leases.DEFAULT_TTL_S:
            continue  # just claimed: its claimer is about to take the lease
        if lease is not None and not lease.expired(now):
            continue
        try:
            kwargs = _get(db, c["schedule_id"]).kwargs
        except UserError:  # the schedule was removed since
            continue
        take_over_claim(store, c["schedule_id"], c["fire_time"], _owner(), c["owner"])
        done.append(_run_claimed(store, c["schedule_id"], kwargs["job_file"], db, c["fire_time"]))
    return done


def _record_missed(db: str, event: Any) -> None:
    from judgebench.db.jobs import claim

    claim(
        _store(db),
        event.job_id,
        event.scheduled_run_time.isoformat(),
        _owner(),
        status="missed",
        note="past the misfire grace time",
    )


def serve(db: str, *, once: bool = False, poll_s: float = 5.0, max_s: float | None = None) -> None:
    """Run due jobs until interrupted (``once``: what is due now, then exit)."""
    from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    sched = _scheduler(db, admin=False)
    running = {"n": 0}
    lock = threading.Lock()

    def on_event(event: Any) -> None:
        if event.code == EVENT_JOB_MISSED:
            _record_missed(db, event)
        with lock:
            running["n"] = (
                max(running["n"] - 1, 0) if event.code != EVENT_JOB_MISSED else running["n"]
            )

    sched.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    sched.start()
    started = time.monotonic()
    try:
        adopt_orphans(db)
        if once:
            now = datetime.now(UTC)
            due = [j for j in sched.get_jobs() if j.next_run_time and j.next_run_time <= now]
            with lock:
                running["n"] = len(due)
            sched.wakeup()
            while running["n"] > 0 and (max_s is None or time.monotonic() - started < max_s):
                time.sleep(0.1)
            return
        while max_s is None or time.monotonic() - started < max_s:
            time.sleep(poll_s)
            adopt_orphans(db)  # executions whose scheduler died mid-way
            sched.wakeup()  # see schedules other processes added
    except KeyboardInterrupt:
        pass
    finally:
        sched.shutdown(wait=True)
