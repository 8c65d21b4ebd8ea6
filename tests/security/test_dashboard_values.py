"""Well-formed callback requests whose values have the wrong type (``pathname: 5``, a dropdown
value of ``[1, "a"]``, a forged ``dcc.Store``, a figure plotly cannot rebuild) are a 400 with
one line, checked in one place (dashboard/guard.py) for every callback of every view: never
a 500 from deep inside a view."""

from __future__ import annotations

import json
from typing import Any

import pytest

TOKEN = "a-long-token-1234"
# the kinds of JSON a forged request can put in any value
WRONG = [5, -1.5, True, [1, "a"], {"a": 1}, [None], [{"x": 1}], "x", "data:x;base64,e3", ""]
# json.dumps writes these as NaN / Infinity, which json.loads (and so Dash) accepts
WRONG += [float("nan"), float("inf"), -float("inf")]


@pytest.fixture(scope="module")
def app(tmp_path_factory):  # type: ignore[no-untyped-def]
    from judgebench.dashboard.app import create_app
    from judgebench.db import Store

    db = tmp_path_factory.mktemp("dash-values") / "d.db"
    Store(db)
    return create_app(str(db), background_refresh=False, token=TOKEN)


def _concrete(component: Any) -> Any:
    """A pattern-matching id (``{"index": ["MATCH"]}`` in the map) as a browser sends it."""
    if isinstance(component, dict):
        return {k: "x" if isinstance(v, list) else v for k, v in component.items()}
    return component


def _outputs(output: str) -> Any:
    """The ``outputs`` of a request for the callback map key ``output``."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    found = []
    for part in parts:
        component, prop = part.split("@")[0].rsplit(".", 1)
        ident = _concrete(json.loads(component)) if component.startswith("{") else component
        found.append({"id": ident, "property": prop})
    return found if output.startswith("..") else found[0]


def _requests(app: Any) -> list[tuple[str, dict[str, Any]]]:
    """Every callback, with each of its inputs and states in turn set to each WRONG value
    (the others None): (what, request body)."""
    cases = []
    for output, spec in app.callback_map.items():
        deps = [("inputs", d) for d in spec.get("inputs") or []]
        deps += [("state", d) for d in spec.get("state") or []]
        for index, (_, dep) in enumerate(deps):
            for value in WRONG:
                body: dict[str, Any] = {"output": output, "outputs": _outputs(output)}
                body["inputs"], body["state"] = [], []
                for j, (part, other) in enumerate(deps):
                    ident = _concrete(other["id"])
                    sent = value if j == index else None
                    body[part].append({"id": ident, "property": other["property"], "value": sent})
                body["changedPropIds"] = []
                cases.append((f"{dep['id']}.{dep['property']}={value!r}", body))
    return cases


def _post(client: Any, body: dict[str, Any]) -> Any:
    return client.post(
        "/_dash-update-component",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


def test_no_value_of_any_type_makes_a_callback_fail(app):  # type: ignore[no-untyped-def]
    client = app.server.test_client()
    failures, refused = [], 0
    for what, body in _requests(app):
        reply = _post(client, body)
        text = reply.get_data(as_text=True)
        if reply.status_code == 400:
            refused += 1
            if text.count("\n") != 1 or not text.startswith("bad callback request: "):
                failures.append(f"{what}: not one line: {text[:200]!r}")
        elif reply.status_code not in (200, 204):
            failures.append(f"{what}: {reply.status_code}")
    assert not failures, failures[:10]
    assert refused > 100  # most forged values are refused, not quietly rendered


CASES = [
    ("url", "pathname", 5, "url.pathname: Input should be a valid string"),
    ("cmp-models", "value", "sim/a", "cmp-models.value: Input should be a valid array"),
    ("lab-items", "data", [{"x": 1}], "lab-items.data:"),
    ("lab-upload", "contents", "x", "lab-upload.contents: String should match pattern"),
    ("dd-queries", "selected_rows", [-1], "greater than or equal to 0"),
]


@pytest.mark.parametrize(("component", "prop", "value", "reason"), CASES)
def test_a_wrong_value_is_named_in_one_line(app, component, prop, value, reason):  # type: ignore[no-untyped-def]
    body = next(
        b
        for what, b in _requests(app)
        if what.startswith(f"{component}.{prop}=") and what.endswith("=5")
    )
    for dep in body["inputs"] + body["state"]:
        if dep["id"] == component and dep["property"] == prop:
            dep["value"] = value
    reply = _post(app.server.test_client(), body)
    assert reply.status_code == 400
    assert reason in reply.get_data(as_text=True)


def test_a_figure_plotly_cannot_rebuild_is_a_400(app):  # type: ignore[no-untyped-def]
    graph = {"type": "jb-graph", "index": "g"}
    body = {
        "output": json.dumps({"index": ["MATCH"], "type": "jb-download"}, separators=(",", ":"))
        + ".data",
        "outputs": {"id": {"type": "jb-download", "index": "g"}, "property": "data"},
        "inputs": [
            {"id": {"type": "jb-export-html", "index": "g"}, "property": "n_clicks", "value": 1}
        ],
        "state": [{"id": graph, "property": "figure", "value": {"data": [{"type": "nope"}]}}],
    }
    reply = _post(app.server.test_client(), body)
    assert reply.status_code == 400 and "not a plotly figure" in reply.get_data(as_text=True)
    body["state"][0]["value"] = {"data": [{"type": "bar", "x": [1], "y": [2]}]}
    assert _post(app.server.test_client(), body).status_code == 200


def test_every_callback_value_has_a_declared_type(app):  # type: ignore[no-untyped-def]
    """A new view's input without a rule would reach its callback unchecked."""
    from judgebench.dashboard.guard import value_rule

    missing = {
        f"{dep['id']}.{dep['property']}"
        for spec in app.callback_map.values()
        for dep in (spec.get("inputs") or []) + (spec.get("state") or [])
        if value_rule(dep["id"], dep["property"]) is None
    }
    assert not missing
