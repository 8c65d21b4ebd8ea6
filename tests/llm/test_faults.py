"""Fault injection through the sim-server: every call ends as a completion or an LLMError with
its reason; retries and Retry-After are honoured; 400s are not retried; nothing hangs."""

from __future__ import annotations

import time

import pytest

from judgebench.db import Store
from judgebench.llm import (
    BadRequestError,
    BadResponseError,
    Completion,
    ConnectionError_,
    LLMError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TimeoutError_,
)
from judgebench.sim.server import FaultConfig
from tests.llm.conftest import ask


async def test_mixed_faults_every_call_accounted_for(sim_server, make_gateway, tmp_path):
    sim_server.faults = FaultConfig(
        latency_ms=2,
        latency_dist="lognormal",
        rate_429=0.08,
        rate_429_no_retry_after=0.05,
        retry_after_s=0.02,
        rate_500=0.05,
        rate_503=0.05,
        rate_hang=0.03,
        hang_s=30,
        rate_drop=0.05,
        rate_truncate=0.05,
        rate_malformed=0.05,
        rate_empty_choices=0.05,
        seed=7,
    )
    gateway = make_gateway(timeout_s=0.3, max_retries=2, max_concurrency=16)
    store = Store(tmp_path / "errors.db")
    n = 120
    start = time.monotonic()
    results = await gateway.complete_many(
        [{"model": "sim/small", "messages": ask(i), "temperature": 0} for i in range(n)],
        progress=False,
        errors=store,
        run_id="fault-run",
    )
    assert time.monotonic() - start < 20  # no hang: hanging requests time out
    assert len(results) == n  # no silent loss
    ok = [r for r in results if isinstance(r, Completion)]
    failed = [r for r in results if isinstance(r, LLMError)]
    assert len(ok) + len(failed) == n
    assert ok and all(r.text for r in ok)
    for err in failed:  # a recorded error says why, and how hard we tried
        assert err.retryable and err.attempts == 3 and str(err)
    rows = store.get_errors(stage="llm", run_id="fault-run")
    assert len(rows) == len(failed)  # every failure is a row someone can query
    assert sorted(r.message for r in rows) == sorted(
        f"{e.reason} (after 3 attempts)" for e in failed
    )
    stats = sim_server.stats
    # the server really injected every kind of fault, and the gateway retried through them
    for kind in (
        "status_429",
        "status_500",
        "status_503",
        "fault_hang",
        "fault_drop",
        "fault_truncate",
        "fault_malformed",
        "fault_empty",
    ):
        assert stats[kind] > 0, kind
    assert stats["requests"] > n
    assert gateway.stats.calls == len(ok) and gateway.stats.errors == len(failed)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("500", ServerError),
        ("503", ServerError),
        ("429-no-retry-after", RateLimitError),
        ("drop", ConnectionError_),
        ("truncate", BadResponseError),
        ("malformed", BadResponseError),
        ("empty", BadResponseError),
    ],
)
async def test_each_fault_maps_to_a_retryable_error_then_recovers(
    sim_server, make_gateway, fault, error
):
    gateway = make_gateway(max_retries=0)
    sim_server.faults.script = [fault]
    with pytest.raises(error) as info:
        await gateway.complete("sim/small", ask(), temperature=0)
    assert info.value.retryable and info.value.attempts == 1 and "sim/small" in str(info.value)
    # with retries the same fault is ridden out
    retrying = make_gateway(max_retries=2)
    sim_server.faults.script = [fault]
    before = sim_server.stats["requests"]
    reply = await retrying.complete("sim/small", ask(1), temperature=0)
    assert reply.text and sim_server.stats["requests"] - before == 2


async def test_retry_after_is_honoured_and_cuts_concurrency(sim_server, make_gateway):
    gateway = make_gateway(max_concurrency=8)
    sim_server.faults.retry_after_s = 0.4
    sim_server.faults.script = ["429"]
    start = time.monotonic()
    reply = await gateway.complete("sim/small", ask(), temperature=0)
    waited = time.monotonic() - start
    assert reply.text
    assert waited >= 0.4  # the server's Retry-After, not the 10 ms backoff
    limiter = gateway.concurrency_of("sim/small")
    assert limiter.cuts == 1 and limiter.limit < 8


async def test_no_retry_on_400(sim_server, make_gateway):
    gateway = make_gateway(max_retries=5)
    sim_server.faults.script = ["400"]
    before = sim_server.stats["requests"]
    with pytest.raises(BadRequestError) as info:
        await gateway.complete("sim/small", ask(), temperature=0)
    assert sim_server.stats["requests"] - before == 1
    assert info.value.status == 400 and not info.value.retryable and info.value.attempts == 1


async def test_unknown_model_is_a_bad_request_not_retried(sim_server, make_gateway):
    gateway = make_gateway(model="sim/no-such-profile", max_retries=5)
    before = sim_server.stats["requests"]
    with pytest.raises(NotFoundError, match="no-such-profile"):
        await gateway.complete("sim/no-such-profile", ask(), temperature=0)
    assert sim_server.stats["requests"] - before == 1


async def test_hang_times_out_and_gives_up_with_reason(sim_server, make_gateway):
    gateway = make_gateway(timeout_s=0.2, max_retries=1)
    sim_server.faults.hang_s = 30
    sim_server.faults.script = ["hang", "hang"]
    start = time.monotonic()
    with pytest.raises(TimeoutError_) as info:
        await gateway.complete("sim/small", ask(), temperature=0)
    assert time.monotonic() - start < 3
    assert info.value.attempts == 2 and "0.2s" in str(info.value)


async def test_connection_refused_is_an_error_not_a_hang(make_gateway):
    from judgebench.config import settings_from_dict
    from judgebench.llm import Gateway

    settings = settings_from_dict(
        {
            "models": {
                "sim/small": {
                    "api_base": "http://127.0.0.1:9/v1",
                    "max_retries": 1,
                    "backoff_base_s": 0.01,
                }
            }
        }
    )
    with pytest.raises(ConnectionError_) as info:
        await Gateway(settings=settings).complete("sim/small", ask(), temperature=0)
    assert info.value.attempts == 2


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("429", RateLimitError),
        ("500", ServerError),
        ("503", ServerError),
        ("400", BadRequestError),
        ("drop", LLMError),
        ("truncate", LLMError),
        ("malformed", LLMError),
        ("empty", BadResponseError),
    ],
)
async def test_litellm_route_maps_faults_too(sim_server, make_gateway, fault, error):
    gateway = make_gateway(
        model="lite/small", backend="litellm", wire_model="sim/small", max_retries=0, timeout_s=30
    )
    sim_server.faults.retry_after_s = 0.25
    sim_server.faults.script = [fault]
    with pytest.raises(error) as info:
        await gateway.complete("lite/small", ask(), temperature=0)
    assert info.value.retryable == (fault != "400")
    if fault == "429":
        assert info.value.retry_after == pytest.approx(0.25)
