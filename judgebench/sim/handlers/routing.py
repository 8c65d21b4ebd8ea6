"""Simulated answer to the router's fusion prompt (``router:fusion``).

The fuser reads what a real model would: the fenced query and candidate answers and the router
weight printed beside each. It judges each candidate with its own (skill-dependent, noisy)
reading, leans a little on the printed weights, and writes back the candidate it finds best —
or its own answer when that reads better still. The reply goes through ``ctx.shape`` so refusals,
hedges and cut-off replies happen at the profile's rates.
"""

from __future__ import annotations

import re

from judgebench.sim.tasks import TaskContext, sim_task

FUSION_MARK = "Reply with the final answer to the query between <answer> and </answer> tags"
_WEIGHT = re.compile(r"\(router weight ([0-9.]+)\)")


@sim_task("router.fusion", lambda p: FUSION_MARK in p)
def fusion(ctx: TaskContext) -> str:
    query = ctx.block("QUERY")
    answers = ctx.blocks.get("ANSWER") or []
    weights = [float(w) for w in _WEIGHT.findall(ctx.prompt)]
    if len(weights) != len(answers):
        weights = [1.0 / max(1, len(answers))] * len(answers)
    own = ctx.answer(query)
    options = [(ctx.assess(query, a) + 0.1 * w, a) for a, w in zip(answers, weights, strict=True)]
    options.append((ctx.assess(query, own), own))
    best = max(options, key=lambda item: item[0])[1]
    return ctx.shape(best, "tag:answer")
