"""The 7-item yes/no quality checklist: 4 shared items plus 3 per domain, and its reply parser.

A reply is only usable when every one of the 7 items has an explicit yes or no. Anything else
(missing items, a hedge, truncated JSON) is *invalid*: retried, then recorded with the raw
reply and the reason, and never counted as a pass.
"""

from __future__ import annotations

from dataclasses import dataclass

from judgebench.records import content_key

SHARED_ITEMS: dict[str, str] = {
    "clarity": "Is the query clear and unambiguous about what is being asked?",
    "completeness": "Does the query contain all the information needed to answer it?",
    "complexity": "Does answering it take real effort (not a one-line or trivial answer)?",
    "real_world": "Is it something a real user could plausibly need (real-world applicability)?",
}

DOMAIN_ITEMS: dict[str, dict[str, str]] = {
    "writing": {
        "purposeful_writing": "Does it ask for purposeful writing beyond filling in a template?",
        "audience_style": "Does it state the audience, tone or style the text should have?",
        "explicit_constraints": "Does it give explicit constraints (length, format, content to include)?",
    },
    "roleplay": {
        "character_defined": "Does it define the character, persona or scenario clearly?",
        "sustained_interaction": "Does it invite in-character interaction beyond a single fact?",
        "rules_stated": "Does it state the rules of the roleplay (perspective, setting, limits)?",
    },
    "knowledge": {
        "domain_expertise": "Does answering it require specialised domain knowledge?",
        "beyond_lookup": "Does it ask for explanation or synthesis rather than a single looked-up fact?",
        "verifiable": "Can the correctness of an answer be checked against established facts?",
    },
    "coding": {
        "problem_solving": "Does it require problem solving beyond recalling documentation?",
        "domain_expertise": "Does it require expertise in a technical domain or language?",
        "explicit_requirements": "Are inputs, outputs, constraints or the language stated explicitly?",
    },
    "mathematics": {
        "well_posed": "Are all quantities and conditions needed for the solution given?",
        "multi_step": "Does solving it take several reasoning or calculation steps?",
        "checkable_answer": "Does it have a definite answer that can be verified?",
    },
    "reasoning": {
        "multi_step_inference": "Does it require several steps of inference to answer?",
        "premises_stated": "Are all premises needed for the conclusion stated in the query?",
        "unambiguous_answer": "Is there one defensible answer a careful reasoner would reach?",
    },
}

GENERIC_ITEMS: dict[str, str] = {
    "specific": "Does it name concrete details (entities, numbers, context) rather than generalities?",
    "explicit_requirements": "Does it state what a good answer must contain or satisfy?",
    "domain_expertise": "Does answering it require knowledge of the category's subject?",
}


@dataclass(frozen=True)
class Checklist:
    domain: str
    items: dict[str, str]  # item id → question, 7 in order: shared first

    @property
    def hash(self) -> str:
        return content_key("checklist", self.items, length=16)


def checklist_for(domain: str, overrides: dict[str, dict[str, str]] | None = None) -> Checklist:
    """The checklist for a top-level domain; an unknown domain gets generic items."""
    own = (overrides or {}).get(domain) or DOMAIN_ITEMS.get(domain) or GENERIC_ITEMS
    clash = set(own) & set(SHARED_ITEMS)
    if clash:
        raise ValueError(f"checklist items for {domain!r} reuse shared ids: {sorted(clash)}")
    return Checklist(domain=domain, items={**SHARED_ITEMS, **own})


# --- parsing ---------------------------------------------------------------------------------

_YES = {"yes", "y", "true", "1", "pass"}
_NO = {"no", "n", "false", "0", "fail"}


class ChecklistParseError(ValueError):
    pass


def _answer(value: object) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, dict):  # {"answer": "yes", "reason": ...}
        for key in ("answer", "verdict", "value"):
            if key in value:
                return _answer(value[key])
        return None
    word = str(value).strip().strip(".!").lower()
    if word in _YES:
        return True
    if word in _NO:
        return False
    return None


def parse_checklist(reply: str, checklist: Checklist) -> dict[str, bool]:
    """The yes/no answer to every item, from the last JSON object in the reply that has them all
    (``<think>`` blocks, prose, code fences, trailing commas and single quotes are read through).

    Raises ``ChecklistParseError`` with the reason when no object answers all 7 items.
    """
    from judgebench.taxonomy.replies import ReplyError, parse_json_object

    try:
        data = parse_json_object(reply, required=tuple(checklist.items))
    except ReplyError as exc:
        raise ChecklistParseError(str(exc)) from None
    answers: dict[str, bool] = {}
    unclear = []
    for item in checklist.items:
        value = _answer(data[item])
        if value is None:
            unclear.append(f"{item}={data[item]!r}")
        else:
            answers[item] = value
    if unclear:
        raise ChecklistParseError(f"not yes/no: {', '.join(unclear)}")
    return answers
