"""Analysis: feedback across a taxonomy, pairwise statistics, agreement with humans.

A pure library over pandas frames (no store, no taxonomy package): the dashboard, the CLI and
notebooks all call it. See docs/analysis.md.
"""

from judgebench.analysis.aggregate import (
    OVERALL,
    expand_membership,
    node_scores,
    parent_map,
    rank_matrix,
)
from judgebench.analysis.agreement import (
    classification_report,
    cohen_kappa,
    combine_order_verdicts,
    confusion,
    fleiss_kappa,
    majority_label,
    pairwise_agreement,
    pairwise_kappa,
    position_consistency,
    score_correlation,
)
from judgebench.analysis.bootstrap import BootstrapResult, bootstrap_group_means, bootstrap_p_value
from judgebench.analysis.feedback import (
    FeedbackReport,
    difference_report,
    failure_modes,
    regression_report,
    relative_query_scores,
    strengths_weaknesses,
)
from judgebench.analysis.frames import (
    alpaca_prefs_frame,
    lengths_frame,
    membership_frame,
    pairs_frame,
    scores_frame,
)
from judgebench.analysis.length_control import instruction_difficulty, length_controlled_win_rates
from judgebench.analysis.pairwise import (
    bradley_terry,
    bt_win_probability,
    combine_orders,
    elo,
    order_consistency,
    win_rates,
)

__all__ = [
    "OVERALL",
    "BootstrapResult",
    "FeedbackReport",
    "alpaca_prefs_frame",
    "bootstrap_group_means",
    "bootstrap_p_value",
    "bradley_terry",
    "bt_win_probability",
    "classification_report",
    "cohen_kappa",
    "combine_order_verdicts",
    "combine_orders",
    "confusion",
    "difference_report",
    "elo",
    "expand_membership",
    "failure_modes",
    "fleiss_kappa",
    "instruction_difficulty",
    "length_controlled_win_rates",
    "lengths_frame",
    "majority_label",
    "membership_frame",
    "node_scores",
    "order_consistency",
    "pairs_frame",
    "pairwise_agreement",
    "pairwise_kappa",
    "parent_map",
    "position_consistency",
    "rank_matrix",
    "regression_report",
    "relative_query_scores",
    "scores_frame",
    "score_correlation",
    "strengths_weaknesses",
    "win_rates",
]
