"""The judge registry: built-ins, the decorator, entry-point plugins, one-line errors."""

from __future__ import annotations

import pytest

import judgebench.judges.registry as registry
from judgebench.errors import ConfigError
from judgebench.judges import (
    Answer,
    Judge,
    PC2Judge,
    RubricJudge,
    available_judges,
    get_judge,
    integer_in_range,
    register_judge,
)
from judgebench.judges.base import as_query, as_response
from judgebench.prompts import PromptTemplate


def test_builtins_are_registered():
    assert {"rubric", "pairwise", "pc2", "meta-ranking", "trlm", "prp"} <= set(available_judges())
    assert isinstance(get_judge("rubric", "scripted/judge"), RubricJudge)
    assert isinstance(get_judge("pc2", "scripted/judge", aux_models=["a", "b"]), PC2Judge)


async def test_a_user_judge_with_the_decorator_uses_the_shared_loop(scripted):
    @register_judge("length-check")
    class LengthJudge(Judge):
        name = "length-check"

        async def evaluate(self, query, response):
            q = as_query(query)
            r = as_response(response, q)
            template = PromptTemplate(
                "inline:length", 'How many words? {{ text }} Reply {"words": <n>}'
            )
            ex = await self.ask(
                template,
                {"text": r.text},
                Answer("words", lambda f: integer_in_range(f["words"], 0, 1000, "words")),
            )
            return self.make_judgment(
                template=template,
                query=q,
                response=r,
                exchanges=[ex],
                params=self.call_params(),
                score=ex.value,
            )

    try:
        scripted(['Counting... {"words": 4}'])
        j = await get_judge("length-check", "scripted/judge").evaluate("q", "one two three four")
        assert j.ok and j.score == 4 and j.judge == "length-check"
    finally:
        registry._REGISTRY.pop("length-check", None)


def test_duplicate_and_unknown_names_are_config_errors():
    with pytest.raises(ConfigError, match="already registered"):

        @register_judge("rubric")
        class Other(Judge):
            pass

    with pytest.raises(ConfigError, match="unknown judge 'nope'"):
        get_judge("nope", "m")


def test_entry_point_plugins_are_loaded(monkeypatch):
    class FakeEntryPoint:
        name = "plugin-judge"
        value = "somewhere:PluginJudge"

        def load(self):
            class PluginJudge(Judge):
                name = "plugin-judge"

            return PluginJudge

    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda group: [FakeEntryPoint()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    try:
        assert "plugin-judge" in available_judges()
        assert get_judge("plugin-judge", "m").model == "m"
    finally:
        registry._REGISTRY.pop("plugin-judge", None)


def test_a_broken_plugin_breaks_only_itself(monkeypatch):
    """It used to raise from available_judges() and from every unknown-name lookup."""

    class BrokenEntryPoint:
        name = "broken-judge"
        value = "gone:Judge"

        def load(self):
            raise ImportError("No module named 'gone'")

    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda group: [BrokenEntryPoint()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    monkeypatch.setattr(registry, "_BROKEN", {})
    assert "pairwise" in available_judges() and "broken-judge" not in available_judges()
    with pytest.raises(ConfigError, match="unknown judge 'nope'"):
        get_judge("nope", "m")
    with pytest.raises(ConfigError, match="plugin 'broken-judge' .* No module named 'gone'"):
        get_judge("broken-judge", "m")


def test_bad_options_fail_fast():
    with pytest.raises(ValueError):
        RubricJudge("m", scale=(5, 1))
    with pytest.raises(ValueError):
        PC2Judge("m", aux_models=["only-one"])
    with pytest.raises(ValueError):
        PC2Judge("m", aux_models=["a", "b"], baseline_index=2)
