"""The direct client for OpenAI-compatible endpoints (``/v1/chat/completions``, ``/v1/completions``).

A thin aiohttp client: one pooled session per event loop, JSON in and out, errors mapped to the
gateway's :class:`~judgebench.llm.types.LLMError` classes (429 with ``Retry-After``, 5xx,
connection drops and unusable bodies are retryable; other 4xx are not). It exists because the
generic path (litellm) costs several times more CPU per call; litellm remains the route for
providers that need its request translation.
"""

from __future__ import annotations

import asyncio
import json
import weakref
from typing import Any

from judgebench.llm.limits import parse_retry_after
from judgebench.llm.secrets import redact, register_secret
from judgebench.llm.types import (
    BadResponseError,
    Completion,
    ConnectionError_,
    LLMError,
    Message,
    ServerError,
    TokenLogprob,
    error_for_status,
)
from judgebench.records import Usage


class OpenAICompatBackend:
    """Talks to one OpenAI-compatible ``api_base`` (e.g. ``http://127.0.0.1:8000/v1``)."""

    def __init__(
        self, api_base: str, api_key: str | None = None, wire_model: str | None = None
    ) -> None:
        self.api_base = api_base.rstrip("/")
        self.wire_model = wire_model
        register_secret(api_key)
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._sessions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:  # never shows the key
        return f"OpenAICompatBackend(api_base={self.api_base!r}, wire_model={self.wire_model!r})"

    def _session(self) -> Any:
        import aiohttp

        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300, enable_cleanup_closed=True)
            session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(total=None),
                headers=self._headers,
            )
            self._sessions[loop] = session
        return session

    async def aclose(self) -> None:
        """Close the session of the running loop (sessions of other loops close with them)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        session = self._sessions.pop(loop, None)
        if session is not None and not session.closed:
            await session.close()

    async def complete(
        self, model: str, messages: list[Message] | None, prompt: str | None, params: dict[str, Any]
    ) -> Completion:
        import aiohttp

        wire = self.wire_model or model
        if prompt is None:
            url, body = (
                self.api_base + "/chat/completions",
                {"model": wire, "messages": messages, **params},
            )
        else:
            url, body = self.api_base + "/completions", {"model": wire, "prompt": prompt, **params}
        payload = json.dumps(body, ensure_ascii=False)
        failure: str | None = None
        try:
            async with self._session().post(url, data=payload) as resp:
                status = resp.status
                retry_after = resp.headers.get("Retry-After")
                raw = await resp.read()
        except aiohttp.ClientResponseError as exc:
            failure = f"bad HTTP response: {exc.message}"
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            failure = f"connection failed: {type(exc).__name__}: {exc}"
        if failure is not None:  # raised outside the handler: no chained client exception
            raise ConnectionError_(f"{model}: {failure}", model=model)
        if status != 200:
            raise http_error(model, status, raw, parse_retry_after(retry_after))
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise BadResponseError(
                f"{model}: malformed JSON body ({len(raw)} bytes): {raw[:120]!r}",
                status=status,
                model=model,
            ) from None
        return parse_completion(
            model,
            data,
            "chat" if prompt is None else "text",
            prompt=prompt,
            echo=bool(params.get("echo")),
        )


def http_error(model: str, status: int, raw: bytes, retry_after: float | None) -> LLMError:
    message = f"{model}: HTTP {status}: {_error_message(raw)}"
    return error_for_status(message, status, retry_after=retry_after, model=model)


def _error_message(raw: bytes) -> str:
    try:
        data = json.loads(raw)
        if isinstance(data, dict):
            error = data.get("error", data)
            if isinstance(error, dict):
                return redact(str(error.get("message") or error)[:300])
            return redact(str(error)[:300])
    except (ValueError, UnicodeDecodeError):
        pass
    return redact(raw[:300].decode("utf-8", "replace")) or "(empty body)"


def parse_completion(
    model: str, data: Any, kind: str, *, prompt: str | None = None, echo: bool = False
) -> Completion:
    """An OpenAI-shaped response dict → :class:`Completion` (BadResponseError if unusable)."""
    if not isinstance(data, dict):
        raise BadResponseError(f"{model}: response is not a JSON object", model=model)
    if "error" in data and not data.get("choices"):
        raise ServerError(
            f"{model}: error in a 200 body: {_error_message(json.dumps(data).encode())}",
            model=model,
        )
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BadResponseError(f"{model}: response has no choices", model=model)
    choice = choices[0]
    if not isinstance(choice, dict):
        raise BadResponseError(f"{model}: choice is not an object", model=model)
    usage = data.get("usage") or {}
    try:
        tokens = Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
        )
    except (TypeError, ValueError):
        raise BadResponseError(f"{model}: malformed usage {usage!r}", model=model) from None
    logprobs = prompt_logprobs = None
    if kind == "chat":
        message = choice.get("message")
        if not isinstance(message, dict):
            raise BadResponseError(f"{model}: choice has no message", model=model)
        text = message.get("content") or ""
        lp = choice.get("logprobs")
        if isinstance(lp, dict) and lp.get("content") is not None:
            logprobs = [_chat_token(t) for t in lp["content"]]
    else:
        text = choice.get("text")
        if not isinstance(text, str):
            raise BadResponseError(f"{model}: choice has no text", model=model)
        lp = choice.get("logprobs")
        if isinstance(lp, dict) and lp.get("tokens") is not None:
            # the Completion contract: with echo, ``logprobs`` covers prompt and reply tokens and
            # ``prompt_logprobs`` the prompt's share; without echo, only the reply's
            logprobs = _text_tokens(lp)
            if echo:
                split = _prompt_split(lp, logprobs, prompt, tokens.prompt_tokens)
                prompt_logprobs = logprobs[:split]
    if not isinstance(text, str):
        raise BadResponseError(f"{model}: reply text is not a string", model=model)
    return Completion(
        model=model,
        text=text,
        finish_reason=choice.get("finish_reason"),
        usage=tokens,
        logprobs=logprobs,
        prompt_logprobs=prompt_logprobs,
        kind="chat" if kind == "chat" else "text",
    )


def _chat_token(item: dict[str, Any]) -> TokenLogprob:
    top = {t["token"]: t["logprob"] for t in item.get("top_logprobs") or [] if isinstance(t, dict)}
    return TokenLogprob(token=item.get("token", ""), logprob=item.get("logprob"), top_logprobs=top)


def _text_tokens(lp: dict[str, Any]) -> list[TokenLogprob]:
    tokens = lp.get("tokens") or []
    values = lp.get("token_logprobs") or [None] * len(tokens)
    tops = lp.get("top_logprobs") or [None] * len(tokens)
    return [
        TokenLogprob(token=t, logprob=v, top_logprobs=dict(top) if isinstance(top, dict) else {})
        for t, v, top in zip(tokens, values, tops, strict=False)
    ]


def _prompt_split(
    lp: dict[str, Any], tokens: list[TokenLogprob], prompt: str | None, prompt_tokens: int
) -> int:
    """How many leading echoed tokens belong to the prompt (text offsets first, else usage)."""
    offsets = lp.get("text_offset")
    if prompt is not None and isinstance(offsets, list) and len(offsets) == len(tokens):
        return sum(1 for o in offsets if o < len(prompt))
    if prompt_tokens:
        return min(prompt_tokens, len(tokens))
    if prompt is not None:  # fall back to matching the token texts against the prompt
        length = 0
        for i, t in enumerate(tokens):
            if length >= len(prompt):
                return i
            length += len(t.token)
    return len(tokens)
