"""The call cache: greedy calls cached, sampled calls only with a sample index, hits cost
nothing and are counted, and the SQL cache is shared by processes."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from judgebench.db import Store
from judgebench.db.callcache import SQLCallCache
from judgebench.llm import Gateway, MemoryCallCache, ScriptedBackend, cache_key, is_cacheable
from tests.llm.conftest import ask

REPO = Path(__file__).resolve().parents[2]


def counting_gateway(cache=None) -> tuple[Gateway, ScriptedBackend]:
    backend = ScriptedBackend(responder=lambda text, model: f"reply to {text}")
    return Gateway(
        {"scripted": backend}, cache=cache if cache is not None else MemoryCallCache()
    ), backend


async def test_greedy_calls_are_cached_and_hits_cost_nothing():
    gateway, backend = counting_gateway()
    first = await gateway.complete("scripted/a", ask(), temperature=0)
    second = await gateway.complete("scripted/a", ask(), temperature=0)
    assert len(backend.prompts) == 1
    assert not first.cached and second.cached and second.text == first.text
    assert gateway.stats.cache_hits == 1 and gateway.stats.calls == 1
    # another model, other params or other messages are other entries
    await gateway.complete("scripted/b", ask(), temperature=0)
    await gateway.complete("scripted/a", ask(), temperature=0, max_tokens=5)
    await gateway.complete("scripted/a", ask(2), temperature=0)
    assert len(backend.prompts) == 4
    # cache=False bypasses it
    await gateway.complete("scripted/a", ask(), temperature=0, cache=False)
    assert len(backend.prompts) == 5


async def test_sampled_calls_cached_only_with_a_sample_index():
    gateway, backend = counting_gateway()
    await gateway.complete("scripted/a", ask(), temperature=0.7)
    await gateway.complete("scripted/a", ask(), temperature=0.7)
    assert (
        len(backend.prompts) == 2 and gateway.stats.cache_hits == 0
    )  # unnamed samples: never cached
    await gateway.complete("scripted/a", ask(), temperature=0.7, sample_index=0)
    await gateway.complete("scripted/a", ask(), temperature=0.7, sample_index=0)
    assert len(backend.prompts) == 3 and gateway.stats.cache_hits == 1
    await gateway.complete("scripted/a", ask(), temperature=0.7, sample_index=1)  # another sample
    assert len(backend.prompts) == 4
    assert not is_cacheable({"temperature": 1.0}, None) and is_cacheable({"temperature": 0}, None)
    assert is_cacheable({}, None) and is_cacheable({"temperature": 1.0}, 3)


def test_key_ignores_transport_settings_and_secrets():
    base = cache_key("m", "chat", ask(), None, {"temperature": 0})
    assert base == cache_key(
        "m", "chat", ask(), None, {"temperature": 0, "api_key": "sk-x", "timeout": 3}
    )
    assert base != cache_key("m", "chat", ask(), None, {"temperature": 0, "max_tokens": 3})
    assert base != cache_key("m", "chat", ask(), None, {"temperature": 0}, sample_index=0)


async def test_concurrent_identical_calls_make_one_call():
    gateway, backend = counting_gateway()
    replies = await asyncio.gather(
        *(gateway.complete("scripted/a", ask(), temperature=0) for _ in range(5))
    )
    assert len(backend.prompts) == 1 and len({r.text for r in replies}) == 1
    assert gateway.stats.cache_hits == 4


async def test_sql_cache_persists_and_counts_hits(tmp_path):
    store = Store(tmp_path / "c.db")
    gateway, backend = counting_gateway(SQLCallCache(store))
    await gateway.complete("scripted/a", ask(), temperature=0)
    await asyncio.sleep(0.2)  # writes are batched: a flusher task persists them within 0.1 s
    fresh, fresh_backend = counting_gateway(SQLCallCache(store))  # a new gateway, same store
    reply = await fresh.complete("scripted/a", ask(), temperature=0)
    fresh.flush()
    assert reply.cached and not fresh_backend.prompts
    assert SQLCallCache(store).stats() == {"entries": 1, "hits": 1}


CHILD = textwrap.dedent(
    """
    import asyncio, json, sys
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, ScriptedBackend

    db, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    backend = ScriptedBackend(responder=lambda text, model: "reply to " + text)
    gateway = Gateway({"scripted": backend}, cache=SQLCallCache(Store(db)))

    async def main():
        for i in range(first, last):  # sequential, so the other process interleaves
            await gateway.complete("scripted/x", [{"role": "user", "content": f"q{i}"}], temperature=0)

    asyncio.run(main())
    print(json.dumps({"calls": len(backend.prompts), "hits": gateway.stats.cache_hits}))
    """
)


def _spawn(db: Path, first: int, last: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(first), str(last)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, int]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_cache_hits_across_processes(tmp_path):
    db = tmp_path / "shared.db"
    Store(db)  # create the schema once
    # two processes at once on overlapping keys: both succeed, insert-or-ignore keeps one row each
    a, b = _spawn(db, 0, 40), _spawn(db, 20, 60)
    ra, rb = _result(a), _result(b)
    assert ra["calls"] + ra["hits"] == 40 and rb["calls"] + rb["hits"] == 40
    assert SQLCallCache(Store(db)).stats()["entries"] == 60
    # a third process finds everything: zero calls
    rc = _result(_spawn(db, 0, 60))
    assert rc == {"calls": 0, "hits": 60}


@pytest.mark.parametrize(
    "store_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_sql_cache_parity_sqlite_and_postgres(store_url):
    from judgebench.llm import CacheEntry

    cache = SQLCallCache(Store(store_url))
    entry = CacheEntry(
        key="k1", model="m", request={"messages": ask()}, response={"model": "m", "text": "t"}
    )
    assert cache.put_many([entry, entry]) == 1 and cache.put_many([entry]) == 0  # insert-or-ignore
    assert cache.get_many(["k1", "nope"]) == {"k1": {"model": "m", "text": "t"}}
    cache.record_hits({"k1": 2})
    cache.record_hits({"k1": 1})
    assert cache.stats() == {"entries": 1, "hits": 3}


@pytest.mark.parametrize("store_kind", ["memory", "sql"])
async def test_a_hit_keeps_its_original_cost_and_spends_nothing(tmp_path, store_kind):
    """Rows rebuilt from cached replies (a resume, a concurrent run, another process) must
    store what the reply cost, not 0.0; the spend is counted once, by the call that bought it."""
    from judgebench.config import settings_from_dict
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache

    def priced(cache) -> tuple[Gateway, ScriptedBackend]:
        backend = ScriptedBackend(responder=lambda text, model: f"a longer reply to {text}")
        prices = {"input_cost_per_mtok": 3.0, "output_cost_per_mtok": 15.0}
        settings = settings_from_dict({"models": {"scripted/*": prices}})
        return Gateway({"scripted": backend}, settings=settings, cache=cache), backend

    def cache():
        return (
            MemoryCallCache() if store_kind == "memory" else SQLCallCache(Store(tmp_path / "c.db"))
        )

    shared = cache()
    first_gateway, _ = priced(shared)
    bought = [await first_gateway.complete("scripted/a", ask(i), temperature=0) for i in range(3)]
    first_gateway.flush()
    # another gateway (another process / a resumed run) on the same cache
    second_gateway, backend = priced(shared if store_kind == "memory" else cache())
    again = [await second_gateway.complete("scripted/a", ask(i), temperature=0) for i in range(3)]
    assert backend.prompts == []  # all three were hits
    for original, hit in zip(bought, again, strict=True):
        assert original.cost and hit.cost == pytest.approx(original.cost)
        assert hit.cached and not original.cached
    assert second_gateway.stats.cost == 0.0 and second_gateway.stats.calls == 0
    assert second_gateway.stats.cache_hits == 3
    assert first_gateway.stats.cost == pytest.approx(sum(c.cost or 0 for c in bought))
