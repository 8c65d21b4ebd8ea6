"""Routers: a Meta-Ranking cascade and a learned multi-LLM selector, in-process or over HTTP.

See docs/routing.md. ``from judgebench.routing import CascadeRouter, SelectionRouter, ...``
"""

from judgebench.routing.calibration import CalibrationItem, CascadeCalibration, StageOutcome
from judgebench.routing.cascade import CascadeRouter
from judgebench.routing.config import RouterConfig, build_router, load_config, load_references
from judgebench.routing.dataset import judged_scores, score_matrix
from judgebench.routing.fusion import Fuser
from judgebench.routing.metrics import (
    baselines,
    evaluate_selection,
    gap_curve,
    paired_bootstrap_ci,
)
from judgebench.routing.records import RoutingDecision, StageRecord
from judgebench.routing.router import MemoryRoutingLog, RoutedCompletion, Router, RoutingError
from judgebench.routing.selection import SelectionModel, SelectionRouter
from judgebench.routing.selector import SelectionNetwork, SelectorSettings

__all__ = [
    "CalibrationItem",
    "CascadeCalibration",
    "CascadeRouter",
    "Fuser",
    "MemoryRoutingLog",
    "RoutedCompletion",
    "Router",
    "RouterConfig",
    "RoutingDecision",
    "RoutingError",
    "SelectionModel",
    "SelectionNetwork",
    "SelectionRouter",
    "SelectorSettings",
    "StageOutcome",
    "StageRecord",
    "baselines",
    "build_router",
    "evaluate_selection",
    "gap_curve",
    "judged_scores",
    "load_config",
    "load_references",
    "paired_bootstrap_ci",
    "score_matrix",
]
