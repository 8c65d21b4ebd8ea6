"""A scripted backend for tests: replies come from a list or a function of the prompt."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from judgebench.llm.types import Completion, LLMError, Message
from judgebench.records import Usage

Reply = str | LLMError | Completion


class ScriptedBackend:
    """Answers with the next scripted reply, or with ``responder(prompt_text, model)``.

    Records every prompt it was sent in ``self.prompts`` so tests can assert on them.
    """

    def __init__(
        self,
        replies: Iterable[Reply] | None = None,
        responder: Callable[[str, str], Reply] | None = None,
    ) -> None:
        self._replies = list(replies or [])
        self._responder = responder
        self.prompts: list[str] = []

    async def complete(
        self, model: str, messages: list[Message] | None, prompt: str | None, params: dict[str, Any]
    ) -> Completion:
        text = (
            prompt
            if prompt is not None
            else "\n\n".join(str(m.get("content", "")) for m in messages or [])
        )
        self.prompts.append(text)
        if self._responder is not None:
            reply = self._responder(text, model)
        elif self._replies:
            reply = self._replies.pop(0)
        else:
            raise AssertionError(f"scripted backend for {model} ran out of replies")
        if isinstance(reply, LLMError):
            raise reply
        if isinstance(reply, Completion):
            return reply
        return Completion(
            model=model,
            text=reply,
            finish_reason="stop",
            usage=Usage(
                prompt_tokens=max(1, len(text) // 4), completion_tokens=max(1, len(reply) // 4)
            ),
        )
