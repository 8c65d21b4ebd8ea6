"""AlpacaEval 2 from the imported per-item preferences: raw and length-controlled win rates.

Parses ``../shared/data/alpaca_eval`` (model outputs + weighted GPT-4-turbo annotations) with
the importers, recomputes each model's win rate against gpt4_1106_preview and our
length-controlled win rate (instruction difficulty estimated from the annotations themselves),
and prints them beside the official leaderboard.

    python bench/alpacaeval_lc.py [--data ../shared/data]

Ends with ``max_abs_raw_diff``, ``mae_raw_vs_official_lc``, ``mae_ours_vs_official_lc``,
``spearman_raw``, ``spearman_ours``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from judgebench.analysis.reproductions import alpacaeval_comparison
from judgebench.importers import parse


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--data", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    args = parser.parse_args()
    root = args.data / "alpaca_eval"
    start = time.perf_counter()
    outputs = parse("alpaca-eval-outputs", root / "model_outputs")
    annotations = parse(
        "alpaca-eval-annotations", root / "annotations_weighted_alpaca_eval_gpt4_turbo.csv"
    )
    board = pd.read_csv(
        root
        / "leaderboards"
        / "data_AlpacaEval_2"
        / "weighted_alpaca_eval_gpt4_turbo_leaderboard.csv",
        index_col=0,
    )
    table, summary = alpacaeval_comparison(
        annotations.judgments.values(), outputs.responses.values(), board
    )
    print(table.round(2).to_string())
    print(f"\n({time.perf_counter() - start:.1f} s including parsing)")
    print(f"max_abs_raw_diff: {summary['max_abs_raw_vs_official_raw']:.6f}")
    print(f"mae_raw_vs_official_lc: {summary['mae_raw_vs_official_lc']:.3f}")
    print(f"mae_ours_vs_official_lc: {summary['mae_ours_vs_official_lc']:.3f}")
    print(f"spearman_raw: {summary['spearman_raw_vs_official_lc']:.4f}")
    print(f"spearman_ours: {summary['spearman_ours_vs_official_lc']:.4f}")


if __name__ == "__main__":
    main()
