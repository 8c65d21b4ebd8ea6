"""Representation probes: the Language Ranker (METHODS.md §7).

Import cost stays low: torch and transformers load only when a model is encoded.
"""

from judgebench.probes.corpus import (
    ParallelCorpus,
    load_corpus,
    read_pair_file,
    read_parallel_folder,
)
from judgebench.probes.encoder import HiddenStateEncoder, resolve_model
from judgebench.probes.language_ranker import (
    RankerReport,
    RankerSettings,
    run_language_ranker,
    write_csv,
)
from judgebench.probes.ranker import bootstrap_weights, language_scores, parse_layers, spearman

__all__ = [
    "HiddenStateEncoder",
    "ParallelCorpus",
    "RankerReport",
    "RankerSettings",
    "bootstrap_weights",
    "language_scores",
    "load_corpus",
    "parse_layers",
    "read_pair_file",
    "read_parallel_folder",
    "resolve_model",
    "run_language_ranker",
    "spearman",
    "write_csv",
]
