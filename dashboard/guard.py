"""Malformed callback requests are the client's error: 400 with one line, never a 500.

Dash trusts the body of ``POST /_dash-update-component``: JSON nested 40,000 deep exhausts the
parser's stack, and an unknown output or a short ``inputs`` list fails deep inside Dash
(``IndexError``). Before Dash sees a callback request this checks its size, nesting and shape
against the callbacks the app registered.
"""

from __future__ import annotations

import json
from typing import Any

from judgebench.json_limits import json_depth

MAX_BODY_BYTES = 8 * 1024 * 1024
# a callback body nests output -> inputs -> value: pattern-matching ids and component trees in
# values go deeper, but nowhere near this
MAX_DEPTH = 64


def install_request_guard(app: Any) -> None:
    """Check every callback request of ``app`` (a ``dash.Dash``) before Dash handles it."""
    from flask import Response, request

    app.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.server.before_request
    def _check_callback_request():  # type: ignore[no-untyped-def]
        if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
            return None
        problem = callback_problem(request.get_data(cache=True), app.callback_map)
        if problem is None:
            return None
        return Response(f"bad callback request: {problem}\n", 400, mimetype="text/plain")


def callback_problem(raw: bytes, callbacks: dict[str, Any]) -> str | None:
    """Why ``raw`` is not a well-formed request for one of ``callbacks``, or None."""
    depth = json_depth(raw)
    if depth > MAX_DEPTH:
        return f"JSON nested {depth} levels deep; the limit is {MAX_DEPTH}"
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return "the body is not UTF-8 JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callbacks:
        return "'output' names no callback of this dashboard"
    spec = callbacks[output]
    for part in ("inputs", "state"):
        sent = body.get(part, [])
        wanted = len(spec.get(part) or [])
        if not isinstance(sent, list) or len(sent) != wanted:
            return f"'{part}' must list {wanted} values for {output}"
        if not all(_is_dependency(item) for item in sent):
            return f"each of '{part}' must be an object with 'id' and 'property'"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "'changedPropIds' must be a list of strings"
    return None


def _is_dependency(item: Any) -> bool:
    """``{"id": ..., "property": ..., "value": ...}``, or a list of them (pattern-matching)."""
    if isinstance(item, list):
        return all(_is_dependency(i) for i in item)
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), str | dict)
        and isinstance(item.get("property"), str)
    )
