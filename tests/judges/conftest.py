"""Helpers for judge tests: scripted judge models registered with the gateway."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from judgebench.llm import ScriptedBackend, get_gateway


@pytest.fixture
def scripted() -> Callable[..., ScriptedBackend]:
    """``scripted(replies)`` or ``scripted(responder=fn)``: models ``scripted/<any>`` answer."""

    def make(replies=None, responder=None, prefix: str = "scripted") -> ScriptedBackend:
        backend = ScriptedBackend(replies, responder)
        get_gateway().register_backend(prefix, backend)
        return backend

    return make
