"""Properties over arbitrary input: the simulator never crashes and stays self-consistent."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgebench.sim import SimBackend
from judgebench.sim.domains import DOMAINS, domain_of
from judgebench.sim.profiles import load_profile
from judgebench.sim.shapes import render
from judgebench.sim.text import count_tokens, tokenize

BACKEND = SimBackend()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text())
def test_tokenize_round_trips(text):
    tokens = tokenize(text)
    assert "".join(tokens) == text
    assert count_tokens(text) == len(tokens)
    assert all(tokens)


@FAST
@given(st.text(max_size=400))
def test_any_chat_message_gets_a_deterministic_answer(text):
    messages = [{"role": "user", "content": text}]
    one = BACKEND.complete_now("sim/generalist", messages, None, {})
    two = BACKEND.complete_now("sim/generalist", messages, None, {})
    assert one.text == two.text and one.text.strip()
    assert domain_of(text) in DOMAINS


@FAST
@given(st.text(max_size=300), st.integers(min_value=0, max_value=40))
def test_echo_covers_every_prompt_token(prompt, max_tokens):
    completion = BACKEND.complete_now(
        "sim/small", None, prompt, {"echo": True, "logprobs": 3, "max_tokens": max_tokens}
    )
    assert completion.text.startswith(prompt)
    assert "".join(t.token for t in completion.prompt_logprobs or []) == prompt
    assert all(t.logprob is None or t.logprob <= 0 for t in completion.logprobs or [])
    assert completion.usage.completion_tokens <= max_tokens


payloads = st.one_of(
    st.tuples(st.integers(1, 10), st.sampled_from(["score_brackets", "score_line"])),
    st.tuples(st.sampled_from(["A", "B", "tie"]), st.just("verdict_brackets")),
    st.tuples(
        st.dictionaries(
            st.text(min_size=1, max_size=8), st.integers() | st.text(max_size=20), max_size=4
        ),
        st.just("json"),
    ),
    st.tuples(st.text(max_size=50), st.just("tag:answer")),
    st.tuples(st.lists(st.text(max_size=20), max_size=5), st.just("lines")),
)


@FAST
@given(payloads, st.integers(0, 2**32))
def test_shape_handles_any_payload_with_every_fault(payload_fmt, seed):
    payload, fmt = payload_fmt
    shaped = render(
        payload, fmt, load_profile("sim/noisy-judge"), random.Random(seed), example="[[5]]"
    )
    assert isinstance(shaped.text, str)
    assert shaped.finish_reason in ("stop", "length")
