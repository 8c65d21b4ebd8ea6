"""The OpenAI-compatible router server: auth, bad requests, size and rate limits, the openai
SDK as a client, decisions in the header and the store, and a bounded load test on loopback."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from judgebench.db import Store
from judgebench.db.routing import SqlRoutingLog, routed_requests
from judgebench.errors import ConfigError
from judgebench.routing import SelectionRouter
from judgebench.routing.config import ServerSettings
from judgebench.routing.server import ROUTE_HEADER, RouterServer
from judgebench.sim.server import ServerThread

KEY = "test-key-123"
CHAT = {
    "model": "judgebench-router",
    "messages": [{"role": "user", "content": "Write a Python function that reverses a string."}],
}


@pytest.fixture
def serve(monkeypatch, selection_model, tmp_path):
    monkeypatch.setenv("JB_ROUTER_TEST_KEYS", f"{KEY}, other-key")
    started = []

    def start(**settings):  # type: ignore[no-untyped-def]
        store = Store(tmp_path / "jb.db")
        log = SqlRoutingLog(store, flush_every=1000)
        router = SelectionRouter(selection_model, log=log, name="test-router")
        server = RouterServer(
            router,
            ServerSettings(
                port=0, api_key_env="JB_ROUTER_TEST_KEYS", flush_interval_s=0.1, **settings
            ),
        )
        thread = ServerThread(server)
        thread.start()
        started.append(thread)
        return server, store

    yield start
    for thread in started:
        thread.stop()


def _post(server, body, key=KEY, **kw):  # type: ignore[no-untyped-def]
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return httpx.post(
        f"{server.url}/chat/completions",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
        timeout=30,
        **kw,
    )


def test_auth_is_required(serve):
    server, _ = serve()
    assert httpx.get(server.url.replace("/v1", "/health")).json()["status"] == "ok"  # open
    missing = _post(server, CHAT, key=None)
    assert missing.status_code == 401 and "missing API key" in missing.json()["error"]["message"]
    wrong = _post(server, CHAT, key="guess")
    assert wrong.status_code == 401 and wrong.json()["error"]["type"] == "authentication_error"
    assert httpx.get(f"{server.url}/models").status_code == 401
    models = httpx.get(f"{server.url}/models", headers={"Authorization": "Bearer other-key"}).json()
    assert [m["id"] for m in models["data"]] == ["judgebench-router", "sim/coder", "sim/writer"]


def test_no_keys_configured_is_a_config_error(monkeypatch, selection_model):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match="NOT_SET_ANYWHERE holds no API key"):
        RouterServer(
            SelectionRouter(selection_model), ServerSettings(api_key_env="NOT_SET_ANYWHERE")
        )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"messages": [', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ({"model": "x"}, "'messages' must be a non-empty list"),
        (
            {"messages": [{"content": "hi"}]},
            "messages[0] must be an object with 'role' and 'content'",
        ),
        ({"messages": [{"role": "system", "content": "hi"}]}, "at least one user message"),
        (
            {"messages": [{"role": "user", "content": None}]},
            "messages[0].content must be a string or a list of content parts",
        ),
        ({**CHAT, "stream": True}, "stream=true is not supported"),
    ],
)
def test_bad_requests_get_a_clear_400(serve, body, message):
    server, store = serve()
    reply = _post(server, body)
    assert reply.status_code == 400 and message in reply.json()["error"]["message"]


def test_oversized_bodies_are_refused(serve):
    server, _ = serve(max_body_bytes=4096)
    big = {"messages": [{"role": "user", "content": "x" * 10_000}]}
    reply = _post(server, big)
    assert (
        reply.status_code == 413 and "exceeds the limit of 4096" in reply.json()["error"]["message"]
    )
    assert _post(server, CHAT).status_code == 200  # the server is fine afterwards


def test_rate_limit_answers_429_with_retry_after(serve):
    server, _ = serve(rate_limit_per_s=0.5, burst=2)
    statuses = [_post(server, CHAT) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert int(statuses[2].headers["Retry-After"]) >= 1
    assert _post(server, CHAT, key="other-key").status_code == 200  # buckets are per key


def test_openai_sdk_client_and_stored_decision(serve):
    from openai import OpenAI

    server, store = serve()
    client = OpenAI(base_url=server.url, api_key=KEY, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(
        model="judgebench-router", messages=CHAT["messages"]
    )
    reply = raw.parse()
    assert reply.choices[0].message.content and reply.model == "sim/coder"
    route = raw.headers[ROUTE_HEADER]
    assert "final=sim/coder" in route and "kind=selection" in route
    decision_id = route.split(";")[0].removeprefix("id=")
    assert reply.id == f"chatcmpl-{decision_id}"
    server.router.log.flush()
    [row] = routed_requests(store)
    assert (
        row["id"] == decision_id
        and row["final_model"] == "sim/coder"
        and row["router"] == "test-router"
    )
    assert KEY not in json.dumps(row, default=str)  # the key never reaches the store
    from openai import AuthenticationError

    with pytest.raises(AuthenticationError):
        OpenAI(base_url=server.url, api_key="wrong", max_retries=0).chat.completions.create(
            model="m", messages=CHAT["messages"]
        )


def test_bounded_load_every_request_answered_or_refused(serve):
    import aiohttp

    server, store = serve(rate_limit_per_s=200, burst=50, max_in_flight=64)
    n, concurrency = 300, 30

    async def run() -> list[int]:
        gate = asyncio.Semaphore(concurrency)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {KEY}"}) as session:

            async def one(i: int) -> int:
                body = {
                    "messages": [
                        {"role": "user", "content": f"Write a poem number {i} about rain."}
                    ]
                }
                async with gate, session.post(f"{server.url}/chat/completions", json=body) as r:
                    await r.read()
                    return r.status

            return await asyncio.gather(*(one(i) for i in range(n)))

    statuses = asyncio.run(run())
    assert len(statuses) == n and set(statuses) <= {200, 429}
    answered = statuses.count(200)
    assert answered >= 50  # at least the burst; the rest may be refused by the rate limit
    server.router.log.flush()
    assert len(routed_requests(store, limit=None)) == answered  # every answer is recorded


def test_no_auth_only_on_loopback(selection_model):
    open_local = RouterServer(SelectionRouter(selection_model), ServerSettings(allow_no_auth=True))
    assert open_local.keys == set()
    with pytest.raises(ConfigError, match="refusing to serve without API keys on 0.0.0.0"):
        RouterServer(
            SelectionRouter(selection_model), ServerSettings(allow_no_auth=True, host="0.0.0.0")
        )
