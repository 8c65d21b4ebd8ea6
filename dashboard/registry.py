"""The view contract: one module per view, listed once in ``judgebench.dashboard.views.VIEW_MODULES``.

A view module defines ``VIEW = View(...)``. ``layout(ctx, params)`` returns the page (``params``
are the URL query parameters, e.g. ``node`` for the drill-down); ``register(app, ctx)`` adds
its callbacks. Callbacks should be thin wrappers over plain functions of ``ctx`` so tests can
call them without a browser. Views read only through ``judgebench.db.queries`` and never call
an LLM.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from judgebench.db import Store
from judgebench.db import queries as q


@dataclass(frozen=True)
class View:
    id: str  # also the URL path: /<id>
    title: str
    layout: Callable[[DashboardContext, dict[str, str]], Any]
    register: Callable[[Any, DashboardContext], None] = lambda app, ctx: None
    order: int = 100  # position in the navigation bar
    description: str = ""


@dataclass
class DashboardContext:
    """What every callback gets: the store, a summary kept fresh, and the global filters."""

    store: Store
    refresh_ttl_s: float = 10.0
    _cache: q.SummaryCache | None = field(default=None, repr=False)

    def ensure(self) -> None:
        """Make sure the summary tables reflect the store (checked at most every ``refresh_ttl_s``;
        a no-op once ``refresh_in_background`` runs)."""
        if self._cache is None:
            self._cache = q.SummaryCache(self.store, self.refresh_ttl_s)
        self._cache.ensure()

    def refresh_in_background(self) -> None:
        """Check for new data in a daemon thread instead of inside callbacks (what servers use)."""
        self.ensure()
        assert self._cache is not None
        self._cache.start()

    def filters(
        self, judge: str | None = None, run_id: str | None = None, models: Any = None
    ) -> q.Filters:
        self.ensure()
        if isinstance(models, str):
            models = [models]
        return q.Filters(
            judge=judge or None, run_id=run_id or None, models=tuple(models) if models else None
        )

    def has_data(self) -> bool:
        self.ensure()
        return bool(q.list_models(self.store))


def load_views(modules: list[str] | None = None) -> list[View]:
    """Import each listed view module and return its ``VIEW``, in navigation order."""
    from judgebench.dashboard.views import VIEW_MODULES

    views = []
    for name in modules or VIEW_MODULES:
        module = importlib.import_module(
            name if "." in name else f"judgebench.dashboard.views.{name}"
        )
        view = getattr(module, "VIEW", None)
        if not isinstance(view, View):
            raise TypeError(f"dashboard view module {module.__name__} has no VIEW = View(...)")
        views.append(view)
    ids = [v.id for v in views]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate dashboard view ids: {ids}")
    return sorted(views, key=lambda v: (v.order, v.id))
