"""The litellm route: any provider litellm supports (imported lazily, local cost map only).

Used for every model without an ``api_base``, and for ``api_base`` models configured with
``backend: litellm`` (then sent as ``openai/<wire>`` or ``text-completion-openai/<wire>``). Its
retries are switched off: the gateway retries. Its caches are not used: the gateway caches.
"""

from __future__ import annotations

import os
from typing import Any

from judgebench.llm.limits import parse_retry_after
from judgebench.llm.openai_compat import RETRYABLE_4XX, parse_completion
from judgebench.llm.secrets import install_log_redaction, register_env_keys, register_secret
from judgebench.llm.types import (
    BadRequestError,
    BadResponseError,
    Completion,
    ConnectionError_,
    LLMError,
    Message,
    RateLimitError,
    ServerError,
    TimeoutError_,
)


def import_litellm() -> Any:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    register_env_keys()
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    install_log_redaction("LiteLLM", "litellm", "LiteLLM Router", "LiteLLM Proxy")
    return litellm


def litellm_prices(model: str) -> tuple[float, float] | None:
    """(input, output) USD per token from litellm's bundled cost map, or None if unknown."""
    try:
        litellm = import_litellm()
    except ImportError:
        return None
    cost_map = getattr(litellm, "model_cost", {}) or {}
    for name in (model, model.split("/", 1)[-1]):
        entry = cost_map.get(name)
        if (
            entry
            and entry.get("input_cost_per_token") is not None
            and entry.get("output_cost_per_token") is not None
        ):
            return float(entry["input_cost_per_token"]), float(entry["output_cost_per_token"])
    return None


class LiteLLMBackend:
    def __init__(
        self, api_base: str | None = None, api_key: str | None = None, wire_model: str | None = None
    ) -> None:
        self.api_base = api_base
        self.wire_model = wire_model
        self._api_key = api_key
        register_secret(api_key)
        # import now (seconds, once), not inside the first call's timeout
        self._litellm = import_litellm()

    def __repr__(self) -> str:
        return f"LiteLLMBackend(api_base={self.api_base!r}, wire_model={self.wire_model!r})"

    def _name(self, model: str, text: bool) -> str:
        name = self.wire_model or model
        if self.api_base:  # an OpenAI-compatible endpoint: tell litellm which protocol to speak
            bare = (
                name.split("/", 1)[1]
                if name.startswith(("openai/", "text-completion-openai/"))
                else name
            )
            name = ("text-completion-openai/" if text else "openai/") + bare
        return name

    async def complete(
        self, model: str, messages: list[Message] | None, prompt: str | None, params: dict[str, Any]
    ) -> Completion:
        litellm = self._litellm
        kwargs: dict[str, Any] = dict(params)
        kwargs.setdefault("num_retries", 0)
        kwargs.setdefault("max_retries", 0)
        if self.api_base:
            kwargs["api_base"] = self.api_base
            kwargs.setdefault("api_key", self._api_key or "no-key")
        elif self._api_key:
            kwargs["api_key"] = self._api_key
        error: LLMError | None = None
        try:
            if prompt is None:
                response = await litellm.acompletion(
                    model=self._name(model, False), messages=messages, **kwargs
                )
            else:
                response = await litellm.atext_completion(
                    model=self._name(model, True), prompt=prompt, **kwargs
                )
        except Exception as exc:  # litellm wraps everything in its own classes: map by status
            error = map_litellm_error(model, exc)
        if error is not None:
            # raised outside the handler: litellm's exception (which may quote a key) is not chained
            raise error
        data = response.model_dump() if hasattr(response, "model_dump") else dict(response)
        return parse_completion(
            model,
            data,
            "chat" if prompt is None else "text",
            prompt=prompt,
            echo=bool(params.get("echo")),
        )


def map_litellm_error(model: str, exc: Exception) -> LLMError:
    if isinstance(exc, LLMError):
        return exc
    name = type(exc).__name__
    status = getattr(exc, "status_code", None)
    message = f"{model}: litellm {name}: {getattr(exc, 'message', None) or exc}"
    retry_after = None
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or getattr(exc, "litellm_response_headers", None)
    if headers is not None:
        try:
            retry_after = parse_retry_after(headers.get("retry-after"))
        except Exception:  # headers of an unexpected type: no hint
            retry_after = None
    if "Timeout" in name or status == 408:
        return TimeoutError_(message, status=status, model=model)
    if status == 429 or "RateLimit" in name:
        return RateLimitError(message, status=429, retry_after=retry_after, model=model)
    if "APIConnectionError" in name or "ConnectionError" in name:
        # litellm reports unparseable bodies as connection errors too
        if "JSON" in str(exc) or "json" in str(exc) or "choices" in str(exc):
            return BadResponseError(message, status=status, model=model)
        return ConnectionError_(message, status=status, model=model)
    if isinstance(status, int):
        if status >= 500 or status in RETRYABLE_4XX:
            return ServerError(message, status=status, retry_after=retry_after, model=model)
        if 400 <= status < 500:
            return BadRequestError(message, status=status, model=model)
    if "InternalServerError" in name or "ServiceUnavailable" in name:
        return ServerError(message, status=status, model=model)
    return BadResponseError(message, status=status, model=model)
