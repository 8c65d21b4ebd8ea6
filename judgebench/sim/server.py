"""``judgebench sim-server``: the simulated models over an OpenAI-compatible HTTP API (loopback).

Endpoints: ``POST /v1/chat/completions`` (``logprobs`` / ``top_logprobs``), ``POST
/v1/completions`` (``echo`` + ``logprobs``), ``GET /v1/models``, ``GET /health``, ``GET /stats``.
Replies come from :class:`judgebench.sim.SimBackend` (simulated models) — or, with
``fixed_reply``, one canned reply, to measure transport costs alone.

Fault injection (:class:`FaultConfig`) reproduces what real providers do: latency from a fixed
or long-tailed (lognormal) distribution, 429 with and without ``Retry-After``, 500 and 503,
requests that hang, connections dropped mid-response, bodies cut short, malformed bodies and
empty ``choices``. Faults are drawn at the configured rates from a seeded RNG, after any faults
queued in ``script`` (one per request, in order), which tests use for exact sequences.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from judgebench.llm.types import Backend, Completion, TokenLogprob
from judgebench.records import Usage

FAULTS = (
    "429",
    "429-no-retry-after",
    "500",
    "503",
    "400",
    "hang",
    "drop",
    "truncate",
    "malformed",
    "empty",
)


@dataclass
class FaultConfig:
    latency_ms: float = 0.0
    latency_dist: Literal["fixed", "lognormal"] = "fixed"
    latency_sigma: float = 0.8  # lognormal shape; ``latency_ms`` is the median
    rate_429: float = 0.0
    rate_429_no_retry_after: float = 0.0
    retry_after_s: float = 1.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_hang: float = 0.0
    rate_drop: float = 0.0
    rate_truncate: float = 0.0
    rate_malformed: float = 0.0
    rate_empty_choices: float = 0.0
    hang_s: float = 600.0
    seed: int = 0
    script: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = [f for f in self.script if f != "ok" and f not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault(s) {unknown}; known: ok, {', '.join(FAULTS)}")
        for name, rate in self.rates():  # a negative rate would shift the others' shares
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault rate {name} is {rate}: use a number from 0 to 1")
        for name in ("latency_ms", "latency_sigma", "retry_after_s", "hang_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} is {getattr(self, name)}: must not be negative")
        if self.total_rate() > 1.0:
            raise ValueError(f"fault rates add up to {self.total_rate():.3f} > 1")

    def rates(self) -> list[tuple[str, float]]:
        return [
            ("429", self.rate_429),
            ("429-no-retry-after", self.rate_429_no_retry_after),
            ("500", self.rate_500),
            ("503", self.rate_503),
            ("hang", self.rate_hang),
            ("drop", self.rate_drop),
            ("truncate", self.rate_truncate),
            ("malformed", self.rate_malformed),
            ("empty", self.rate_empty_choices),
        ]

    def total_rate(self) -> float:
        return sum(r for _, r in self.rates())


class FallbackBackend:
    """A trivial deterministic backend (used when the simulator core is not importable):
    replies with a short sentence about the prompt, with pseudo log-probabilities."""

    async def complete(
        self,
        model: str,
        messages: list[dict[str, Any]] | None,
        prompt: str | None,
        params: dict[str, Any],
    ) -> Completion:
        source = (
            prompt
            if prompt is not None
            else " ".join(str(m.get("content", "")) for m in messages or [])
        )
        words = source.split()[:12]
        reply = "Simulated reply about: " + " ".join(words) if words else "Simulated reply."
        max_tokens = params.get("max_tokens")
        tokens = _tokens(reply)
        finish = "stop"
        if isinstance(max_tokens, int) and 0 < max_tokens < len(tokens):
            tokens, finish = tokens[:max_tokens], "length"
            reply = "".join(tokens)
        want_lp = bool(params.get("logprobs")) or params.get("logprobs") == 0
        top_k = int(
            params.get("top_logprobs")
            or (
                params.get("logprobs")
                if prompt is not None and isinstance(params.get("logprobs"), int)
                else 0
            )
            or 0
        )
        logprobs = [_pseudo_logprob(t, top_k) for t in tokens] if want_lp else None
        prompt_logprobs = None
        text = reply
        if prompt is not None and params.get("echo"):
            text = prompt + reply
            if want_lp:
                prompt_logprobs = [_pseudo_logprob(t, top_k) for t in _tokens(prompt)]
                if prompt_logprobs:
                    prompt_logprobs[0] = TokenLogprob(token=prompt_logprobs[0].token, logprob=None)
                logprobs = prompt_logprobs + (logprobs or [])
        return Completion(
            model=model,
            text=text,
            finish_reason=finish,
            usage=Usage(prompt_tokens=len(_tokens(source)), completion_tokens=len(tokens)),
            logprobs=logprobs,
            prompt_logprobs=prompt_logprobs,
            kind="chat" if prompt is None else "text",
        )

    def models(self) -> list[str]:
        return ["sim/fallback"]


_TOKEN = re.compile(r"\s*\S+|\s+")


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _pseudo_logprob(token: str, top_k: int) -> TokenLogprob:
    h = sum(token.encode()) % 997
    lp = -0.05 - h / 400.0
    top = {token: lp}
    for i in range(max(0, top_k - 1)):
        top[f"{token.strip()}~{i}"] = lp - 1.0 - i
    return TokenLogprob(token=token, logprob=lp, top_logprobs=top if top_k else {})


def default_backend() -> Backend:
    from judgebench.sim import SimBackend

    backend: Backend = SimBackend()
    return backend


# --- OpenAI-shaped bodies ---------------------------------------------------------------------


def chat_body(completion: Completion, request_id: int, with_logprobs: bool) -> dict[str, Any]:
    logprobs = None
    if with_logprobs and completion.logprobs is not None:
        logprobs = {
            "content": [
                {
                    "token": t.token,
                    "logprob": t.logprob,
                    "bytes": list(t.token.encode("utf-8")),
                    "top_logprobs": [
                        {"token": k, "logprob": v, "bytes": list(k.encode("utf-8"))}
                        for k, v in t.top_logprobs.items()
                    ],
                }
                for t in completion.logprobs
            ],
            "refusal": None,
        }
    return {
        "id": f"chatcmpl-sim-{request_id}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": completion.model,
        "system_fingerprint": "judgebench-simulated",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": completion.text, "refusal": None},
                "logprobs": logprobs,
                "finish_reason": completion.finish_reason or "stop",
            }
        ],
        "usage": _usage(completion.usage),
    }


def text_body(
    completion: Completion, request_id: int, prompt: str, echo: bool, with_logprobs: bool
) -> dict[str, Any]:
    text = completion.text
    if echo and not text.startswith(prompt):
        text = prompt + text
    logprobs = None
    if with_logprobs:
        # the Completion contract: with echo, ``logprobs`` covers the prompt tokens too
        tokens = list(completion.logprobs or completion.prompt_logprobs or [])
        offsets, position = [], 0
        for t in tokens:
            offsets.append(position)
            position += len(t.token)
        logprobs = {
            "tokens": [t.token for t in tokens],
            "token_logprobs": [t.logprob for t in tokens],
            "top_logprobs": [dict(t.top_logprobs) if t.top_logprobs else None for t in tokens],
            "text_offset": offsets,
        }
    return {
        "id": f"cmpl-sim-{request_id}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": completion.model,
        "choices": [
            {
                "index": 0,
                "text": text,
                "logprobs": logprobs,
                "finish_reason": completion.finish_reason or "stop",
            }
        ],
        "usage": _usage(completion.usage),
    }


def _usage(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.prompt_tokens + usage.completion_tokens,
    }


# --- the server -------------------------------------------------------------------------------


class SimServer:
    """The aiohttp application plus its fault injector. ``await start()`` binds 127.0.0.1."""

    def __init__(
        self,
        backend: Backend | None = None,
        faults: FaultConfig | None = None,
        *,
        fixed_reply: str | None = None,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.backend = (
            backend
            if backend is not None
            else (FallbackBackend() if fixed_reply is not None else default_backend())
        )
        self.faults = faults or FaultConfig()
        self.fixed_reply = fixed_reply
        self.host = host
        self.port = port
        self._api_key = api_key
        self.stats: Counter[str] = Counter()
        self._rng = random.Random(self.faults.seed)
        self._ids = 0
        self._runner: Any = None
        self._fixed_chat: bytes | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def app(self) -> Any:
        from aiohttp import web

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/completions", self._text)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/health", self._health)
        app.router.add_get("/stats", self._stats)
        return app

    async def start(self) -> str:
        from aiohttp import web

        self._runner = web.AppRunner(
            self.app(), access_log=None, handle_signals=False, shutdown_timeout=0.2
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        sockets = site._server.sockets if site._server is not None else []  # type: ignore[attr-defined]
        if sockets:
            self.port = sockets[0].getsockname()[1]
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # --- fault and latency draws ------------------------------------------------------------
    def next_fault(self) -> str:
        if self.faults.script:
            return self.faults.script.pop(0)
        total = self.faults.total_rate()
        if total <= 0:
            return "ok"
        r = self._rng.random()
        for name, rate in self.faults.rates():
            if r < rate:
                return name
            r -= rate
        return "ok"

    def latency_s(self) -> float:
        f = self.faults
        if f.latency_ms <= 0:
            return 0.0
        if f.latency_dist == "lognormal":
            return f.latency_ms / 1000.0 * math.exp(self._rng.gauss(0.0, f.latency_sigma))
        return f.latency_ms / 1000.0

    # --- handlers -------------------------------------------------------------------------
    def _error(
        self, status: int, message: str, kind: str, headers: dict[str, str] | None = None
    ) -> Any:
        from aiohttp import web

        self.stats[f"status_{status}"] += 1
        body = json.dumps({"error": {"message": message, "type": kind, "code": status}})
        return web.Response(
            status=status, body=body, content_type="application/json", headers=headers
        )

    def _backend_error(self, exc: Exception) -> Any:
        from judgebench.llm.types import LLMError

        if isinstance(exc, LLMError):
            status = exc.status or (500 if exc.retryable else 400)
            kind = "invalid_request_error" if 400 <= status < 500 else "server_error"
            return self._error(status, str(exc), kind)
        return self._error(500, f"simulator failed: {type(exc).__name__}: {exc}", "server_error")

    def _check_auth(self, request: Any) -> Any:
        if self._api_key is None:
            return None
        given = request.headers.get("Authorization", "")
        if given != f"Bearer {self._api_key}":
            shown = given.removeprefix("Bearer ") or "(none)"
            # real providers echo (part of) the bad key: the client must redact it
            return self._error(401, f"Incorrect API key provided: {shown}", "invalid_request_error")
        return None

    async def _read(self, request: Any, kind: str) -> tuple[dict[str, Any] | None, Any]:
        self.stats["requests"] += 1
        denied = self._check_auth(request)
        if denied is not None:
            return None, denied
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return None, self._error(400, "request body is not valid JSON", "invalid_request_error")
        if not isinstance(body, dict) or not isinstance(body.get("model"), str):
            return None, self._error(400, "'model' (a string) is required", "invalid_request_error")
        if kind == "chat":
            messages = body.get("messages")
            if (
                not isinstance(messages, list)
                or not messages
                or not all(isinstance(m, dict) for m in messages)
            ):
                return None, self._error(
                    400, "'messages' must be a non-empty list of objects", "invalid_request_error"
                )
        elif not isinstance(body.get("prompt"), str):
            return None, self._error(400, "'prompt' must be a string", "invalid_request_error")
        if body.get("stream"):
            return None, self._error(
                400, "streaming is not supported by the sim-server", "invalid_request_error"
            )
        return body, None

    async def _fault_or_delay(self, request: Any) -> tuple[str, Any]:
        """Sleep the drawn latency; return the fault to apply and an early response if any."""
        fault = self.next_fault()
        if fault == "hang":
            self.stats["fault_hang"] += 1
            await asyncio.sleep(self.faults.hang_s)
            return fault, self._error(504, "simulated hang ended", "timeout")
        delay = self.latency_s()
        if delay > 0:
            await asyncio.sleep(delay)
        if fault == "429":
            return fault, self._error(
                429,
                "Rate limit reached (simulated)",
                "rate_limit_error",
                {"Retry-After": f"{self.faults.retry_after_s:g}"},
            )
        if fault == "429-no-retry-after":
            return fault, self._error(429, "Rate limit reached (simulated)", "rate_limit_error")
        if fault in ("500", "503", "400"):
            kind = {
                "500": "server_error",
                "503": "service_unavailable",
                "400": "invalid_request_error",
            }[fault]
            return fault, self._error(int(fault), f"simulated {fault}", kind)
        return fault, None

    async def _deliver(self, request: Any, fault: str, payload: bytes) -> Any:
        from aiohttp import web

        if fault == "truncate":
            self.stats["fault_truncate"] += 1
            payload = payload[: max(1, len(payload) // 2)]
        elif fault == "malformed":
            self.stats["fault_malformed"] += 1
            payload = b"<html><body>upstream error</body></html>"
        elif fault == "drop":
            self.stats["fault_drop"] += 1
            response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
            response.content_length = len(payload)
            await response.prepare(request)
            await response.write(payload[: len(payload) // 2])
            if request.transport is not None:
                request.transport.close()
            return response
        self.stats["status_200"] += 1
        return web.Response(body=payload, content_type="application/json")

    def _params(self, body: dict[str, Any]) -> dict[str, Any]:
        return {
            k: v
            for k, v in body.items()
            if k not in ("model", "messages", "prompt", "stream", "user")
        }

    async def _chat(self, request: Any) -> Any:
        body, early = await self._read(request, "chat")
        if early is not None:
            return early
        assert body is not None
        fault, early = await self._fault_or_delay(request)
        if early is not None:
            return early
        self._ids += 1
        if self.fixed_reply is not None and not body.get("logprobs") and fault != "empty":
            if self._fixed_chat is None:
                done = Completion(
                    model="sim/fixed",
                    text=self.fixed_reply,
                    finish_reason="stop",
                    usage=Usage(prompt_tokens=8, completion_tokens=4),
                )
                self._fixed_chat = json.dumps(chat_body(done, 0, False)).encode()
            return await self._deliver(request, fault, self._fixed_chat)
        try:
            completion = await self.backend.complete(
                body["model"], body["messages"], None, self._params(body)
            )
        except Exception as exc:  # a simulator error must show as an HTTP error with its reason
            return self._backend_error(exc)
        data = chat_body(completion, self._ids, bool(body.get("logprobs")))
        if fault == "empty":
            self.stats["fault_empty"] += 1
            data["choices"] = []
        return await self._deliver(request, fault, json.dumps(data).encode())

    async def _text(self, request: Any) -> Any:
        body, early = await self._read(request, "text")
        if early is not None:
            return early
        assert body is not None
        fault, early = await self._fault_or_delay(request)
        if early is not None:
            return early
        self._ids += 1
        params = self._params(body)
        try:
            completion = await self.backend.complete(body["model"], None, body["prompt"], params)
        except Exception as exc:  # a simulator error must show as an HTTP error with its reason
            return self._backend_error(exc)
        lp = body.get("logprobs")
        data = text_body(
            completion,
            self._ids,
            body["prompt"],
            bool(body.get("echo")),
            lp is not None and lp is not False,
        )
        if fault == "empty":
            self.stats["fault_empty"] += 1
            data["choices"] = []
        return await self._deliver(request, fault, json.dumps(data).encode())

    async def _models(self, request: Any) -> Any:
        from aiohttp import web

        names: list[str] = []
        lister = getattr(self.backend, "models", None)  # SimBackend and FallbackBackend have it
        if callable(lister):
            try:
                names = list(lister())
            except Exception as exc:  # e.g. a missing profile folder: say so, not an empty list
                return self._backend_error(exc)
        data = [
            {"id": n, "object": "model", "created": 0, "owned_by": "judgebench-simulated"}
            for n in names
        ]
        return web.json_response({"object": "list", "data": data})

    async def _health(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response({"status": "ok", "simulated": True})

    async def _stats(self, request: Any) -> Any:
        from aiohttp import web

        return web.json_response(dict(self.stats))


class ServerThread:
    """Run a :class:`SimServer` on its own loop in a daemon thread (tests): ``with ServerThread(s) as url``."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> str:
        def main() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            try:
                loop.run_until_complete(self.server.start())
            except BaseException as exc:
                self._error = exc
                self._ready.set()
                return
            self._ready.set()
            loop.run_forever()
            loop.run_until_complete(self.server.stop())
            leftover = [t for t in asyncio.all_tasks(loop) if not t.done()]  # e.g. hanging requests
            for task in leftover:
                task.cancel()
            if leftover:
                loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=main, name="sim-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self.url

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def spawn_server(*args: str, timeout_s: float = 30.0) -> tuple[subprocess.Popen[str], str]:
    """Start ``judgebench sim-server --port 0 ARGS`` in a subprocess; returns (process, base URL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "judgebench", "sim-server", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout_s
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)", line)
        if match:
            return proc, match.group(1)
    proc.kill()
    err = proc.stderr.read() if proc.stderr else ""
    raise RuntimeError(f"sim-server did not start: {err.strip()[-500:]}")


async def serve_forever(server: SimServer) -> None:
    url = await server.start()
    print(f"judgebench sim-server (simulated models) listening on {url}", flush=True)
    try:
        while True:
            await asyncio.sleep(3600)
    finally:
        await server.stop()
