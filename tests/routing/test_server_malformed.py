"""Issue 15 items 3-4: a malformed request is the client's error. Whatever the body, header or
nesting, the router server answers 400 with one line (never 5xx, never a traceback), and a
refused request reaches no model and no routing-log row."""

from __future__ import annotations

import json
import logging
import socket
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from judgebench.db import Store
from judgebench.db.routing import SqlRoutingLog, routed_requests
from judgebench.routing import SelectionRouter
from judgebench.routing.config import ServerSettings
from judgebench.routing.server import RouterServer
from judgebench.sim.server import ServerThread

KEY = "malformed-test-key"
USER = {"role": "user", "content": "Write a Python function that reverses a string."}
CHAT: dict[str, Any] = {"model": "judgebench-router", "messages": [USER]}


@pytest.fixture(scope="module")
def served(selection_model, tmp_path_factory):  # type: ignore[no-untyped-def]
    """(server, store, calls): one server for the module; ``calls`` counts routed requests."""
    mp = pytest.MonkeyPatch()
    mp.setenv("JB_MALFORMED_KEYS", KEY)
    store = Store(tmp_path_factory.mktemp("router") / "jb.db")
    router = SelectionRouter(selection_model, log=SqlRoutingLog(store, flush_every=1), name="r")
    server = RouterServer(router, ServerSettings(port=0, api_key_env="JB_MALFORMED_KEYS"))
    calls: list[Any] = []
    real = router.complete

    async def counted(messages, **params):  # type: ignore[no-untyped-def]
        calls.append((messages, params))
        return await real(messages, **params)

    router.complete = counted  # type: ignore[method-assign]
    thread = ServerThread(server)
    thread.start()
    yield server, store, calls
    thread.stop()
    mp.undo()


def _post(server: RouterServer, body: Any, auth: bytes | str = f"Bearer {KEY}") -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Authorization": auth, "Content-Type": "application/json"}
    return httpx.post(f"{server.url}/chat/completions", content=content, headers=headers)


def _with(**fields: Any) -> dict[str, Any]:
    return {**CHAT, **fields}


def _parts(*parts: Any) -> dict[str, Any]:
    return _with(messages=[{"role": "user", "content": list(parts)}])


