"""Run the Language Ranker: encode a parallel corpus, score each language, store and rank.

Resumable and idempotent: the run id is a content hash of (model, corpus, settings); languages
already stored for that run are skipped, and each group of languages is written in one
transaction, so an interrupted run loses at most the group in flight.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from judgebench.errors import UserError
from judgebench.probes.corpus import ParallelCorpus, load_corpus
from judgebench.probes.encoder import POOLINGS, HiddenStateEncoder, config_layers, resolve_model
from judgebench.probes.ranker import (
    Correlation,
    LayerScores,
    bootstrap_weights,
    language_scores,
    parse_layers,
    spearman,
)

if TYPE_CHECKING:
    from judgebench.db import Store

PROBE = "language_ranker"
AGGREGATE_LAYER = 0  # same convention as judgebench.db.probes
GROUP_SENTENCES = 4096
METRICS = {"raw": "raw", "corrected": "score"}  # ranking metric → the row column it reads


@dataclass(frozen=True)
class RankerSettings:
    pooling: str = "last"
    layers: str = "all"
    max_pairs: int | None = None
    n_boot: int = 1000
    seed: int = 0
    confidence: float = 0.95
    max_length: int = 256
    # ``raw``: the paper's mean cosine; ``corrected``: minus the mismatched-pair baseline. Only
    # the ranking depends on it (both are always stored), so it is not part of the run id.
    metric: str = "raw"

    def validate(self) -> None:
        if self.metric not in METRICS:
            raise UserError(
                f"unknown metric {self.metric!r} (use raw or corrected)", where="--metric"
            )
        if self.pooling not in POOLINGS:
            raise UserError(
                f"unknown pooling {self.pooling!r} (use last or mean)", where="--pooling"
            )
        if self.n_boot < 10:
            raise UserError("need at least 10 bootstrap resamples", where="--bootstrap")
        if not 0.5 <= self.confidence < 1:
            raise UserError("confidence must be in [0.5, 1)", where="--confidence")
        if self.max_pairs is not None and self.max_pairs < 2:
            raise UserError("need at least 2 pairs", where="--max-pairs")


@dataclass
class RankerReport:
    run_id: str
    model: str
    corpus: str
    settings: RankerSettings
    n_layers: int
    layers: tuple[int, ...]
    ranking: list[dict[str, Any]]  # aggregate rows, best first, with "rank"
    per_layer: list[dict[str, Any]]
    computed: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    sentences: int = 0
    tokens: int = 0
    encode_s: float = 0.0
    wall_s: float = 0.0
    truncated: int = 0
    correlation: Correlation | None = None

    @property
    def sentences_per_s(self) -> float:
        return self.sentences / self.encode_s if self.encode_s > 0 else 0.0


def _rows(
    language: str, name: str, scores: LayerScores, model: str, corpus: str, run_id: str
) -> list[dict[str, Any]]:
    rows = [
        dict(
            run_id=run_id,
            language=language,
            language_name=name,
            model=model,
            corpus=corpus,
            layer=AGGREGATE_LAYER,
            raw=scores.agg_raw,
            raw_ci_low=scores.agg_raw_ci[0],
            raw_ci_high=scores.agg_raw_ci[1],
            baseline=scores.agg_baseline,
            score=scores.agg_score,
            ci_low=scores.agg_ci[0],
            ci_high=scores.agg_ci[1],
            n_pairs=scores.n_pairs,
        )
    ]
    for index in range(len(scores.raw)):
        rows.append(
            dict(
                run_id=run_id,
                language=language,
                language_name=name,
                model=model,
                corpus=corpus,
                layer=index + 1,
                raw=float(scores.raw[index]),
                raw_ci_low=float(scores.raw_ci_low[index]),
                raw_ci_high=float(scores.raw_ci_high[index]),
                baseline=float(scores.baseline[index]),
                score=float(scores.score[index]),
                ci_low=float(scores.ci_low[index]),
                ci_high=float(scores.ci_high[index]),
                n_pairs=scores.n_pairs,
            )
        )
    return rows


def _groups(corpus: ParallelCorpus, languages: list[str], max_sentences: int) -> list[list[str]]:
    groups: list[list[str]] = []
    size = 0
    for code in languages:
        count = len(corpus.translations[code])
        if groups and size + count <= max_sentences:
            groups[-1].append(code)
            size += count
        else:
            groups.append([code])
            size = count
    return groups


def run_language_ranker(
    model: str | HiddenStateEncoder,
    corpus: str | Path | ParallelCorpus,
    *,
    languages: list[str] | None = None,
    settings: RankerSettings | None = None,
    store: Store | None = None,
    reference: dict[str, float] | None = None,
    device: str | None = None,
    memory_mb: int = 512,
    compile: bool = False,
    progress: Callable[[str], None] | None = None,
) -> RankerReport:
    """Score every (selected) language of ``corpus`` against English and rank them."""
    started = time.perf_counter()
    settings = settings or RankerSettings()
    settings.validate()
    # Bad input fails before the model is loaded and before anything is written.
    full = corpus if isinstance(corpus, ParallelCorpus) else load_corpus(corpus)
    selected = full.select(languages, settings.max_pairs)
    if len(selected.english) < 2:
        raise UserError("need at least 2 parallel pairs", where=selected.name)
    if isinstance(model, HiddenStateEncoder):
        encoder: HiddenStateEncoder | None = model
        model_name, n_layers = model.name, model.n_layers
    else:
        # A missing path fails now; the weights load only if some language is still to do.
        encoder = None
        model_name, model_path = resolve_model(model)
        n_layers = config_layers(model_path)
    layers = parse_layers(settings.layers, n_layers)
    corpus_label = str(Path(selected.name).name) if selected.name else "corpus"
    run_settings = {**asdict(settings), "layers": list(layers)}
    run_settings.pop("metric")  # a ranking choice: the stored scores serve both metrics
    from judgebench.records import content_key  # pydantic stays out of the encode-only path

    run_id = content_key(PROBE, model_name, selected.fingerprint(), run_settings)

    done: set[str] = set()
    if store is not None:
        done = _existing_languages(store, run_id)
        _ensure_run(store, run_id, model_name, n_layers, selected, corpus_label, run_settings)
    # in the order asked for (``select`` keeps it; all languages: sorted)
    todo = [code for code in selected.translations if code not in done]
    report = RankerReport(
        run_id=run_id,
        model=model_name,
        corpus=corpus_label,
        settings=settings,
        n_layers=n_layers,
        layers=layers,
        ranking=[],
        per_layer=[],
        skipped=sorted(done & set(selected.translations)),
    )
    computed_rows: list[dict[str, Any]] = []
    if todo:
        if encoder is None:
            encoder = HiddenStateEncoder.load(
                str(model), device=device, max_length=settings.max_length, compile=compile
            )
        bytes_per_sentence = encoder.n_layers * encoder.hidden_size * 4
        # Groups of ~4k sentences: each is committed on its own (an interrupted run keeps them),
        # the next one is tokenised while the device runs this one (measured on an H100: 8
        # groups of ~3.2k sentences ran at 35k sentences/s), and the pooled states of one group
        # stay under ``memory_mb``.
        memory_bound = memory_mb * 2**20 // bytes_per_sentence
        group_sentences = max(len(selected.english), min(memory_bound, GROUP_SENTENCES))
        groups = _groups(selected, todo, group_sentences)
        sentence_groups = [selected.english] + [
            [s for code in group for s in selected.translations[code]] for group in groups
        ]
        weights = bootstrap_weights(len(selected.english), settings.n_boot, settings.seed)
        encode_started = time.perf_counter()
        states_iter = encoder.iter_encode(sentence_groups, settings.pooling)  # type: ignore[arg-type]
        english_states = next(states_iter)
        for group, states in zip(groups, states_iter, strict=True):
            group_rows: list[dict[str, Any]] = []
            n = len(selected.english)
            for offset, code in enumerate(group):
                other = states[:, offset * n : (offset + 1) * n]
                scores = language_scores(
                    english_states,
                    other,
                    layers=layers,
                    weights=weights,
                    confidence=settings.confidence,
                )
                name = selected.language_names.get(code, code)
                group_rows.extend(_rows(code, name, scores, model_name, corpus_label, run_id))
            if store is not None:
                _write(store, group_rows)
            computed_rows.extend(group_rows)
            report.computed.extend(group)
            if progress:
                progress(f"{len(report.computed)}/{len(todo)} languages scored")
        report.encode_s = time.perf_counter() - encode_started
        report.sentences = sum(len(g) for g in sentence_groups)
        report.truncated = encoder.truncated

    all_rows = computed_rows
    if store is not None:
        from judgebench.db.probes import language_ranker_scores

        all_rows = [
            {**row, "model": model_name, "corpus": corpus_label}
            for row in language_ranker_scores(store, run_id, layer=None)
            if row["language"] in selected.translations
        ]
    report.ranking = rank([r for r in all_rows if r["layer"] == AGGREGATE_LAYER], settings.metric)
    report.per_layer = sorted(
        (r for r in all_rows if r["layer"] != AGGREGATE_LAYER),
        key=lambda r: (r["language"], r["layer"]),
    )
    if reference is not None:
        column = METRICS[settings.metric]
        report.correlation = spearman({r["language"]: r[column] for r in report.ranking}, reference)
    report.wall_s = time.perf_counter() - started
    return report


def rank(rows: list[dict[str, Any]], metric: str = "raw") -> list[dict[str, Any]]:
    """Rows best first by ``metric`` (``raw`` cosine as the paper, or ``corrected``)."""
    column = METRICS[metric]
    ordered = sorted(rows, key=lambda r: (-r[column], r["language"]))
    return [{**row, "rank": position} for position, row in enumerate(ordered, 1)]


def _existing_languages(store: Store, run_id: str) -> set[str]:
    from sqlalchemy import select

    from judgebench.db.probes import LanguageScoreRow

    with store.session() as session:
        return set(
            session.scalars(
                select(LanguageScoreRow.language).where(
                    LanguageScoreRow.run_id == run_id, LanguageScoreRow.layer == AGGREGATE_LAYER
                )
            )
        )


def _ensure_run(
    store: Store,
    run_id: str,
    model: str,
    n_layers: int,
    corpus: ParallelCorpus,
    label: str,
    settings: dict,
) -> None:
    from judgebench.db.probes import ProbeRunRow

    row = dict(
        id=run_id,
        probe=PROBE,
        model=model,
        corpus=label,
        corpus_fingerprint=corpus.fingerprint(),
        settings={**settings, "corpus_path": corpus.name, "pairs": len(corpus.english)},
        n_layers=n_layers,
    )
    with store.session() as session:
        store.insert_ignore(session, ProbeRunRow.__table__, [row])


def _write(store: Store, rows: list[dict[str, Any]]) -> None:
    from judgebench.db.probes import LanguageScoreRow

    with store.session() as session:
        store.insert_ignore(session, LanguageScoreRow.__table__, rows)


CSV_COLUMNS = (
    "model",
    "corpus",
    "language",
    "language_name",
    "layer",
    "rank",
    "score",
    "ci_low",
    "ci_high",
    "raw",
    "raw_ci_low",
    "raw_ci_high",
    "baseline",
    "n_pairs",
)


def write_csv(report: RankerReport, path: str | Path) -> int:
    """The ranking (layer 0 = score over the layer set) then every per-layer row."""
    rows = report.ranking + report.per_layer
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "rank": row.get("rank", "")})
    return len(rows)


def layer_matrix(report: RankerReport) -> tuple[list[str], list[int], np.ndarray]:
    """Languages (ranked), layers and the score matrix [language, layer] of the run's metric."""
    column = METRICS[report.settings.metric]
    languages = [r["language"] for r in report.ranking]
    index = {code: i for i, code in enumerate(languages)}
    layers = list(range(1, report.n_layers + 1))
    matrix = np.full((len(languages), len(layers)), np.nan)
    for row in report.per_layer:
        if row["language"] in index:
            matrix[index[row["language"]], row["layer"] - 1] = row[column]
    return languages, layers, matrix
