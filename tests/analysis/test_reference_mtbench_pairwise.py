"""Pairwise verdicts from both orders → win rates, against MT-Bench's own code.

Reference: lm-sys/FastChat, fastchat/llm_judge/show_result.py ``display_result_pairwise``
(https://github.com/lm-sys/FastChat/blob/main/fastchat/llm_judge/show_result.py): pairs whose
g1 or g2 judgment is ``"error"`` are dropped; ``g1_winner == "tie"`` or ``g1 != g2`` is a tie
for both models; otherwise a win and a loss; ``win_rate_adjusted = (win + 0.5·tie) / (win +
loss + tie)``. ``g2_winner`` is already mapped back to the original labels
(gen_judgment.py ``play_a_match_pair``: g2_map = {"A": "model_2", "B": "model_1"}).
Transcribed below; ours goes through ``combine_order_verdicts`` and ``win_rates``.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pandas as pd
import pytest

from judgebench.analysis import combine_order_verdicts, win_rates
from judgebench.records import VERDICT_OUTCOME

MODELS = ["m1", "m2", "m3"]
G1 = {"A": "model_1", "B": "model_2", "tie": "tie", None: "error"}
G2 = {"A": "model_2", "B": "model_1", "tie": "tie", None: "error"}  # verdict read swapped


def mt_bench_win_rate_adjusted(rows) -> dict[str, float]:
    """``display_result_pairwise`` over (model_1, model_2, g1_winner, g2_winner) rows."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # win, loss, tie
    for model_1, model_2, g1, g2 in rows:
        if g1 == "error" or g2 == "error":
            continue
        if g1 == "tie" or g1 != g2:
            tally[model_1][2] += 1
            tally[model_2][2] += 1
        else:
            winner, loser = (model_1, model_2) if g1 == "model_1" else (model_2, model_1)
            tally[winner][0] += 1
            tally[loser][1] += 1
    return {m: (w + 0.5 * t) / (w + lo + t) for m, (w, lo, t) in tally.items()}


@pytest.mark.parametrize("seed", [0, 1])
def test_win_rates_from_both_orders_equal_mt_bench_display_result_pairwise(seed):
    rng = random.Random(seed)
    verdicts = ["A", "B", "tie", None]  # None: the order's reply never parsed
    weights = [0.4, 0.35, 0.15, 0.1]
    first, swapped, rows, pairs = [], [], [], []
    for q in range(40):
        for i, a in enumerate(MODELS):
            for b in MODELS[i + 1 :]:
                v1, v2 = rng.choices(verdicts, weights)[0], rng.choices(verdicts, weights)[0]
                first.append(v1)
                swapped.append(v2)  # as the judge answered with b shown first
                rows.append((a, b, G1[v1], G2[v2]))
                pairs.append((f"q{q}", a, b))
    combined = combine_order_verdicts(first, swapped)
    frame = pd.DataFrame(
        [
            (q, a, b, VERDICT_OUTCOME[v] if v is not None else float("nan"))
            for (q, a, b), v in zip(pairs, combined, strict=True)
        ],
        columns=["query_id", "model_a", "model_b", "outcome"],
    )
    ours = win_rates(frame, n_boot=0, percent=False).set_index("model")["win_rate"]
    assert ours.to_dict() == pytest.approx(mt_bench_win_rate_adjusted(rows), abs=1e-12)
    # a pair with one unusable order is dropped, not decided by the other order alone
    dropped = sum(v1 is None or v2 is None for v1, v2 in zip(first, swapped, strict=True))
    assert sum(v is None for v in combined) == dropped > 0
