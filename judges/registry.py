"""Registries of plug-ins: one generic :class:`Registry`, and the judges' (``JUDGES``).

A name is written once: in the class (``name = "my-judge"``) for the decorator, or as the
entry-point name for an installed package. Entries may be lazy (``"package.module:Class"``,
imported when first asked for); every class is checked against the registry's base class
(and, for judges, its declared shape) when it is registered or loaded. Unknown names are a
one-line error with a suggestion. Add a judge in your own code::

    from judgebench.judges import Judge, register_judge

    @register_judge
    class MyJudge(Judge):
        name = "my-judge"
        shape = "pointwise"
        ...

or from an installed package, through the ``judgebench.judges`` entry-point group
(``my-judge = my_package.judges:MyJudge`` under ``[project.entry-points."judgebench.judges"]``).
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from judgebench.errors import ConfigError

if TYPE_CHECKING:
    from judgebench.judges.base import (
        Judge,
        LikelihoodShape,
        ListwiseShape,
        PairwiseShape,
        PointwiseShape,
        ReliabilityShape,
    )

ENTRY_POINT_GROUP = "judgebench.judges"
log = logging.getLogger(__name__)
T = TypeVar("T")
C = TypeVar("C", bound=type)
S = TypeVar("S")


class Registry(Generic[T]):
    """Named classes deriving from one base: decorator, lazy ``module:Class`` entries and
    entry points (``group``); ``check`` runs on every class when it is registered or loaded."""

    def __init__(
        self,
        what: str,
        base: Callable[[], type],
        *,
        group: str | None = None,
        check: Callable[[type], None] | None = None,
        builtins: Callable[[], None] | None = None,
    ) -> None:
        self.what = what
        self._base = base  # a callable: the base class module may import this one
        self.group = group
        self._check = check
        self._builtins = builtins
        self._classes: dict[str, type[T]] = {}
        self._lazy: dict[str, str] = {}  # name -> "module:Class", imported when asked for
        self._broken: dict[str, str] = {}  # name -> why it failed to load
        self._scanned = False

    # --- adding ----------------------------------------------------------------------------
    def register(self, cls: C, name: str | None = None) -> C:
        """Add ``cls`` under ``name`` (default: its ``name`` attribute, so it is written once)."""
        name = name or self._own_name(cls)
        existing = self._classes.get(name)
        if existing is not None and existing.__qualname__ != cls.__qualname__:
            raise ConfigError(
                f"{self.what} name {name!r} is already registered by "
                f"{existing.__module__}.{existing.__qualname__}"
            )
        self._validate(name, cls)
        self._classes[name] = cls
        self._lazy.pop(name, None)
        return cls

    def add_lazy(self, name: str, target: str) -> None:
        """Register ``"package.module:Class"`` under ``name``; imported when first asked for."""
        if ":" not in target:
            raise ConfigError(f"{self.what} {name!r}: expected 'module:Class', got {target!r}")
        if name not in self._classes:
            self._lazy[name] = target

    def _own_name(self, cls: type) -> str:
        name = cls.__dict__.get("name")
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{cls.__qualname__} has no name: set name = '...' on the class")
        return name

    def _validate(self, name: str, cls: Any) -> None:
        base = self._base()
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise ConfigError(f"{self.what} {name!r}: {cls!r} is not a subclass of {base.__name__}")
        if cls.__dict__.get("name") not in (None, name):
            raise ConfigError(
                f"{self.what} {name!r}: the class calls itself {cls.__dict__['name']!r}"
            )
        if "name" not in cls.__dict__:  # an entry point named it: the class takes that name
            setattr(cls, "name", name)  # noqa: B010  (any class; mypy knows only type)
        if self._check is not None:
            try:
                self._check(cls)
            except TypeError as exc:
                raise ConfigError(f"{self.what} {name!r}: {exc}") from None

    # --- finding -----------------------------------------------------------------------------
    def _scan(self, force: bool = False) -> None:
        if self._builtins is not None:
            self._builtins()
        if (self._scanned and not force) or self.group is None:
            return
        self._scanned = True
        for ep in entry_points(group=self.group):
            if ep.name not in self._classes:
                self._lazy.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        """Every registered name (built-ins, decorated classes, lazy entries, entry points)."""
        self._scan()
        return sorted({*self._classes, *self._lazy} - set(self._broken))

    def get(self, name: str) -> type[T]:
        """The class registered as ``name``; a one-line ConfigError when unknown or broken."""
        if name not in self._classes:
            self._scan()
        if name not in self._classes and name not in self._lazy:
            self._scan(force=True)  # a package installed since the last look
        if name in self._lazy:
            self._load(name)
        if name in self._broken:
            raise ConfigError(self._broken[name])
        if name not in self._classes:
            raise ConfigError(self.unknown(name))
        return self._classes[name]

    def unknown(self, name: str) -> str:
        """``unknown judge 'pariwise' — did you mean 'pairwise'?`` (or the list of names)."""
        names = self.names()
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        if close:
            return f"unknown {self.what} {name!r} — did you mean {close[0]!r}?"
        return f"unknown {self.what} {name!r}; available: {', '.join(names)}"

    def _load(self, name: str) -> None:
        target = self._lazy.pop(name)
        module, _, attr = target.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
            self.register(cls, name)
        except Exception as exc:  # a broken plug-in must not break the built-ins or others
            self._broken[name] = f"{self.what} plugin {name!r} ({target}) failed to load: {exc}"
            log.warning("%s", self._broken[name])


def _judge_base() -> type:
    from judgebench.judges.base import Judge

    return Judge


def _check_judge(cls: type) -> None:
    from judgebench.judges.base import check_shape

    check_shape(cls)


def _builtin_judges() -> None:
    import judgebench.judges  # noqa: F401  (its modules register the built-ins)


JUDGES: Registry[Judge] = Registry(
    "judge", _judge_base, group=ENTRY_POINT_GROUP, check=_check_judge, builtins=_builtin_judges
)


def register_judge(cls_or_name: Any = None, /) -> Any:
    """Class decorator: ``@register_judge`` (the class's ``name``), or ``@register_judge("x")``
    for a class without its own ``name`` (it takes that one)."""
    if isinstance(cls_or_name, type):
        return JUDGES.register(cls_or_name)

    def register(cls: C) -> C:
        return JUDGES.register(cls, cls_or_name)

    return register


def available_judges() -> list[str]:
    """Names of every registered judge (built-ins and installed plugins)."""
    return JUDGES.names()


def judge_class(name: str) -> type[Judge]:
    return JUDGES.get(name)


@overload
def get_judge(name: Literal["rubric", "pc2"], /, *args: Any, **kwargs: Any) -> PointwiseShape: ...
@overload
def get_judge(name: Literal["pairwise"], /, *args: Any, **kwargs: Any) -> PairwiseShape: ...
@overload
def get_judge(name: Literal["prp"], /, *args: Any, **kwargs: Any) -> ListwiseShape: ...
@overload
def get_judge(name: Literal["meta_ranking"], /, *args: Any, **kwargs: Any) -> ReliabilityShape: ...
@overload
def get_judge(name: Literal["trlm"], /, *args: Any, **kwargs: Any) -> LikelihoodShape: ...
@overload
def get_judge(name: str, /, *args: Any, **kwargs: Any) -> Judge: ...
def get_judge(name: str, /, *args: Any, **kwargs: Any) -> Any:
    """An instance of the judge registered as ``name`` (arguments go to its constructor)."""
    return judge_class(name)(*args, **kwargs)
