"""The judge registry: built-in judges plus any a user adds.

Add a judge in your own code with the decorator::

    from judgebench.judges import Judge, register_judge

    @register_judge("my-judge")
    class MyJudge(Judge): ...

or, from an installed package, through the ``judgebench.judges`` entry-point group
(``my-judge = my_package.judges:MyJudge`` under ``[project.entry-points."judgebench.judges"]``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, TypeVar

from judgebench.errors import ConfigError

ENTRY_POINT_GROUP = "judgebench.judges"
_REGISTRY: dict[str, type] = {}
_BROKEN: dict[str, str] = {}  # plugin name -> why it failed to load (told when it is asked for)
log = logging.getLogger(__name__)
C = TypeVar("C", bound=type)


def register_judge(name: str) -> Callable[[C], C]:
    """Class decorator: make a judge available as ``get_judge(name)``."""

    def register(cls: C) -> C:
        existing = _REGISTRY.get(name)
        if (
            existing is not None
            and existing is not cls
            and existing.__qualname__ != cls.__qualname__
        ):
            raise ConfigError(
                f"judge name {name!r} is already registered by {existing.__module__}.{existing.__qualname__}"
            )
        _REGISTRY[name] = cls
        return cls

    return register


def _load_entry_points() -> None:
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in _REGISTRY or ep.name in _BROKEN:
            continue
        try:
            _REGISTRY[ep.name] = ep.load()
        except Exception as exc:  # a broken plugin must not break the built-ins or other plugins
            _BROKEN[ep.name] = f"judge plugin {ep.name!r} ({ep.value}) failed to load: {exc}"
            log.warning("%s", _BROKEN[ep.name])


def available_judges() -> list[str]:
    """Names of every registered judge (built-ins and installed plugins)."""
    import judgebench.judges  # noqa: F401  (registers the built-ins)

    _load_entry_points()
    return sorted(_REGISTRY)


def judge_class(name: str) -> type:
    import judgebench.judges  # noqa: F401

    if name not in _REGISTRY:
        _load_entry_points()
    if name in _BROKEN:
        raise ConfigError(_BROKEN[name])
    if name not in _REGISTRY:
        raise ConfigError(f"unknown judge {name!r}; available: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def get_judge(name: str, /, *args: Any, **kwargs: Any) -> Any:
    """An instance of the judge registered as ``name`` (arguments go to its constructor)."""
    return judge_class(name)(*args, **kwargs)
