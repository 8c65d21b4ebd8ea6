"""Types shared by every gateway backend: the completion record, errors, the backend protocol."""

from __future__ import annotations

from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from judgebench.records import Usage

Message = dict[str, Any]


class TokenLogprob(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str
    logprob: float | None
    top_logprobs: dict[str, float] = Field(default_factory=dict)


class Completion(BaseModel):
    """One LLM reply as every part of judgebench sees it, whatever the backend."""

    model_config = ConfigDict(extra="forbid")

    model: str
    text: str
    finish_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    cost: float | None = None
    latency_s: float = 0.0
    cached: bool = False
    # chat: logprobs of the generated tokens; completions+echo: of the prompt tokens too
    logprobs: list[TokenLogprob] | None = None
    prompt_logprobs: list[TokenLogprob] | None = None
    kind: Literal["chat", "text"] = "chat"


class LLMError(Exception):
    """A call that did not produce a completion. ``retryable`` drives the retry policy.

    The message is the reason, with any API key redacted; ``attempts`` says how many tries the
    gateway made before giving up (set by the gateway).
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        model: str | None = None,
    ):
        from judgebench.llm.secrets import redact

        super().__init__(redact(message))
        self.status = status
        self.retry_after = retry_after
        self.model = model
        self.attempts = 0

    @property
    def reason(self) -> str:
        return f"{type(self).__name__}: {self.args[0] if self.args else ''}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r}, status={self.status})"


class RateLimitError(LLMError):
    retryable = True


class ServerError(LLMError):
    retryable = True


class TimeoutError_(LLMError):
    retryable = True


class ConnectionError_(LLMError):
    retryable = True


class BadResponseError(LLMError):
    """Malformed or truncated body, empty choices: the server answered but not usably."""

    retryable = True


class BadRequestError(LLMError):
    """4xx that cannot succeed on retry (bad params, auth, unknown model)."""


class AuthenticationError(BadRequestError):
    """401, or a missing API key: the same request fails the same way until the key is fixed."""


class PermissionDeniedError(BadRequestError):
    """403: the key is valid but may not use this model or endpoint."""


class NotFoundError(BadRequestError):
    """404: an unknown model, deployment or endpoint path."""


# HTTP statuses a retry can fix besides 429 and 5xx (timeout, conflict, too early)
RETRYABLE_4XX = frozenset({408, 409, 425})
_NOT_RETRIED_4XX: dict[int, type[BadRequestError]] = {
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
}


def error_for_status(
    message: str, status: int, *, retry_after: float | None = None, model: str | None = None
) -> LLMError:
    """The error class of an HTTP status, for every client: 429 rate limit, 5xx and
    408/409/425 retryable (with ``Retry-After``), 401/403/404 their own non-retried classes,
    any other status a non-retried bad request."""
    if status == 429:
        return RateLimitError(message, status=status, retry_after=retry_after, model=model)
    if status >= 500 or status in RETRYABLE_4XX:
        return ServerError(message, status=status, retry_after=retry_after, model=model)
    cls = _NOT_RETRIED_4XX.get(status, BadRequestError)
    return cls(message, status=status, model=model)


class BudgetExceeded(LLMError):
    """The next call would cross a configured budget cap; raised before the call is made."""


class Backend(Protocol):
    """What a gateway backend implements. ``prompt`` is set for text completions (echo/logprobs)."""

    async def complete(
        self, model: str, messages: list[Message] | None, prompt: str | None, params: dict[str, Any]
    ) -> Completion: ...
