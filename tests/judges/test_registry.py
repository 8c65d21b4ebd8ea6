"""The judge registry: shapes checked at registration, the name written once, lazy entries,
entry-point plugins, one-line errors with a suggestion, and a generic Registry[T]."""

from __future__ import annotations

import sys

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
    judge_class,
    register_judge,
)
from judgebench.judges.base import SHAPES, as_query, as_response
from judgebench.judges.registry import JUDGES, Registry
from judgebench.prompts import PromptTemplate


def test_builtins_declare_a_shape_and_implement_it():
    expected = {
        "rubric": "pointwise",
        "pc2": "pointwise",
        "pairwise": "pairwise",
        "prp": "listwise",
        "meta_ranking": "reliability",
        "trlm": "likelihood",
    }
    assert set(expected) <= set(available_judges())
    for name, shape in expected.items():
        cls = judge_class(name)
        assert cls.name == name and cls.shape == shape
        assert SHAPES[shape][1] in cls.__dict__ or any(
            SHAPES[shape][1] in base.__dict__ for base in cls.__mro__[:-2]
        )
    assert isinstance(get_judge("rubric", "scripted/judge"), RubricJudge)
    assert isinstance(get_judge("pc2", "scripted/judge", aux_models=["a", "b"]), PC2Judge)


async def test_a_user_judge_is_named_once_and_uses_the_shared_loop(scripted):
    @register_judge
    class LengthJudge(Judge):
        name = "length-check"
        shape = "pointwise"

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
        assert j.ok and j.score == 4 and j.judge == "length-check" and j.shape == "pointwise"
    finally:
        JUDGES._classes.pop("length-check", None)


def test_unknown_names_suggest_the_closest_one():
    with pytest.raises(ConfigError) as err:
        get_judge("pariwise", "m")
    assert str(err.value) == "unknown judge 'pariwise' — did you mean 'pairwise'?"
    with pytest.raises(ConfigError, match="unknown judge 'zzz'; available: meta_ranking, "):
        get_judge("zzz", "m")


def test_registration_checks_base_class_shape_and_duplicates():
    with pytest.raises(ConfigError, match="already registered"):

        @register_judge("rubric")
        class Other(Judge):
            pass

    with pytest.raises(ConfigError, match="is not a subclass of Judge"):

        @register_judge
        class NotAJudge:
            name = "not-a-judge"

    with pytest.raises(ConfigError, match="pairwise judge but does not implement evaluate_pair"):

        @register_judge
        class Half(Judge):
            name = "half"
            shape = "pairwise"

    with pytest.raises(ConfigError, match=r"shape is 'sideways'"):

        @register_judge
        class Odd(Judge):
            name = "odd"
            shape = "sideways"  # type: ignore[assignment]

    assert not {"not-a-judge", "half", "odd"} & set(available_judges())


def test_generic_registry_imports_lazy_entries_only_when_asked(tmp_path, monkeypatch):
    class Widget:
        name = "widget"

    (tmp_path / "lazy_widgets.py").write_text(
        "from tests.judges.test_registry import BASE\nclass Gear(BASE):\n    name = 'gear'\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys.modules[__name__], "BASE", Widget, raising=False)
    widgets: Registry[Widget] = Registry("widget", lambda: Widget)
    widgets.add_lazy("gear", "lazy_widgets:Gear")
    widgets.add_lazy("gone", "no_such_module_here:Thing")
    assert widgets.names() == ["gear", "gone"] and "lazy_widgets" not in sys.modules
    assert widgets.get("gear").__name__ == "Gear" and "lazy_widgets" in sys.modules
    with pytest.raises(ConfigError, match="plugin 'gone' .* No module named 'no_such_module"):
        widgets.get("gone")
    assert widgets.names() == ["gear"]  # a broken entry breaks only itself
    with pytest.raises(ConfigError, match="unknown widget 'geer' — did you mean 'gear'"):
        widgets.get("geer")


def test_entry_point_plugins_take_their_entry_point_name(monkeypatch):
    class FakeEntryPoint:
        name = "plugin-judge"
        value = "tests.judges.test_registry:PluginJudge"

    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda group: [FakeEntryPoint()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    monkeypatch.setattr(JUDGES, "_scanned", False)
    try:
        assert "plugin-judge" in available_judges()
        judge = get_judge("plugin-judge", "m")
        assert judge.model == "m" and type(judge).name == "plugin-judge"
    finally:
        JUDGES._classes.pop("plugin-judge", None)
        JUDGES._lazy.pop("plugin-judge", None)


class PluginJudge(Judge):
    """An entry point's target: no ``name`` of its own (the entry point names it)."""

    shape = "pointwise"

    async def evaluate(self, query, response):  # pragma: no cover - only loaded here
        raise NotImplementedError


def test_bad_options_fail_fast():
    with pytest.raises(ValueError):
        RubricJudge("m", scale=(5, 1))
    with pytest.raises(ValueError):
        PC2Judge("m", aux_models=["only-one"])
    with pytest.raises(ValueError):
        PC2Judge("m", aux_models=["a", "b"], baseline_index=2)
