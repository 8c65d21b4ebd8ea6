"""API keys never reach the DB, the logs or error messages; bad config is one line."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from judgebench.config import load_settings, settings_from_dict
from judgebench.db import Store
from judgebench.db.callcache import SQLCallCache
from judgebench.errors import ConfigError
from judgebench.llm import BadRequestError, Gateway, redact
from judgebench.sim.server import ServerThread, SimServer
from tests.llm.conftest import FAST, ask

SECRET = "sk-test-7f3a9c2e5b1d4f8a0c6e"
WRONG = "sk-wrong-0b1c2d3e4f5a6b7c8d9e"


@pytest.fixture
def keyed_server():
    server = SimServer(api_key=SECRET)
    thread = ServerThread(server)
    thread.start()
    yield server
    thread.stop()


async def test_keys_never_in_db_logs_or_errors(keyed_server, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("JB_TEST_KEY", SECRET)
    monkeypatch.setenv("JB_WRONG_KEY", WRONG)
    db = tmp_path / "calls.db"
    log_file = tmp_path / "gateway.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    try:
        settings = settings_from_dict(
            {
                "models": {
                    "sim/small": {
                        "api_base": keyed_server.url,
                        "api_key_env": "JB_TEST_KEY",
                        **FAST,
                    },
                    "sim/large": {
                        "api_base": keyed_server.url,
                        "api_key_env": "JB_WRONG_KEY",
                        **FAST,
                    },
                    "lite/small": {
                        "api_base": keyed_server.url,
                        "api_key_env": "JB_WRONG_KEY",
                        "backend": "litellm",
                        "wire_model": "sim/small",
                        **FAST,
                    },
                }
            }
        )
        gateway = Gateway(settings=settings, cache=SQLCallCache(Store(db)))
        reply = await gateway.complete("sim/small", ask(), temperature=0)
        assert reply.text
        reply = await gateway.complete("sim/small", ask(1), temperature=0, api_key=SECRET)
        errors = []
        for model in ("sim/large", "lite/small"):
            with pytest.raises(BadRequestError) as info:  # 401, and the server echoed the bad key
                await gateway.complete(model, ask(), temperature=0)
            assert info.value.status == 401 and info.value.attempts == 1
            errors.append(info.value)
        gateway.flush()
        await gateway.aclose()
        texts = (
            [str(e) for e in errors] + [repr(e) for e in errors] + [repr(gateway), repr(settings)]
        )
        texts += [caplog.text, log_file.read_text()]
        for error in errors:  # nothing chained to the error quotes the key either
            link: BaseException | None = error
            while link is not None:
                texts += [str(link), repr(link)]
                link = link.__cause__ or link.__context__
        for text in texts:
            assert SECRET not in text and WRONG not in text, text
        assert "Incorrect API key provided: ***" in str(errors[0])
        raw = db.read_bytes()
        for suffix in ("", "-wal"):
            path = Path(str(db) + suffix)
            if path.exists():
                raw += path.read_bytes()
        assert b"What is the capital" in raw  # the calls are there ...
        assert SECRET.encode() not in raw and WRONG.encode() not in raw  # ... the keys are not
    finally:
        root.removeHandler(handler)


def test_redact_masks_registered_and_key_shaped_values():
    from judgebench.llm import register_secret

    register_secret("plainsecretvalue")
    text = redact(
        "key plainsecretvalue; header Authorization: Bearer abcdef123456; sk-abcdef0123456789"
    )
    assert "plainsecretvalue" not in text and "abcdef123456" not in text and "sk-abcdef" not in text


def _config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "judgebench.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_bad_config_is_one_line_naming_file_and_field(tmp_path):
    error = _config_error(tmp_path, "models:\n  a: b: c\n")
    assert "not valid YAML: mapping values" in error and error.endswith("at line 2")
    msg = _config_error(tmp_path, "models:\n  local/x:\n    timeout_s: soon\n")
    assert "models.local/x.timeout_s" in msg and "soon" in msg
    msg = _config_error(tmp_path, "models:\n  local/x:\n    api_bse: http://127.0.0.1:1/v1\n")
    assert "api_bse" in msg
    msg = _config_error(
        tmp_path,
        "models:\n  local/x:\n    api_key: sk-inline-secret-123456\n    max_concurrency: 0\n",
    )
    assert "max_concurrency" in msg and "sk-inline" not in msg
    assert "http" in _config_error(tmp_path, "models:\n  local/x:\n    api_base: 127.0.0.1:8000\n")
    assert "needs an api_base" in _config_error(
        tmp_path, "models:\n  local/x:\n    backend: direct\n"
    )
    assert "top level" in _config_error(tmp_path, "- just a list\n")
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.yaml")


def test_settings_merge_defaults_patterns_and_exact_names():
    settings = settings_from_dict(
        {
            "defaults": {"timeout_s": 10},
            "models": {"sim/*": {"max_concurrency": 7}, "sim/small": {"max_concurrency": 3}},
        }
    )
    assert (
        settings.model("sim/large").max_concurrency == 7
        and settings.model("sim/large").timeout_s == 10
    )
    assert settings.model("sim/small").max_concurrency == 3
    assert settings.model("other/x").max_concurrency == 32


def test_cli_bad_input_is_one_line_exit_2(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "judgebench", "sim-server", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "loopback" in lines[0]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "judgebench",
            "sim-server",
            "--port",
            "0",
            "--fault-500",
            "0.8",
            "--fault-503",
            "0.8",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
