"""The sim-server itself: the CLI process, latency distributions, fault configuration, errors."""

from __future__ import annotations

import json
import statistics
import urllib.request

import pytest

from judgebench.sim.server import FaultConfig, SimServer, spawn_server


def test_cli_server_process_answers_and_counts():
    proc, url = spawn_server("--latency-ms", "1", "--fixed-reply", "canned")
    try:
        body = json.dumps(
            {"model": "sim/small", "messages": [{"role": "user", "content": "hi"}]}
        ).encode()
        request = urllib.request.Request(
            url + "/chat/completions", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as resp:
            data = json.loads(resp.read())
        assert data["choices"][0]["message"]["content"] == "canned"
        with urllib.request.urlopen(url.removesuffix("/v1") + "/stats", timeout=10) as resp:
            assert json.loads(resp.read())["requests"] == 1
        with urllib.request.urlopen(url.removesuffix("/v1") + "/health", timeout=10) as resp:
            assert json.loads(resp.read())["simulated"] is True
    finally:
        proc.terminate()
        proc.wait(10)


def test_lognormal_latency_has_a_long_tail():
    server = SimServer(
        faults=FaultConfig(latency_ms=100, latency_dist="lognormal", latency_sigma=0.8, seed=1)
    )
    draws = sorted(server.latency_s() for _ in range(4000))
    median, p99 = statistics.median(draws), draws[int(0.99 * len(draws))]
    assert 0.09 < median < 0.11 and p99 > 4 * median
    fixed = SimServer(faults=FaultConfig(latency_ms=100))
    assert {fixed.latency_s() for _ in range(10)} == {0.1}


def test_fault_draws_follow_rates_and_script_comes_first():
    server = SimServer(
        faults=FaultConfig(rate_500=0.2, rate_429=0.1, seed=3, script=["drop", "ok"])
    )
    assert [server.next_fault(), server.next_fault()] == ["drop", "ok"]
    draws = [server.next_fault() for _ in range(5000)]
    assert 0.17 < draws.count("500") / 5000 < 0.23 and 0.08 < draws.count("429") / 5000 < 0.12
    with pytest.raises(ValueError, match="add up"):
        FaultConfig(rate_500=0.7, rate_503=0.6)
    with pytest.raises(ValueError, match="unknown fault"):
        FaultConfig(script=["explode"])


async def test_bad_requests_get_400_with_a_reason(sim_server):
    import aiohttp

    async with aiohttp.ClientSession() as session:
        for path, payload in [
            ("/chat/completions", b"{not json"),
            ("/chat/completions", json.dumps({"model": "sim/small"}).encode()),
            ("/completions", json.dumps({"model": "sim/small", "prompt": 3}).encode()),
            (
                "/chat/completions",
                json.dumps(
                    {
                        "model": "sim/small",
                        "messages": [{"role": "user", "content": "x"}],
                        "stream": True,
                    }
                ).encode(),
            ),
        ]:
            async with session.post(sim_server.url + path, data=payload) as resp:
                assert resp.status == 400
                assert (await resp.json())["error"]["message"]


def test_litellm_cost_map_prices_known_models_only():
    from judgebench.llm.litellm_backend import litellm_prices

    prices = litellm_prices("gpt-4o-mini")
    assert prices is not None and prices[0] > 0 and prices[1] > prices[0]
    assert litellm_prices("no-such-model-anywhere") is None


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        ({"rate_500": -0.5, "rate_503": 1.4}, "fault rate 500 is -0.5"),
        ({"rate_hang": 1.2}, "fault rate hang is 1.2"),
        ({"latency_ms": -5}, "latency_ms is -5"),
        ({"rate_500": 0.7, "rate_503": 0.7}, "add up to 1.400"),
    ],
)
def test_fault_config_refuses_rates_outside_0_1_and_negative_times(faults, message):
    """A negative rate used to pass (the sum stayed <= 1) and silently inflate the others."""
    with pytest.raises(ValueError, match=message):
        FaultConfig(**faults)


async def test_models_endpoint_lists_the_simulated_profiles(sim_server):
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.get(sim_server.url + "/models") as resp,
    ):
        assert resp.status == 200
        ids = {m["id"] for m in (await resp.json())["data"]}
    assert {"sim/small", "sim/judge"} <= ids


async def test_models_endpoint_reports_why_it_cannot_list(sim_server, monkeypatch, tmp_path):
    import aiohttp

    monkeypatch.setenv("JUDGEBENCH_SIM_PROFILES", str(tmp_path / "missing"))
    async with (
        aiohttp.ClientSession() as session,
        session.get(sim_server.url + "/models") as resp,
    ):
        assert resp.status == 500
        assert "missing does not exist" in (await resp.json())["error"]["message"]
