"""Credentials inside a URL: a registry ``api_base`` such as
``https://alice:pw@llm.example.com/v1?key=…`` (providers that take the key as a query
parameter, proxies with basic auth). ``judgebench check`` printed the URL as it was, and a
provider error echoing the request URL kept the key in the error row. The userinfo password
and credential-named query values are registered for redaction when the registry is read, and
:func:`redact` masks the shape in any URL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import yaml

from judgebench.llm.secrets import MASK, redact, url_secrets
from tests.jobs.conftest import job_dict, write_queries
from tests.security.helpers import run_cli

PASSWORD, QUERY_KEY = "urlpass-7d1e", "QUERYKEY-41c9a0"
BASE = f"http://alice:{PASSWORD}@127.0.0.1:9/v1?key={QUERY_KEY}&api-version=2024"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        (BASE, f"http://alice:{MASK}@127.0.0.1:9/v1?key={MASK}&api-version=2024"),
        ("GET https://h/x?a=1&access_token=t0k3n9 failed", f"GET https://h/x?a=1&access_token={MASK} failed"),
        ("https://acct.blob.core.windows.net/c?sv=2024&sig=abc%2Bdef", f"https://acct.blob.core.windows.net/c?sv=2024&sig={MASK}"),
        ("postgresql+psycopg://u:pgpw@db/x", f"postgresql+psycopg://u:{MASK}@db/x"),
        ("https://user@host/v1?max_tokens=5", "https://user@host/v1?max_tokens=5"),
    ],
)  # fmt: skip
def test_redact_masks_url_credentials(text: str, masked: str) -> None:
    assert redact(text) == masked


def test_url_secrets_names_password_and_query_key() -> None:
    assert url_secrets(BASE) == [PASSWORD, QUERY_KEY]
    assert url_secrets("https://host/v1?top_k=3") == []


def test_provider_error_echoing_the_url_keeps_no_key() -> None:
    from judgebench.config import ModelSettings
    from judgebench.llm.openai_compat import http_error

    ModelSettings(api_base=BASE)  # reading the registry registers the URL's credentials
    body = f'{{"error": {{"message": "no route for POST /v1/chat?token={QUERY_KEY[::-1]}; user {PASSWORD}"}}}}'
    error = http_error("acme/chat", 404, body.encode(), None)
    assert PASSWORD not in str(error) and QUERY_KEY[::-1] not in str(error)


def test_check_prints_no_url_credential(tmp_path: Path, monkeypatch, capsys, caplog) -> None:  # type: ignore[no-untyped-def]
    queries = write_queries(tmp_path / "q.jsonl", 2)
    job = job_dict(f"sqlite:///{tmp_path / 's.db'}", queries, models=("acme/chat", "sim/writer"))
    job["judges"] = [{"kind": "pairwise", "model": "sim/judge"}]
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(job), encoding="utf-8")
    registry = {"models": {"acme/chat": {"api_base": BASE}}}
    (tmp_path / "judgebench.yaml").write_text(yaml.safe_dump(registry), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.DEBUG):
        code, out, err = run_cli(monkeypatch, capsys, "check", str(tmp_path / "job.yaml"))
    assert code == 2  # nothing listens on port 9: the probe fails
    shown = out + err + caplog.text
    assert "127.0.0.1:9" in shown  # the endpoint is still named
    assert PASSWORD not in shown and QUERY_KEY not in shown
