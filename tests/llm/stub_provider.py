"""A provider stub on 127.0.0.1 that speaks the wire formats real clients use.

A raw asyncio HTTP/1.1 server (not aiohttp's app), so a test can script what no well-behaved
framework does: drop the connection mid-request or never answer. It serves

- OpenAI ``POST …/chat/completions`` (also vLLM, Ollama's ``/v1``, any OpenAI-compatible server),
- Azure OpenAI ``POST /openai/deployments/<deployment>/chat/completions?api-version=…``,
- Anthropic Messages ``POST /v1/messages``,

and answers each request with the next scripted outcome: ``"ok"``, an HTTP status (errors in
that wire format's error shape, ``Retry-After`` on 429/503), ``"reset"`` (close without a
reply) or ``"hang"`` (never reply). Every request is kept (path, headers, body, time) so tests
count what reached the server.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
ERROR_TYPES = {401: "authentication_error", 403: "permission_error", 404: "not_found_error"}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


@dataclass
class StubProvider:
    """``with StubProvider() as stub:`` serves on ``stub.base`` until the block ends."""

    reply: str = "Paris is the capital of France."
    retry_after_s: float = 0.2
    script: list[Any] = field(default_factory=list)
    seen: list[Seen] = field(default_factory=list)
    port: int = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> StubProvider:
        ready = threading.Event()
        self._loop = asyncio.new_event_loop()

        async def serve() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()

        async def cleanup() -> None:
            self._server.close()
            tasks = [t for t in asyncio.all_tasks(self._loop) if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        def main() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve())
            self._loop.run_forever()
            self._loop.run_until_complete(cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=main, daemon=True, name="stub-provider")
        self._thread.start()
        assert ready.wait(10), "stub provider did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # --- the protocol ---------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                self.seen.append(request)
                outcome = self.script.pop(0) if self.script else "ok"
                if outcome == "reset":
                    return
                if outcome == "hang":
                    await asyncio.sleep(3600)
                status = 200 if outcome == "ok" else int(outcome)
                body = self._body(request, status)
                headers = {"Content-Type": "application/json"}
                if status in (429, 503):
                    headers["Retry-After"] = f"{self.retry_after_s:g}"
                writer.write(_response(status, headers, json.dumps(body).encode()))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            return  # a client that went away, or the stub shutting down
        finally:
            writer.close()

    def _body(self, request: Seen, status: int) -> dict[str, Any]:
        anthropic = request.path.startswith("/v1/messages")
        if status != 200:
            message = f"stub: scripted HTTP {status}"
            kind = ERROR_TYPES.get(status, "invalid_request_error" if status < 500 else "api_error")
            if anthropic:
                return {"type": "error", "error": {"type": kind, "message": message}}
            return {"error": {"message": message, "type": kind, "code": status}}
        model = request.body.get("model", "deployment")
        if anthropic:
            return {
                "id": f"msg_{len(self.seen)}",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [{"type": "text", "text": self.reply}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 12, "output_tokens": 7},
            }
        return {
            "id": f"chatcmpl-{len(self.seen)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": self.reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 12, "completion_tokens": 7, "total_tokens": 19},
        }


async def _read_request(reader: asyncio.StreamReader) -> Seen | None:
    line = await reader.readline()
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = header.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    raw = await reader.readexactly(int(headers.get("content-length", "0") or 0))
    body = json.loads(raw) if raw else {}
    return Seen(method, target, headers, body, time.monotonic())


def _response(status: int, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in {**headers, "Content-Length": str(len(body))}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
