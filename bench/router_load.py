"""Load test of the router server on loopback: N requests at concurrency C against SIMULATED
models behind a Meta-Ranking cascade (or the selection router). Every request must end answered
(200) or refused with a proper status and an OpenAI-style error body; none may be lost; every
answer must be in the store's routed-request log.

    .venv/bin/python bench/router_load.py [--requests 2000] [--concurrency 50] [--rate-limit 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

KEY = "load-test-key"
QUESTIONS = [
    "Tom has {a} apples and buys {b} more. How many apples does he have?",
    "A train travels {a} km in {b} hours. What is its average speed?",
    "Write a Python function that returns the {a} largest of {b} numbers.",
    "Explain in a few sentences why the sky is blue, for a {a}-year-old.",
]
REFS = [
    ("What is 7 + 5?", "Step 1: 7 + 5 = 12.\n\n**Answer:** 12", True),
    ("What is 9 * 3?", "Step 1: 9 * 3 = 27.\n\n**Answer:** 27", True),
    ("What is 6 * 7?", "Hmm, maybe 6 + 7 = 14? Not sure.", False),
    ("What is 20 / 4?", "I think it is about 7, roughly.", False),
]


def build_router(kind: str, store_path: Path):  # type: ignore[no-untyped-def]
    from judgebench.db import Store
    from judgebench.db.routing import SqlRoutingLog
    from judgebench.judges import MetaRankingJudge, ReferenceStore
    from judgebench.routing import CascadeRouter, SelectionModel, SelectionRouter

    log = SqlRoutingLog(Store(store_path), flush_every=512)
    if kind == "cascade":
        refs = ReferenceStore()
        for q, a, ok in REFS:
            refs.add_example(q, a, ok)
        judge = MetaRankingJudge("sim/small", refs, n_references=2)
        return CascadeRouter(
            ["sim/small", "sim/generalist", "sim/large"],
            judge,
            [0.0, 0.0],
            name="load-cascade",
            log=log,
        )
    from judgebench.records import Query

    texts = [q.format(a=i, b=i + 3) for i in range(10) for q in QUESTIONS]
    queries = [Query(text=t) for t in texts]
    scores = np.array([[0.9, 0.4] if ("Python" in t or "km" in t) else [0.4, 0.9] for t in texts])
    model = SelectionModel.train(queries, scores, ["sim/coder", "sim/writer"], encoder="lexical")
    return SelectionRouter(model, name="load-selection", log=log)


async def drive(
    url: str, n: int, concurrency: int
) -> tuple[Counter, list[float], list[str], float]:
    import aiohttp

    statuses: Counter = Counter()
    latencies: list[float] = []
    lost: list[str] = []
    gate = asyncio.Semaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=120)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
        headers={"Authorization": f"Bearer {KEY}"}, timeout=timeout, connector=connector
    ) as session:

        async def one(i: int) -> None:
            body = {
                "model": "router",
                "messages": [
                    {"role": "user", "content": QUESTIONS[i % 4].format(a=i % 97, b=i % 13 + 2)}
                ],
            }
            async with gate:
                start = time.perf_counter()
                try:
                    async with session.post(f"{url}/chat/completions", json=body) as r:
                        data = json.loads(await r.read())
                        ok = (r.status == 200 and data["choices"][0]["message"]["content"]) or (
                            r.status != 200 and data["error"]["message"]
                        )
                        if r.status == 429 and "Retry-After" not in r.headers:
                            ok = False
                except Exception as exc:  # noqa: BLE001 - a lost request is what we count
                    lost.append(f"{type(exc).__name__}: {exc}")
                    return
                if not ok:
                    lost.append(f"status {r.status} without a proper body")
                    return
                statuses[r.status] += 1
                if r.status == 200:
                    latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return statuses, latencies, lost, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--router", choices=["cascade", "selection"], default="cascade")
    parser.add_argument(
        "--rate-limit", type=float, default=0.0, help="per-key requests/s (0 = off)"
    )
    parser.add_argument(
        "--max-in-flight", type=int, default=40, help="above this the server answers 429"
    )
    args = parser.parse_args()
    from judgebench.db import Store
    from judgebench.db.routing import routed_requests
    from judgebench.routing.config import ServerSettings
    from judgebench.routing.server import RouterServer
    from judgebench.sim.server import ServerThread

    os.environ["JB_LOAD_KEYS"] = KEY
    store_path = Path(tempfile.mkdtemp()) / "router-load.db"
    router = build_router(args.router, store_path)
    settings = ServerSettings(
        port=0,
        api_key_env="JB_LOAD_KEYS",
        rate_limit_per_s=args.rate_limit or None,
        burst=max(1, int(args.rate_limit)) if args.rate_limit else None,
        max_in_flight=args.max_in_flight,
    )
    server = RouterServer(router, settings)
    thread = ServerThread(server)
    thread.start()
    try:
        statuses, latencies, lost, wall = asyncio.run(
            drive(server.url, args.requests, args.concurrency)
        )
    finally:
        thread.stop()
    answered = statuses.get(200, 0)
    refused = sum(v for k, v in statuses.items() if k != 200)
    stored = len(routed_requests(Store(store_path), limit=None))
    finals = Counter(r["final_model"] for r in routed_requests(Store(store_path), limit=None))
    p50, p95 = (
        (np.percentile(latencies, [50, 95]) * 1000) if latencies else (float("nan"), float("nan"))
    )
    print(
        f"{args.requests} requests at concurrency {args.concurrency} → {args.router} router over SIMULATED models (max_in_flight {args.max_in_flight}, rate limit {args.rate_limit or 'off'})"
    )
    print(f"statuses: {dict(sorted(statuses.items()))}; lost: {len(lost)} {lost[:3]}")
    print(f"decisions stored: {stored} (answered {answered}); final models: {dict(finals)}")
    print(f"requests: {args.requests}")
    print(f"answered: {answered}")
    print(f"refused: {refused}")
    print(f"lost: {len(lost)}")
    print(f"p50_ms: {p50:.1f}")
    print(f"p95_ms: {p95:.1f}")
    print(f"requests_per_s: {args.requests / wall:.1f}")
    return 0 if not lost and stored == answered and answered + refused == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
