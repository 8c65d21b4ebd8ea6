"""Test-wide settings: offline flags, a loopback-only network guard, shared-data fixtures."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("JUDGEBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _loopback_only(address) -> None:
    if isinstance(address, tuple) and address:
        host = address[0]
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            if host not in ("localhost",):
                raise OSError(f"test tried to reach {host!r}: only loopback is allowed") from None
            return
        if not ip.is_loopback:
            raise OSError(f"test tried to reach {host}: only loopback is allowed")


def _guarded_connect(self, address):  # type: ignore[no-untyped-def]
    _loopback_only(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):  # type: ignore[no-untyped-def]
    _loopback_only(address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real, externally written data beside the checkout; tests skip when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (real-data test skipped)")
    return SHARED_DATA


def shared_path(*parts: str) -> Path:
    """A path under the shared data, or a skip with a message when it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data missing: {path} (real-data test skipped)")
    return path


@pytest.fixture(autouse=True)
def _fresh_gateway():
    """Each test starts with a fresh default gateway so backends/caches never leak between tests."""
    from judgebench.llm import set_gateway

    set_gateway(None)
    yield
    set_gateway(None)


@pytest.fixture(scope="session")
def postgres_url():
    """A throwaway loopback PostgreSQL server for the session (skipped where not installed)."""
    from tests.pg import _pg_bindir, postgres_server

    if _pg_bindir() is None:
        pytest.skip("postgresql is not installed here (CI installs it): PostgreSQL tests skipped")
    with postgres_server() as url:
        yield url


@pytest.fixture
def store_url(request, tmp_path):
    """A fresh empty store URL: SQLite by default; parametrise with ``indirect=["store_url"]``
    and the value "postgres" for PostgreSQL (skipped where it is not installed)."""
    kind = getattr(request, "param", "sqlite")
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    from tests.pg import create_database

    server = request.getfixturevalue("postgres_url")
    return create_database(server, f"t_{abs(hash(request.node.nodeid)) % 10**10}")
