"""Reproductions of published numbers from imported records (used by real-data tests and benches).

* :func:`alpacaeval_comparison` — raw and length-controlled win rates against the baseline,
  next to the official leaderboard columns.
* :func:`pandalm_tables` — inter-annotator κ, the majority-label distribution, and the shipped
  judges' agreement with the majority label.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from scipy import stats

from judgebench.analysis.agreement import classification_report, majority_label, pairwise_kappa
from judgebench.analysis.frames import alpaca_prefs_frame, lengths_frame, pairs_frame
from judgebench.analysis.length_control import instruction_difficulty, length_controlled_win_rates
from judgebench.analysis.pairwise import win_rates
from judgebench.records import Judgment, Response


def alpacaeval_comparison(
    judgments: Iterable[Judgment],
    responses: Iterable[Response],
    leaderboard: pd.DataFrame,
    baseline: str = "gpt4_1106_preview",
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Per model: raw win rate, ours (LC), the leaderboard's raw and LC; plus summary figures.

    The difficulty vector is estimated from all imported preferences (every annotated model),
    lengths from the imported outputs. Models without outputs get a raw win rate only.
    """
    pairs = pairs_frame(judgments)
    raw = win_rates(pairs, baseline=baseline, n_boot=0).set_index("model")
    prefs = alpaca_prefs_frame(pairs, lengths_frame(responses), baseline)
    difficulty = instruction_difficulty(prefs)
    # the baseline's _verbose/_concise variants regularise the fit as upstream when imported
    lc = length_controlled_win_rates(
        prefs.dropna(subset=["length_delta"]), difficulty, baseline=baseline
    ).set_index("model")
    table = pd.DataFrame(
        {
            "raw": raw["win_rate"],
            "official_raw": leaderboard["win_rate"].reindex(raw.index),
            "lc_ours": lc["lc_win_rate"].reindex(raw.index),
            "official_lc": leaderboard["length_controlled_winrate"].reindex(raw.index),
        }
    )
    table.index.name = "model"
    with_lc = table.dropna(subset=["lc_ours", "official_lc"])
    with_lc = with_lc[with_lc.index != baseline]
    summary = {
        "models": float(len(table)),
        "models_with_lc": float(len(with_lc)),
        "max_abs_raw_vs_official_raw": float((table["raw"] - table["official_raw"]).abs().max()),
        "mae_raw_vs_official_lc": float((with_lc["raw"] - with_lc["official_lc"]).abs().mean()),
        "mae_ours_vs_official_lc": float(
            (with_lc["lc_ours"] - with_lc["official_lc"]).abs().mean()
        ),
        "spearman_raw_vs_official_lc": float(
            stats.spearmanr(with_lc["raw"], with_lc["official_lc"]).statistic
        ),
        "spearman_ours_vs_official_lc": float(
            stats.spearmanr(with_lc["lc_ours"], with_lc["official_lc"]).statistic
        ),
    }
    return table.sort_values("official_lc", ascending=False), summary


def pandalm_tables(judgments: Iterable[Judgment]) -> dict[str, pd.DataFrame]:
    """Tables from an imported PandaLM test set: ``kappa``, ``majority``, ``judges``."""
    judgments = list(judgments)
    items = pd.DataFrame(
        [(j.details.get("idx"), j.judge, j.verdict, j.status) for j in judgments],
        columns=["idx", "judge", "verdict", "status"],
    )
    humans = items[items["judge"].str.startswith("human:pandalm/")]
    wide = humans.pivot(index="idx", columns="judge", values="verdict")
    wide.columns = [c.rsplit("/", 1)[1] for c in wide.columns]
    kappa = pairwise_kappa(wide[sorted(wide.columns)])
    majority = majority_label(wide)
    distribution = (
        majority.value_counts(dropna=False).rename_axis("label").reset_index(name="count")
    )
    rows = []
    for judge, group in items[items["judge"].str.startswith("pandalm-shipped:")].groupby("judge"):
        pred = group.set_index("idx")["verdict"].where(group.set_index("idx")["status"] == "ok")
        gold = majority.reindex(pred.index)
        report = classification_report(pred.tolist(), gold.tolist(), labels=["A", "B", "tie"])
        rows.append({"judge": judge.split(":", 1)[1], **report})
    return {"kappa": kappa, "majority": distribution, "judges": pd.DataFrame(rows)}
