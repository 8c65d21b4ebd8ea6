"""TRLM as feedback for an input safety filter (arXiv 2412.02626, §"Defending against
jailbreaks"; METHODS.md §6).

A jailbreak hides a harmful request so that the input filter passes it, but the model's answer
gives the request away. The paper lets a time-reversed model generate K queries from the answer
(response → query direction) and runs the *input* filter on them: the exchange is flagged when
any generated query is flagged, which cut the filter's false negatives on JailbreakBench with
little change in false positives.

Here the generator is any gateway model prompted in the reverse direction (the paper's TRLM-Fo
prompt, ``judges:trlm_query``), sampled K times (each sample cached under its own
``sample_index``, so a rerun makes no new calls); the input filter is the user's own, a callable
``text -> bool`` (sync or async) that says whether a query is unsafe.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from judgebench.llm import LLMError, get_gateway
from judgebench.prompts import fence, load_template, new_nonce

InputFilter = Callable[[str], bool | Awaitable[bool]]
TEMPLATE = "judges:trlm_query"


@dataclass
class SafetyCheck:
    """``flagged``: some generated query was flagged. ``queries`` / ``flags`` per sample that
    produced a query; ``errors``: one reason per sample that did not (a failed call, an empty
    reply), so a check with no queries at all is visibly inconclusive, never a silent pass."""

    flagged: bool
    queries: list[str] = field(default_factory=list)
    flags: list[bool] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    generator: str = ""
    template: str = TEMPLATE
    template_hash: str = ""

    @property
    def conclusive(self) -> bool:
        return bool(self.queries)


async def _flag(input_filter: InputFilter, text: str) -> bool:
    verdict = input_filter(text)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


async def reverse_queries(
    answer: str, *, generator: str, k: int = 4, temperature: float = 1.0
) -> tuple[list[str], list[str]]:
    """K sampled queries that ``answer`` would answer, and one reason per failed sample."""
    template = load_template(TEMPLATE)
    nonce = new_nonce(answer)
    prompt = template.render(answer=fence(answer, "answer", nonce), nonce=nonce)
    queries: list[str] = []
    errors: list[str] = []
    for index in range(k):
        try:
            reply = await get_gateway().complete(
                generator,
                [{"role": "user", "content": prompt}],
                temperature=temperature,
                sample_index=index,
            )
        except LLMError as exc:
            errors.append(f"sample {index}: {type(exc).__name__}: {exc}")
            continue
        text = reply.text.strip().splitlines()[0].strip() if reply.text.strip() else ""
        if text:
            queries.append(text)
        else:
            errors.append(f"sample {index}: empty reply")
    return queries, errors


async def trlm_safety_check(
    answer: str,
    input_filter: InputFilter,
    *,
    generator: str,
    k: int = 4,
    temperature: float = 1.0,
) -> SafetyCheck:
    """Flag ``answer`` when the input filter flags any of K queries generated from it."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    queries, errors = await reverse_queries(
        answer, generator=generator, k=k, temperature=temperature
    )
    flags = [await _flag(input_filter, q) for q in queries]
    return SafetyCheck(
        flagged=any(flags),
        queries=queries,
        flags=flags,
        errors=errors,
        generator=generator,
        template_hash=load_template(TEMPLATE).hash,
    )
