"""The openai SDK and litellm against the sim-server: chat with logprobs, completions with echo.

These are the clients real deployments use; the sim-server must look like a real provider to
them, and the gateway's litellm route must carry logprobs through.
"""

from __future__ import annotations

import pytest

from judgebench.config import settings_from_dict
from judgebench.llm import Gateway
from tests.llm.conftest import FAST, ask


async def test_openai_sdk_chat_logprobs_and_completions_echo(sim_server):
    openai = pytest.importorskip("openai")
    client = openai.AsyncOpenAI(base_url=sim_server.url, api_key="unused", max_retries=0)
    try:
        chat = await client.chat.completions.create(
            model="sim/small", messages=ask(), temperature=0, logprobs=True, top_logprobs=3
        )
        choice = chat.choices[0]
        assert choice.message.content and chat.usage.completion_tokens > 0
        tokens = choice.logprobs.content
        assert tokens and all(t.logprob <= 0 for t in tokens)
        assert "".join(t.token for t in tokens) == choice.message.content
        assert all(1 <= len(t.top_logprobs) <= 3 for t in tokens)

        prompt = "The capital of France is Paris."
        text = await client.completions.create(
            model="sim/small", prompt=prompt, echo=True, logprobs=1, max_tokens=4
        )
        lp = text.choices[0].logprobs
        assert text.choices[0].text.startswith(prompt)
        assert lp.token_logprobs[0] is None and all(v <= 0 for v in lp.token_logprobs[1:])
        assert "".join(lp.tokens).startswith(prompt) and lp.text_offset[0] == 0

        models = await client.models.list()
        assert "sim/small" in {m.id for m in models.data}
    finally:
        await client.close()


async def test_litellm_route_chat_logprobs_and_text_echo(sim_server):
    settings = settings_from_dict(
        {
            "models": {
                "via-litellm/small": {
                    "api_base": sim_server.url,
                    "backend": "litellm",
                    "wire_model": "sim/small",
                    **FAST,
                    "timeout_s": 30,
                },
                "direct/small": {"api_base": sim_server.url, "wire_model": "sim/small", **FAST},
            }
        }
    )
    gateway = Gateway(settings=settings)
    via_litellm = await gateway.complete(
        "via-litellm/small", ask(), temperature=0, logprobs=True, top_logprobs=2
    )
    direct = await gateway.complete(
        "direct/small", ask(), temperature=0, logprobs=True, top_logprobs=2
    )
    # the same simulated model through two clients: the same reply and the same logprobs
    assert via_litellm.text == direct.text and via_litellm.text
    assert via_litellm.logprobs and direct.logprobs
    assert [t.token for t in via_litellm.logprobs] == [t.token for t in direct.logprobs]
    assert via_litellm.logprobs[0].logprob == pytest.approx(direct.logprobs[0].logprob)
    assert via_litellm.usage == direct.usage

    prompt = "Water boils at one hundred degrees."
    lite_text = await gateway.complete_text(
        "via-litellm/small", prompt, echo=True, logprobs=1, max_tokens=4
    )
    direct_text = await gateway.complete_text(
        "direct/small", prompt, echo=True, logprobs=1, max_tokens=4
    )
    for reply in (lite_text, direct_text):
        assert reply.kind == "text" and reply.text.startswith(prompt)
        assert reply.prompt_logprobs and reply.prompt_logprobs[0].logprob is None
        assert "".join(t.token for t in reply.prompt_logprobs) == prompt
    assert [t.logprob for t in lite_text.prompt_logprobs] == [
        t.logprob for t in direct_text.prompt_logprobs
    ]
    await gateway.aclose()


async def test_direct_route_matches_the_in_process_simulator(sim_server):
    settings = settings_from_dict(
        {"models": {"remote/small": {"api_base": sim_server.url, "wire_model": "sim/small"}}}
    )
    gateway = Gateway(settings=settings)
    remote = await gateway.complete(
        "remote/small", ask(), temperature=0, logprobs=True, top_logprobs=2
    )
    local = await gateway.complete("sim/small", ask(), temperature=0, logprobs=True, top_logprobs=2)
    assert remote.text == local.text and remote.usage == local.usage
    assert local.logprobs, "logprobs were asked for"  # else the comparison below is vacuous
    assert [t.token for t in remote.logprobs or []] == [t.token for t in local.logprobs]
    await gateway.aclose()
