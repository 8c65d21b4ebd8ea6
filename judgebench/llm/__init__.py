"""The LLM gateway: ``complete(model, messages, **params)`` and friends."""

from judgebench.llm.gateway import (
    Gateway,
    complete,
    complete_sync,
    gather_limited,
    get_gateway,
    run_sync,
    set_gateway,
)
from judgebench.llm.scripted import ScriptedBackend
from judgebench.llm.types import (
    BadRequestError,
    BadResponseError,
    BudgetExceeded,
    Completion,
    LLMError,
    RateLimitError,
    ServerError,
    TokenLogprob,
)

__all__ = [
    "BadRequestError",
    "BadResponseError",
    "BudgetExceeded",
    "Completion",
    "Gateway",
    "LLMError",
    "RateLimitError",
    "ScriptedBackend",
    "ServerError",
    "TokenLogprob",
    "complete",
    "complete_sync",
    "gather_limited",
    "get_gateway",
    "run_sync",
    "set_gateway",
]
