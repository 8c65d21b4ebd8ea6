"""Skill shows in what is written, and assess reads it back from the visible text."""

from __future__ import annotations

import itertools
import random
import re
import statistics

from judgebench.sim.answer import write_answer
from judgebench.sim.assess import assess, compare, visible_quality
from judgebench.sim.domains import DOMAINS
from judgebench.sim.profiles import load_profile
from judgebench.sim.text import rng_for
from tests.sim.conftest import QUERIES, flat_profile

SKILLED = flat_profile("skilled", 0.85)
UNSKILLED = flat_profile("unskilled", 0.2)


def _answers(profile, query, n=4):
    return [write_answer(query, profile, rng_for("t", profile.name, query, i)) for i in range(n)]


def test_write_answer_is_deterministic_for_seed_model_content():
    profile = load_profile("sim/generalist")
    query = QUERIES["coding"][0]
    assert write_answer(query, profile, random.Random(7)) == write_answer(
        query, profile, random.Random(7)
    )
    assert len({write_answer(query, profile, random.Random(s)) for s in range(6)}) > 1


def test_skilled_answers_show_their_domain_structure():
    code = _answers(SKILLED, QUERIES["coding"][0])[0]
    assert "```python" in code and "def " in code
    maths = _answers(SKILLED, QUERIES["mathematics"][1])[0]
    assert re.search(r"\d+ \+ \d+ = \d+", maths) and "Answer" in maths
    knowledge = _answers(SKILLED, QUERIES["knowledge"][0])[0]
    assert knowledge.count("\n- ") >= 2
    weak_maths = _answers(UNSKILLED, QUERIES["mathematics"][0])[0]
    a, b, c = map(int, re.search(r"(\d+) \+ (\d+) = (\d+)", weak_maths).groups())
    assert a + b != c  # visibly wrong arithmetic


def test_assess_ranks_skilled_above_unskilled_in_every_domain():
    judge = load_profile("sim/judge")
    for domain in DOMAINS:
        good, bad = [], []
        for query in QUERIES[domain]:
            rng = rng_for("assess", query)
            good += [assess(query, a, judge=judge, rng=rng) for a in _answers(SKILLED, query)]
            bad += [assess(query, a, judge=judge, rng=rng) for a in _answers(UNSKILLED, query)]
        gap = statistics.mean(good) - statistics.mean(bad)
        pairs = list(itertools.product(good, bad))
        accuracy = sum(g > b for g, b in pairs) / len(pairs)
        assert gap > 0.25, (domain, gap)
        assert accuracy > 0.9, (domain, accuracy)


def test_specialists_win_their_own_domain_and_lose_the_other():
    judge = load_profile("sim/judge")
    coder, writer = load_profile("sim/coder"), load_profile("sim/writer")

    def mean_score(profile, domain):
        scores = []
        for query in QUERIES[domain]:
            rng = rng_for("j", query, profile.name)
            scores += [assess(query, a, judge=judge, rng=rng) for a in _answers(profile, query, 3)]
        return statistics.mean(scores)

    assert mean_score(coder, "coding") > mean_score(writer, "coding") + 0.2
    assert mean_score(writer, "writing") > mean_score(coder, "writing") + 0.2


def test_skilled_judge_agrees_more_than_noisy_judge():
    judges = {name: load_profile(f"sim/{name}") for name in ("judge", "noisy-judge")}
    mid = flat_profile("mid", 0.75)  # close calls: where a careful reader shows
    accuracy = {}
    for name, judge in judges.items():
        right = total = 0
        for domain in DOMAINS:
            for i, query in enumerate(QUERIES[domain]):
                strong = _answers(SKILLED, query, 3)
                medium = _answers(mid, query, 3)
                for a, b in zip(strong, medium, strict=True):
                    rng = rng_for("cmp", name, query, i, a)
                    truth = visible_quality(query, a) > visible_quality(query, b)
                    right += (compare(query, a, b, judge=judge, rng=rng) > 0.5) == truth
                    total += 1
        accuracy[name] = right / total
    assert accuracy["judge"] > accuracy["noisy-judge"] + 0.1, accuracy
    assert accuracy["judge"] > 0.8, accuracy


