"""Access control: loopback is open; any other address needs a token or HTTP basic auth.

The token can be sent as ``Authorization: Bearer <token>`` or once as ``?token=<token>`` (which
sets an HttpOnly cookie so the page's own requests carry it). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import logging
import re

from flask import Flask, Response, make_response, request

from judgebench.errors import ConfigError

COOKIE = "judgebench_token"


def is_loopback(host: str) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, basic_auth: str | None) -> None:
    """Refuse to expose the dashboard beyond this machine without credentials."""
    if basic_auth is not None and ":" not in basic_auth:
        raise ConfigError("--basic-auth must be USER:PASSWORD", where="dashboard")
    if token is not None and len(token) < 8:
        raise ConfigError("--token must be at least 8 characters", where="dashboard")
    if not is_loopback(host) and not (token or basic_auth):
        raise ConfigError(
            f"binding {host} exposes the dashboard beyond this machine: pass --token or --basic-auth "
            "(or bind 127.0.0.1)",
            where="dashboard",
        )


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


_TOKEN_PARAM = re.compile(r"([?&]token=)[^\s&\"\x1b]*")


class _TokenParamFilter(logging.Filter):
    """Werkzeug logs every request line, ``/?token=…`` included: mask the value."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _TOKEN_PARAM.sub(r"\1***", message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def _keep_credentials_out_of_logs(token: str | None, basic_auth: str | None) -> None:
    from judgebench.llm.secrets import register_secret

    register_secret(token)  # masked by the gateway's log redaction wherever else it shows up
    register_secret(basic_auth.split(":", 1)[1] if basic_auth else None)
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _TokenParamFilter) for f in logger.filters):
        logger.addFilter(_TokenParamFilter())


def install_auth(server: Flask, token: str | None = None, basic_auth: str | None = None) -> None:
    """Reject every request (pages, callbacks, assets) that lacks the configured credentials."""
    if not token and not basic_auth:
        return
    _keep_credentials_out_of_logs(token, basic_auth)

    @server.before_request
    def _require_credentials():
        if token:
            header = request.headers.get("Authorization", "")
            sent = (
                request.args.get("token")
                or request.cookies.get(COOKIE)
                or (header[7:] if header.startswith("Bearer ") else "")
            )
            if sent and _same(sent, token):
                if request.args.get("token"):
                    # keep the token out of the address bar and history after the first visit
                    resp = make_response("", 302)
                    resp.headers["Location"] = request.path
                    resp.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
                    return resp
                return None
        if basic_auth:
            header = request.headers.get("Authorization", "")
            if header.startswith("Basic "):
                try:
                    sent = base64.b64decode(header[6:]).decode("utf-8")
                except (ValueError, UnicodeDecodeError):
                    sent = ""
                if _same(sent, basic_auth):
                    return None
            return Response(
                "authentication required\n", 401, {"WWW-Authenticate": 'Basic realm="judgebench"'}
            )
        return Response("a valid token is required (?token=… or Authorization: Bearer …)\n", 401)
