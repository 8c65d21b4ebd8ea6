"""LLM questions with retries, recorded in the decision log and reused on resume.

:meth:`Asker.ask` asks one question per prompt; :meth:`Asker.ask_batch` puts several questions
of the same step in one prompt and settles each on its own part of the reply: a part that does
not parse is asked again (with the others that failed) and ends ``invalid`` with the raw replies
and the reason, while the parts that parsed are kept.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from judgebench.llm import Completion, LLMError, complete
from judgebench.prompts import PromptTemplate, fence
from judgebench.records import content_key, text_hash
from judgebench.taxonomy.decisions import Decision, DecisionLog
from judgebench.taxonomy.replies import ReplyError


def fence_nonce(key: str, attempt: int) -> str:
    """A nonce derived from the question's key: unguessable by the fenced text (it would have
    to contain its own hash) yet stable, so identical questions hit the gateway's call cache."""
    return hashlib.sha256(f"{key}:{attempt}".encode()).hexdigest()[:8]


def _settled(key: str, step: str, done: dict[str, Any]) -> Decision:
    """The decision a previous run settled, read back from the log (no call)."""
    return Decision(
        key=key,
        step=step,
        status=done["status"],
        value=done.get("decision"),
        reason=done.get("reason"),
        replies=list(done.get("replies") or []),
        from_log=True,
    )


# ``split(reply, count)``: the reply's part for each of ``count`` questions, in prompt order; a
# ``ReplyError`` in place of a part that is missing or unusable; raises ``ReplyError`` when the
# whole reply is unusable
SplitReply = Callable[[str, int], list[Any]]
# ``values(fence_fn, items)``: template values for the questions ``items`` = (index into the
# subjects, why its previous answer was rejected or None), in prompt order
BatchValues = Callable[[Callable[[str, str], str], list[tuple[int, str | None]]], dict[str, Any]]


