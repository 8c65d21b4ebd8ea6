"""The provider recipes of docs/providers.md, each sent through its real client to a stub.

Every ``# recipe:`` block of the doc is loaded as the model registry and one call is made
through the gateway — litellm or the direct OpenAI-compatible client, whichever the recipe
selects — to a :class:`StubProvider` on 127.0.0.1 that speaks the provider's wire format
(OpenAI chat/completions, Azure's deployment URL, Anthropic Messages). Only the endpoint is
swapped for the stub's. The stub checks what a real provider would: the URL, the model, the
header the key travels in; the key appears nowhere else (not in the body, not in the cache).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from judgebench.config import settings_from_dict
from judgebench.llm import Gateway, MemoryCallCache
from tests.llm.conftest import ask
from tests.llm.stub_provider import StubProvider

DOC = Path(__file__).resolve().parents[2] / "docs" / "providers.md"
KEY = "sk-test-3f9a1c77e2b4"


def recipes() -> dict[str, dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n# recipe: ([\w-]+)\n(.*?)```", text, re.S)
    return {name: yaml.safe_load(body) for name, body in blocks}


# recipe -> (path the provider is asked at, header carrying the key, model sent in the body)
EXPECTED = {
    "openai": ("/v1/chat/completions", "authorization", "gpt-4o-mini"),
    "openai-direct": ("/v1/chat/completions", "authorization", "gpt-4o-mini"),
    "azure": (
        "/openai/deployments/my-gpt4o-deployment/chat/completions?api-version=2024-10-21",
        "api-key",
        None,  # Azure names the deployment in the URL
    ),
    "anthropic": ("/v1/messages", "x-api-key", "claude-3-5-haiku-20241022"),
    "vllm": ("/v1/chat/completions", None, "meta-llama/Llama-3.1-8B-Instruct"),
    "ollama": ("/v1/chat/completions", None, "llama3.1"),
    "hf-local": ("/v1/chat/completions", None, "Qwen/Qwen2.5-0.5B-Instruct"),
}


def test_the_doc_has_a_recipe_for_every_provider():
    assert set(recipes()) == set(EXPECTED)


def pointed_at(stub: StubProvider, model: str, entry: dict[str, Any]) -> dict[str, Any]:
    """The recipe's entry with its endpoint swapped for the stub's, the client unchanged: an
    OpenAI-style base keeps its ``/v1``; a recipe without ``api_base`` goes through litellm to
    the provider's own host, so it keeps litellm (Anthropic's base has no ``/v1``: litellm
    adds ``/v1/messages``)."""
    entry = dict(entry)
    if "api_base" in entry:
        openai_style = entry["api_base"].rstrip("/").endswith("/v1")
        entry["api_base"] = stub.base + ("/v1" if openai_style else "")
    else:
        entry["backend"] = "litellm"
        entry["api_base"] = stub.base + ("" if model.startswith("anthropic/") else "/v1")
    return {**entry, "max_retries": 0, "timeout_s": 20}


def message_text(message: dict[str, Any]) -> str:
    content = message["content"]  # a string, or Anthropic's list of typed parts
    return content if isinstance(content, str) else "".join(p["text"] for p in content)


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_recipe_reaches_the_provider_through_its_client(name, monkeypatch):
    registry = recipes()[name]
    (model, entry), *_ = registry["models"].items()
    if entry.get("api_key_env"):
        monkeypatch.setenv(entry["api_key_env"], KEY)
    path, key_header, wire_model = EXPECTED[name]
    with StubProvider() as stub:
        settings = {**registry, "models": {model: pointed_at(stub, model, entry)}}
        gateway = Gateway(settings=settings_from_dict(settings), cache=MemoryCallCache())
        reply = await gateway.complete(model, ask(), temperature=0, max_tokens=32)
        await gateway.aclose()
    assert reply.text == stub.reply
    assert reply.usage.prompt_tokens == 12 and reply.usage.completion_tokens == 7
    (seen,) = stub.seen
    assert seen.method == "POST" and seen.path == path
    if wire_model is not None:
        assert seen.body["model"] == wire_model
    assert message_text(seen.body["messages"][-1]) == ask()[0]["content"]
    if key_header is not None:
        assert KEY in seen.headers[key_header]
    # the key travels in its header only: not in the body, the completion or the cache
    others = {k: v for k, v in seen.headers.items() if k != key_header}
    assert KEY not in json.dumps(seen.body) + json.dumps(others)
    assert KEY not in reply.model_dump_json()
    cached = gateway.cache.entries.values()  # type: ignore[union-attr]
    assert all(KEY not in json.dumps(e.request) + json.dumps(e.response) for e in cached)
    if "input_cost_per_mtok" in entry:  # the registry's prices, not a guess
        expected = (12 * entry["input_cost_per_mtok"] + 7 * entry["output_cost_per_mtok"]) / 1e6
        assert reply.cost == pytest.approx(expected)


def test_azure_api_version_is_transport_not_cache_identity():
    from judgebench.llm.cache import cache_key

    one = cache_key("azure/d", "chat", ask(), None, {"temperature": 0, "api_version": "2024-10-21"})
    two = cache_key("azure/d", "chat", ask(), None, {"temperature": 0, "api_version": "2025-01-01"})
    assert one == two
