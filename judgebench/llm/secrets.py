"""API keys: a registry of secret values, and redaction of them from any text.

Every key the gateway reads (from the environment or a config file) is registered here, and every
error message, log line and stored request passes through :func:`redact`, so a key never reaches
the DB, the logs or an exception string.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

_SECRETS: set[str] = set()
# Shapes of well-known keys and auth headers, redacted even when the value was never registered.
_PATTERNS = re.compile(
    r"(sk-[A-Za-z0-9_\-]{6,}|(?i:bearer)\s+[A-Za-z0-9_\-\.=:/+]{6,}|(?i:api[_-]?key)[\"']?\s*[:=]\s*[\"']?[^\s\"',}]{4,})"
)
MASK = "***"
_CASE_ODDITIES = ("\u0130", "\u0131", "\u017f", "\u212a")  # İ ı ſ K: see _may_hold_key_shape
# The password of a URL's userinfo (``https://user:pw@host``); the lookbehind starts a scheme
# only where one can start, so a long run of letters is not rescanned from every position
_URL_PASSWORD = re.compile(
    r"(?<![A-Za-z0-9+.\-])([A-Za-z][A-Za-z0-9+.\-]*://[^\s/@:]*:)([^\s/@]+)@"
)
# A query parameter (``?key=…``, ``&access_token=…``, ``&sig=…``), masked when its name reads
# like a credential
_QUERY_PARAM = re.compile(r"([?&])([A-Za-z0-9_.\-]+)=([^&#\s\"'<>]+)")
_QUERY_CREDENTIALS = {"sig", "signature"}  # Azure SAS; besides is_credential_name's words


_CREDENTIAL_WORDS = {
    "key",
    "apikey",
    "token",
    "secret",
    "password",
    "passwd",
    "pwd",
    "authorization",
    "auth",
    "credential",
    "credentials",
    "cookie",
    "bearer",
}
# one-word names: PGPASSWORD, HFTOKEN, CLIENTSECRET
_CREDENTIAL_ENDINGS = ("password", "passwd", "secret", "token", "apikey")


# asked for every parameter of every call (its cache key and its stored request)
@lru_cache(maxsize=4096)
def is_credential_name(name: str) -> bool:
    """``api_key``, ``apiKey``, ``X-Api-Key``, ``access_token``, ``PGPASSWORD``: yes;
    ``max_tokens``, ``top_k``, ``keep_alive``: no."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    words = [w for w in re.split(r"[^a-z0-9]+", snake) if w]
    return any(
        w in _CREDENTIAL_WORDS or w.endswith(_CREDENTIAL_ENDINGS) for w in words
    ) or "apikey" in snake.replace("_", "")


def register_secret(value: str | None) -> None:
    """Remember a secret so that :func:`redact` removes it (values shorter than 4 are ignored)."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def url_secrets(url: str | None) -> list[str]:
    """The credentials inside a URL: its userinfo password and the values of query parameters
    named like credentials (``https://u:pw@host/v1?key=abc`` → ``["pw", "abc"]``)."""
    if not url:
        return []
    found = [m.group(2) for m in _URL_PASSWORD.finditer(url)]
    found += [m.group(3) for m in _QUERY_PARAM.finditer(url) if _credential_param(m.group(2))]
    return found


def _credential_param(name: str) -> bool:
    return is_credential_name(name) or name.lower() in _QUERY_CREDENTIALS


def register_env_keys() -> None:
    """Register every ``*_API_KEY`` / ``*_TOKEN`` variable of the environment (providers' keys
    that litellm reads by itself), so they are redacted too."""
    import os

    for name, value in os.environ.items():
        upper = name.upper()
        if upper.endswith(("_API_KEY", "_TOKEN", "_SECRET", "_SECRET_KEY")):
            register_secret(value)


def redact(text: object) -> str:
    """``text`` as a string with every registered secret and key-shaped token masked, and the
    credentials of any URL in it (userinfo password, ``?key=`` / ``&token=`` values)."""
    out = str(text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in out:
            out = out.replace(secret, MASK)
    # each pattern runs only where text it needs is there: stored requests are whole prompts,
    # and scanning them cost more than anything else of a cached call
    if "://" in out and "@" in out:
        out = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", out)
    if "=" in out:
        out = _QUERY_PARAM.sub(_mask_query, out)
    if _may_hold_key_shape(out):
        out = _PATTERNS.sub(_mask_match, out)
    return out


def _may_hold_key_shape(text: str) -> bool:
    """False only when ``_PATTERNS`` cannot match: none of ``sk-``, ``bearer``, ``api`` is in
    the text, ASCII letters compared case-insensitively (on its UTF-8 bytes: ``str.lower`` of a
    text with any non-ASCII character cost more than the pattern it spares). ``re.IGNORECASE``
    also matches a few non-ASCII letters to ASCII ones (dotless ı to i, among the four the
    ``re`` docs name): a text with any of them is searched in full."""
    if "sk-" in text or any(letter in text for letter in _CASE_ODDITIES):
        return True
    low = text.encode("utf-8", "surrogatepass").lower()
    return b"bearer" in low or b"api" in low


def _mask_query(match: re.Match[str]) -> str:
    if not _credential_param(match.group(2)):
        return match.group(0)
    return f"{match.group(1)}{match.group(2)}={MASK}"


def looks_like_key(text: str) -> bool:
    """True when ``text`` holds a key-shaped token (``sk-…``, ``Bearer …``, ``api_key=…``)."""
    return _PATTERNS.search(text) is not None


def _mask_match(match: re.Match[str]) -> str:
    token = match.group(0)
    low = token.lower()
    if low.startswith("bearer"):
        return "Bearer " + MASK
    if low.startswith("api"):
        sep = max(token.find(":"), token.find("="))
        return token[: sep + 1] + MASK
    return MASK


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets from a record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction(*logger_names: str) -> None:
    """Attach :class:`RedactingFilter` to the named loggers (idempotent)."""
    for name in logger_names or ("judgebench", "LiteLLM", "litellm", "openai", "httpx", "aiohttp"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