def test_reference_agreement_counts():
    query = QUERIES["mathematics"][0]
    judge = load_profile("sim/judge")
    answer = _answers(SKILLED, query, 1)[0]
    final = re.search(r"\*\*Answer:\*\* (\d+)", answer).group(1)
    agreeing = visible_quality(query, answer, f"The total is {final}. Answer: {final}")
    disagreeing = visible_quality(query, answer, "The total is 999999. Answer: 999999")
    assert agreeing > disagreeing
    # peers as references (agreement between answers) work too
    assert 0 <= assess(query, answer, [answer, answer], judge=judge, rng=random.Random(1)) <= 1


def test_verbosity_changes_length():
    short = flat_profile("terse", 0.8, verbosity=0.6)
    long = flat_profile("wordy", 0.8, verbosity=2.0)
    query = QUERIES["knowledge"][2]
    mean_len = lambda p: statistics.mean(len(a) for a in _answers(p, query, 6))  # noqa: E731
    assert mean_len(long) > 1.5 * mean_len(short)


def test_answers_carry_no_hidden_markers():
    for name in ("coder", "writer", "small", "large", "generalist"):
        profile = load_profile(f"sim/{name}")
        skill_numbers = {f"{v:g}" for v in profile.skills.model_dump().values()} | {
            f"{profile.judging:g}"
        }
        for domain in DOMAINS:
            for answer in _answers(profile, QUERIES[domain][0], 2):
                lowered = answer.lower()
                assert "sim/" not in lowered and "skill" not in lowered and "profile" not in lowered
                if name not in ("small", "large"):  # ordinary words may appear in ordinary text
                    assert not re.search(rf"\b{name}\b", lowered)
                assert not any(num in answer for num in skill_numbers if num.startswith("0."))


def test_judges_read_their_own_domains_more_precisely():
    from judgebench.sim.assess import judge_noise

    coder, writer = load_profile("sim/coder"), load_profile("sim/writer")
    assert judge_noise(coder, "coding") < judge_noise(coder, "writing")
    assert judge_noise(writer, "writing") < judge_noise(writer, "coding")
    assert judge_noise(load_profile("sim/judge"), "coding") < judge_noise(
        load_profile("sim/noisy-judge"), "coding"
    )


def test_length_bias_favours_longer_answers():
    terse = flat_profile("terse", 0.8, verbosity=0.6)
    wordy = flat_profile("wordy", 0.8, verbosity=2.0)
    fair = flat_profile("fair", 0.8, judging=1.0)
    biased = flat_profile("biased", 0.8, judging=1.0, length_bias=1.0)

    def long_minus_short(judge):
        gaps = []
        for domain in DOMAINS:
            for query in QUERIES[domain][:4]:
                rng = rng_for("len", query)
                long = statistics.mean(
                    assess(query, a, judge=judge, rng=rng) for a in _answers(wordy, query, 3)
                )
                short = statistics.mean(
                    assess(query, a, judge=judge, rng=rng) for a in _answers(terse, query, 3)
                )
                gaps.append(long - short)
        return statistics.mean(gaps)

    assert long_minus_short(biased) > long_minus_short(fair) + 0.05


def test_code_comes_in_the_asked_language_and_slips_are_visible():
    fences = {
        QUERIES["coding"][2]: "```javascript",  # JavaScript
        QUERIES["coding"][3]: "```sql",
        QUERIES["coding"][6]: "```bash",
        QUERIES["coding"][7]: "```rust",
        QUERIES["coding"][0]: "```python",
    }
    for query, fence_open in fences.items():
        assert all(fence_open in a for a in _answers(SKILLED, query, 2)), query
    from judgebench.sim.assess import structure

    # over many mid-skill answers, some code slips (an unclosed bracket) and reads as worse
    mid = flat_profile("mid", 0.6)
    scores = [
        structure("coding", a) for q in QUERIES["coding"] for a in _answers(mid, q, 6) if "```" in a
    ]
    assert min(scores) < max(scores)


def test_depth_separates_strong_from_very_strong():
    from judgebench.sim.assess import features

    good, best = flat_profile("good", 0.65), flat_profile("best", 0.95)

    def mean_depth(profile, domain):
        return statistics.mean(
            features(q, a)["depth"] for q in QUERIES[domain] for a in _answers(profile, q, 3)
        )

    for domain in DOMAINS:
        assert mean_depth(best, domain) > mean_depth(good, domain) + 0.2, domain
