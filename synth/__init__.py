"""Query synthesis (Feedbacker RealMix): new queries per taxonomy leaf from seed queries, kept
only when they pass a 7-item quality checklist and are not duplicates.

Start with :func:`synthesize` (async) or :func:`synthesize_sync`; see docs/synth.md.
"""

from judgebench.synth.checklist import Checklist, checklist_for, parse_checklist
from judgebench.synth.config import DEFAULT_DEDUP_THRESHOLDS, SynthConfig
from judgebench.synth.dedup import DedupDecision, DedupIndex
from judgebench.synth.journal import Attempt, JsonlJournal, MemoryJournal, SynthJournal
from judgebench.synth.pipeline import (
    NodeReport,
    Synthesizer,
    SynthReport,
    synthesize,
    synthesize_sync,
)
from judgebench.synth.seeds import SeedPool, load_seed_file

__all__ = [
    "DEFAULT_DEDUP_THRESHOLDS",
    "Attempt",
    "Checklist",
    "DedupDecision",
    "DedupIndex",
    "JsonlJournal",
    "MemoryJournal",
    "NodeReport",
    "SeedPool",
    "SynthConfig",
    "SynthJournal",
    "SynthReport",
    "Synthesizer",
    "checklist_for",
    "load_seed_file",
    "parse_checklist",
    "synthesize",
    "synthesize_sync",
]
