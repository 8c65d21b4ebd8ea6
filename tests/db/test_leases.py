"""Leases: one holder at a time, renewals, expiry, and a take-over that exactly one wins."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from judgebench.db import Store, leases


def test_one_holder_at_a_time_until_release(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    assert leases.acquire(store, "job:x", "host:1:1", ttl_s=30) is not None
    assert leases.acquire(store, "job:x", "host:2:1", ttl_s=30) is None
    assert leases.acquire(store, "job:x", "host:1:1", ttl_s=30) is not None  # re-acquire = renew
    assert leases.renew(store, "job:x", "host:1:1") and not leases.renew(store, "job:x", "host:2:1")
    leases.release(store, "job:x", "host:2:1")  # not the holder: nothing happens
    assert leases.read(store, "job:x").holder == "host:1:1"
    leases.release(store, "job:x", "host:1:1")
    assert leases.read(store, "job:x") is None
    assert leases.acquire(store, "job:x", "host:2:1") is not None


def test_an_expired_lease_is_taken_over_by_exactly_one(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    assert leases.acquire(store, "claim:a@t", "elsewhere:1:1", ttl_s=0.2)
    time.sleep(0.3)
    won: list[str] = []

    def contend(i: int) -> None:
        if leases.acquire(Store(store.url), "claim:a@t", f"elsewhere:{100 + i}:1", ttl_s=30):
            won.append(str(i))

    threads = [threading.Thread(target=contend, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    # the old holder learns it lost the lease at its next renewal
    assert not leases.renew(store, "claim:a@t", "elsewhere:1:1")


def test_a_dead_holder_on_this_host_is_noticed_before_expiry(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead = f"{leases.holder_id().split(':')[0]}:{child.stdout.strip()}:1"
    alive = leases.holder_id()
    assert leases.acquire(store, "job:y", dead, ttl_s=3600)
    assert leases.acquire(store, "job:y", alive, ttl_s=60) is not None
    assert leases.acquire(store, "job:z", alive, ttl_s=3600)
    assert leases.acquire(store, "job:z", dead, ttl_s=60) is None  # a live holder keeps it


def test_a_held_lease_is_renewed_and_released(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 's.db'}")
    holder = leases.holder_id()
    assert leases.acquire(store, "job:h", holder, ttl_s=0.6)
    with leases.Held(store, "job:h", holder, ttl_s=0.6) as held:
        time.sleep(1.0)  # past the first expiry: the heartbeat kept it
        assert leases.acquire(store, "job:h", "other:1:1", ttl_s=1) is None
        assert not held.lost.is_set()
    assert leases.read(store, "job:h") is None
