"""Leases: "this process is doing X" with a heartbeat and an expiry, shared through the store.

A lease is one row per name (``job:<run id>``, ``claim:<schedule>@<fire time>``). Its holder
renews it every ``ttl / 3`` seconds from a background thread; a holder that dies (kill -9, a
lost machine) stops renewing, and once ``expires_at`` passes anyone may take the lease over.
On the holder's own host a dead process is noticed at once (its pid is gone), so a rerun
right after a kill does not wait out the expiry.

Taking over is a compare-and-swap on (holder, expires_at) inside one transaction, so of any
number of processes that see the same expired lease exactly one gets it, on SQLite and on
PostgreSQL alike.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, String, delete, select, update
from sqlalchemy.orm import Mapped, mapped_column

from judgebench.db.base import Base
from judgebench.records import utcnow

log = logging.getLogger(__name__)

DEFAULT_TTL_S = float(os.environ.get("JUDGEBENCH_LEASE_TTL_S", "60"))


class LeaseRow(Base):
    """Who holds a named lease, and until when."""

    __tablename__ = "leases"
    name: Mapped[str] = mapped_column(String(300), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def holder_id() -> str:
    """``host:pid:thread`` of the caller: unique among live holders, and checkable on its host."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _aware(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored in UTC.
    from datetime import UTC

    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _dead_here(holder: str) -> bool:
    """Whether ``holder`` is a process on this host that no longer exists."""
    host, _, rest = holder.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as read: its holder and expiry."""

    name: str
    holder: str
    expires_at: datetime

    def expired(self, now: datetime | None = None) -> bool:
        return _aware(self.expires_at) <= (now or utcnow()) or _dead_here(self.holder)


def read(store: Any, name: str) -> LeaseInfo | None:
    with store.read_session() as s:
        row = s.get(LeaseRow, name)
        return LeaseInfo(row.name, row.holder, row.expires_at) if row else None


def acquire(store: Any, name: str, holder: str, ttl_s: float = DEFAULT_TTL_S) -> LeaseInfo | None:
    """Take the lease if it is free or expired; None (someone else holds it) otherwise.

    Re-acquiring a lease one already holds renews it.
    """
    now = utcnow()
    expires = now + timedelta(seconds=ttl_s)
    fresh = dict(name=name, holder=holder, acquired_at=now, heartbeat_at=now, expires_at=expires)
    with store.session() as s:
        if store.insert_ignore(s, LeaseRow, [fresh]):
            return LeaseInfo(name, holder, expires)
        row = s.execute(select(LeaseRow).where(LeaseRow.name == name)).scalar_one_or_none()
        if row is None:  # released between the insert and the read: try once more
            return (
                LeaseInfo(name, holder, expires)
                if store.insert_ignore(s, LeaseRow, [fresh])
                else None
            )
        current = LeaseInfo(row.name, row.holder, row.expires_at)
        if row.holder != holder and not current.expired(now):
            return None
        taken = s.execute(
            update(LeaseRow)
            .where(
                LeaseRow.name == name,
                LeaseRow.holder == row.holder,
                LeaseRow.expires_at == row.expires_at,
            )
            .values(holder=holder, acquired_at=now, heartbeat_at=now, expires_at=expires)
        ).rowcount
        return LeaseInfo(name, holder, expires) if taken == 1 else None


def renew(store: Any, name: str, holder: str, ttl_s: float = DEFAULT_TTL_S) -> bool:
    """Push the expiry on; False when the lease is no longer ours (it expired and was taken)."""
    now = utcnow()
    with store.session() as s:
        return (
            s.execute(
                update(LeaseRow)
                .where(LeaseRow.name == name, LeaseRow.holder == holder)
                .values(heartbeat_at=now, expires_at=now + timedelta(seconds=ttl_s))
            ).rowcount
            == 1
        )


def release(store: Any, name: str, holder: str) -> None:
    with store.session() as s:
        s.execute(delete(LeaseRow).where(LeaseRow.name == name, LeaseRow.holder == holder))


class Held:
    """A lease held for the length of a ``with`` block, renewed from a daemon thread.

    ``lost`` is set if a renewal finds the lease taken (the process stalled past the expiry);
    the work under it should then stop writing.
    """

    def __init__(self, store: Any, name: str, holder: str, ttl_s: float = DEFAULT_TTL_S):
        self.store, self.name, self.holder, self.ttl_s = store, name, holder, ttl_s
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Held:
        self._thread = threading.Thread(target=self._beat, name=f"lease {self.name}", daemon=True)
        self._thread.start()
        return self

    def _beat(self) -> None:
        while not self._stop.wait(self.ttl_s / 3):
            try:
                if not renew(self.store, self.name, self.holder, self.ttl_s):
                    self.lost.set()
                    return
            except Exception as exc:  # a busy database: try again at the next beat
                log.warning(
                    "lease %s: renewal failed (%s); retrying at the next beat", self.name, exc
                )

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        release(self.store, self.name, self.holder)
