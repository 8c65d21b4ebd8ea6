"""The skill signal survives the whole judge path with simulated models: gateway → sim answers
→ judge template with fenced texts → sim handler → shaped reply → strict parser → Judgment.
The coder profile must win on coding and lose on writing, whichever judge reads them."""

from __future__ import annotations

import statistics

import pytest

from judgebench.judges import PairwiseJudge, PC2Judge, PRPRanker, RubricJudge
from judgebench.llm import gather_limited, get_gateway
from judgebench.records import Query, Response
from tests.sim.conftest import QUERIES

JUDGE = "sim/judge"
X, Y = "sim/coder", "sim/writer"  # coder: coding 0.9 / writing 0.25; writer: the reverse


async def answers(domain: str) -> list[tuple[Query, Response, Response]]:
    gateway = get_gateway()

    async def one(model: str, q: Query) -> Response:
        c = await gateway.complete(model, [{"role": "user", "content": q.text}])
        return Response(query_id=q.id, model=model, text=c.text)

    queries = [Query(text=t) for t in QUERIES[domain]]
    xs = await gather_limited([lambda q=q: one(X, q) for q in queries])
    ys = await gather_limited([lambda q=q: one(Y, q) for q in queries])
    return list(zip(queries, xs, ys, strict=True))


@pytest.mark.parametrize(("domain", "x_better"), [("coding", True), ("writing", False)])
async def test_pairwise_follows_domain_skill(domain, x_better):
    items = await answers(domain)
    judged = await PairwiseJudge(JUDGE).evaluate_pairs([(q, x, y) for q, x, y in items])
    ok = [j for j in judged if j.ok]
    assert len(ok) >= 0.75 * len(judged)
    x_wins = sum(j.verdict == "A" for j in ok) + 0.5 * sum(j.verdict == "tie" for j in ok)
    rate = x_wins / len(ok)
    assert (rate > 0.7) if x_better else (rate < 0.3), rate
    assert all(j.model == X and j.model_b == Y for j in judged)


@pytest.mark.parametrize(("domain", "x_better"), [("coding", True), ("writing", False)])
async def test_rubric_and_pc2_scores_follow_domain_skill(domain, x_better):
    items = await answers(domain)
    for judge in (
        RubricJudge(JUDGE),
        PC2Judge(JUDGE, aux_models=["sim/large", "sim/generalist", "sim/small"]),
    ):
        xs = await judge.evaluate_many([(q, x) for q, x, _ in items])
        ys = await judge.evaluate_many([(q, y) for q, _, y in items])
        sx = [j.score for j in xs if j.ok]
        sy = [j.score for j in ys if j.ok]
        assert len(sx) >= 6 and len(sy) >= 6, [j.reason for j in xs + ys if not j.ok]
        mx, my = statistics.mean(sx), statistics.mean(sy)
        assert (mx > my) if x_better else (mx < my), (judge.name, mx, my)


async def test_prp_ranks_the_domain_specialist_first():
    items = await answers("coding")
    wins = 0
    for q, x, y in items[:4]:
        ranking = await PRPRanker(JUDGE, method="allpairs").rank(q, [y, x])
        wins += ranking.order[0] == 1
    assert wins >= 3


async def test_sloppy_simulated_judge_replies_are_repaired_or_stored_invalid():
    """sim/small writes malformed replies at its profile's rates (preambles, fences, 8/10,
    ranges, refusals, truncation, template echoes): the parser and repair loop must cope."""
    items = await answers("coding")
    judge = RubricJudge("sim/small", max_repairs=1)
    judged = await judge.evaluate_many([(q, r) for q, x, y in items for r in (x, y)])
    repaired = [j for j in judged if j.ok and len(j.raw_replies) > 1]
    invalid = [j for j in judged if not j.ok]
    assert all(1 <= j.score <= 10 and float(j.score).is_integer() for j in judged if j.ok)
    assert all(j.reason and len(j.raw_replies) == 2 for j in invalid)
    assert repaired or invalid  # at these rates some of the 16 replies are malformed
    assert len(invalid) < len(judged) / 2
