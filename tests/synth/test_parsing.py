"""Reading checklist and generation replies in the shapes real models produce."""

from __future__ import annotations

import pytest

from judgebench.prompts import load_template
from judgebench.synth.checklist import ChecklistParseError, checklist_for, parse_checklist
from judgebench.synth.generation import read_generation
from judgebench.taxonomy import DEFAULT_DOMAINS
from tests.synth.conftest import checklist_reply

CODING = checklist_for("coding")


def test_checklist_has_four_shared_and_three_domain_items():
    for domain in (*DEFAULT_DOMAINS, "unknown"):
        items = list(checklist_for(domain).items)
        assert len(items) == 7
        assert items[:4] == ["clarity", "completeness", "complexity", "real_world"]
    assert checklist_for("coding").hash != checklist_for("writing").hash


@pytest.mark.parametrize(
    "reply",
    [
        checklist_reply(no=2),
        "Sure! Here is my assessment:\n```json\n" + checklist_reply(no=2) + "\n```",
        "<think>the query is long, but two items fail</think>" + checklist_reply(no=2),
        checklist_reply(no=2)[:-1] + ",}",  # trailing comma
        checklist_reply(no=2).replace('"', "'"),  # single quotes
        checklist_reply(no=0)
        + "\nWait, correction:\n"
        + checklist_reply(no=2),  # the last one counts
    ],
)
def test_well_formed_shapes_parse_to_the_same_answers(reply):
    answers = parse_checklist(reply, CODING)
    assert sum(answers.values()) == 5
    assert answers["clarity"] is False and answers["completeness"] is False


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("It depends on the context of the user.", "no JSON object"),
        (checklist_reply()[:60], "truncated"),  # truncated mid-JSON
        (checklist_reply().replace('"real_world": "yes", ', ""), "lacks .real_world."),
        (checklist_reply().replace('"clarity": "yes"', '"clarity": "maybe"'), "not yes/no"),
    ],
)
def test_malformed_replies_raise_with_a_reason(reply, reason):
    with pytest.raises(ChecklistParseError, match=reason):
        parse_checklist(reply, CODING)


def test_echoing_the_prompt_does_not_parse():
    prompt = load_template("synth:checklist").render(
        domain="coding", node_path="coding/x", query="q", items=CODING.items
    )
    with pytest.raises(ChecklistParseError):
        parse_checklist(prompt, CODING)


@pytest.mark.parametrize(
    ("reply", "outcome", "text"),
    [
        ("<query>Plan a 3-day trip to Kyoto.</query>", "query", "Plan a 3-day trip to Kyoto."),
        ("Here you go:\n<QUERY>\n first </QUERY> better: <query>second</query>", "query", "second"),
        ("<think>hmm</think>\n<query>Do X with Y.</query>", "query", "Do X with Y."),
        ("REFUSE: the seeds ask for malware", "refusal", "the seeds ask for malware"),
        ("I'm sorry, but I can't help with that request.", "refusal", None),
        ("As an AI language model, I cannot create that.", "refusal", None),
        ("<query>Write a function that", "malformed", "cut off"),
        ("Write a function that reverses a list.", "malformed", "no <query>"),
        ("<query>   </query>", "malformed", "empty"),
    ],
)
def test_generation_replies(reply, outcome, text):
    result = read_generation(reply)
    assert result.outcome == outcome
    if text:
        assert text in result.text
