"""The skill signal survives the whole path: gateway → simulated answers → a judge prompt with
fenced texts → handler → shaped reply → parse. Specialists win their domain and lose the other."""

from __future__ import annotations

import json
import re
import statistics

import pytest

from judgebench.llm import gather_limited, get_gateway
from judgebench.prompts import fence, new_nonce
from judgebench.sim import SimReply, sim_task
from judgebench.sim.answer import write_answer
from judgebench.sim.assess import assess
from judgebench.sim.profiles import load_profile
from judgebench.sim.tasks import unregister_task
from judgebench.sim.text import rng_for
from tests.conftest import shared_path
from tests.sim.conftest import QUERIES, flat_profile

FORMAT = (
    "Output your final verdict strictly as [[A]] if assistant A is better, [[B]] if B is better."
)


@pytest.fixture
def pairwise_task():
    @sim_task("test.whole-path-pairwise", detect=lambda p: FORMAT in p, priority=100)
    def handle(ctx):
        query = ctx.blocks["QUESTION"][0]
        a, b = ctx.blocks["ANSWER_A"][0], ctx.blocks["ANSWER_B"][0]
        verdict, option_logprobs = ctx.prefer(query, a, b)
        return SimReply(ctx.shape(verdict, "verdict_brackets"), option_logprobs=option_logprobs)

    yield
    unregister_task("test.whole-path-pairwise")


def _verdict(reply: str) -> str | None:
    found = re.findall(r"\[\[(A|B|C)\]\]", reply)
    return found[-1] if found else None  # the last verdict is the meant one


async def _win_rate(model_x: str, model_y: str, domain: str) -> float:
    gateway = get_gateway()
    queries = QUERIES[domain]

    async def answer(model, query):
        return (await gateway.complete(model, [{"role": "user", "content": query}])).text

    answers_x = await gather_limited([lambda q=q: answer(model_x, q) for q in queries])
    answers_y = await gather_limited([lambda q=q: answer(model_y, q) for q in queries])

    async def judge(query, first, second):
        nonce = new_nonce()
        prompt = "\n\n".join(
            [
                fence(query, "QUESTION", nonce),
                fence(first, "ANSWER_A", nonce),
                fence(second, "ANSWER_B", nonce),
                FORMAT,
            ]
        )
        reply = await gateway.complete("sim/judge", [{"role": "user", "content": prompt}])
        return _verdict(reply.text)

    score = 0.0
    for query, x, y in zip(queries, answers_x, answers_y, strict=True):
        # both orders; a flip is a tie
        v1, v2 = await judge(query, x, y), await judge(query, y, x)
        score += 1.0 if (v1, v2) == ("A", "B") else 0.0 if (v1, v2) == ("B", "A") else 0.5
    return score / len(queries)


async def test_specialists_win_their_domain_through_the_gateway(pairwise_task):
    assert await _win_rate("sim/coder", "sim/writer", "coding") >= 0.8
    assert await _win_rate("sim/coder", "sim/writer", "writing") <= 0.2
    assert await _win_rate("sim/large", "sim/small", "knowledge") >= 0.8


@pytest.mark.real_data
def test_skill_signal_on_mt_bench_questions():
    path = shared_path("mt_bench", "mt_bench", "question.jsonl")
    rows = [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    skilled, unskilled, judge = (
        flat_profile("s", 0.85),
        flat_profile("u", 0.2),
        load_profile("sim/judge"),
    )
    wins = 0
    for row in rows:
        query = row["turns"][0]
        good = statistics.mean(
            assess(
                query,
                write_answer(query, skilled, rng_for(query, i)),
                judge=judge,
                rng=rng_for("g", query, i),
            )
            for i in range(2)
        )
        bad = statistics.mean(
            assess(
                query,
                write_answer(query, unskilled, rng_for(query, i)),
                judge=judge,
                rng=rng_for("b", query, i),
            )
            for i in range(2)
        )
        wins += good > bad
    assert wins / len(rows) >= 0.95
