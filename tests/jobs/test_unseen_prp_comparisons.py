"""A PRP judge's comparisons that never parsed are counted in the run (a ``comparisons`` stage
beside responses and judgments) and make it ``partial``, by the same max_error_rate rule as an
invalid judgment; before, every candidate still ranked and the run ended ``ok``."""

from __future__ import annotations

import json
import re

import pytest

from judgebench.db import Store
from judgebench.jobs import JobRunner, parse_job
from judgebench.llm.scripted import ScriptedBackend
from judgebench.prompts import unfence
from tests.jobs.conftest import fresh_gateway, job_dict, write_queries


def first_pair_never_parses():  # type: ignore[no-untyped-def]
    """Per query, every reply about the first pair of candidates seen is unparseable (both
    orders); the other two pairs parse, so each of three candidates keeps a parsed comparison."""
    failing: dict[str, frozenset[str]] = {}

    def respond(prompt: str, model: str) -> str:
        case = re.search(r"\(case \d+\)", prompt).group(0)  # type: ignore[union-attr]
        blocks = unfence(prompt)
        pair = frozenset((blocks["CANDIDATE_A"][0], blocks["CANDIDATE_B"][0]))
        if failing.setdefault(case, pair) == pair:
            return "Both are fine; it depends on the reader."
        return json.dumps({"preferred": "A", "reason": "it is better"})

    return respond


def run_job(tmp_path, responder, **extra):  # type: ignore[no-untyped-def]
    queries = write_queries(tmp_path / "q.jsonl", 2)
    judges = [{"kind": "prp", "model": "scripted/judge", "max_repairs": 0, "method": "allpairs"}]
    data = job_dict(
        f"sqlite:///{tmp_path / 'c.db'}",
        queries,
        models=("sim/coder", "sim/small", "sim/writer"),
        judges=judges,
        **extra,
    )
    store = Store(data["store"])
    fresh_gateway(store).register_backend("scripted", ScriptedBackend(responder=responder))
    result = JobRunner(parse_job(data), store=store).run()
    return result, store.get_run(result.run_id)


@pytest.mark.parametrize("engine", ["pipelined", "staged"])
def test_an_unparsed_comparison_is_counted_and_makes_the_run_partial(tmp_path, engine):
    result, run = run_job(tmp_path, first_pair_never_parses(), engine=engine)
    # every candidate is still ranked: only the comparisons say something never parsed
    assert run.counts["judgments"] == {"ok": 6, "invalid": 0, "error": 0, "skipped": 0}
    assert run.counts["comparisons"] == {"ok": 4, "invalid": 2, "error": 0, "skipped": 0}
    assert run.status == result.status == "partial"
    assert "comparisons: 33.3% not ok" in run.reason


def test_a_tolerated_share_of_unparsed_comparisons_leaves_the_run_ok(tmp_path):
    result, run = run_job(tmp_path, first_pair_never_parses(), max_error_rate=0.5)
    assert run.counts["comparisons"]["invalid"] == 2
    assert run.status == "ok"


def test_comparisons_that_all_parse_leave_the_run_ok(tmp_path):
    ok = lambda p, m: json.dumps({"preferred": "A", "reason": "it is better"})  # noqa: E731
    _, run = run_job(tmp_path, ok)
    assert run.counts["comparisons"] == {"ok": 6, "invalid": 0, "error": 0, "skipped": 0}
    assert run.status == "ok"
