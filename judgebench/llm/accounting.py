"""Token and cost accounting per call and per run, and budget caps checked before each call.

An :class:`Account` sums what calls used (calls made, cache hits, tokens, cost, errors). The
gateway keeps one for its whole life (``gateway.stats``) and charges every account opened with
``gateway.account(...)`` around the calls made inside it (a context variable, so concurrent
runs on one gateway are kept apart). A :class:`Budget` on an account is checked *before* a call:
the call's worst case (prompt estimate + ``max_tokens``, or the mean completion seen so far) plus
what calls already in flight may still use must fit, otherwise :class:`BudgetExceeded` is raised
and the call is not made. Costs are ``None`` when a price is unknown — never 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from judgebench.llm.types import BudgetExceeded

DEFAULT_COMPLETION_ESTIMATE = 256


@dataclass(frozen=True)
class Budget:
    max_cost: float | None = None
    max_tokens: int | None = None
    max_calls: int | None = None


@dataclass
class Reservation:
    tokens: int
    cost: float | None


@dataclass
class Account:
    name: str = "gateway"
    budget: Budget = field(default_factory=Budget)
    calls: int = 0
    cache_hits: int = 0
    errors: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    calls_without_price: int = 0
    # told every change as it happens (``{"calls": 1, "cost": ...}``), e.g. to persist usage
    # per call rather than when a piece of work finishes
    on_change: Callable[[dict[str, Any]], None] | None = None
    _reserved_calls: int = 0
    _reserved_tokens: int = 0
    _reserved_cost: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def known_cost(self) -> float | None:
        """Total cost, or None when some call had no known price."""
        return None if self.calls_without_price else self.cost

    def reserve(self, model: str, tokens: int, cost: float | None) -> Reservation:
        budget = self.budget
        if (
            budget.max_calls is not None
            and self.calls + self._reserved_calls + 1 > budget.max_calls
        ):
            raise BudgetExceeded(
                f"{self.name}: max_calls={budget.max_calls} reached ({self.calls} made, "
                f"{self._reserved_calls} in flight)",
                model=model,
            )
        if (
            budget.max_tokens is not None
            and self.total_tokens + self._reserved_tokens + tokens > budget.max_tokens
        ):
            raise BudgetExceeded(
                f"{self.name}: next call to {model} (up to {tokens} tokens) would cross "
                f"max_tokens={budget.max_tokens} ({self.total_tokens} used, {self._reserved_tokens} reserved)",
                model=model,
            )
        if budget.max_cost is not None:
            if cost is None:
                raise BudgetExceeded(
                    f"{self.name}: max_cost is set but the price of {model} is unknown", model=model
                )
            if self.cost + self._reserved_cost + cost > budget.max_cost:
                raise BudgetExceeded(
                    f"{self.name}: next call to {model} (up to ${cost:.6f}) would cross "
                    f"max_cost=${budget.max_cost} (${self.cost:.6f} spent, ${self._reserved_cost:.6f} reserved)",
                    model=model,
                )
        self._reserved_calls += 1
        self._reserved_tokens += tokens
        self._reserved_cost += cost or 0.0
        return Reservation(tokens, cost)

    def release(self, reservation: Reservation) -> None:
        self._reserved_calls -= 1
        self._reserved_tokens -= reservation.tokens
        self._reserved_cost -= reservation.cost or 0.0

    def charge(self, prompt_tokens: int, completion_tokens: int, cost: float | None) -> None:
        """One call made (whatever it cost)."""
        self.calls += 1
        self.prompt_tokens += prompt_tokens
        self.completion_tokens += completion_tokens
        if cost is None:
            self.calls_without_price += 1
        else:
            self.cost += cost
        self._tell(
            calls=1,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost=cost or 0.0,
            calls_without_price=int(cost is None),
        )

    def hit(self) -> None:
        """One reply served from the call cache (spends nothing)."""
        self.cache_hits += 1
        self._tell(cache_hits=1)

    def error(self) -> None:
        """One call that ended in an error after its retries."""
        self.errors += 1
        self._tell(errors=1)

    def _tell(self, **delta: Any) -> None:
        if self.on_change is not None:
            self.on_change(delta)

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "calls": self.calls,
            "cache_hits": self.cache_hits,
            "errors": self.errors,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost": self.known_cost,
        }


def estimate_prompt_tokens(messages: Any, prompt: str | None) -> int:
    """A cheap upper-ish estimate (4 characters a token, plus per-message overhead)."""
    if prompt is not None:
        return math.ceil(len(prompt) / 4) + 1
    total = 0
    for message in messages or []:
        content = message.get("content", "")
        total += math.ceil(len(content if isinstance(content, str) else str(content)) / 4) + 4
    return total + 2


def price_cost(
    prices: tuple[float, float] | None, prompt_tokens: int, completion_tokens: int
) -> float | None:
    if prices is None:
        return None
    return prices[0] * prompt_tokens + prices[1] * completion_tokens
