"""Which names read as credentials (refused in jobs; ${VAR}s of such names masked in logs)."""

from __future__ import annotations

import pytest

from judgebench.jobs.credentials import is_credential_name

CREDENTIALS = [
    "api_key",
    "apiKey",
    "APIKEY",
    "X-Api-Key",
    "api-key",
    "key",
    "access_token",
    "accessToken",
    "Authorization",
    "authorization",
    "proxy_authorization",
    "auth",
    "password",
    "PGPASSWORD",
    "db_passwd",
    "secret",
    "client_secret",
    "CLIENTSECRET",
    "aws_secret_access_key",
    "azure_ad_token",
    "HFTOKEN",
    "HF_TOKEN",
    "vertex_credentials",
    "cookie",
    "bearer",
    "OPENAI_API_KEY",
    "MY_UPSTREAM_KEY",
]
NOT_CREDENTIALS = [
    "max_tokens",
    "max_completion_tokens",
    "maxTokens",
    "top_k",
    "keep_alive",
    "temperature",
    "stop",
    "seed",
    "logit_bias",
    "response_format",
    "JUDGEBENCH_DB",
    "tokenizer",
    "keywords",
    "api_base",
    "wire_model",
    "user",
]


@pytest.mark.parametrize("name", CREDENTIALS)
def test_credential_names(name: str) -> None:
    assert is_credential_name(name)


@pytest.mark.parametrize("name", NOT_CREDENTIALS)
def test_ordinary_names(name: str) -> None:
    assert not is_credential_name(name)
