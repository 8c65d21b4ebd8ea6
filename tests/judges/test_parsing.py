"""Every parse path of a judge reply, with the reason an unusable reply is stored with."""

from __future__ import annotations

import pytest

from judgebench.judges.parsing import (
    ReplyParseError,
    extract_answer,
    integer_in_range,
    template_examples,
    verdict_value,
)


def parse_score(reply: str, **kw) -> int:
    return integer_in_range(
        extract_answer(reply, primary="score", fields=("rationale",), **kw)["score"], 1, 10
    )


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ('{"rationale": "covers all parts", "score": 8}', 8),
        ('Let me weigh the response first. It is accurate.\n\n{"rationale": "ok", "score": 7}', 7),
        ('<think>maybe {"score": 2}? no.</think>\n{"rationale": "good", "score": 9}', 9),
        ('```json\n{\n  "rationale": "solid",\n  "score": 6\n}\n```', 6),
        ('{"rationale": "fine", "score": 5,}', 5),  # trailing comma
        ("{'rationale': 'fine', 'score': 4}", 4),  # single quotes, no apostrophes: unambiguous
        ('Draft: {"rationale": "x", "score": 6}\nOn reflection: {"rationale": "y", "score": 8}', 8),
        ("<rationale>clear</rationale><score>7</score>", 7),
        ("Overall this is good. [[9]]", 9),
        ("The answer is thorough.\nScore: 8", 8),
        ('{"rationale": "half", "score": "8/10"}', 8),  # a fraction over the scale max is exact
        ('{"rationale": "r", "score": 8.0}', 8),
    ],
)
def test_valid_shapes_parse(reply, expected):
    assert parse_score(reply) == expected


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ('{"rationale": "it covers the main points and', "truncated"),
        (
            'Draft {"score": 6}. Final: {"rationale": "better',
            "truncated",
        ),  # a draft is not promoted
        ("I cannot evaluate this response.", "refusal"),
        ("It depends on what the user wanted; both have merits.", "refusal"),
        ("", "empty"),
        ("<think>long deliberation that never ends", "only reasoning"),
        ('{"rationale": "great", "score": 11}', "outside"),
        ('{"rationale": "good", "score": "7-8"}', "range"),
        ('{"rationale": "good", "score": "eight"}', "word"),
        ('{"rationale": "good", "score": "4/5"}', "fraction"),
        ('{"rationale": "good", "score": 7.5}', "not an integer"),
        ('{"rationale": "good", "score": true}', "not an integer"),
        ("The response is fine overall.", "no answer block"),
        ("{'rationale': \"it's fine\", 'score': 5}", "no answer block"),  # mixed quotes: ambiguous
        ('Draft {"score": 6} then the correction {"score": 12}', "outside"),  # last block decides
    ],
)
def test_unusable_replies_raise_with_reason(reply, reason):
    with pytest.raises(ReplyParseError, match=reason):
        parse_score(reply)


def test_truncation_with_finish_reason_length_is_reported():
    with pytest.raises(ReplyParseError, match="finish_reason=length"):
        parse_score('{"rationale": "cut', finish_reason="length")


def test_template_echo_is_never_the_answer():
    source = (
        'Answer like this example: {"rationale": "Clear and correct.", "score": 7}\n{{ query }}'
    )
    examples = template_examples(source)
    echoed = 'Sure. Example: {"rationale": "Clear and correct.", "score": 7}'
    with pytest.raises(ReplyParseError, match="echoes the template"):
        parse_score(echoed, examples=examples)
    # echo followed by the real answer: the real answer wins even though the echo came first
    real = echoed + '\nMy answer: {"rationale": "misses a step", "score": 3}'
    assert parse_score(real, examples=examples) == 3
    # the same example echoed after the real answer is skipped too
    assert parse_score('{"rationale": "weak", "score": 2} ' + echoed, examples=examples) == 2


def test_json_without_the_primary_field_is_ignored():
    reply = 'Notes: {"strengths": ["a"], "weaknesses": []}\nFinal: {"rationale": "ok", "score": 6}'
    assert parse_score(reply) == 6
    with pytest.raises(ReplyParseError):
        parse_score('{"strengths": ["a"]}')


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("A", "A"),
        ("b", "B"),
        ("Response A", "A"),
        ("[[B]]", "B"),
        ("tie", "tie"),
        ("TIE", "tie"),
        ("Assistant (a)", "A"),
    ],
)
def test_verdict_values(value, expected):
    assert verdict_value(value) == expected


@pytest.mark.parametrize("value", ["A or B", "both", "neither", 1, None, "Response C is best"])
def test_bad_verdicts(value):
    with pytest.raises(ReplyParseError):
        verdict_value(value)


def test_tie_not_allowed_when_forced_choice():
    with pytest.raises(ReplyParseError):
        verdict_value("tie", allow_tie=False)
