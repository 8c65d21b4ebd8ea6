"""The OpenAI chat-completions request, checked before anything is routed.

A malformed request (``temperature: "hot"``, ``max_tokens: -5``, ``stop: 123``, a content part
without its text, JSON nested thousands deep) is the client's error: the server answers 400 with
the first problem in one line, and nothing reaches a model or the routing log. Unknown
top-level fields are ignored (SDKs add new ones), but every field the router reads or forwards
is checked against the shape and range the OpenAI API documents.
"""

from __future__ import annotations

import json
import math
from typing import Any

from judgebench.json_limits import json_depth, unpaired_surrogate

# JSON containers allowed inside each other: a chat request needs 4 (body, messages, message,
# content parts) plus room for tools/metadata; 40,000 levels would exhaust the parser's stack
MAX_JSON_DEPTH = 32
ROLES = ("system", "developer", "user", "assistant", "tool", "function")
# (name, type, low, high): numbers and integers the API bounds; None is always allowed
_NUMBERS: tuple[tuple[str, type, float | None, float | None], ...] = (
    ("temperature", float, 0.0, 2.0),
    ("top_p", float, 0.0, 1.0),
    ("presence_penalty", float, -2.0, 2.0),
    ("frequency_penalty", float, -2.0, 2.0),
    ("max_tokens", int, 1, 2**31 - 1),  # int32, as the API takes it
    ("max_completion_tokens", int, 1, 2**31 - 1),
    ("seed", int, -(2**63), 2**63 - 1),  # int64
    ("n", int, 1, 1),
)
MAX_STOP = 4


class BadRequest(ValueError):
    """The request is malformed; the message is the one line the client gets."""


def parse_body(raw: bytes) -> Any:
    """The JSON body, refusing invalid UTF-8, NaN/Infinity and nesting over MAX_JSON_DEPTH
    (measured on the bytes before parsing, so the parser never recurses that deep)."""
    depth = json_depth(raw)
    if depth > MAX_JSON_DEPTH:
        raise BadRequest(f"request body nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}")
    try:
        parsed = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError as exc:
        raise BadRequest(f"request body is not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise BadRequest(
            f"request body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except BadRequest:  # NaN / Infinity, named by _no_constant
        raise
    except ValueError as exc:  # an integer of more digits than Python converts (4,300)
        raise BadRequest(f"request body is not valid JSON: {str(exc).split(':')[0]}") from None
    _no_lone_surrogate(parsed)
    return parsed


def _no_lone_surrogate(body: Any) -> None:
    """Valid JSON that is no text cannot be sent to a model or stored in the routing log."""
    escape = unpaired_surrogate(body)
    if escape is not None:
        raise BadRequest(f"request body holds an unpaired surrogate escape ({escape})")


def _no_constant(name: str) -> Any:
    raise BadRequest(f"request body is not valid JSON: {name} is not a JSON number")


def check_chat_request(body: Any) -> None:
    """Raise :class:`BadRequest` naming the first field that breaks the OpenAI chat schema."""
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    if "model" in body and not isinstance(body["model"], str):
        raise BadRequest("'model' must be a string")
    _check_messages(body.get("messages"))
    check_sampling_params(body)
    for flag in ("stream", "logprobs"):
        if body.get(flag) is not None and not isinstance(body[flag], bool):
            raise BadRequest(f"'{flag}' must be true or false")
    if body.get("stream"):
        raise BadRequest("stream=true is not supported by the router; send stream=false")
    if body.get("user") is not None and not isinstance(body["user"], str):
        raise BadRequest("'user' must be a string")


def check_sampling_params(params: dict[str, Any]) -> None:
    """The numbers and stop sequences of a request (or of a job's model ``params``, which are
    sent as such) within the types and ranges the OpenAI API documents."""
    for name, kind, low, high in _NUMBERS:
        _check_number(params, name, kind, low, high)
    _check_stop(params.get("stop"))


def _check_number(body: dict[str, Any], name: str, kind: type, low: Any, high: Any) -> None:
    value = body.get(name)
    if value is None:
        return
    wanted = "an integer" if kind is int else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRequest(f"'{name}' must be {wanted}, got {_kind(value)}")
    if kind is int and not isinstance(value, int):
        raise BadRequest(f"'{name}' must be {wanted}, got {_show(value)}")
    # isfinite on an int past float's range overflows: only floats can be inf
    if (isinstance(value, float) and not math.isfinite(value)) or (low is not None and value < low):
        raise BadRequest(f"'{name}' must be {_range(low, high)}, got {_show(value)}")
    if high is not None and value > high:
        raise BadRequest(f"'{name}' must be {_range(low, high)}, got {_show(value)}")


def _range(low: Any, high: Any) -> str:
    if low == high:
        return f"{low}"
    if high is None:
        return f">= {low}"
    return f"between {low} and {high}"


def _check_stop(stop: Any) -> None:
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
        raise BadRequest(f"'stop' must be a string or a list of strings, got {_kind(stop)}")
    if len(stop) > MAX_STOP:
        raise BadRequest(f"'stop' takes at most {MAX_STOP} sequences, got {len(stop)}")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict) or "role" not in message or "content" not in message:
            raise BadRequest(f"{where} must be an object with 'role' and 'content'")
        role = message["role"]
        if role not in ROLES:
            raise BadRequest(f"{where}.role must be one of {', '.join(ROLES)}, got {_show(role)}")
        _check_content(message["content"], role, f"{where}.content")
    if not any(m["role"] == "user" for m in messages):
        raise BadRequest("'messages' needs at least one user message")


def _check_content(content: Any, role: str, where: str) -> None:
    """A string, or (any role) a non-empty list of text parts; user messages may also carry
    image parts. An assistant message may have null content (it made tool calls)."""
    if isinstance(content, str) or (content is None and role == "assistant"):
        return
    if not isinstance(content, list):
        raise BadRequest(f"{where} must be a string or a list of content parts")
    if not content:
        raise BadRequest(f"{where} is an empty list of content parts")
    for j, part in enumerate(content):
        _check_part(part, role, f"{where}[{j}]")


def _check_part(part: Any, role: str, where: str) -> None:
    if not isinstance(part, dict):
        raise BadRequest(f"{where} must be an object with a 'type'")
    kind = part.get("type")
    if kind == "text":
        if not isinstance(part.get("text"), str):
            raise BadRequest(f"{where}.text must be a string")
    elif kind == "image_url" and role == "user":
        image = part.get("image_url")
        if not isinstance(image, dict) or not isinstance(image.get("url"), str):
            raise BadRequest(f"{where}.image_url must be an object with a 'url' string")
    else:
        allowed = "text or image_url" if role == "user" else "text"
        raise BadRequest(f"{where}.type must be {allowed} for a {role} message, got {_show(kind)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), _show(value)
    )


def _show(value: Any) -> str:
    """A value for an error line: short, one line (never the whole of a client's payload)."""
    text = json.dumps(value, ensure_ascii=True) if value is not None else "nothing"
    return text if len(text) <= 40 else text[:37] + "..."
