"""An evaluation job at scale through the sim-server: wall time, calls/s, memory, rerun cost.

Starts ``judgebench sim-server`` in its own process with a lognormal latency (median 1,000 ms,
sigma 0.5, mean ~1.13 s; real providers take 1–30 s per call; ``--latency-ms`` varies it),
then runs, each in a fresh child process
(so peak RSS is the job's own):

1. a job of N imported queries × 4 simulated models, judged by PC² (K = 2 auxiliary models),
   over the OpenAI-compatible HTTP route with the SQLite call cache — everything a real job
   does; then the same job again (it must make no call);
2. the same job at N / 4 queries, in a fresh store: the baseline for memory (streaming in
   chunks keeps peak memory flat as the job grows);
3. the throughput baseline: the same calls as the big job made — the same models, as many
   calls to each (read from the job's call cache: 4 response models, the aux models, the
   judge) — sent straight through the gateway (``complete_many``, a fresh SQLite call cache,
   no job machinery) to the same sim-server, with the same per-endpoint cap: the settings give
   every ``sim/*`` model ``max_concurrency`` = ``--concurrency``, the job's ``concurrency``
   caps each endpoint at the same number, and ``complete_many``'s own bound is set to twice
   the sum of the caps so it never binds. ``job_overhead_ratio`` = job calls/s ÷ these
   calls/s: like with like, both limited by the same endpoint caps.

Why these defaults (latency 1,000 ms, concurrency 64): a PC² job sends half of its calls (6 of
12 per query) to the judge model, so both sides are paced by that endpoint: 64 slots ÷ ~1.13 s
≈ 56 judge calls/s, ~113 calls/s in all, 384 calls in flight at most. At N = 1,000 that kept
the job process at about a sixth of one core and the sim-server at about a tenth (the
``*_cpu_share`` lines: CPU seconds ÷ wall seconds, measured in the run, not assumed), the raw
side lower still, on this 2-core machine: both are latency-bound, so the ratio measures what
the job's scheduling makes of the endpoint caps, not the CPU cost of a call (at 500 ms the
job used a quarter of a core and still kept the judge endpoint full, but its fixed costs —
import, taxonomy assignment, the summary — weighed twice as much at N = 1,000). Much faster
settings (``--latency-ms 50``) turn it into a CPU benchmark of this machine.

Both the job and the raw baseline sample the calls in flight at every endpoint (holding a
slot of the gateway's limiter: sent, not queued) every 0.1 s (a thread): the mean while calls
were in flight, the peak (at most concurrency × endpoints), and how long the job took before
its first call (import and taxonomy assignment).

    python bench/job_scale.py                       # N = 10000, latency 1000 ms, concurrency 64, chunk 250
    python bench/job_scale.py --n 1000
    python bench/job_scale.py --n 1000 --engine staged   # the staged engine, for comparison

Ends with ``wall_s``, ``calls_per_s``, ``peak_rss_mb``, ``second_run_calls`` (the big job),
plus ``raw_gateway_calls_per_s``, ``job_overhead_ratio``, ``small_peak_rss_mb``,
``rss_growth_ratio``, ``second_run_s``, ``job_mean_in_flight``, ``job_peak_in_flight``,
``raw_mean_in_flight``, ``raw_peak_in_flight``, ``job_cpu_share``, ``raw_cpu_share``,
``server_cpu_share_job``, ``server_cpu_share_raw`` and ``job_first_call_s``.
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
    """Samples the current gateway's calls in flight (holding an endpoint slot: sent, not
    queued for one) every 0.1 s; yields a function returning {mean (over samples with calls in
    flight), peak, first_call_s (from the start), per_model: {model: mean in flight over the
    samples where any call was}}."""
    import judgebench.llm.gateway as gw

    samples: list[tuple[float, dict[str, int]]] = []
    stop = threading.Event()
    start = time.perf_counter()

    def sample() -> None:
        while not stop.wait(0.1):
            # each endpoint's limiter, read without creating a gateway (a bench-only gauge)
            limits = getattr(gw._default, "_limits", {})
            now = {m: c.in_flight for m, (c, _) in list(limits.items())}
            samples.append((time.perf_counter() - start, now))

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()

    def summary() -> dict:
        busy = [now for _, now in samples if sum(now.values()) > 0]
        totals = [sum(now.values()) for now in busy]
        models = sorted({m for now in busy for m in now})
        return {
            "mean": sum(totals) / len(totals) if totals else 0.0,
            "peak": max(totals, default=0),
            "first_call_s": next((t for t, now in samples if sum(now.values()) > 0), 0.0),
            "per_model": {m: sum(now.get(m, 0) for now in busy) / len(busy) for m in models},
        }

    try:
        yield summary
    finally:
        stop.set()
        thread.join()
        trace = os.environ.get("JOB_SCALE_TRACE")
        if trace:  # every sample, for a closer look (not part of the report)
            with open(trace, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(samples) + "\n")


def cpu_s() -> float:
    """CPU seconds this process has used (user + system)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def process_cpu_s(pid: int) -> float:
    """CPU seconds another process has used (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def calls_by_model(store_url: str) -> dict[str, int]:
    """The job's calls per model, from its call cache (every call it made is cached)."""
    from sqlalchemy import func, select

    from judgebench.db import Store
    from judgebench.db.models import LLMCallRow

    with Store(store_url).session() as s:
        rows = s.execute(select(LLMCallRow.model, func.count()).group_by(LLMCallRow.model))
        return {model: int(n) for model, n in rows}


