"""An OpenAI-compatible HTTP front for a router (aiohttp): ``POST /v1/chat/completions``,
``GET /v1/models``, ``GET /health``.

- API keys: ``Authorization: Bearer <key>`` (401 without a valid one; ``/health`` is open);
- request size: bodies over ``max_body_bytes`` → 413, read no further; a body not received
  within ``body_timeout_s`` → 408 (a client trickling bytes cannot hold a slot);
- rate limits: a token bucket per key (``rate_limit_per_s``, ``burst``) and a cap on requests in
  flight → 429 with ``Retry-After``;
- a request that breaks the OpenAI chat schema (bad JSON, nesting over 32 levels, malformed
  ``messages`` or content parts, ``temperature: "hot"``, ``max_tokens: -5``, ``stop: 123``,
  ``stream: true``, ``n > 1``; see :mod:`judgebench.routing.request_schema`) → 400 naming the
  problem, before anything is routed or logged; a non-ASCII Authorization header → 400;
  every stage failing → 502 naming the models and their status (no exception text); an
  unexpected failure → 500 with no detail (logged, redacted); all errors in OpenAI's
  ``{"error": {...}}`` shape;
- the routing decision in the ``X-Judgebench-Route`` header, the answering model in
  ``X-Judgebench-Model``, and the decision in the router's log (the store), flushed in batches.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from typing import Any

from judgebench.routing.config import ServerSettings
from judgebench.routing.request_schema import BadRequest, check_chat_request, parse_body
from judgebench.routing.router import Router, RoutingError

PASSED_PARAMS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "stop")
ROUTE_HEADER = "X-Judgebench-Route"
MODEL_HEADER = "X-Judgebench-Model"


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.stamp = time.monotonic()

    def take(self) -> float:
        """0 when a token was taken, else the seconds until one is there."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


