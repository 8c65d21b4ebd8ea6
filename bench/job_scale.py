"""An evaluation job at scale through the sim-server: wall time, calls/s, memory, rerun cost.

Starts ``judgebench sim-server`` in its own process with a lognormal latency (median 1,000 ms
by default: real providers take 1–30 s per call, so a job should be bound by latency and the
concurrency it is given, not by this machine's CPU; ``--latency-ms`` varies it), then runs, each
in a fresh child process (so peak RSS is the job's own):

1. a job of N imported queries × 4 simulated models, judged by PC² (K = 2 auxiliary models),
   over the OpenAI-compatible HTTP route with the SQLite call cache — everything a real job
   does; then the same job again (it must make no call);
2. the same job at N / 4 queries, in a fresh store: the baseline for memory (streaming in
   chunks keeps peak memory flat as the job grows) and for throughput per call;
3. the throughput baseline: as many calls as the big job made, sent straight through the
   gateway (``complete_many``, same SQLite call cache, same models, same in-flight limit, no
   job machinery) to the same sim-server; ``job_overhead_ratio`` = job calls/s ÷ these calls/s.

Both the job and the raw baseline sample the gateway's calls in flight every 0.1 s (a thread), so
the output says how much of the concurrency each used: the mean while calls were in flight, the
peak, and how long the job took before its first call (import and taxonomy assignment).

    python bench/job_scale.py                       # N = 10000, latency 1000 ms, concurrency 128, chunk 250
    python bench/job_scale.py --n 1000 --latency-ms 500
    python bench/job_scale.py --n 1000 --engine staged   # the staged engine, for comparison

Ends with ``wall_s``, ``calls_per_s``, ``peak_rss_mb``, ``second_run_calls`` (the big job),
plus ``raw_gateway_calls_per_s``, ``job_overhead_ratio``, ``small_peak_rss_mb``,
``rss_growth_ratio``, ``second_run_s``, ``job_mean_in_flight``, ``job_peak_in_flight``,
``raw_mean_in_flight`` and ``job_first_call_s``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("JUDGEBENCH_ENCODER", "lexical")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TASKS = [
    "Write a Python function that {x}, with tests.",
    "Explain how {x} works to a new colleague.",
    "Write a short poem about {x}.",
    "Solve step by step: {x}.",
    "Compare two ways of {x} and recommend one.",
    "Debug this: my code for {x} fails with a TypeError.",
    "You are a tour guide; describe {x} to visitors.",
    "Is this argument valid? Everyone who studies {x} passes; Sam passed.",
]
THINGS = [
    "parsing dates in log files",
    "the water cycle",
    "a train leaving at 3 pm at 80 km/h",
    "caching HTTP requests",
    "autumn in the mountains",
    "merging sorted lists",
    "compound interest on 1000 dollars at 5 percent",
    "the causes of the French Revolution",
    "a medieval castle",
    "photosynthesis",
    "binary search",
    "negotiating a salary",
]


def write_queries(path: Path, n: int) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            task = TASKS[i % len(TASKS)].format(x=THINGS[(i // len(TASKS)) % len(THINGS)])
            fh.write(json.dumps({"text": f"{task} (item {i})"}) + "\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def job_yaml(folder: Path, n: int, concurrency: int, chunk: int, engine: str) -> Path:
    import yaml

    queries = folder / "queries.jsonl"
    write_queries(queries, n)
    job = {
        "name": f"scale-{n}",
        "store": f"sqlite:///{folder / 'jobs.db'}",
        "taxonomy": {"source": "default", "max_depth": 3},
        "queries": {"files": [str(queries)], "encoder": "lexical"},
        "models": [
            {"name": m, "params": {"temperature": 0, "max_tokens": 400}}
            for m in ("sim/coder", "sim/writer", "sim/generalist", "sim/small")
        ],
        "judges": [
            {"kind": "pc2", "model": "sim/judge", "aux_models": ["sim/large", "sim/generalist"]}
        ],
        "concurrency": concurrency,
        "chunk_size": chunk,
        "engine": engine,
    }
    path = folder / "job.yaml"
    path.write_text(yaml.safe_dump(job), encoding="utf-8")
    return path


@contextmanager
def in_flight_gauge() -> Iterator[Callable[[], dict]]:
    """Samples the current gateway's calls in flight every 0.1 s; yields a function returning
    {mean (over samples with calls in flight), peak, first_call_s (from the start)}."""
    import judgebench.llm.gateway as gw

    samples: list[tuple[float, int]] = []
    stop = threading.Event()
    start = time.perf_counter()

    def sample() -> None:
        while not stop.wait(0.1):
            # the current gateway's own counter, read without creating one (a bench-only gauge)
            n = getattr(gw._default, "_in_flight", 0)
            samples.append((time.perf_counter() - start, n))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def summary() -> dict:
        busy = [n for _, n in samples if n > 0]
        first = next((t for t, n in samples if n > 0), 0.0)
        return {
            "mean": sum(busy) / len(busy) if busy else 0.0,
            "peak": max(busy, default=0),
            "first_call_s": first,
        }

    try:
        yield summary
    finally:
        stop.set()
        thread.join()


def worker(job_file: str) -> None:
    """Child process: run the job twice; print one JSON line."""
    from judgebench.jobs import JobRunner, load_job
    from judgebench.llm import set_gateway

    job = load_job(job_file)
    with in_flight_gauge() as gauge:
        start = time.perf_counter()
        first = JobRunner(job).run()
        wall = time.perf_counter() - start
    flight = gauge()
    rss_first = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    set_gateway(None)  # a fresh gateway: its counters start at zero, its cache is the store's
    start = time.perf_counter()
    second = JobRunner(load_job(job_file)).run()
    second_s = time.perf_counter() - start
    print(
        json.dumps(
            {
                "status": first.status,
                "queries": first.queries,
                "wall_s": wall,
                "calls": first.calls,
                "cache_hits": first.usage.get("cache_hits", 0),
                "peak_rss_mb": rss_first,
                "second_status": second.status,
                "second_run_calls": second.calls,
                "second_run_cache_hits": second.usage.get("cache_hits", 0),
                "second_run_s": second_s,
                "stages": first.stages,
                "in_flight": flight,
            }
        )
    )


RAW_MODELS = ("sim/coder", "sim/writer", "sim/generalist", "sim/small", "sim/judge", "sim/large")


def raw_worker(calls: int, concurrency: int) -> None:
    """Child process: ``calls`` distinct calls straight through the gateway; one JSON line."""
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, LLMError, LLMRequest, run_sync, set_gateway

    folder = Path(tempfile.mkdtemp(prefix="job_scale_raw_"))
    gateway = Gateway(cache=SQLCallCache(Store(folder / "raw.db")))  # as a job builds it
    texts = folder / "queries.jsonl"
    write_queries(texts, calls)
    prompts = [json.loads(line)["text"] for line in texts.read_text(encoding="utf-8").splitlines()]
    requests = [
        LLMRequest(
            RAW_MODELS[i % len(RAW_MODELS)],
            [{"role": "user", "content": prompt}],
            params={"temperature": 0, "max_tokens": 400},
        )
        for i, prompt in enumerate(prompts)
    ]
    set_gateway(gateway)  # the gauge reads the current gateway
    with in_flight_gauge() as gauge:
        start = time.perf_counter()
        results = run_sync(
            lambda: gateway.complete_many(requests, progress=False, max_in_flight=concurrency)
        )
        wall = time.perf_counter() - start
    gateway.flush()
    ok = sum(1 for r in results if not isinstance(r, LLMError))
    out = {
        "calls": calls,
        "ok": ok,
        "made": gateway.calls_made,
        "wall_s": wall,
        "in_flight": gauge(),
    }
    print(json.dumps(out))


def run_child(n: int, args: argparse.Namespace, config: Path) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"job_scale_{n}_"))
    job_file = job_yaml(folder, n, args.concurrency, args.chunk, args.engine)
    return child(["--worker", str(job_file)], config, f"job of {n} queries")


def child(argv: list[str], config: Path, what: str) -> dict:
    env = {**os.environ, "JUDGEBENCH_CONFIG": str(config), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, __file__, *argv],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    # real providers take 1-30 s per call; 1 s keeps the bench short and still latency-bound
    parser.add_argument("--latency-ms", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=128)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--engine", choices=["pipelined", "staged"], default="pipelined")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--raw-worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.raw_worker:
        raw_worker(args.raw_worker, args.concurrency)
        return
    # SIGTERM runs the finally below, so the sim-server does not outlive the bench
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "judgebench",
            "sim-server",
            "--port",
            str(port),
            "--latency-ms",
            str(args.latency_ms),
            "--latency-dist",
            "lognormal",
            "--latency-sigma",
            "0.5",
        ],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import httpx

        for _ in range(100):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        config = Path(tempfile.mkdtemp()) / "judgebench.yaml"
        config.write_text(
            "models:\n"
            + f'  "sim/*": {{api_base: "http://127.0.0.1:{port}/v1", max_concurrency: {args.concurrency}}}\n',
            encoding="utf-8",
        )
        small_n = max(args.n // 4, 1)
        print(
            f"job: N queries × 4 simulated models, PC² judge; sim-server latency "
            f"{args.latency_ms:.0f} ms lognormal, concurrency {args.concurrency}, chunk {args.chunk}, "
            f"{args.engine} engine"
        )
        small = run_child(small_n, args, config)
        print(
            f"  N={small_n:>6}: {small['wall_s']:.1f} s, {small['calls']} calls, "
            f"{small['calls'] / small['wall_s']:.0f} calls/s, peak RSS {small['peak_rss_mb']:.0f} MB, "
            f"rerun {small['second_run_calls']} calls in {small['second_run_s']:.1f} s"
        )
        big = run_child(args.n, args, config)
        print(
            f"  N={args.n:>6}: {big['wall_s']:.1f} s, {big['calls']} calls, "
            f"{big['calls'] / big['wall_s']:.0f} calls/s, peak RSS {big['peak_rss_mb']:.0f} MB, "
            f"rerun {big['second_run_calls']} calls in {big['second_run_s']:.1f} s"
        )
        print(f"  stages (N={args.n}): {big['stages']}")
        fl = big["in_flight"]
        print(
            f"  job calls in flight (N={args.n}): mean {fl['mean']:.0f}, peak {fl['peak']}, "
            f"first call after {fl['first_call_s']:.1f} s"
        )
        assert big["status"] == small["status"] == "ok", (big["status"], small["status"])
        raw = child(
            ["--raw-worker", str(big["calls"]), "--concurrency", str(args.concurrency)],
            config,
            "raw gateway baseline",
        )
        assert raw["ok"] == raw["made"] == raw["calls"], raw
        print(
            f"  raw gateway (no job): {raw['calls']} calls in {raw['wall_s']:.1f} s, "
            f"{raw['calls'] / raw['wall_s']:.0f} calls/s, in flight: mean "
            f"{raw['in_flight']['mean']:.0f}, peak {raw['in_flight']['peak']}"
        )
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"wall_s: {big['wall_s']:.1f}")
    print(f"calls_per_s: {big['calls'] / big['wall_s']:.1f}")
    raw_rate = raw["calls"] / raw["wall_s"]
    print(f"raw_gateway_calls_per_s: {raw_rate:.1f}")
    print(f"job_overhead_ratio: {big['calls'] / big['wall_s'] / raw_rate:.3f}")
    print(f"peak_rss_mb: {big['peak_rss_mb']:.0f}")
    print(f"second_run_calls: {big['second_run_calls']}")
    print(f"second_run_s: {big['second_run_s']:.1f}")
    print(f"small_peak_rss_mb: {small['peak_rss_mb']:.0f}")
    print(f"rss_growth_ratio: {big['peak_rss_mb'] / small['peak_rss_mb']:.2f}")
    print(f"job_mean_in_flight: {big['in_flight']['mean']:.0f}")
    print(f"job_peak_in_flight: {big['in_flight']['peak']}")
    print(f"raw_mean_in_flight: {raw['in_flight']['mean']:.0f}")
    print(f"job_first_call_s: {big['in_flight']['first_call_s']:.1f}")
    print(f"latency_ms: {args.latency_ms:.0f}")
    print(f"queries: {args.n}")


if __name__ == "__main__":
    main()
