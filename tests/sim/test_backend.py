"""SimBackend: determinism, usage and cost, max_tokens, logprobs, echo, task dispatch."""

from __future__ import annotations

import json
import statistics
import time

import pytest

from judgebench.llm import BadRequestError, Completion
from judgebench.llm import complete as gateway_complete
from judgebench.prompts import fence
from judgebench.sim import SimBackend, SimReply, load_profile, sim_task
from judgebench.sim.tasks import unregister_task
from judgebench.sim.text import tokenize
from tests.sim.conftest import QUERIES

BACKEND = SimBackend()


def chat(model="sim/generalist", content=QUERIES["coding"][0], **params) -> Completion:
    return BACKEND.complete_now(model, [{"role": "user", "content": content}], None, params)


async def test_chat_answers_through_the_gateway():
    completion = await gateway_complete(
        "sim/coder", [{"role": "user", "content": QUERIES["coding"][0]}]
    )
    assert completion.model == "sim/coder" and completion.kind == "chat"
    assert "```python" in completion.text
    assert completion.finish_reason == "stop"


def test_deterministic_per_request_and_temperature_rules():
    assert chat().text == chat().text
    assert chat(seed=1).text == chat(seed=2).text  # temperature 0: the seed does not matter
    hot = {chat(temperature=0.8, sample_index=i).text for i in range(6)}
    assert len(hot) > 1
    assert chat(temperature=0.8, sample_index=3).text == chat(temperature=0.8, sample_index=3).text
    assert chat("sim/coder").text != chat("sim/writer").text


def test_system_and_multi_part_messages():
    messages = [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": [{"type": "text", "text": QUERIES["mathematics"][1]}]},
    ]
    completion = BACKEND.complete_now("sim/large", messages, None, {})
    assert "Answer" in completion.text  # answered the maths question in the last user message


def test_usage_and_cost_follow_tokens_and_prices():
    completion = chat("sim/large")
    assert completion.usage.prompt_tokens >= len(tokenize(QUERIES["coding"][0]))
    assert completion.usage.completion_tokens == len(tokenize(completion.text))
    profile = load_profile("sim/large")
    expected = profile.cost(completion.usage.prompt_tokens, completion.usage.completion_tokens)
    assert completion.cost == pytest.approx(expected) and completion.cost > 0


def test_max_tokens_truncates_with_finish_reason_length():
    full = chat()
    cut = chat(max_tokens=10)
    assert cut.finish_reason == "length"
    assert cut.usage.completion_tokens == 10
    assert full.text.startswith(cut.text) and len(cut.text) < len(full.text)
    assert chat(max_tokens=10_000).finish_reason == "stop"


def test_bad_requests_are_bad_request_errors():
    with pytest.raises(BadRequestError, match="sim/missing"):
        chat("sim/missing")
    with pytest.raises(BadRequestError):
        chat(max_tokens=-1)
    with pytest.raises(BadRequestError):
        BACKEND.complete_now("sim/generalist", [], None, {})


def test_chat_logprobs_present():
    completion = chat(logprobs=True, top_logprobs=3)
    assert completion.logprobs is not None
    assert "".join(t.token for t in completion.logprobs) == completion.text
    assert all(t.logprob is not None and t.logprob <= 0 for t in completion.logprobs)
    assert all(len(t.top_logprobs) == 3 for t in completion.logprobs[1:20])
    assert chat().logprobs is None


def test_handler_dispatch_with_option_logprobs():
    @sim_task("test-verdict", detect=lambda p: "Reply with [[A]] or [[B]]" in p, priority=100)
    def handle(ctx):
        query = ctx.blocks["QUERY"][0]
        a, b = ctx.blocks["ANSWER"]
        verdict, option_logprobs = ctx.prefer(query, a, b)
        return SimReply(
            ctx.shape(verdict, "verdict_brackets"),
            option_logprobs={"A": option_logprobs["A"], "B": option_logprobs["B"]},
        )

    try:
        query = QUERIES["coding"][0]
        good = chat("sim/large", query).text
        bad = chat("sim/small", query).text
        prompt = "\n".join(
            [
                fence(query, "QUERY", "0a0a0a0a"),
                fence(good, "ANSWER", "0a0a0a0a"),
                fence(bad, "ANSWER", "0a0a0a0a"),
                "Which is better? Reply with [[A]] or [[B]].",
            ]
        )
        completion = chat("sim/judge", prompt, logprobs=True, top_logprobs=2)
        assert completion.text.endswith("[[A]]")
        decision = [t for t in completion.logprobs if t.token.strip() == "A"][-1]
        assert set(decision.top_logprobs) == {"A", "B"}
        assert decision.top_logprobs["A"] > decision.top_logprobs["B"]
    finally:
        unregister_task("test-verdict")