class RouterServer:
    def __init__(self, router: Router, settings: ServerSettings | None = None) -> None:
        self.router = router
        self.settings = settings or ServerSettings()
        self.keys = self.settings.api_keys()
        self.host, self.port = self.settings.host, self.settings.port
        self._buckets: dict[str, TokenBucket] = {}
        self._in_flight = 0
        self._runner: Any = None
        self._flusher: asyncio.Task[None] | None = None
        self.counts: dict[int, int] = {}

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # --- plumbing -----------------------------------------------------------------------------
    def app(self) -> Any:
        from aiohttp import web

        app = web.Application(client_max_size=self.settings.max_body_bytes + 1)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        return app

    async def start(self) -> str:
        from aiohttp import web

        self._runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=2048, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        if hasattr(self.router.log, "flush"):
            self._flusher = asyncio.create_task(self._flush_loop())
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._flusher is not None:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)
            self._flusher = None
        flush = getattr(self.router.log, "flush", None)
        if flush is not None:
            await asyncio.to_thread(flush)  # nothing recorded is lost on shutdown

    async def _flush_loop(self) -> None:
        import logging

        while True:
            await asyncio.sleep(self.settings.flush_interval_s)
            try:
                await asyncio.to_thread(self.router.log.flush)  # type: ignore[attr-defined]
            except Exception as exc:  # noqa: BLE001 - rows stay pending; the next flush retries
                logging.getLogger(__name__).warning("routing log flush failed: %s", exc)

    def _error(
        self, status: int, message: str, kind: str, headers: dict[str, str] | None = None
    ) -> Any:
        from aiohttp import web

        self.counts[status] = self.counts.get(status, 0) + 1
        body = {"error": {"message": message, "type": kind, "code": status}}
        return web.json_response(body, status=status, headers=headers)

    def _key(self, request: Any) -> tuple[str | None, Any]:
        """(the caller's key id, or an error response)."""
        if not self.keys:
            return "anonymous", None
        auth = request.headers.get("Authorization", "")
        if not auth.isascii():  # no key has such bytes, and encoding them would raise
            return None, self._error(
                400, "the Authorization header must be ASCII", "invalid_request_error"
            )
        given = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        if not given:
            return None, self._error(
                401, "missing API key: send 'Authorization: Bearer <key>'", "authentication_error"
            )
        for key in self.keys:
            if hmac.compare_digest(given.encode(), key.encode()):
                return key, None
        return None, self._error(401, "invalid API key", "authentication_error")

    def _limited(self, key: str) -> Any:
        s = self.settings
        if s.rate_limit_per_s:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(
                    s.rate_limit_per_s, s.burst or max(1, math.ceil(s.rate_limit_per_s))
                )
            wait = bucket.take()
            if wait > 0:
                return self._error(
                    429,
                    f"rate limit of {s.rate_limit_per_s:g} requests/s per key exceeded; retry in {wait:.2f}s",
                    "rate_limit_error",
                    {"Retry-After": str(max(1, math.ceil(wait)))},
                )
        if self._in_flight >= s.max_in_flight:
            return self._error(
                429,
                f"server busy: {s.max_in_flight} requests in flight",
                "rate_limit_error",
                {"Retry-After": "1"},
            )
        return None

    # --- endpoints ----------------------------------------------------------------------------
    async def _health(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response(
            {
                "status": "ok",
                "router": self.router.name,
                "kind": self.router.kind,
                "in_flight": self._in_flight,
            }
        )

    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        _, err = self._key(request)
        if err is not None:
            return err
        created = int(time.time())
        data = [
            {
                "id": self.settings.model_name,
                "object": "model",
                "created": created,
                "owned_by": "judgebench-router",
            }
        ]
        data += [
            {
                "id": m,
                "object": "model",
                "created": created,
                "owned_by": "judgebench-router:backend",
            }
            for m in self.router.models
        ]
        return web.json_response({"object": "list", "data": data})

    async def _read_json(self, request: Any) -> tuple[Any, Any]:
        limit = self.settings.max_body_bytes
        if request.content_length is not None and request.content_length > limit:
            return None, self._error(
                413,
                f"request body of {request.content_length} bytes exceeds the limit of {limit}",
                "invalid_request_error",
            )
        try:
            async with asyncio.timeout(self.settings.body_timeout_s):
                raw = await _read_body(request.content, limit)
        except TimeoutError:  # a client trickling its body would hold an in-flight slot
            return None, self._error(
                408,
                f"request body not received within {self.settings.body_timeout_s:g}s",
                "invalid_request_error",
                {"Connection": "close"},
            )
        if len(raw) > limit:
            return None, self._error(
                413, f"request body exceeds the limit of {limit} bytes", "invalid_request_error"
            )
        try:
            body = parse_body(raw)
            check_chat_request(body)  # before anything is routed or logged
        except BadRequest as exc:
            return None, self._error(400, str(exc), "invalid_request_error")
        return body, None

    async def _chat(self, request: Any) -> Any:
        from aiohttp import web

        key, err = self._key(request)
        if err is not None:
            return err
        assert key is not None
        err = self._limited(key)
        if err is not None:
            return err
        self._in_flight += 1
        try:
            body, err = await self._read_json(request)
            if err is not None:
                return err
            params = {k: body[k] for k in PASSED_PARAMS if body.get(k) is not None}
            messages = [{"role": m["role"], "content": m["content"]} for m in body["messages"]]
            try:
                routed = await self.router.complete(messages, **params)
            except RoutingError as exc:
                stages = ", ".join(f"{s.model}: {s.status}" for s in exc.decision.stages)
                return self._error(
                    502,
                    f"no model could answer ({stages})",  # the reasons stay in the routing log
                    "api_error",
                    {ROUTE_HEADER: exc.decision.header()},
                )
            except Exception:  # noqa: BLE001 - a bug, not the client's fault: no detail leaks
                _log_failure()
                return self._error(500, "internal error (logged by the router)", "api_error")
            c, d = routed.completion, routed.decision
            self.counts[200] = self.counts.get(200, 0) + 1
            return web.json_response(
                {
                    "id": f"chatcmpl-{d.id}",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": d.final_model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": c.text},
                            "finish_reason": c.finish_reason or "stop",
                        }
                    ],
                    "usage": {
                        "prompt_tokens": c.usage.prompt_tokens,
                        "completion_tokens": c.usage.completion_tokens,
                        "total_tokens": c.usage.total_tokens,
                    },
                },
                headers={ROUTE_HEADER: d.header(), MODEL_HEADER: d.final_model or ""},
            )
        finally:
            self._in_flight -= 1


async def _read_body(stream: Any, limit: int) -> bytes:
    """The whole body, or its first ``limit + 1`` bytes when it is longer. One ``read(n)``
    returns only what has arrived so far: a body that comes in several TCP segments (or
    chunks) would be cut short and parsed as truncated JSON, and an oversized chunked body
    would be a 400 instead of a 413."""
    parts: list[bytes] = []
    size = 0
    while size <= limit:
        part = await stream.read(limit + 1 - size)
        if not part:
            break
        parts.append(part)
        size += len(part)
    return b"".join(parts)


def _log_failure() -> None:
    """Log the exception being handled, with every registered secret masked."""
    import logging

    from judgebench.llm.secrets import install_log_redaction

    install_log_redaction(__name__)
    logging.getLogger(__name__).exception("routing a request failed")
