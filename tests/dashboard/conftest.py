"""Fixture stores for the dashboard tests: the sample store (built once) and an empty one."""

from __future__ import annotations

import pytest

from judgebench.dashboard.sample import build_sample_store
from judgebench.db import Store
from judgebench.db import queries as q


@pytest.fixture(scope="session")
def sample_url(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("dashboard") / "sample.db"
    store = build_sample_store(path, queries_per_leaf=6)
    q.refresh_summary(store)
    store.engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def sample_store(sample_url) -> Store:
    return Store(sample_url)


@pytest.fixture()
def empty_store(tmp_path) -> Store:
    return Store(tmp_path / "empty.db")
