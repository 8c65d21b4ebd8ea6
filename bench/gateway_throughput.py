"""Gateway throughput against the sim-server, beside a raw aiohttp+asyncio client.

Starts ``judgebench sim-server`` in its own process with a fixed latency (and a fixed reply, so
the server measures transport only and is never the bottleneck), then sends the same number of
distinct chat calls at the same concurrency through

1. a raw client: one aiohttp session, a semaphore, ``json.loads`` of each body;
2. the gateway: direct OpenAI-compatible route, adaptive limit, retries, SQLite call cache,
   accounting — everything a real job gets;

alternating the two (``--rounds``) and taking medians, since the machine is shared and noisy.
Finally the gateway's last batch is sent again: every call must come from the cache.

    python bench/gateway_throughput.py            # N=3000, concurrency 64, latency 100 ms
    python bench/gateway_throughput.py --n 500 --rounds 1

Ends with the headline lines ``gateway_calls_per_s``, ``raw_calls_per_s``, ``ratio``,
``overhead_ms_per_call`` and ``second_run_calls`` (see ../shared/docs/BENCH.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

MODEL = "sim/small"  # a simulated profile (with --sim the simulator answers as it)


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far (Linux /proc), or 0.0."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def messages_for(i: int, tag: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"[{tag}] Explain item number {i} in one sentence."}]


async def raw_run(url: str, n: int, concurrency: int, tag: str) -> tuple[float, int]:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    ok = 0
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=None)
    ) as session:

        async def one(i: int) -> None:
            nonlocal ok
            body = json.dumps({"model": MODEL, "messages": messages_for(i, tag), "temperature": 0})
            async with (
                sem,
                session.post(
                    url + "/chat/completions",
                    data=body,
                    headers={"Content-Type": "application/json"},
                ) as resp,
            ):
                data = json.loads(await resp.read())
            if data["choices"][0]["message"]["content"]:
                ok += 1

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return time.perf_counter() - start, ok


async def gateway_run(gateway, n: int, tag: str) -> tuple[float, int, int]:
    from judgebench.llm import LLMError, LLMRequest

    requests = [
        LLMRequest(MODEL, messages_for(i, tag), params={"temperature": 0}) for i in range(n)
    ]
    before = gateway.calls_made
    start = time.perf_counter()
    results = await gateway.complete_many(requests, progress=False)
    elapsed = time.perf_counter() - start
    ok = sum(1 for r in results if not isinstance(r, LLMError))
    return elapsed, ok, gateway.calls_made - before


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=3000, help="calls per batch")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating raw/gateway rounds (medians)"
    )
    parser.add_argument(
        "--sim", action="store_true", help="answer with the simulator instead of a fixed reply"
    )
    args = parser.parse_args()

    from judgebench.config import settings_from_dict
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway
    from judgebench.sim.server import spawn_server

    server_args = ["--latency-ms", str(args.latency_ms)]
    model = MODEL
    if not args.sim:
        server_args += ["--fixed-reply", "A short simulated answer."]
    proc, url = spawn_server(*server_args)
    tmp = tempfile.TemporaryDirectory(prefix="jb-bench-")
    try:
        store = Store(Path(tmp.name) / "bench.db")
        settings = settings_from_dict(
            {
                "models": {
                    model: {"api_base": url, "max_concurrency": args.concurrency, "timeout_s": 30}
                }
            }
        )
        gateway = Gateway(settings=settings, cache=SQLCallCache(store))

        async def run_all() -> dict[str, object]:
            # warm-up: connections, imports, the table
            await raw_run(url, args.concurrency, args.concurrency, "warm")
            await gateway_run(gateway, args.concurrency, "warm")
            raw_rates, gw_rates, gw_ok, raw_ok = [], [], 0, 0
            raw_cpu, gw_cpu = [], []  # client CPU seconds per call: robust on a busy machine
            last_tag = ""
            for r in range(args.rounds):
                cpu = time.process_time()
                elapsed, ok = await raw_run(url, args.n, args.concurrency, f"raw{r}")
                raw_cpu.append((time.process_time() - cpu) / args.n)
                raw_rates.append(args.n / elapsed)
                raw_ok += ok
                last_tag = f"gw{r}"
                cpu = time.process_time()
                elapsed, ok, calls = await gateway_run(gateway, args.n, last_tag)
                gw_cpu.append((time.process_time() - cpu) / args.n)
                gw_rates.append(args.n / elapsed)
                gw_ok += ok
                print(
                    f"round {r + 1}: raw {raw_rates[-1]:7.1f} calls/s   gateway {gw_rates[-1]:7.1f} calls/s "
                    f"({calls} calls made, {ok} ok)",
                    flush=True,
                )
            elapsed2, ok2, second_calls = await gateway_run(gateway, args.n, last_tag)
            await gateway.aclose()
            # headroom: the raw client at 4x the concurrency shows what the server itself sustains
            wide = 4 * args.concurrency
            cpu0 = process_cpu_s(proc.pid)
            elapsed3, _ = await raw_run(url, max(args.n, 4 * wide), wide, "capacity")
            capacity = max(args.n, 4 * wide) / elapsed3
            server_cpu_us = (process_cpu_s(proc.pid) - cpu0) / max(args.n, 4 * wide) * 1e6
            return {
                "raw": statistics.median(raw_rates),
                "gw": statistics.median(gw_rates),
                "raw_ok": raw_ok,
                "gw_ok": gw_ok,
                "second_calls": second_calls,
                "second_s": elapsed2,
                "second_ok": ok2,
                "capacity": capacity,
                "server_cpu_us": server_cpu_us,
                "raw_cpu_us": statistics.median(raw_cpu) * 1e6,
                "gw_cpu_us": statistics.median(gw_cpu) * 1e6,
                "wide": wide,
            }

        res = asyncio.run(run_all())
        cache = SQLCallCache(store).stats()
    finally:
        proc.terminate()
        proc.wait(5)
        tmp.cleanup()

    raw, gw = float(res["raw"]), float(res["gw"])  # type: ignore[arg-type]
    overhead_ms = (1.0 / gw - 1.0 / raw) * args.concurrency * 1000.0
    ideal = args.concurrency / (args.latency_ms / 1000.0) if args.latency_ms else float("nan")
    print()
    print(
        f"gateway throughput: {args.n} calls x {args.rounds} rounds, concurrency {args.concurrency}, "
        f"server latency {args.latency_ms:g} ms ({'simulator' if args.sim else 'fixed reply'}); ideal {ideal:.0f} calls/s"
    )
    print(f"  raw aiohttp: median {raw:.1f} calls/s ({res['raw_ok']} ok)")
    print(
        f"  gateway    : median {gw:.1f} calls/s ({res['gw_ok']} ok; SQLite cache, accounting, retries on)"
    )
    print(
        f"  second run of the last batch: {res['second_calls']} calls, {res['second_ok']} answers from the cache "
        f"in {float(res['second_s']):.2f}s; cache holds {cache['entries']} entries, {cache['hits']} hits"
    )
    wide = int(res["wide"])  # type: ignore[call-overload]
    capacity = float(res["capacity"])  # type: ignore[arg-type]
    verdict = (
        f"the server is not the bottleneck at {args.concurrency}"
        if capacity > 1.3 * max(raw, gw)
        else "WARNING: the server may be the bottleneck (busy machine, or --sim without headroom)"
    )
    print(
        f"  server headroom: raw client at concurrency {wide} got {capacity:.0f} calls/s "
        f"(ideal {wide / (args.latency_ms / 1000.0) if args.latency_ms else float('nan'):.0f}): {verdict}"
    )
    server_cpu_us = float(res["server_cpu_us"])  # type: ignore[arg-type]
    if server_cpu_us > 0:
        print(
            f"  server CPU per call: {server_cpu_us:.0f} us, i.e. one core serves about "
            f"{1e6 / server_cpu_us:.0f} calls/s"
        )
    print(
        f"  client CPU per call (median): raw {float(res['raw_cpu_us']):.0f} us, gateway {float(res['gw_cpu_us']):.0f} us"  # type: ignore[arg-type]
    )
    print("  overhead per call = (1/gateway - 1/raw) x concurrency: extra latency each call sees")
    print()
    print(f"gateway_calls_per_s: {gw:.1f}")
    print(f"raw_calls_per_s: {raw:.1f}")
    print(f"ratio: {gw / raw:.3f}")
    print(f"overhead_ms_per_call: {overhead_ms:.2f}")
    print(f"second_run_calls: {res['second_calls']}")
    print(f"server_capacity_calls_per_s: {float(res['capacity']):.1f}")  # type: ignore[arg-type]
    print(f"server_cpu_us_per_call: {server_cpu_us:.0f}")


if __name__ == "__main__":
    main()
