"""Malformed callback requests are the client's error: 400 with one line, never a 500.

Dash trusts the body of ``POST /_dash-update-component``: JSON nested 40,000 deep exhausts the
parser's stack, and an unknown output or a short ``inputs`` list fails deep inside Dash
(``IndexError``). Before Dash sees a callback request this checks its size, nesting and shape
against the callbacks the app registered.
"""

from __future__ import annotations

import json
from functools import cache
from types import FunctionType
from typing import Annotated, Any

from pydantic import AfterValidator, Field, TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from judgebench.json_limits import json_depth, unpaired_surrogate

MAX_BODY_BYTES = 8 * 1024 * 1024
# a callback body nests output -> inputs -> value: pattern-matching ids and component trees in
# values go deeper, but nowhere near this
MAX_DEPTH = 64


def install_request_guard(app: Any) -> None:
    """Check every callback request of ``app`` (a ``dash.Dash``) before Dash handles it."""
    from flask import Response, request

    app.server.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.server.before_request
    def _check_callback_request():
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
    except ValueError:  # not UTF-8, not JSON, or an integer past Python's 4,300 digits
        return "the body is not UTF-8 JSON"
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    escape = unpaired_surrogate(body)
    if escape is not None:  # valid JSON, no text: a view storing or showing it would fail
        return f"the body holds an unpaired surrogate escape ({escape})"
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
        for item in sent:
            problem = _value_problem(item)
            if problem is not None:
                return problem
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


# --- the values a callback receives --------------------------------------------------------------
# Dash passes a request's values to the callbacks as sent, so ``pathname: 5`` or a dropdown value
# of ``[1, "a"]`` reached the views and failed there (500). Every value a callback takes is
# declared here, once, by the type its browser component sends; a test checks that every input of
# every registered callback has a rule, so a new view cannot skip this.

Text = str | None
Count = Annotated[int, Field(ge=0)] | None
# NaN and ±Infinity are valid to json.loads (so is 1e400): a threshold of NaN failed in pandas
Number = int | Annotated[float, Field(allow_inf_nan=False)] | None
# what dcc.Upload sends: a base64 data URL (the views decode it)
DataUrl = Annotated[
    str,
    Field(
        pattern=r"^data:[^,]*;base64,(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$"
    ),
]


class _Point(TypedDict, total=False):
    id: str
    customdata: Any


class _Click(TypedDict, total=False):
    points: list[_Point]


def _plotly_figure(figure: dict[str, Any]) -> dict[str, Any]:
    """A figure plotly can rebuild (the HTML export does): an unknown trace type or attribute
    is the sender's error."""
    import plotly.graph_objects as go

    try:
        go.Figure(figure)
    except ValueError as exc:
        raise ValueError(
            f"not a plotly figure ({str(exc).strip().splitlines()[0][:120]})"
        ) from None
    return figure


_Figure = Annotated[dict[str, Any], AfterValidator(_plotly_figure)]


class _QueryRow(TypedDict):
    query_id: str


def _item_type() -> Any:
    from judgebench.dashboard.labels import Item

    return list[Item] | None


# by property, whatever the component
PROPERTY_TYPES: dict[str, Any] = {
    "pathname": Text,
    "search": Text,
    "n_clicks": Count,
    "contents": DataUrl | None,
    "filename": Text,
    "clickData": _Click | None,
    "figure": _Figure | None,
    "selected_rows": list[Annotated[int, Field(ge=0)]] | None,
}
# a component's ``value`` or ``data``, by component id
VALUE_TYPES: dict[tuple[str, str], Any] = {
    **{
        (cid, "value"): Text
        for cid in (
            "filter-judge",
            "filter-run",
            "cmp-job",
            "dd-node",
            "map-model",
            "map-metric",
            "runs-job",
            "sw-model",
            "lab-judge",
            "lab-name",
            "lab-note",
            "lr-run",
            "router-name",
        )
    },
    ("cmp-models", "value"): list[str] | None,
    ("cmp-depth", "value"): Annotated[int, Field(ge=1, le=9)] | None,
    ("sw-threshold", "value"): Number,
    ("lab-n", "value"): Annotated[int, Field(ge=1, le=200)] | None,
    ("lab-score", "value"): Number,
    ("dd-queries", "data"): list[_QueryRow] | None,
    ("lab-items", "data"): _item_type,
    ("lab-pos", "data"): Count,
    ("lab-saved", "data"): Count,
}


def value_rule(component: Any, prop: str) -> Any:
    """The declared type of ``prop`` of ``component`` (an id: a string or a pattern dict), or
    None when nothing is declared."""
    if prop in PROPERTY_TYPES:
        return PROPERTY_TYPES[prop]
    if isinstance(component, str):
        rule = VALUE_TYPES.get((component, prop))
        return rule() if isinstance(rule, FunctionType) else rule  # imported when first needed
    return None


@cache
def _adapter(rule: Any) -> TypeAdapter[Any]:
    return TypeAdapter(rule)


def _value_problem(item: Any) -> str | None:
    """Why the value of one dependency (or pattern-matched list of them) has the wrong type."""
    if isinstance(item, list):
        return next(filter(None, map(_value_problem, item)), None)
    rule = value_rule(item["id"], item["property"])
    if rule is None or "value" not in item:
        return None
    try:
        # JSON mode: strict about types, yet a dataclass may come as the object it was sent as
        _adapter(rule).validate_json(json.dumps(item["value"]), strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        name = json.dumps(item["id"]) if isinstance(item["id"], dict) else item["id"]
        message = first["msg"].splitlines()[0]
        return f"{name}.{item['property']}: {message}" + (f" at {where}" if where else "")
    return None