def _trlm_score(query: str, response: str) -> float:
    prompt = f"{response}\n\nThe above answers the question: {query}"
    completion = BACKEND.complete_now(
        "sim/small", None, prompt, {"echo": True, "logprobs": 1, "max_tokens": 0}
    )
    n = len(tokenize(query))
    assert completion.prompt_logprobs is not None and completion.text == prompt
    assert "".join(t.token for t in completion.prompt_logprobs) == prompt
    return statistics.mean(t.logprob for t in completion.prompt_logprobs[-n:])


def test_echo_logprobs_favour_a_related_response():
    queries = [QUERIES[d][i] for d in QUERIES for i in (0, 3)]
    wins = 0
    for i, query in enumerate(queries):
        related = chat("sim/large", query).text
        unrelated = chat("sim/large", queries[(i + 5) % len(queries)]).text
        wins += _trlm_score(query, related) > _trlm_score(query, unrelated)
    assert wins / len(queries) >= 0.9


def test_echo_is_deterministic_and_first_token_has_no_logprob():
    params = {"echo": True, "logprobs": 2, "max_tokens": 0}
    one = BACKEND.complete_now("sim/small", None, "Hello world. Hello again.", params)
    two = BACKEND.complete_now("sim/small", None, "Hello world. Hello again.", params)
    assert one.prompt_logprobs == two.prompt_logprobs
    assert one.prompt_logprobs[0].logprob is None
    assert one.kind == "text" and one.text == "Hello world. Hello again."
    # a repeated word is more probable the second time (the copy model)
    hellos = [t.logprob for t in one.prompt_logprobs if t.token.strip() == "Hello"]
    assert hellos[0] is None and hellos[1] is not None


def test_text_completion_continues_with_default_length():
    completion = BACKEND.complete_now("sim/generalist", None, "Explain photosynthesis.", {})
    assert completion.kind == "text" and completion.usage.completion_tokens <= 16
    assert completion.prompt_logprobs is None


def test_hot_path_is_cheap():
    prompts = [q for qs in QUERIES.values() for q in qs]
    start = time.perf_counter()
    n = 0
    for i in range(4):
        for q in prompts:
            chat("sim/generalist", q, temperature=0.7, sample_index=i)
            n += 1
    rate = n / (time.perf_counter() - start)
    # the gateway bench pushes > 600 calls/s; the backend must be far from the bottleneck
    assert rate > 600, f"{rate:.0f} calls/s"


def test_judge_reply_json_through_context():
    @sim_task("test-json", detect=lambda p: "Return JSON with a score" in p, priority=100)
    def handle(ctx):
        quality = ctx.assess(ctx.blocks["QUERY"][0], ctx.blocks["ANSWER"][0])
        return ctx.shape({"score": ctx.score_on(quality)}, "json")

    try:
        query = QUERIES["knowledge"][0]
        answer = chat("sim/large", query).text
        prompt = f"{fence(query, 'QUERY', '1b1b1b1b')}\n{fence(answer, 'ANSWER', '1b1b1b1b')}\nReturn JSON with a score."
        reply = chat("sim/judge", prompt).text
        body = reply[reply.index("{") : reply.rindex("}") + 1]
        assert json.loads(body)["score"] >= 7
    finally:
        unregister_task("test-json")


def test_in_memory_profiles():
    from judgebench.sim import Profile

    backend = SimBackend(profiles={"sim/ace": Profile(name="ace", judging=0.99)})
    assert "sim/ace" in backend.models() and "sim/generalist" in backend.models()
    assert backend.profile("sim/ace").judging == 0.99
    assert (
        backend.complete_now("sim/ace", [{"role": "user", "content": "hi"}], None, {}).model
        == "sim/ace"
    )
    assert backend.prices("sim/large") == (5.0 / 1e6, 15.0 / 1e6)


def test_fast_token_logprobs_are_ordinary_models():
    from judgebench.llm import TokenLogprob
    from judgebench.sim.lm import _token_logprob

    fast = _token_logprob("x", -1.5, {"x": -1.5})
    slow = TokenLogprob(token="x", logprob=-1.5, top_logprobs={"x": -1.5})
    assert fast == slow and fast.model_dump() == slow.model_dump()
    assert Completion(model="m", text="x", logprobs=[fast]).model_dump_json()


def test_stop_sequences_cut_the_reply():
    full = chat("sim/large", QUERIES["knowledge"][0]).text
    first_line = full.split("\n")[0]
    stopped = chat("sim/large", QUERIES["knowledge"][0], stop=["\n", "ZZZ"])
    assert stopped.text == first_line and stopped.finish_reason == "stop"
    with pytest.raises(BadRequestError):
        chat(stop=[1, 2])


def test_malformed_messages_are_bad_requests():
    with pytest.raises(BadRequestError):
        BACKEND.complete_now("sim/generalist", ["just a string"], None, {})
    with pytest.raises(BadRequestError):
        BACKEND.complete_now("sim/generalist", [{"role": "user", "content": 42}], None, {})
    with pytest.raises(BadRequestError):
        chat(top_logprobs=99, logprobs=True)
