"""One LLM question with retries, recorded in the decision log and reused on resume."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from typing import Any

from judgebench.llm import LLMError, complete
from judgebench.prompts import PromptTemplate, fence
from judgebench.records import content_key, text_hash
from judgebench.taxonomy.decisions import Decision, DecisionLog
from judgebench.taxonomy.replies import ReplyError


def fence_nonce(key: str, attempt: int) -> str:
    """A nonce derived from the question's key: unguessable by the fenced text (it would have
    to contain its own hash) yet stable, so identical questions hit the gateway's call cache."""
    return hashlib.sha256(f"{key}:{attempt}".encode()).hexdigest()[:8]


class Asker:
    """Asks ``model`` questions rendered from templates, parsing and validating each reply.

    ``parse(reply)`` returns the decision or raises ``ReplyError``; a rejected reply is retried
    (the retry prompt says what was wrong) up to ``attempts`` times, then the question ends
    ``invalid`` with every raw reply and the last reason.
    """

    def __init__(
        self,
        model: str,
        log: DecisionLog | None = None,
        *,
        attempts: int = 3,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.log = log if log is not None else DecisionLog()
        self.attempts = max(1, attempts)
        self.params = dict(params if params is not None else {"temperature": 0.0})
        self.calls = 0

    def key(self, step: str, template: PromptTemplate, subject: Any) -> str:
        return content_key(step, template.name, template.hash, self.model, self.params, subject)

    async def ask(
        self,
        step: str,
        template: PromptTemplate,
        subject: Any,
        values: Callable[[Callable[[str, str], str]], dict[str, Any]],
        parse: Callable[[str], Any],
    ) -> Decision:
        """``values(fence_fn)`` builds the template values; ``fence_fn(text, LABEL)`` fences."""
        key = self.key(step, template, subject)
        done = self.log.final(key)
        if done is not None:
            return Decision(
                key=key,
                step=step,
                status=done["status"],
                value=done.get("decision"),
                reason=done.get("reason"),
                replies=list(done.get("replies", [])),
                from_log=True,
            )
        replies: list[str] = []
        reason: str | None = None
        base = {
            "key": key,
            "step": step,
            "template": template.name,
            "template_hash": template.hash,
            "model": self.model,
        }
        for attempt in range(self.attempts):
            nonce = fence_nonce(key, attempt)
            prompt = template.render(**values(partial(fence, nonce=nonce)), previous_error=reason)
            try:
                self.calls += 1
                completion = await complete(
                    self.model, [{"role": "user", "content": prompt}], **self.params
                )
            except LLMError as exc:
                self.log.append(
                    {
                        **base,
                        "attempt": attempt,
                        "status": "error",
                        "reason": str(exc),
                        "final": False,
                    }
                )
                return Decision(
                    key=key, step=step, status="error", reason=f"LLM error: {exc}", replies=replies
                )
            reply = completion.text or ""
            replies.append(reply)
            entry = {
                **base,
                "attempt": attempt,
                "prompt_hash": text_hash(prompt),
                "reply": reply,
                "usage": completion.usage.model_dump(),
                "cost": completion.cost,
                "cached": completion.cached,
            }
            try:
                if completion.finish_reason == "length":
                    raise ReplyError("reply truncated (finish_reason=length)")
                value = parse(reply)
            except ReplyError as exc:
                reason = str(exc)
                last = attempt == self.attempts - 1
                self.log.append(
                    {
                        **entry,
                        "status": "invalid",
                        "reason": reason,
                        "final": last,
                        "replies": replies if last else None,
                    }
                )
                continue
            self.log.append(
                {**entry, "status": "ok", "decision": value, "final": True, "replies": replies}
            )
            return Decision(key=key, step=step, status="ok", value=value, replies=replies)
        return Decision(
            key=key,
            step=step,
            status="invalid",
            reason=f"{reason} (after {self.attempts} attempts)",
            replies=replies,
        )
