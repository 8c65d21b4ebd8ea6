"""The LLM gateway: ``complete(model, messages, **params)`` and friends."""

from judgebench.llm.accounting import Account, Budget
from judgebench.llm.cache import CacheEntry, CallCache, MemoryCallCache, cache_key, is_cacheable
from judgebench.llm.gateway import (
    Gateway,
    LLMRequest,
    complete,
    complete_many,
    complete_many_sync,
    complete_sync,
    complete_text,
    complete_text_sync,
    gather_limited,
    get_gateway,
    run_sync,
    set_gateway,
)
from judgebench.llm.limits import AdaptiveConcurrency, RateLimiter, RetryPolicy
from judgebench.llm.scripted import ScriptedBackend
from judgebench.llm.secrets import redact, register_secret
from judgebench.llm.types import (
    Backend,
    BadRequestError,
    BadResponseError,
    BudgetExceeded,
    Completion,
    ConnectionError_,
    LLMError,
    RateLimitError,
    ServerError,
    TimeoutError_,
    TokenLogprob,
)

__all__ = [
    "Account",
    "AdaptiveConcurrency",
    "Backend",
    "BadRequestError",
    "BadResponseError",
    "Budget",
    "BudgetExceeded",
    "CacheEntry",
    "CallCache",
    "Completion",
    "ConnectionError_",
    "Gateway",
    "LLMError",
    "LLMRequest",
    "MemoryCallCache",
    "RateLimitError",
    "RateLimiter",
    "RetryPolicy",
    "ScriptedBackend",
    "ServerError",
    "TimeoutError_",
    "TokenLogprob",
    "cache_key",
    "complete",
    "complete_many",
    "complete_many_sync",
    "complete_sync",
    "complete_text",
    "complete_text_sync",
    "gather_limited",
    "get_gateway",
    "is_cacheable",
    "redact",
    "register_secret",
    "run_sync",
    "set_gateway",
]
