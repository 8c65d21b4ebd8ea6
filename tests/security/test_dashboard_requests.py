"""The dashboard answers malformed callback requests with a 400 and one line, never a 500:
JSON nested 40,000 deep, an unknown output, the wrong number of inputs, non-JSON bodies;
and a token in non-ASCII bytes is a 401."""

from __future__ import annotations

import json
from typing import Any

import pytest

PAGE = {
    "output": "page.children",
    "outputs": {"id": "page", "property": "children"},
    "inputs": [
        {"id": "url", "property": "pathname", "value": "/runs"},
        {"id": "url", "property": "search", "value": ""},
    ],
    "changedPropIds": ["url.pathname"],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory):  # type: ignore[no-untyped-def]
    from judgebench.dashboard.app import create_app
    from judgebench.db import Store

    db = tmp_path_factory.mktemp("dash") / "d.db"
    Store(db)
    app = create_app(str(db), background_refresh=False, token="a-long-token-1234")
    return app.server.test_client()


def _post(client: Any, body: bytes) -> Any:
    return client.post(
        "/_dash-update-component",
        data=body,
        content_type="application/json",
        headers={"Authorization": "Bearer a-long-token-1234"},
    )


BAD = [
    (b'{"output":' + b"[" * 40_000 + b"]" * 40_000 + b"}", "nested 40001 levels deep"),
    (b'{"x":' + b'{"a":' * 40_000 + b"1" + b"}" * 40_001, "levels deep"),
    (b"not json", "not UTF-8 JSON"),
    (b"\xff\xfe{}", "not UTF-8 JSON"),
    (b"[1, 2]", "must be a JSON object"),
    (b'{"output": ' + b"9" * 5000 + b"}", "not UTF-8 JSON"),
    (
        json.dumps({**PAGE, "x": "\ud800"}).encode(),
        "unpaired surrogate escape (\\ud800)",
    ),  # past int()'s 4,300 digits
    (b'{"output": 5}', "names no callback"),
    (json.dumps({**PAGE, "output": "nope.children"}).encode(), "names no callback"),
    (json.dumps({**PAGE, "inputs": PAGE["inputs"][:1]}).encode(), "'inputs' must list 2 values"),
    (json.dumps({**PAGE, "inputs": "x"}).encode(), "'inputs' must list 2 values"),
    (json.dumps({**PAGE, "inputs": [1, 2]}).encode(), "must be an object with 'id'"),
    (json.dumps({**PAGE, "state": [{"id": "a", "property": "b"}]}).encode(), "'state' must list 0"),
    (json.dumps({**PAGE, "changedPropIds": "url"}).encode(), "'changedPropIds'"),
]


@pytest.mark.parametrize(("body", "reason"), BAD, ids=[r for _, r in BAD])
def test_malformed_callback_request_is_a_400(client, body, reason):  # type: ignore[no-untyped-def]
    reply = _post(client, body)
    text = reply.get_data(as_text=True)
    assert reply.status_code == 400, text[:300]
    assert reason in text and text.count("\n") == 1


def test_a_wellformed_callback_still_renders(client):  # type: ignore[no-untyped-def]
    reply = _post(client, json.dumps(PAGE).encode())
    assert reply.status_code == 200 and "Runs" in reply.get_data(as_text=True)


def test_unauthenticated_requests_are_refused_before_parsing(client):  # type: ignore[no-untyped-def]
    deep = b"[" * 40_000 + b"]" * 40_000
    reply = client.post("/_dash-update-component", data=deep, content_type="application/json")
    assert reply.status_code == 401


@pytest.mark.parametrize(
    "token", [b"Bearer \xff\xfe", "Bearer t\u00f6ken".encode(), b"Basic \xc3\x28"]
)
def test_non_ascii_credentials_are_a_401(client, token):  # type: ignore[no-untyped-def]
    reply = client.get("/", headers=[("Authorization", token.decode("latin-1"))])
    assert reply.status_code == 401