def worker(job_file: str) -> None:
    """Child process: run the job twice; print one JSON line."""
    from judgebench.jobs import JobRunner, load_job
    from judgebench.llm import set_gateway

    job = load_job(job_file)
    with in_flight_gauge() as gauge:
        start, cpu = time.perf_counter(), cpu_s()
        first = JobRunner(job).run()
        wall, cpu = time.perf_counter() - start, cpu_s() - cpu
    flight = gauge()
    mix = calls_by_model(job.store)
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
                "mix": mix,
                "cpu_s": cpu,
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


def raw_requests(mix: dict[str, int]) -> list:
    """``mix[model]`` distinct calls per model, interleaved in proportion (so every endpoint is
    asked for work from the start to the end, as in a job)."""
    from judgebench.llm import LLMRequest

    order = sorted(((i + 0.5) / n, model, i) for model, n in sorted(mix.items()) for i in range(n))
    return [
        LLMRequest(
            model,
            [{"role": "user", "content": f"{TASKS[i % len(TASKS)].format(x=model)} (item {i})"}],
            params={"temperature": 0, "max_tokens": 400},
        )
        for _, model, i in order
    ]


def raw_worker(mix: dict[str, int], concurrency: int) -> None:
    """Child process: the job's calls (same models, same counts) straight through the gateway,
    at the same per-endpoint cap (the settings' ``max_concurrency``); one JSON line."""
    from judgebench.db import Store
    from judgebench.db.callcache import SQLCallCache
    from judgebench.llm import Gateway, LLMError, run_sync, set_gateway

    folder = Path(tempfile.mkdtemp(prefix="job_scale_raw_"))
    gateway = Gateway(cache=SQLCallCache(Store(folder / "raw.db")))  # as a job builds it
    requests = raw_requests(mix)
    # enough workers that the endpoint caps bind, not complete_many's own bound: twice the
    # slots of every endpoint
    workers = 2 * concurrency * len(mix)
    set_gateway(gateway)  # the gauge reads the current gateway
    with in_flight_gauge() as gauge:
        start, cpu = time.perf_counter(), cpu_s()
        results = run_sync(
            lambda: gateway.complete_many(requests, progress=False, max_in_flight=workers)
        )
        wall, cpu = time.perf_counter() - start, cpu_s() - cpu
    gateway.flush()
    ok = sum(1 for r in results if not isinstance(r, LLMError))
    out = {
        "calls": len(requests),
        "ok": ok,
        "made": gateway.calls_made,
        "wall_s": wall,
        "cpu_s": cpu,
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
    # latency-bound on 2 cores, and N = 10,000 in ~25 min (see the docstring)
    parser.add_argument("--latency-ms", type=float, default=1000.0)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--chunk", type=int, default=250)
    parser.add_argument("--engine", choices=["pipelined", "staged"], default="pipelined")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--raw-worker", help=argparse.SUPPRESS)  # the call mix, JSON
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    if args.raw_worker:
        raw_worker(json.loads(args.raw_worker), args.concurrency)
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
        big_server_cpu = process_cpu_s(server.pid)
        big = run_child(args.n, args, config)
        big_server_cpu = process_cpu_s(server.pid) - big_server_cpu
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
        mix = big["mix"]
        print(f"  calls per endpoint (N={args.n}): {mix}")
        raw_cpu = process_cpu_s(server.pid)
        raw = child(
            ["--raw-worker", json.dumps(mix), "--concurrency", str(args.concurrency)],
            config,
            "raw gateway baseline",
        )
        raw_cpu = process_cpu_s(server.pid) - raw_cpu
        assert raw["ok"] == raw["made"] == raw["calls"], raw
        print(
            f"  raw gateway (no job): {raw['calls']} calls in {raw['wall_s']:.1f} s, "
            f"{raw['calls'] / raw['wall_s']:.0f} calls/s, in flight: mean "
            f"{raw['in_flight']['mean']:.0f}, peak {raw['in_flight']['peak']}"
        )
        # CPU used ÷ wall time (1.0 = one core busy all along): well under 1 for the client
        # and the sim-server means latency, not CPU, set the pace
        shares = {
            "job_cpu_share": big["cpu_s"] / big["wall_s"],
            "raw_cpu_share": raw["cpu_s"] / raw["wall_s"],
            "server_cpu_share_job": big_server_cpu / big["wall_s"],
            "server_cpu_share_raw": raw_cpu / raw["wall_s"],
        }
        print(
            "  CPU ÷ wall: job {job_cpu_share:.2f} (sim-server {server_cpu_share_job:.2f}), "
            "raw {raw_cpu_share:.2f} (sim-server {server_cpu_share_raw:.2f}); "
            "load average {load:.1f}".format(**shares, load=os.getloadavg()[0])
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
    print(f"raw_peak_in_flight: {raw['in_flight']['peak']}")
    for name, value in shares.items():
        print(f"{name}: {value:.2f}")
    print(f"job_first_call_s: {big['in_flight']['first_call_s']:.1f}")
    print(f"latency_ms: {args.latency_ms:.0f}")
    print(f"queries: {args.n}")


if __name__ == "__main__":
    main()
