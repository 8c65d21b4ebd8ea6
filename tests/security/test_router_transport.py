"""The router server at the transport level: a body that arrives in pieces (TCP segments,
chunked encoding) is read whole, an oversized one is a 413 however it is framed, and a client
trickling its body is cut off with a 408 so it cannot hold an in-flight slot."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from judgebench.routing import SelectionRouter
from judgebench.routing.config import ServerSettings
from judgebench.routing.server import RouterServer
from judgebench.sim.server import ServerThread
from tests.routing.conftest import selection_model  # noqa: F401 - the fixture, shared

KEY = "transport-test-key"
LIMIT = 200_000
HEAD = (
    b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
    + KEY.encode()
    + b"\r\nContent-Type: application/json\r\n"
)


@pytest.fixture(scope="module")
def server(selection_model):  # type: ignore[no-untyped-def]  # noqa: F811
    mp = pytest.MonkeyPatch()
    mp.setenv("JB_TRANSPORT_KEYS", KEY)
    router = SelectionRouter(selection_model, name="transport")
    settings = ServerSettings(
        port=0,
        api_key_env="JB_TRANSPORT_KEYS",
        max_body_bytes=LIMIT,
        max_in_flight=2,
        body_timeout_s=0.5,
    )
    thread = ServerThread(RouterServer(router, settings))
    thread.start()
    yield thread.server
    thread.stop()
    mp.undo()


def _chat(text: str) -> bytes:
    return json.dumps({"messages": [{"role": "user", "content": text}]}).encode()


def _status(sock: socket.socket) -> int:
    return int(sock.makefile("rb").readline().split()[1])


def _send_in_pieces(server: RouterServer, head: bytes, pieces: list[bytes]) -> int:
    """Write the head, then each piece as its own segment (a pause lets the server read it
    alone), and return the status code."""
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(head)
        for piece in pieces:
            sock.sendall(piece)
            time.sleep(0.02)
        return _status(sock)


def _split(body: bytes, n: int) -> list[bytes]:
    step = -(-len(body) // n)
    return [body[i : i + step] for i in range(0, len(body), step)]


def _chunked(pieces: list[bytes]) -> list[bytes]:
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]


def test_a_valid_body_in_several_segments_is_read_whole(server) -> None:  # type: ignore[no-untyped-def]
    body = _chat("Write a Python function that sorts a list. " + "x" * 100_000)
    head = HEAD + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    assert _send_in_pieces(server, head, _split(body, 5)) == 200


def test_a_valid_chunked_body_is_read_whole(server) -> None:  # type: ignore[no-untyped-def]
    body = _chat("Write a Python function that sorts a list. " + "y" * 50_000)
    head = HEAD + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    assert _send_in_pieces(server, head, _chunked(_split(body, 4))) == 200


@pytest.mark.parametrize("framing", ["chunked", "httpx-stream"])
def test_an_oversized_body_is_a_413_however_framed(server, framing: str) -> None:  # type: ignore[no-untyped-def]
    body = _chat("z" * (LIMIT * 2))
    if framing == "chunked":
        head = HEAD + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        assert _send_in_pieces(server, head, _chunked(_split(body, 8))) == 413
        return

    def stream() -> Iterator[bytes]:  # no Content-Length: the size is known only by reading
        yield from _split(body, 8)

    reply = httpx.post(
        f"{server.url}/chat/completions",
        content=stream(),
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=10,
    )
    assert reply.status_code == 413, reply.text
    assert f"limit of {LIMIT}" in reply.json()["error"]["message"]


def test_a_trickled_body_is_a_408_and_frees_its_slot(server) -> None:  # type: ignore[no-untyped-def]
    """Two slow clients (max_in_flight=2) announce a body and never finish it: each gets a 408
    after body_timeout_s, and an ordinary request is then served."""
    slow: list[socket.socket] = []
    try:
        for _ in range(2):
            sock = socket.create_connection((server.host, server.port), timeout=10)
            sock.sendall(HEAD + b"Content-Length: 1000\r\n\r\n" + b'{"messages": [')
            slow.append(sock)
        statuses = [_status(sock) for sock in slow]
    finally:
        for sock in slow:
            sock.close()
    assert statuses == [408, 408]
    reply = _post_ok(server)
    assert reply.status_code == 200, reply.text


def _post_ok(server: RouterServer) -> Any:
    return httpx.post(
        f"{server.url}/chat/completions",
        content=_chat("Write a Python function that reverses a string."),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        timeout=10,
    )
