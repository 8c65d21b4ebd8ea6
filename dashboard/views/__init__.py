"""Dashboard views. THE one place views are registered: add your module's name to VIEW_MODULES.

A view is a module in this package (or any importable dotted path) that defines
``VIEW = judgebench.dashboard.registry.View(...)``; see docs/dashboard.md.
"""

VIEW_MODULES: list[str] = [
    "overview",
    "runs",
    "taxonomy_map",
    "strengths",
    "compare",
    "drilldown",
    "judge_health",
    "shapes",
    "labelling",
    "language_ranker",
    "router",
]
