"""redact skips a pattern when the text lacks what that pattern needs: the result must be the
same as running every pattern on every text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from judgebench.llm import secrets
from judgebench.llm.secrets import MASK, redact


def redact_in_full(text: str) -> str:
    """Every pattern on the whole text, as redact did before it skipped any."""
    out = text
    for secret in sorted(secrets._SECRETS, key=len, reverse=True):
        if secret in out:
            out = out.replace(secret, MASK)
    out = secrets._URL_PASSWORD.sub(lambda m: m.group(1) + MASK + "@", out)
    out = secrets._QUERY_PARAM.sub(secrets._mask_query, out)
    return secrets._PATTERNS.sub(secrets._mask_match, out)


# pieces of every shape redact knows, and letters that case-insensitive patterns also match
# (Kelvin sign for k, dotless and dotted I for i, long s)
PIECES = [
    "sk-abcdef123",
    "Bearer abc.def-123",
    "BEARER  tok/en+==",
    "api_key = 'hunter22'",
    "API-KEY: zzzz9",
    'apIkey="s3cr3t"',
    "ap\u0131_key: secretvalue",
    "api_\u212aey=secretvalue",
    "\u0130",
    "ap\u0130 key: x\u2014y",
    "Bearer\u00a0tok\u00e9n123",
    "\u2014 em dash \u00d7 times",
    "https://user:pw0rd@host/v1",
    "http://h/x?key=abc&sig=def&max_tokens=5",
    "?access_token=xyz",
    "a=b",
    " ",
    "\n",
    "bearer",
    "sk-",
    "://",
    "@",
    "plain words ",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=6)), max_size=8))
def test_redact_equals_every_pattern_on_every_text(parts):
    text = "".join(parts)
    assert redact(text) == redact_in_full(text)


def test_each_shape_is_still_masked():
    for text, secret in [
        ("use sk-abcdef123 now", "sk-abcdef123"),
        ("Authorization: Bearer abc.def-123", "abc.def-123"),
        ("api_key = 'hunter22'", "hunter22"),
        ("api_\u212aey=secretvalue", "secretvalue"),
        ("see https://user:pw0rd@host/v1", "pw0rd"),
        ("GET /v1?key=abc123&max_tokens=5", "abc123"),
    ]:
        out = redact(text)
        assert secret not in out, (text, out)
        assert MASK in out
    assert redact("max_tokens=5 and a long prompt") == "max_tokens=5 and a long prompt"