@dataclass
class _Batch:
    """The questions of one :meth:`Asker.ask_batch` still open, with what each has seen."""

    index: dict[str, int]  # key -> the first subject asking it
    pending: list[str]
    replies: dict[str, list[str]] = field(default_factory=dict)
    reasons: dict[str, str | None] = field(default_factory=dict)


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
            return _settled(key, step, done)
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
                _check_complete(completion)
                value = parse(reply)
            except ReplyError as exc:
                reason = str(exc)
                self._log_invalid(entry, reason, replies, last=attempt == self.attempts - 1)
                continue
            self._log_ok(entry, value, replies)
            return Decision(key=key, step=step, status="ok", value=value, replies=replies)
        return self._gave_up(key, step, reason, replies)

    def _log_invalid(
        self, entry: dict[str, Any], reason: str, replies: list[str], *, last: bool
    ) -> None:
        """An unusable reply; the last attempt's entry also keeps every reply."""
        self.log.append(
            {
                **entry,
                "status": "invalid",
                "reason": reason,
                "final": last,
                "replies": replies if last else None,
            }
        )

    def _log_ok(self, entry: dict[str, Any], value: Any, replies: list[str]) -> None:
        self.log.append(
            {**entry, "status": "ok", "decision": value, "final": True, "replies": replies}
        )

    def _gave_up(self, key: str, step: str, reason: str | None, replies: list[str]) -> Decision:
        """The invalid decision after every attempt's reply failed to parse."""
        return Decision(
            key=key,
            step=step,
            status="invalid",
            reason=f"{reason} (after {self.attempts} attempts)",
            replies=replies,
        )

    async def ask_batch(
        self,
        step: str,
        template: PromptTemplate,
        subjects: Sequence[Any],
        values: BatchValues,
        split: SplitReply,
        parse: Callable[[Any], Any],
    ) -> list[Decision]:
        """Several questions of one step in one prompt; one decision per subject, in order.

        Each question keeps its own key (as if asked alone with this template), so the log
        settles, reuses and reports it on its own; a rerun asks only the unsettled ones. Each
        attempt asks the questions still open: ``parse(part)`` settles a question or raises
        ``ReplyError``, and a rejected question is asked again (its reason shown next to it)
        until ``attempts`` run out, then ends ``invalid`` with every raw reply and the reason.
        """
        keys = [self.key(step, template, s) for s in subjects]
        decisions: dict[str, Decision] = {}
        for key in keys:
            done = self.log.final(key)
            if done is not None:
                decisions[key] = _settled(key, step, done)
        open_keys = [k for k in dict.fromkeys(keys) if k not in decisions]
        batch = _Batch(
            index={k: keys.index(k) for k in open_keys},
            pending=open_keys,
            replies={k: [] for k in open_keys},
            reasons=dict.fromkeys(open_keys),
        )
        for attempt in range(self.attempts):
            if not batch.pending:
                break
            batch_key = text_hash("\n".join(batch.pending))
            nonce = fence_nonce(batch_key, attempt)
            items = [(batch.index[k], batch.reasons[k]) for k in batch.pending]
            prompt = template.render(**values(partial(fence, nonce=nonce), items))
            base = {
                "step": step,
                "template": template.name,
                "template_hash": template.hash,
                "model": self.model,
                "attempt": attempt,
                "batch": batch_key,
            }
            try:
                self.calls += 1
                completion = await complete(
                    self.model, [{"role": "user", "content": prompt}], **self.params
                )
            except LLMError as exc:
                for key in batch.pending:  # never final: a resume asks again
                    self.log.append({**base, "key": key, "status": "error", "reason": str(exc)})
                    decisions[key] = Decision(
                        key=key,
                        step=step,
                        status="error",
                        reason=f"LLM error: {exc}",
                        replies=batch.replies[key],
                    )
                break
            base |= {"prompt_hash": text_hash(prompt), "batch_size": len(batch.pending)}
            settled = self._settle_parts(
                batch, completion, base, split, parse, last=attempt == self.attempts - 1
            )
            decisions |= settled
            batch.pending = [k for k in batch.pending if k not in settled]
        return [replace(decisions[k]) for k in keys]

    def _settle_parts(
        self,
        batch: _Batch,
        completion: Completion,
        base: dict[str, Any],
        split: SplitReply,
        parse: Callable[[Any], Any],
        *,
        last: bool,
    ) -> dict[str, Decision]:
        """Parse each open question's part of one batched reply; log every part's outcome."""
        reply = completion.text or ""
        try:
            _check_complete(completion)
            parts = split(reply, len(batch.pending))
        except ReplyError as exc:  # the whole reply is unusable: every open question retries
            parts = [exc] * len(batch.pending)
        settled: dict[str, Decision] = {}
        for position, (key, part) in enumerate(zip(batch.pending, parts, strict=True), 1):
            replies = batch.replies[key]
            replies.append(reply)
            entry = {**base, "key": key, "position": position, "reply": reply}
            if position == 1:  # the call's usage, once per batch (not once per question)
                entry |= {
                    "usage": completion.usage.model_dump(),
                    "cost": completion.cost,
                    "cached": completion.cached,
                }
            try:
                if isinstance(part, ReplyError):
                    raise part
                value = parse(part)
            except ReplyError as exc:
                batch.reasons[key] = reason = str(exc)
                self._log_invalid(entry, reason, replies, last=last)
                if last:
                    settled[key] = self._gave_up(key, base["step"], reason, list(replies))
                continue
            self._log_ok(entry, value, replies)
            settled[key] = Decision(
                key=key, step=base["step"], status="ok", value=value, replies=list(replies)
            )
        return settled


def _check_complete(completion: Completion) -> None:
    """A reply cut off at the token limit is unusable (its end, often the answer, is lost)."""
    if completion.finish_reason == "length":
        raise ReplyError("reply truncated (finish_reason=length)")
