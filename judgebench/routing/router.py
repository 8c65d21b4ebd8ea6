"""The router contract: ``await router.complete(messages)`` in-process, ``complete_sync`` twin.

Both routers (cascade, selection) return a :class:`RoutedCompletion`: the completion that
answers the user and the :class:`RoutingDecision` that explains it. Every decision goes to the
router's log (memory by default; ``judgebench.db.routing.SqlRoutingLog`` for the store).
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from judgebench.llm import Completion, LLMError, complete, run_sync
from judgebench.llm.types import Message
from judgebench.records import Query, Response, text_hash
from judgebench.routing.records import RoutingDecision, StageRecord

ROUTED_SOURCE = "router"  # Query.source of routed requests in the store


class RoutingLog(Protocol):
    """Where decisions go. ``record`` must be cheap (the server calls it per request)."""

    def record(self, decision: RoutingDecision) -> None: ...


class MemoryRoutingLog:
    """Decisions kept in a list (tests, notebooks)."""

    def __init__(self) -> None:
        self.decisions: list[RoutingDecision] = []

    def record(self, decision: RoutingDecision) -> None:
        self.decisions.append(decision)


class RoutingError(LLMError):
    """No stage produced an answer; ``decision`` says what each one did."""

    retryable = False

    def __init__(self, message: str, decision: RoutingDecision) -> None:
        super().__init__(message)
        self.decision = decision


@dataclass
class RoutedCompletion:
    completion: Completion
    decision: RoutingDecision

    @property
    def text(self) -> str:
        return self.completion.text

    @property
    def model(self) -> str | None:
        return self.decision.final_model


def query_text(messages: Sequence[Message]) -> str:
    """What the judge and the selector read: the last user message (the rest is context)."""
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):  # OpenAI content parts: keep the text ones
                return "\n".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    raise ValueError("messages contain no user message to route")


async def call_model(
    model: str, messages: Sequence[Message], timeout_s: float | None, params: dict[str, Any]
) -> tuple[Completion | None, StageRecord]:
    """One model call that never raises: errors and timeouts become a stage record."""
    start = time.perf_counter()
    try:
        reply = await asyncio.wait_for(complete(model, list(messages), **params), timeout_s)
    except (LLMError, TimeoutError) as exc:
        reason = f"timed out after {timeout_s}s" if isinstance(exc, TimeoutError) else str(exc)
        return None, StageRecord(
            model=model,
            status="error",
            reason=reason or type(exc).__name__,
            latency_s=time.perf_counter() - start,
        )
    return reply, StageRecord(
        model=model, status="selected", cost=reply.cost, latency_s=time.perf_counter() - start
    )


def keep_response(
    decision: RoutingDecision, stage: StageRecord, reply: Completion, params: dict[str, Any]
) -> Response:
    """The stage's answer as a stored Response (its id depends on the text, like the judges')."""
    assert decision.query is not None
    response = Response(
        query_id=decision.query.id,
        model=stage.model,
        text=reply.text,
        params={**params, "text": text_hash(reply.text)},
        usage=reply.usage,
        latency_s=reply.latency_s,
        cost=reply.cost,
    )
    decision.responses.append(response)
    stage.response_id = response.id
    return response


class Router(ABC):
    """Common plumbing: decision logging and the sync facade."""

    kind: str = ""

    def __init__(self, name: str, log: RoutingLog | None = None) -> None:
        self.name = name
        self.log: RoutingLog = log if log is not None else MemoryRoutingLog()

    @property
    @abstractmethod
    def models(self) -> list[str]: ...

    @abstractmethod
    async def _route(
        self, messages: Sequence[Message], query: Query, **params: Any
    ) -> RoutedCompletion: ...

    def new_decision(self, query: Query, strategy: str) -> RoutingDecision:
        return RoutingDecision(
            router=self.name,
            kind=self.kind,
            strategy=strategy,
            query_id=query.id,
            query_preview=query.text[:200],
            query=query,
        )

    async def complete(self, messages: Sequence[Message], **params: Any) -> RoutedCompletion:
        """Route ``messages`` and answer them; the decision is logged whether it worked or not."""
        start = time.perf_counter()
        query = Query(text=query_text(messages), source=ROUTED_SOURCE)
        try:
            routed = await self._route(messages, query, **params)
        except RoutingError as exc:
            exc.decision.latency_s = time.perf_counter() - start
            self.log.record(exc.decision)
            raise
        routed.decision.latency_s = time.perf_counter() - start
        self.log.record(routed.decision)
        return routed

    def complete_sync(self, messages: Sequence[Message], **params: Any) -> RoutedCompletion:
        return run_sync(lambda: self.complete(messages, **params))
