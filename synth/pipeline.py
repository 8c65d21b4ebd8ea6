"""RealMix-style synthesis per taxonomy leaf: generate → check → dedup → re-assign → keep.

Per leaf, attempts are planned in *waves* sized from the yield so far; the LLM work of a wave
runs concurrently (bounded across all nodes by one semaphore) and every attempt is journalled
as soon as its LLM calls are done. Dedup decisions are then made in attempt order, so a run is
reproducible from its seed whatever the concurrency, and a resumed run replays the journal
instead of calling any model again.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from judgebench.errors import DataError
from judgebench.llm import Completion, LLMError, get_gateway
from judgebench.prompts import PromptTemplate, fence, load_template
from judgebench.records import Query, TaxonomyNode, content_key
from judgebench.synth.checklist import (
    Checklist,
    ChecklistParseError,
    checklist_for,
    parse_checklist,
)
from judgebench.synth.config import SynthConfig
from judgebench.synth.dedup import DedupIndex, exact_key
from judgebench.synth.generation import read_generation, word_count
from judgebench.synth.journal import FINAL_STATUSES, Attempt, MemoryJournal, SynthJournal
from judgebench.synth.seeds import SeedPick, SeedPool

GENERATE_TEMPLATE = "synth:generate"
CHECKLIST_TEMPLATE = "synth:checklist"
# Wave sizing: the first wave asks for exactly what is missing (no overshoot when everything
# passes); later waves divide what is missing by the node's yield so far, smoothed towards 1/2
# (a few attempts say little), and never exceed twice what is missing, so a lucky wave
# overshoots by at most that much.
_MAX_WAVE_FACTOR = 2


class Assigner(Protocol):
    """Assigns texts to taxonomy node path ids (LLM- or embedding-based)."""

    async def assign(self, texts: list[str]) -> list[list[str]]: ...


@dataclass
class NodeReport:
    node_id: str
    target: int
    kept: int = 0
    attempts: int = 0
    budget: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    calls: int = 0
    tokens: int = 0

    @property
    def shortfall(self) -> int:
        return max(0, self.target - self.kept)


@dataclass
class SynthReport:
    run_key: str
    nodes: dict[str, NodeReport]
    kept_queries: list[Query]
    encoder: str
    threshold: float
    calls: int = 0  # LLM calls made by this invocation (0 on a rerun of finished work)
    tokens: int = 0
    wall_s: float = 0.0

    @property
    def kept(self) -> int:
        return sum(n.kept for n in self.nodes.values())

    @property
    def statuses(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for node in self.nodes.values():
            total.update(node.statuses)
        return total

    @property
    def dedup_rate(self) -> float:
        """Share of quality-passing candidates dropped as duplicates."""
        s = self.statuses
        decided = s["kept"] + s["duplicate"] + s["off_target"]
        return s["duplicate"] / decided if decided else 0.0

    @property
    def shortfall(self) -> dict[str, int]:
        return {n.node_id: n.shortfall for n in self.nodes.values() if n.shortfall}

    def summary(self) -> dict[str, Any]:
        return {
            "run_key": self.run_key,
            "kept": self.kept,
            "nodes": len(self.nodes),
            "nodes_short": len(self.shortfall),
            "statuses": dict(self.statuses),
            "dedup_rate": round(self.dedup_rate, 4),
            "calls": self.calls,
            "tokens": self.tokens,
            "encoder": self.encoder,
            "threshold": self.threshold,
            "wall_s": round(self.wall_s, 3),
        }


ProgressCallback = Callable[[NodeReport, bool], None]  # (node state, finished?)


@dataclass
class _Usage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, completion: Completion) -> None:
        if not completion.cached:
            self.calls += 1
        self.prompt_tokens += completion.usage.prompt_tokens
        self.completion_tokens += completion.usage.completion_tokens


class Synthesizer:
    def __init__(
        self,
        leaves: Sequence[TaxonomyNode],
        seeds: Sequence[Query],
        config: SynthConfig | None = None,
        *,
        journal: SynthJournal | None = None,
        assigner: Assigner | None = None,
        encoder: Any = None,
        taxonomy_version: int | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.config = config or SynthConfig()
        if not leaves:
            raise DataError("synthesis needs at least one target leaf")
        self.leaves = list(leaves)
        self.seeds = list(seeds)
        self.journal = journal or MemoryJournal()
        self.assigner = assigner
        self.taxonomy_version = taxonomy_version
        self.on_progress = on_progress
        if encoder is None:
            from judgebench.embed import get_encoder

            encoder = get_encoder(self.config.encoder)
        self.encoder = encoder
        self.threshold = self.config.threshold_for(encoder.name)
        overrides = self.config.templates
        self.generate_template: PromptTemplate = load_template(GENERATE_TEMPLATE, overrides)
        self.checklist_template: PromptTemplate = load_template(CHECKLIST_TEMPLATE, overrides)
        self.run_key = self.config.run_key(
            self.generate_template.hash,
            self.checklist_template.hash,
            sorted(s.id for s in self.seeds),
            encoder.name,
        )
        self._simulated = any(
            m.startswith("sim/") for m in [*self.config.generators, self.config.judge]
        )

    # --- public ---------------------------------------------------------------------------
    async def run(self) -> SynthReport:
        start = time.perf_counter()
        self._usage = _Usage()
        self._sem = asyncio.Semaphore(self.config.concurrency)
        self._batcher = _EncodeBatcher(self.encoder.encode)
        seeds = await self._assigned_seeds()
        self._pool = SeedPool(seeds)
        self._seed_vectors = dict(
            zip((s.id for s in seeds), await self._encode([s.text for s in seeds]), strict=True)
        )
        self._index = DedupIndex(self.threshold, self.encoder.dim)
        for seed in seeds:  # a candidate equal to any seed is an exact duplicate of it
            self._index._exact.setdefault(exact_key(seed.text), seed.id)
        history: dict[str, list[Attempt]] = {}
        for attempt in self.journal.load_attempts(self.run_key):
            history.setdefault(attempt.node_id, []).append(attempt)
        # replay what was kept before any node decides anything (exact dedup spans nodes)
        kept_before = sorted(
            (a for attempts in history.values() for a in attempts if a.status == "kept"),
            key=lambda a: (a.node_id, a.index),
        )
        if kept_before:
            vectors = await self._encode([a.text or "" for a in kept_before])
            for node in dict.fromkeys(a.node_id for a in kept_before):
                rows = [i for i, a in enumerate(kept_before) if a.node_id == node]
                self._index.add(
                    node,
                    [kept_before[i].query_id or "" for i in rows],
                    [kept_before[i].text or "" for i in rows],
                    vectors[rows],
                )
        reports = await _all_or_cancel(
            *(
                self._run_node(leaf, sorted(history.get(leaf.path_id, []), key=lambda a: a.index))
                for leaf in self.leaves
            )
        )
        kept = [q for _, qs in reports for q in qs]
        return SynthReport(
            run_key=self.run_key,
            nodes={r.node_id: r for r, _ in reports},
            kept_queries=kept,
            encoder=self.encoder.name,
            threshold=self.threshold,
            calls=self._usage.calls,
            tokens=self._usage.prompt_tokens + self._usage.completion_tokens,
            wall_s=time.perf_counter() - start,
        )

    # --- seeds ----------------------------------------------------------------------------
    async def _assigned_seeds(self) -> list[Query]:
        unassigned = [s for s in self.seeds if not s.node_ids]
        if not unassigned or self.assigner is None:
            return self.seeds
        known = self.journal.load_seed_nodes(self.run_key)
        todo = [s for s in unassigned if s.id not in known]
        if todo:
            assigned = await self.assigner.assign([s.text for s in todo])
            fresh = {s.id: nodes for s, nodes in zip(todo, assigned, strict=True)}
            self.journal.save_seed_nodes(self.run_key, fresh)
            known.update(fresh)
        return [
            s if s.node_ids else s.model_copy(update={"node_ids": known.get(s.id, [])})
            for s in self.seeds
        ]

    # --- one node -------------------------------------------------------------------------
    async def _run_node(
        self, leaf: TaxonomyNode, history: list[Attempt]
    ) -> tuple[NodeReport, list[Query]]:
        cfg = self.config
        node = leaf.path_id
        report = NodeReport(node, target=cfg.per_node, budget=cfg.attempt_budget)
        done: dict[int, Attempt] = {a.index: a for a in history if a.status in FINAL_STATUSES}
        pending: dict[int, Attempt] = {a.index: a for a in history if a.status == "checked"}
        for attempt in done.values():
            self._count(report, attempt)
        # attempts a previous run planned but did not finish (interrupted, or transport errors)
        waves: dict[int, tuple[int, int]] = {}
        for attempt in history:
            waves.update({i: attempt.wave for i in range(*attempt.wave)})
        next_index = max((max(a.index + 1, a.wave[1]) for a in history), default=0)
        todo = [i for i in range(next_index) if i not in done and i not in pending]
        new_kept: list[Query] = []
        while todo or pending or (report.kept < cfg.per_node and next_index < cfg.attempt_budget):
            if not todo and not pending:
                wave = self._plan_wave(report, next_index, cfg.attempt_budget)
                waves.update({i: wave for i in range(*wave)})
                todo, next_index = list(range(*wave)), wave[1]
            fresh = await _all_or_cancel(
                *(self._attempt(leaf, i, waves.get(i, (i, i + 1))) for i in todo)
            )
            todo = []
            for attempt in fresh:
                if attempt.status == "checked":
                    pending[attempt.index] = attempt
                else:
                    done[attempt.index] = attempt
                    self._count(report, attempt)
            decided, queries = await self._decide(leaf, [pending.pop(i) for i in sorted(pending)])
            for attempt in decided:
                done[attempt.index] = attempt
                self._count(report, attempt)
            new_kept.extend(queries)
            if self.on_progress:
                self.on_progress(report, False)
        if self.on_progress:
            self.on_progress(report, True)
        return report, new_kept

    def _plan_wave(self, report: NodeReport, attempted: int, budget: int) -> tuple[int, int]:
        need = self.config.per_node - report.kept
        if attempted:
            rate = (report.kept + 1) / (attempted + 2)
            size = min(max(need, round(need / rate)), _MAX_WAVE_FACTOR * need)
        else:
            size = need
        return (attempted, attempted + max(1, min(size, budget - attempted)))

    def _count(self, report: NodeReport, attempt: Attempt) -> None:
        report.attempts += 1
        report.statuses[attempt.status] += 1
        report.kept += attempt.status == "kept"
        report.calls += attempt.calls
        report.tokens += attempt.prompt_tokens + attempt.completion_tokens

    # --- one attempt: generation and checklist (the LLM work) -----------------------------
    async def _encode(self, texts: list[str]) -> Any:
        """Encode off the event loop (a neural encoder would otherwise stall every node's
        calls), batched with whatever other attempts asked for meanwhile."""
        return await self._batcher.encode(texts)

    def _rng(self, node: str, index: int) -> random.Random:
        return random.Random(content_key("synth-rng", self.config.seed, node, index))

    async def _call(
        self, model: str, messages: list[dict[str, str]], usage: _Usage, **params: Any
    ) -> Completion:
        async with self._sem:
            completion = await get_gateway().complete(model, messages, **params)
        usage.add(completion)
        self._usage.add(completion)
        return completion

    async def _attempt(self, leaf: TaxonomyNode, index: int, wave: tuple[int, int]) -> Attempt:
        cfg = self.config
        rng = self._rng(leaf.path_id, index)
        generator = rng.choices(cfg.generators, weights=cfg.generator_weights)[0]
        pick = self._pool.pick(leaf.path_id, cfg.seeds_per_query, rng)
        nonce = f"{rng.getrandbits(32):08x}"  # from the seeded rng: the same prompt on a rerun
        base = dict(
            run_key=self.run_key,
            node_id=leaf.path_id,
            index=index,
            wave=wave,
            generator=generator,
            seed_ids=[s.id for s in pick.seeds],
            seed_scope=pick.scope,
        )
        usage = _Usage()
        raw: list[str] = []

        def finish(status: str, **extra: Any) -> Attempt:
            return Attempt(
                **base,
                status=status,
                raw_replies=raw,
                calls=usage.calls,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                **extra,
            )

        try:
            outcome = await self._generate(leaf, pick, generator, nonce, index, usage, raw)
            if outcome.outcome != "query":
                status = "refused" if outcome.outcome == "refusal" else "malformed"
                attempt = finish(status, reason=outcome.text)
            else:
                attempt = await self._check(leaf, pick, outcome.text, nonce, usage, raw, finish)
        except LLMError as exc:
            attempt = finish("error", reason=f"{type(exc).__name__}: {exc}")
        self.journal.save([attempt], [])
        return attempt

    async def _generate(
        self,
        leaf: TaxonomyNode,
        pick: SeedPick,
        model: str,
        nonce: str,
        index: int,
        usage: _Usage,
        raw: list[str],
    ):
        reference = pick.seeds[0].text
        prompt = self.generate_template.render(
            node_path=leaf.path_id,
            node_name=leaf.name,
            node_description=leaf.description or "",
            domain=leaf.path_id.split("/")[0],
            target_seed=fence(reference, "TARGET_SEED", nonce),
            detail_seeds=[fence(s.text, "DETAIL_SEED", nonce) for s in pick.seeds[1:]],
            reference_words=word_count(reference),
        )
        messages = [{"role": "user", "content": prompt}]
        # a sampled call: the attempt index is its sample identity, so the gateway cache keeps it
        params = {
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
            "sample_index": index,
        }
        outcome = None
        for _ in range(self.config.generation_retries + 1):
            completion = await self._call(model, messages, usage, **params)
            raw.append(completion.text)
            outcome = read_generation(completion.text, completion.finish_reason)
            if outcome.outcome != "malformed":
                return outcome
            messages = [
                *messages,
                {"role": "assistant", "content": completion.text},
                {
                    "role": "user",
                    "content": f"Your reply could not be used ({outcome.text}). Reply with the new "
                    "query between <query> and </query> tags, or one line REFUSE: <reason>.",
                },
            ]
        return outcome

    async def _check(self, leaf, pick, text, nonce, usage, raw, finish) -> Attempt:
        cfg = self.config
        reference = pick.seeds[0].text
        if word_count(text) < cfg.min_length_ratio * word_count(reference):
            return finish(
                "too_short",
                text=text,
                reason=f"{word_count(text)} words < reference {word_count(reference)}",
            )
        copied = await self._copied_seed(text, pick)
        if copied:
            return finish("copies_seed", text=text, reason=copied)
        domain = leaf.path_id.split("/")[0]
        checklist = checklist_for(domain, cfg.checklist_items)
        answers, reason = await self._ask_checklist(leaf, checklist, text, nonce, usage, raw)
        if answers is None:
            return finish("invalid_checklist", text=text, reason=reason)
        quality = sum(answers.values())
        status = "checked" if quality >= cfg.min_quality else "low_quality"
        why = (
            None
            if status == "checked"
            else f"{quality} of 7 checklist items < min_quality {cfg.min_quality}"
        )
        return finish(status, text=text, checklist=answers, quality=quality, reason=why)

    async def _copied_seed(self, text: str, pick: SeedPick) -> str | None:
        key = exact_key(text)
        vector = (await self._encode([text]))[0]
        for seed in pick.seeds:
            if exact_key(seed.text) == key:
                return f"identical to seed {seed.id}"
            sim = float(vector @ self._seed_vectors[seed.id])
            if sim >= self.threshold:
                return f"near copy of seed {seed.id} (cosine {sim:.3f} ≥ {self.threshold})"
        return None

    async def _ask_checklist(self, leaf, checklist: Checklist, text, nonce, usage, raw):
        prompt = self.checklist_template.render(
            domain=checklist.domain,
            node_path=leaf.path_id,
            query=fence(text, "QUERY", nonce),
            items=checklist.items,
        )
        messages = [{"role": "user", "content": prompt}]
        reason = ""
        for _ in range(self.config.checklist_retries + 1):
            completion = await self._call(
                self.config.judge, messages, usage, temperature=0.0, max_tokens=400
            )
            raw.append(completion.text)
            try:
                return parse_checklist(completion.text, checklist), ""
            except ChecklistParseError as exc:
                reason = str(exc)
                if completion.finish_reason == "length":
                    reason += " (reply truncated)"
            messages = [
                *messages,
                {"role": "assistant", "content": completion.text},
                {
                    "role": "user",
                    "content": f"Your reply could not be read: {reason}. Reply again with only the "
                    f'JSON object answering all 7 items with "yes" or "no".',
                },
            ]
        return None, reason

    # --- deciding: dedup, re-assignment, keeping ------------------------------------------
    async def _decide(
        self, leaf: TaxonomyNode, checked: list[Attempt]
    ) -> tuple[list[Attempt], list[Query]]:
        if not checked:
            return [], []
        node = leaf.path_id
        texts = [a.text or "" for a in checked]
        ids = [Query.natural_key(t, "synth") for t in texts]
        decisions = self._index.check_and_add(node, ids, texts, await self._encode(texts))
        unique = [i for i, d in enumerate(decisions) if d.status == "unique"]
        assigned: dict[int, list[str]] = {}
        if unique and self.config.reassign != "none" and self.assigner is not None:
            nodes = await self.assigner.assign([texts[i] for i in unique])
            assigned = dict(zip(unique, nodes, strict=True))
        decided: list[Attempt] = []
        kept: list[Query] = []
        for i, (attempt, decision) in enumerate(zip(checked, decisions, strict=True)):
            dedup = {
                **decision.as_dict(),
                "encoder": self.encoder.name,
                "threshold": self.threshold,
            }
            update: dict[str, Any] = {"dedup": dedup}
            if decision.status != "unique":
                update |= {
                    "status": "duplicate",
                    "reason": f"{decision.status} duplicate of {decision.duplicate_of}",
                }
            else:
                others = [n for n in assigned.get(i, []) if n != node]
                on_target = node in assigned.get(i, [node])
                update["assigned_nodes"] = assigned.get(i, [])
                if not on_target and self.config.drop_off_target:
                    update |= {
                        "status": "off_target",
                        "reason": f"re-assigned to {others or 'nothing'}",
                    }
                else:
                    update |= {"status": "kept", "query_id": ids[i]}
                    kept.append(
                        self._query(attempt, ids[i], dedup, assigned.get(i), on_target, others)
                    )
            decided.append(attempt.model_copy(update=update))
        self.journal.save(decided, kept)
        return decided, kept

    def _query(self, attempt: Attempt, query_id: str, dedup, assigned, on_target, others) -> Query:
        cfg = self.config
        checklist = checklist_for(attempt.node_id.split("/")[0], cfg.checklist_items)
        provenance = {
            "method": "realmix",
            "run_key": self.run_key,
            "target_node": attempt.node_id,
            "attempt": attempt.index,
            "seed": cfg.seed,
            "seed_ids": attempt.seed_ids,
            "seed_scope": attempt.seed_scope,
            "generator": attempt.generator,
            "judge": cfg.judge,
            "params": {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens},
            "templates": {
                "generate": {
                    "name": self.generate_template.name,
                    "hash": self.generate_template.hash,
                },
                "checklist": {
                    "name": self.checklist_template.name,
                    "hash": self.checklist_template.hash,
                    "items_hash": checklist.hash,
                },
            },
            "checklist": attempt.checklist,
            "quality": attempt.quality,
            "min_quality": cfg.min_quality,
            "dedup": dedup,
            "reassign": {
                "mode": cfg.reassign if self.assigner else "none",
                "nodes": assigned,
                "on_target": on_target,
            },
        }
        metadata = {"simulated": True} if self._simulated else {}
        return Query(
            id=query_id,
            text=attempt.text or "",
            node_ids=[attempt.node_id, *others],
            taxonomy_version=self.taxonomy_version,
            source="synth",
            provenance=provenance,
            metadata=metadata,
        )


class _EncodeBatcher:
    """Coalesces concurrent encode requests: while one batch is being encoded in a worker
    thread, new requests queue up and go together in the next one (MiniLM encodes a batch of
    64 far faster than 64 single texts)."""

    def __init__(self, encode: Callable[[list[str]], Any]) -> None:
        self._encode = encode
        self._pending: list[tuple[list[str], asyncio.Future[Any]]] = []
        self._worker: asyncio.Task[None] | None = None

    async def encode(self, texts: list[str]) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.append((texts, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.ensure_future(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            await asyncio.sleep(0)  # let the other ready coroutines add their texts
            batch, self._pending = self._pending, []
            texts = [t for chunk, _ in batch for t in chunk]
            try:
                vectors = await asyncio.to_thread(self._encode, texts)
            except Exception as exc:  # every waiter gets the failure, none a wrong vector
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            start = 0
            for chunk, future in batch:
                if not future.done():
                    future.set_result(vectors[start : start + len(chunk)])
                start += len(chunk)


async def _all_or_cancel(*coros: Any) -> list[Any]:
    """``asyncio.gather``, except that the first failure cancels the siblings (no orphaned tasks
    keep calling models after a run has failed) and is re-raised as itself."""
    tasks = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def synthesize(
    leaves: Sequence[TaxonomyNode],
    seeds: Sequence[Query],
    config: SynthConfig | None = None,
    **kwargs: Any,
) -> SynthReport:
    """Synthesize queries for every leaf (see ``Synthesizer`` for the keyword arguments)."""
    return await Synthesizer(leaves, seeds, config, **kwargs).run()


def synthesize_sync(
    leaves: Sequence[TaxonomyNode],
    seeds: Sequence[Query],
    config: SynthConfig | None = None,
    **kwargs: Any,
) -> SynthReport:
    from judgebench.llm import run_sync

    return run_sync(lambda: synthesize(leaves, seeds, config, **kwargs))
