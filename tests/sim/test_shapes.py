"""Reply shapes: the exact formats, and every fault and wrapper at its configured rate."""

from __future__ import annotations

import json
import math
import random
import re

import pytest

from judgebench.sim.profiles import FAULTS, WRAPPERS, load_profile
from judgebench.sim.shapes import render, shape
from judgebench.sim.tasks import TaskContext
from tests.sim.conftest import make_profile

N = 2000
RATE = 0.3
PAYLOAD = {"score": 7, "reason": "Covers the request; misses one edge case."}
EXAMPLE = '{"score": 5, "reason": "<why>"}'


def _exact():
    return make_profile("exact")


@pytest.mark.parametrize(
    ("payload", "fmt", "kw", "expected"),
    [
        (8, "score_brackets", {}, "Rating: [[8]]"),
        (8, "score_line", {}, "Score: 8"),
        (7.5, "score_line", {}, "Score: 7.5"),
        ("A", "verdict_brackets", {}, "[[A]]"),
        ("tie", "verdict_brackets", {}, "[[C]]"),
        ("tie", "verdict_brackets", {"tie_token": "TIE"}, "[[TIE]]"),
        ("the text", "tag:answer", {}, "<answer>\nthe text\n</answer>"),
        (["x", "y"], "lines", {"numbered": True}, "1. x\n2. y"),
        (
            8,
            "score_brackets",
            {"rationale": "Clear and correct."},
            "Clear and correct.\n\nRating: [[8]]",
        ),
    ],
)
def test_exact_formats(payload, fmt, kw, expected):
    assert shape(payload, fmt, _exact(), random.Random(0), **kw) == expected


def test_exact_json_parses_back():
    for seed in range(5):
        text = shape(PAYLOAD, "json", _exact(), random.Random(seed))
        assert json.loads(text) == PAYLOAD


def _draw(profile, payload, fmt, n=N, **kw):
    rng = random.Random(12345)
    return [render(payload, fmt, profile, rng, **kw) for _ in range(n)]


def _within(count: int, n: int, rate: float) -> bool:
    sigma = math.sqrt(rate * (1 - rate) / n)
    return abs(count / n - rate) < 4.5 * sigma


# For each fault: a format it applies to, and how a reader recognises it in the text.
RECOGNISE = {
    "trailing_comma": ("json", PAYLOAD, lambda t: re.search(r",\s*}\s*$", t)),
    "single_quotes": ("json", PAYLOAD, lambda t: "'score'" in t),
    "two_verdicts": ("score_brackets", 7, lambda t: len(re.findall(r"\[\[\d+\]\]", t)) == 2),
    "out_of_range": ("score_brackets", 7, lambda t: re.search(r"\[\[(11|0)\]\]", t)),
    "fraction": ("score_line", 7, lambda t: "7/10" in t),
    "word": ("score_line", 7, lambda t: "Score: seven" in t),
    "range": ("json", PAYLOAD, lambda t: '"7-8"' in t),
    "refusal": ("verdict_brackets", "A", lambda t: "[[" not in t),
    "hedge": ("json", PAYLOAD, lambda t: "{" not in t and "depend" in t or "subjective" in t),
    "truncation": ("json", PAYLOAD, lambda t: not t.rstrip().endswith("}")),
    "template_echo": ("json", PAYLOAD, lambda t: EXAMPLE in t and t.rstrip().endswith("}")),
}


def test_every_fault_is_catalogued():
    assert set(RECOGNISE) == set(FAULTS)


@pytest.mark.parametrize("fault", FAULTS)
def test_each_fault_appears_at_its_rate(fault):
    fmt, payload, recognise = RECOGNISE[fault]
    profile = make_profile(fault, shapes={fault: RATE})
    shaped = _draw(profile, payload, fmt, example=EXAMPLE)
    tagged = [s for s in shaped if fault in s.faults]
    assert _within(len(tagged), N, RATE), len(tagged) / N
    assert all(recognise(s.text) for s in tagged), next(
        s.text for s in tagged if not recognise(s.text)
    )
    assert not any(recognise(s.text) for s in shaped if fault not in s.faults)
    if fault == "truncation":
        assert {s.finish_reason for s in tagged} == {"length"}
        assert {s.finish_reason for s in shaped if not s.faults} == {"stop"}