BAD = [
    (_with(temperature="hot"), "'temperature' must be a number"),
    (_with(temperature=True), "'temperature' must be a number"),
    (_with(temperature=3.5), "'temperature' must be between 0.0 and 2.0"),
    (_with(temperature=-0.1), "'temperature' must be between"),
    (_with(top_p=1.5), "'top_p' must be between"),
    (_with(max_tokens=-5), "'max_tokens' must be between 1 and 2147483647"),
    (_with(max_tokens=0), "'max_tokens' must be between 1 and"),
    (_with(max_tokens=10**20), "'max_tokens' must be between 1 and"),
    (_with(seed=10**30), "'seed' must be between"),
    (_with(max_tokens=1.5), "'max_tokens' must be an integer"),
    (_with(max_tokens="10"), "'max_tokens' must be an integer"),
    (_with(max_completion_tokens=-1), "'max_completion_tokens' must be between 1 and"),
    (_with(seed="x"), "'seed' must be an integer"),
    (_with(stop=123), "'stop' must be a string or a list of strings"),
    (_with(stop=["a", 1]), "'stop' must be a string or a list of strings"),
    (_with(stop=["a", "b", "c", "d", "e"]), "at most 4"),
    (_with(n=2), "'n' must be 1"),
    (_with(n="1"), "'n' must be an integer"),
    (_with(stream="yes"), "'stream' must be true or false"),
    (_with(stream=True), "stream=true is not supported"),
    (_with(presence_penalty=9), "'presence_penalty' must be between"),
    (_with(model=7), "'model' must be a string"),
    (_with(user=["u"]), "'user' must be a string"),
    (_with(messages="hi"), "'messages' must be a non-empty list"),
    (_with(messages=[]), "'messages' must be a non-empty list"),
    (_with(messages=[None]), "messages[0] must be an object"),
    (_with(messages=[{"role": "wizard", "content": "hi"}]), "messages[0].role must be one of"),
    (_with(messages=[{"role": 5, "content": "hi"}]), "messages[0].role must be one of"),
    (_with(messages=[{"role": "user"}]), "must be an object with 'role' and 'content'"),
    (_with(messages=[{"role": "user", "content": 5}]), "messages[0].content must be a string"),
    (_with(messages=[{"role": "user", "content": {"text": "x"}}]), "must be a string or a list"),
    (_with(messages=[USER, {"role": "system", "content": 7}]), "messages[1].content must be"),
    (_with(messages=[{"role": "system", "content": "x"}]), "at least one user message"),
    (_parts(), "is an empty list of content parts"),
    (_parts("just a string"), "content[0] must be an object with a 'type'"),
    (_parts({"text": "no type"}), "content[0].type must be text or image_url"),
    (_parts({"type": "text"}), "content[0].text must be a string"),
    (_parts({"type": "text", "text": None}), "content[0].text must be a string"),
    (_parts({"type": "text", "text": ["x"]}), "content[0].text must be a string"),
    (_parts({"type": "image_url", "image_url": "u"}), "content[0].image_url must be an object"),
    (_parts({"type": "image_url", "image_url": {}}), "content[0].image_url must be an object"),
    (_parts({"type": "video", "url": "x"}), "content[0].type must be text or image_url"),
    ([CHAT], "request body must be a JSON object"),
    (b'{"messages": [', "not valid JSON"),
    (b'{"temperature": NaN, "messages": []}', "NaN is not a JSON number"),
    (b'{"temperature": Infinity}', "Infinity is not a JSON number"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"messages":' + b"[" * 40_000 + b"]" * 40_000 + b"}", "nested 40001 levels deep"),
    (b'{"x":' + b'{"a":' * 40_000 + b"1" + b"}" * 40_001, "levels deep; the limit is 32"),
    (b"[" * 33 + b"]" * 33, "nested 33 levels deep"),
    # integers past float's range (isfinite overflowed) and past Python's 4,300 digits (int()
    # refuses them): every number the schema reads, and anywhere in the body
    *[
        (_with(**{name: sign * 10**400}), f"'{name}' must be")
        for name in ("temperature", "top_p", "presence_penalty", "max_tokens", "seed", "n")
        for sign in (1, -1)
    ],
    (b'{"x": ' + b"9" * 5000 + b', "messages": []}', "4300 digits"),
    (b'{"messages": [], "seed": -' + b"1" * 4301 + b"}", "4300 digits"),
    # valid JSON, but no text: unpaired UTF-16 surrogates anywhere (were a 500)
    *[
        (body, "unpaired surrogate")
        for body in (
            b'{"messages": [{"role": "user", "content": "hi \\ud800 there"}]}',
            b'{"messages": [{"role": "user", "content": "hi"}], "stop": "\\udfff"}',
            b'{"messages": [{"role": "user", "content": "hi"}], "user": "\\ud83d"}',
            b'{"messages": [{"role": "user", "content": [{"type": "text", "text": "\\udc00"}]}]}',
        )
    ],
]


@pytest.mark.parametrize(("body", "reason"), BAD, ids=[r for _, r in BAD])
def test_malformed_request_is_a_400_and_is_not_routed(served, caplog, body, reason):  # type: ignore[no-untyped-def]
    server, store, calls = served
    before = len(calls)
    with caplog.at_level(logging.DEBUG):
        reply = _post(server, body)
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert reason in error["message"] and "\n" not in error["message"]
    assert error["type"] == "invalid_request_error"
    assert "Traceback" not in error["message"] and "Error:" not in error["message"]
    assert len(calls) == before  # no model asked
    assert not [r for r in caplog.records if r.exc_info]  # no traceback in the log


@pytest.mark.parametrize(
    "auth", [b"Bearer \xff\xfe", "Bearer k\u00e9y".encode(), b"Bearer " + KEY.encode() + b"\x80"]
)
def test_non_ascii_bearer_token_is_a_400(served, auth):  # type: ignore[no-untyped-def]
    server, _, calls = served
    before = len(calls)
    reply = _post(server, CHAT, auth=auth)
    assert reply.status_code == 400 and "must be ASCII" in reply.json()["error"]["message"]
    assert len(calls) == before


def test_non_ascii_bearer_token_on_a_raw_socket(served):  # type: ignore[no-untyped-def]
    """Bytes no HTTP client library would send, written straight to the socket."""
    server, _, _ = served
    body = json.dumps(CHAT).encode()
    head = (
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xc3\x28\xa0\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(head % len(body) + body)
        status_line = sock.makefile("rb").readline()
    assert status_line.split()[1] == b"400"


def test_valid_requests_still_route_and_are_logged(served):  # type: ignore[no-untyped-def]
    server, store, calls = served
    before = len(calls)
    ok = [
        _with(temperature=0.2, max_tokens=64, stop=["\n\n"], seed=3, n=1, stream=False),
        _parts({"type": "text", "text": "Write a Python function"}),
        _with(messages=[{"role": "system", "content": "be brief"}, USER], stop=None),
        _with(messages=[{"role": "assistant", "content": None, "tool_calls": []}, USER], top_p=1),
    ]
    for body in ok:
        reply = _post(server, body)
        assert reply.status_code == 200, reply.text
    assert len(calls) == before + len(ok)
    server.router.log.flush()
    assert len(routed_requests(store)) >= len(ok)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
FIELDS = ["temperature", "top_p", "max_tokens", "stop", "n", "stream", "seed", "messages", "model"]


@st.composite
def mutated_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with one field, one message or one content part replaced by any JSON."""
    body: dict[str, Any] = json.loads(json.dumps(CHAT))
    where = draw(st.sampled_from(["field", "message", "part", "role"]))
    if where == "field":
        body[draw(st.sampled_from(FIELDS))] = draw(JSON)
    elif where == "message":
        body["messages"] = [draw(JSON), USER] if draw(st.booleans()) else [draw(JSON)]
    elif where == "part":
        body["messages"] = [{"role": "user", "content": [draw(JSON)]}]
    else:
        body["messages"] = [{"role": draw(JSON), "content": draw(JSON)}, USER]
    return body


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=mutated_requests())
def test_any_mutated_request_is_never_a_5xx(served, body):  # type: ignore[no-untyped-def]
    server, _, calls = served
    before = len(calls)
    reply = _post(server, body)
    assert reply.status_code in (200, 400), reply.text
    routed = len(calls) - before
    assert routed == (1 if reply.status_code == 200 else 0)
    if reply.status_code == 400:
        assert "\n" not in reply.json()["error"]["message"]


INTERNAL = "ConnectionResetError: peer 10.0.0.7:443 reset; /srv/app/secret_path.py line 12"


def test_failed_routes_do_not_expose_internal_text(served, monkeypatch):  # type: ignore[no-untyped-def]
    """Every stage failing is a 502 naming the models and their status; the stage reasons
    (exception text) stay in the routing log. A bug is a bare 500."""
    from judgebench.routing.records import RoutingDecision, StageRecord
    from judgebench.routing.router import RoutingError

    server, _, _ = served
    decision = RoutingDecision(
        router="r",
        kind="selection",
        strategy="top1",
        query_id="q",
        stages=[StageRecord(model="sim/coder", status="error", reason=INTERNAL)],
        status="error",
        reason=INTERNAL,
    )

    async def all_failed(messages, **params):  # type: ignore[no-untyped-def]
        raise RoutingError(INTERNAL, decision)

    monkeypatch.setattr(server.router, "complete", all_failed)
    reply = _post(server, CHAT)
    message = reply.json()["error"]["message"]
    assert reply.status_code == 502 and "sim/coder: error" in message
    assert "Reset" not in reply.text and "secret_path" not in reply.text

    async def broken(messages, **params):  # type: ignore[no-untyped-def]
        raise KeyError(INTERNAL)

    monkeypatch.setattr(server.router, "complete", broken)
    reply = _post(server, CHAT)
    assert reply.status_code == 500 and "secret_path" not in reply.text
    assert reply.json()["error"]["message"] == "internal error (logged by the router)"
