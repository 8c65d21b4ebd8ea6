"""Errors are classified by type and status, through both real clients, against a stub server.

Each class of failure goes through the direct OpenAI-compatible client (aiohttp) and through
litellm (its own HTTP stack and exception classes) to a :class:`StubProvider` on 127.0.0.1:
authentication, permission, not-found and bad-request errors are made once and not retried;
429, 5xx, timeouts and dropped connections are retried, honouring ``Retry-After``. The stub
counts the requests that reached it, so "not retried" means one request on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from judgebench.config import settings_from_dict
from judgebench.llm import (
    BadRequestError,
    ConnectionError_,
    Gateway,
    LLMError,
    RateLimitError,
    ServerError,
    TimeoutError_,
)
from judgebench.llm.types import AuthenticationError, NotFoundError, PermissionDeniedError
from tests.llm.conftest import ask
from tests.llm.stub_provider import StubProvider

CLIENTS = ["direct", "litellm"]
NOT_RETRIED = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
]
RETRIED = [
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
    ("reset", ConnectionError_),
    ("hang", TimeoutError_),
]


@pytest.fixture
def stub() -> Iterator[StubProvider]:
    with StubProvider(retry_after_s=0.3) as provider:
        yield provider


def gateway_for(
    stub: StubProvider,
    client: str,
    *,
    max_retries: int,
    backoff_s: float = 4.0,
    timeout_s: float = 15.0,  # generous: a loaded machine must not turn a reply into a timeout
) -> Gateway:
    entry = {
        "api_base": f"{stub.base}/v1",
        "api_key": "sk-stub-key",
        "backend": "direct" if client == "direct" else "litellm",
        "max_retries": max_retries,
        # a long backoff by default: a retry that ignored Retry-After (0.3 s) would wait 2-4 s
        "backoff_base_s": backoff_s,
        "backoff_max_s": backoff_s,
        "timeout_s": timeout_s,
    }
    return Gateway(settings=settings_from_dict({"models": {"stub/model": entry}}))


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("fault", "error"), NOT_RETRIED)
async def test_client_errors_are_their_class_and_sent_once(stub, client, fault, error):
    stub.script = [fault, "ok"]
    gateway = gateway_for(stub, client, max_retries=3)
    with pytest.raises(error) as info:
        await gateway.complete("stub/model", ask(), temperature=0)
    assert type(info.value) is error  # the exact class, not just "some 4xx"
    assert not info.value.retryable and info.value.status == fault
    assert info.value.attempts == 1 and len(stub.seen) == 1  # one request on the wire
    await gateway.aclose()


@pytest.mark.parametrize("client", CLIENTS)
@pytest.mark.parametrize(("fault", "error"), RETRIED)
async def test_transient_errors_are_their_class_and_retried(stub, client, fault, error):
    hang_s = 1.0 if fault == "hang" else 15.0  # the held request times out after this
    no_retry = gateway_for(stub, client, max_retries=0, timeout_s=hang_s)
    stub.script = [fault]
    with pytest.raises(error) as info:
        await no_retry.complete("stub/model", ask(0), temperature=0)
    assert info.value.retryable and info.value.attempts == 1 and len(stub.seen) == 1
    await no_retry.aclose()

    with_retry_after = fault in (429, 503)
    retrying = gateway_for(
        stub,
        client,
        max_retries=2,
        backoff_s=4.0 if with_retry_after else 0.01,
        timeout_s=2 * hang_s,
    )
    stub.script = [fault, "ok"]
    reply = await retrying.complete("stub/model", ask(1), temperature=0)
    assert reply.text == stub.reply and len(stub.seen) == 3  # failed once, then answered
    if with_retry_after:  # the server's Retry-After (0.3 s), not the 4 s backoff
        gap = stub.seen[2].at - stub.seen[1].at
        assert 0.3 <= gap < 1.9  # a backoff would wait at least 2 s
    await retrying.aclose()


@pytest.mark.parametrize("client", CLIENTS)
async def test_unset_key_variable_fails_fast_without_a_request(stub, client, monkeypatch):
    monkeypatch.delenv("JUDGEBENCH_TEST_UNSET_KEY", raising=False)
    entry = {
        "api_base": f"{stub.base}/v1",
        "api_key_env": "JUDGEBENCH_TEST_UNSET_KEY",
        "backend": "direct" if client == "direct" else "litellm",
        "backoff_base_s": 4.0,
    }
    gateway = Gateway(settings=settings_from_dict({"models": {"stub/model": entry}}))
    with pytest.raises(AuthenticationError, match="JUDGEBENCH_TEST_UNSET_KEY is not set"):
        await gateway.complete("stub/model", ask(), temperature=0)
    assert stub.seen == []


@pytest.mark.parametrize(
    ("model", "variable"),
    [
        ("gpt-4o-mini", "OPENAI_API_KEY"),  # litellm reports it as a 500
        ("azure/my-deployment", "AZURE_API_KEY"),  # litellm reports it as an APIError 500
        ("anthropic/claude-3-5-haiku-20241022", "ANTHROPIC_API_KEY"),  # a 401
    ],
)
async def test_missing_provider_key_through_litellm_is_not_retried(model, variable, monkeypatch):
    for name in ("OPENAI_API_KEY", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    gateway = Gateway(settings=settings_from_dict({"defaults": {"backoff_base_s": 4.0}}))
    started = time.monotonic()
    with pytest.raises(AuthenticationError) as info:
        await gateway.complete(model, ask(), temperature=0)
    assert info.value.attempts == 1 and not info.value.retryable
    assert variable in str(info.value)
    assert time.monotonic() - started < 3.5  # no retry (one backoff alone is 2-4 s)


def test_every_status_has_one_class():
    """The class of each status, the same for both clients (they share error_for_status)."""
    from judgebench.llm.types import error_for_status

    expected: dict[int, type[LLMError]] = {
        400: BadRequestError,
        401: AuthenticationError,
        403: PermissionDeniedError,
        404: NotFoundError,
        408: ServerError,
        422: BadRequestError,
        429: RateLimitError,
        500: ServerError,
        529: ServerError,
    }
    for status, cls in expected.items():
        error = error_for_status("m: x", status, retry_after=1.5)
        assert type(error) is cls and error.status == status
        assert error.retryable == (status in (408, 429) or status >= 500)
        assert error.retry_after == (1.5 if error.retryable else None)


async def test_unknown_simulated_model_is_not_found_in_process():
    """The in-process simulated provider classifies like a server would: 404, not retried."""
    gateway = Gateway(settings=settings_from_dict({"defaults": {"backoff_base_s": 4.0}}))
    started = time.monotonic()
    with pytest.raises(NotFoundError, match="does-not-exist") as info:
        await gateway.complete("sim/does-not-exist", ask(), temperature=0)
    assert info.value.attempts == 1 and time.monotonic() - started < 2