def test_faults_that_do_not_apply_leave_the_exact_format():
    profile = make_profile("commas", shapes={"trailing_comma": 1.0, "template_echo": 0.0})
    assert all(s.text == "[[A]]" for s in _draw(profile, "A", "verdict_brackets", n=50))
    no_example = make_profile("echo", shapes={"template_echo": 1.0})
    assert all(s.text == "Score: 7" for s in _draw(no_example, 7, "score_line", n=50))


@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_each_wrapper_appears_at_its_rate(wrapper):
    profile = make_profile(wrapper, shapes={wrapper: RATE})
    shaped = _draw(profile, PAYLOAD, "json")
    tagged = [s for s in shaped if wrapper in s.faults]
    assert _within(len(tagged), N, RATE)
    marker = {
        "preamble": lambda t: not t.startswith("{"),
        "think": lambda t: t.startswith("<think>"),
        "code_fence": lambda t: "```json\n" in t,
    }[wrapper]
    assert all(marker(s.text) for s in tagged)
    assert not any(marker(s.text) for s in shaped if not s.faults)
    # the JSON inside a wrapper is still the exact payload
    for s in tagged[:20]:
        body = s.text[s.text.index("{") : s.text.rindex("}") + 1]
        assert json.loads(body) == PAYLOAD


def test_two_verdicts_end_with_the_meant_one():
    profile = make_profile("drafts", shapes={"two_verdicts": 1.0})
    for s in _draw(profile, "A", "verdict_brackets", n=30):
        verdicts = re.findall(r"\[\[(\w+)\]\]", s.text)
        assert len(verdicts) == 2 and verdicts[-1] == "A" and verdicts[0] != "A"


def test_noisy_judge_is_malformed_far_more_often_than_the_judge():
    def malformed_share(name):
        shaped = _draw(load_profile(f"sim/{name}"), PAYLOAD, "json", n=1000, example=EXAMPLE)
        return sum(any(f in FAULTS for f in s.faults) for s in shaped) / len(shaped)

    assert malformed_share("noisy-judge") > 0.4
    assert malformed_share("judge") < 0.03


def test_task_context_shape_records_truncation():
    profile = make_profile("cut", shapes={"truncation": 1.0})
    ctx = TaskContext(model="sim/cut", prompt="p", blocks={}, profile=profile, rng=random.Random(0))
    text = ctx.shape(PAYLOAD, "json")
    assert ctx.finish_reason == "length" and "truncation" in ctx.faults
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)


def test_list_faults_appear_at_their_rates():
    lines = ["Accuracy: 40", "Clarity: 30", "Completeness: 30"]
    profile = make_profile("lists", shapes={"line_commentary": RATE, "numbering_gap": RATE})
    shaped = _draw(profile, lines, "lines", numbered=True)
    for fault in ("line_commentary", "numbering_gap"):
        assert _within(sum(fault in s.faults for s in shaped), N, RATE), fault
    for s in shaped:
        numbers = [int(n) for n in re.findall(r"^(\d+)\. ", s.text, re.M)]
        assert (numbers != [1, 2, 3]) == ("numbering_gap" in s.faults)
        assert ("(" in s.text) == ("line_commentary" in s.faults)
        assert len(s.text.splitlines()) == 3


def test_json_mode_allows_only_truncation():
    noisy = load_profile("sim/noisy-judge")
    rng = random.Random(3)
    params = {"response_format": {"type": "json_object"}}
    seen_cut = 0
    for _ in range(400):
        ctx = TaskContext(
            model="sim/noisy-judge", prompt="p", blocks={}, profile=noisy, rng=rng, params=params
        )
        text = ctx.shape(PAYLOAD, "json", example=EXAMPLE, rationale="why")
        if ctx.finish_reason == "length":
            seen_cut += 1
            continue
        assert json.loads(text) == PAYLOAD
    assert 0 < seen_cut < 40
