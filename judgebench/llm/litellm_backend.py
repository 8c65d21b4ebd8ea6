"""The litellm route: any provider litellm supports (imported lazily, local cost map only).

Used for every model without an ``api_base``, and for ``api_base`` models configured with
``backend: litellm`` (then sent as ``openai/<wire>`` or ``text-completion-openai/<wire>``). Its
retries are switched off: the gateway retries. Its caches are not used: the gateway caches.
"""

from __future__ import annotations

import os
from typing import Any

from judgebench.llm.limits import parse_retry_after
from judgebench.llm.openai_compat import parse_completion
from judgebench.llm.secrets import install_log_redaction, register_env_keys, register_secret
from judgebench.llm.types import (
    AuthenticationError,
    BadResponseError,
    Completion,
    ConnectionError_,
    LLMError,
    Message,
    ServerError,
    TimeoutError_,
    error_for_status,
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
        """The model name litellm gets. With an ``api_base``, a name whose prefix is a litellm
        provider (``azure/…``, ``anthropic/…``, ``ollama_chat/…``) keeps it, so litellm speaks
        that provider's wire format to the base; any other name is OpenAI-compatible."""
        name = self.wire_model or model
        if not self.api_base:
            return name
        prefix, _, bare = name.partition("/")
        if prefix in ("openai", "text-completion-openai"):
            name = bare
        elif bare and prefix in self._litellm.provider_list:
            return name
        return ("text-completion-openai/" if text else "openai/") + name

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
        except Exception as exc:  # litellm wraps everything in its own classes: map by type
            error = self._missing_credentials(
                model, prompt is not None, map_litellm_error(model, exc)
            )
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

    def _missing_credentials(self, model: str, text: bool, error: LLMError) -> LLMError:
        """``error``, or a non-retried :class:`AuthenticationError` naming the unset variables
        when no key was given and litellm finds the provider's variables missing (litellm
        reports a missing OpenAI or Azure key as a 500, which would be retried). Asked only
        after a failure, so a provider whose variables litellm misjudges still gets its call."""
        if self._api_key or self.api_base or not isinstance(error, ServerError | BadResponseError):
            return error
        try:
            found = self._litellm.validate_environment(model=self._name(model, text))
            missing = [str(v) for v in found.get("missing_keys") or []]
        except Exception:  # an unknown provider: nothing to name
            return error
        if not missing:
            return error
        return AuthenticationError(
            f"{model}: missing credentials: set {', '.join(missing)} in the environment "
            "(or api_key_env in the model's settings)",
            status=error.status,
            model=model,
        )


def map_litellm_error(model: str, exc: Exception) -> LLMError:
    """The gateway's error for a litellm exception, by its type (litellm's classes subclass the
    openai SDK's), else by its HTTP status: never by the words in its name or message."""
    if isinstance(exc, LLMError):
        return exc
    import openai

    status = getattr(exc, "status_code", None)
    status = status if isinstance(status, int) else None
    message = f"{model}: litellm {type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
    # litellm wraps a dropped connection in a 500 (InternalServerError): the transport error
    # it came from, anywhere in the chain, decides (a timeout is also a connection error)
    transport = _first_in_chain(exc, (openai.APIConnectionError, *_transport_errors()))
    if transport is not None and (status is None or status >= 500):
        if _first_in_chain(transport, (openai.APITimeoutError, TimeoutError)) is not None:
            return TimeoutError_(message, model=model)
        # a body litellm could not decode is reported as a connection error: tell them apart
        decoding = _first_in_chain(transport, (ValueError,)) is not None
        return (BadResponseError if decoding else ConnectionError_)(message, model=model)
    if isinstance(exc, openai.APIResponseValidationError):
        return BadResponseError(message, status=status, model=model)
    status_of_type: tuple[tuple[tuple[type[Exception], ...], int], ...] = (
        ((openai.AuthenticationError,), 401),
        ((openai.PermissionDeniedError,), 403),
        ((openai.NotFoundError,), 404),
        ((openai.RateLimitError,), 429),
        ((openai.BadRequestError, openai.UnprocessableEntityError), 400),
        ((openai.InternalServerError,), 500),
    )
    for types, code in status_of_type:
        if isinstance(exc, types):
            status = code if status is None or status < 400 else status
            break
    if status is not None and status >= 400:
        return error_for_status(message, status, retry_after=_retry_after(exc), model=model)
    if isinstance(exc, openai.APIError):  # an API error without a status: the reply was unusable
        return BadResponseError(message, status=status, model=model)
    # anything else is a client-side failure (bad arguments, a litellm bug): retrying cannot help
    return LLMError(message, status=status, model=model)


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or getattr(exc, "litellm_response_headers", None)
    if headers is None:
        return None
    try:
        return parse_retry_after(headers.get("retry-after"))
    except Exception:  # headers of an unexpected type: no hint
        return None


def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection-level exception types of the HTTP stacks litellm may use."""
    import aiohttp
    import httpx

    return (ConnectionError, TimeoutError, httpx.TransportError, aiohttp.ClientConnectionError)


def _first_in_chain(
    exc: BaseException, kinds: tuple[type[BaseException], ...]
) -> BaseException | None:
    """``exc`` or the first exception it was raised from (``__cause__``/``__context__``) that is
    one of ``kinds``."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
