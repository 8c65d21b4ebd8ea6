"""How fast the simulated provider answers, in process, beside a trivial backend.

The simulator must never be the bottleneck of a benchmark (the gateway bench pushes > 600
calls/s). This measures ``SimBackend.complete_now`` on the kinds of call judgebench makes —
ordinary answers, a pairwise judge prompt with two fenced answers (handler, assess, shape),
chat with logprobs, and TRLM-style echo scoring of a prompt — beside a baseline taken in the
same run: a backend that returns a fixed string with token counts (the least any backend does).
Medians over ``--rounds``.

    python bench/sim_backend.py            # 2000 calls per kind, 3 rounds
    python bench/sim_backend.py --n 300 --rounds 1

Ends with ``name: value`` headline lines (see ../shared/docs/BENCH.md).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from judgebench.llm.types import Completion  # noqa: E402
from judgebench.prompts import fence  # noqa: E402
from judgebench.records import Usage  # noqa: E402
from judgebench.sim import SimBackend, SimReply, sim_task  # noqa: E402
from judgebench.sim.tasks import unregister_task  # noqa: E402
from judgebench.sim.text import count_tokens  # noqa: E402

QUERIES = [
    "Write a Python function that merges two sorted lists into one sorted list.",
    "Explain the causes of the French Revolution and its impact on European politics.",
    "Compose an engaging travel blog post about a recent trip to Hawaii.",
    "Solve the equation 3x + 7 = 22 for x.",
    "Pretend you are a pirate captain and greet your crew before a storm.",
    "Alice is older than Bob, and Bob is older than Carol. Who is the youngest?",
]
FORMAT = "Output your final verdict strictly as [[A]] or [[B]]."


def fixed_backend(model: str, messages: list[dict], prompt: str | None, params: dict) -> Completion:
    text = "A fixed reply."
    return Completion(
        model=model,
        text=text,
        finish_reason="stop",
        usage=Usage(prompt_tokens=count_tokens(messages[0]["content"]), completion_tokens=4),
    )


def rate(fn: Callable[[int], object], n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="calls per kind and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    @sim_task("bench.pairwise", detect=lambda p: FORMAT in p, priority=100)
    def pairwise(ctx):  # type: ignore[no-untyped-def]
        query = ctx.blocks["QUESTION"][0]
        a, b = ctx.blocks["ANSWER"]
        verdict, option_logprobs = ctx.prefer(query, a, b)
        text = ctx.shape(
            verdict, "verdict_brackets", rationale=ctx.rationale(query, a, "Assistant A")
        )
        return SimReply(text, option_logprobs=option_logprobs)

    backend = SimBackend()

    def chat(model: str, content: str, **params: object) -> Completion:
        return backend.complete_now(
            model, [{"role": "user", "content": content}], None, dict(params)
        )

    # distinct requests so no cache inside the simulator flatters the numbers
    def ask(i: int) -> str:
        return f"{QUERIES[i % len(QUERIES)]} (variant {i})"

    judge_prompts = []
    for i in range(min(args.n, 600)):
        q = ask(i)
        a, b = chat("sim/large", q).text, chat("sim/small", q).text
        judge_prompts.append(
            "\n\n".join(
                [
                    fence(q, "QUESTION", "0f0f0f0f"),
                    fence(a, "ANSWER", "0f0f0f0f"),
                    fence(b, "ANSWER", "0f0f0f0f"),
                    FORMAT,
                ]
            )
        )
    echo_prompts = [
        f"{chat('sim/large', ask(i)).text}\n\nThe above answers the question: {ask(i)}"
        for i in range(min(args.n, 600))
    ]

    kinds: dict[str, Callable[[int], object]] = {
        "baseline": lambda i: fixed_backend(
            "sim/x", [{"role": "user", "content": ask(i)}], None, {}
        ),
        "chat": lambda i: chat("sim/generalist", ask(i), temperature=0.7, sample_index=i),
        "judge": lambda i: chat(
            "sim/judge", judge_prompts[i % len(judge_prompts)], temperature=0.7, sample_index=i
        ),
        "chat_logprobs": lambda i: chat("sim/generalist", ask(i), logprobs=True, top_logprobs=5),
        "echo": lambda i: backend.complete_now(
            "sim/small",
            None,
            echo_prompts[i % len(echo_prompts)] + f" ({i})",
            {"echo": True, "logprobs": 1, "max_tokens": 0},
        ),
    }
    results: dict[str, list[float]] = {k: [] for k in kinds}
    try:
        for _ in range(args.rounds):
            for name, fn in kinds.items():
                results[name].append(rate(fn, args.n))
    finally:
        unregister_task("bench.pairwise")

    med = {k: statistics.median(v) for k, v in results.items()}
    print(f"simulated provider, in process, {args.n} calls x {args.rounds} rounds (medians)")
    for name, value in med.items():
        print(f"  {name:<14} {value:10.0f} calls/s   {1000 / value:7.3f} ms/call")
    print(f"sim_chat_calls_per_s: {med['chat']:.0f}")
    print(f"sim_judge_calls_per_s: {med['judge']:.0f}")
    print(f"sim_chat_logprobs_calls_per_s: {med['chat_logprobs']:.0f}")
    print(f"sim_echo_calls_per_s: {med['echo']:.0f}")
    print(f"baseline_calls_per_s: {med['baseline']:.0f}")
    print(f"chat_ms_over_baseline: {1000 / med['chat'] - 1000 / med['baseline']:.3f}")


if __name__ == "__main__":
    main()
