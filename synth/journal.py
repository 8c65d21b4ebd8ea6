"""The progress record of a synthesis run: one row per attempt, written as soon as it is known.

A rerun of the same run (same run key) reads it back and skips every attempt already decided,
so finished work makes zero LLM calls; attempts that had finished their LLM calls but not their
dedup decision (status ``checked``) are decided again without calling anything. The run lives
in whatever implements ``SynthJournal``: memory, a JSONL file, or the store
(``judgebench.db.synth.StoreJournal``) — synthesis itself never imports the database.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from judgebench.errors import DataError
from judgebench.records import Query, content_key, utcnow

AttemptStatus = Literal[
    "kept",  # passed everything; a query was written
    "checked",  # LLM work done and quality passed; dedup decision pending
    "refused",  # the generator refused
    "malformed",  # the generator's replies held no query, after retries
    "too_short",  # shorter than the reference seed
    "copies_seed",  # an exact or near copy of one of its own seeds
    "low_quality",  # checklist passed fewer than min_quality items
    "invalid_checklist",  # the judge's replies never parsed into 7 yes/no answers
    "duplicate",  # exact or semantic duplicate of a kept query
    "off_target",  # re-assigned away from the target node (with drop_off_target)
    "error",  # a transport error after the gateway's retries; retried on resume
]
FINAL_STATUSES = frozenset(
    {
        "kept",
        "refused",
        "malformed",
        "too_short",
        "copies_seed",
        "low_quality",
        "invalid_checklist",
        "duplicate",
        "off_target",
    }
)


class Attempt(BaseModel):
    """One attempt at a query for one node; ``index`` counts attempts within the node."""

    model_config = ConfigDict(extra="forbid")

    run_key: str
    node_id: str
    index: int
    wave: tuple[int, int]  # the batch [start, end) this attempt was planned in
    status: AttemptStatus
    text: str | None = None
    query_id: str | None = None
    generator: str | None = None
    seed_ids: list[str] = Field(default_factory=list)
    seed_scope: str | None = None
    checklist: dict[str, bool] | None = None
    quality: int | None = None
    dedup: dict[str, Any] | None = None
    assigned_nodes: list[str] = Field(default_factory=list)
    reason: str | None = None
    raw_replies: list[str] = Field(default_factory=list)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def key(self) -> str:
        return attempt_key(self.run_key, self.node_id, self.index)


def attempt_key(run_key: str, node_id: str, index: int) -> str:
    return content_key("synth-attempt", run_key, node_id, index)


class SynthJournal(Protocol):
    """Where a run's attempts, kept queries and seed assignments persist."""

    def load_attempts(self, run_key: str) -> list[Attempt]: ...

    def save(self, attempts: list[Attempt], kept: list[Query]) -> None:
        """Upsert attempts (by key) and insert kept queries, in one transaction where possible."""
        ...

    def load_seed_nodes(self, run_key: str) -> dict[str, list[str]]: ...

    def save_seed_nodes(self, run_key: str, nodes: dict[str, list[str]]) -> None: ...

    def load_kept(self, run_key: str) -> list[Query]:
        """Every query the run has kept so far (this invocation and earlier ones)."""
        ...


class MemoryJournal:
    """In-process journal (tests, notebooks): survives a second ``synthesize`` call, not a crash."""

    def __init__(self) -> None:
        self.attempts: dict[str, Attempt] = {}
        self.queries: dict[str, Query] = {}
        self.seed_nodes: dict[str, dict[str, list[str]]] = {}

    def load_attempts(self, run_key: str) -> list[Attempt]:
        return [a for a in self.attempts.values() if a.run_key == run_key]

    def save(self, attempts: list[Attempt], kept: list[Query]) -> None:
        for attempt in attempts:
            self.attempts[attempt.key] = attempt
        for query in kept:
            self.queries.setdefault(query.id, query)

    def load_seed_nodes(self, run_key: str) -> dict[str, list[str]]:
        return dict(self.seed_nodes.get(run_key, {}))

    def load_kept(self, run_key: str) -> list[Query]:
        return [q for q in self.queries.values() if q.provenance.get("run_key") == run_key]

    def save_seed_nodes(self, run_key: str, nodes: dict[str, list[str]]) -> None:
        self.seed_nodes.setdefault(run_key, {}).update(nodes)


_ROW_START = b'{"type": '  # how every row json.dumps writes begins


class JsonlJournal:
    """An append-only JSONL file: the last line for a key wins; a torn row is ignored."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _lines(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        lines = self.path.read_bytes().split(b"\n")
        out = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                # a row cut short by a killed write (the next append started a fresh line)
                if line.startswith(_ROW_START) or _ROW_START.startswith(line):
                    continue
                raise DataError(
                    f"line {number} is not JSON (is this a synth journal?)", where=str(self.path)
                ) from None
        return out

    def _append(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rows)
        with self._lock, self.path.open("ab") as handle:
            # after a torn last line, start on a fresh line: joined to it, this row would be lost
            if handle.tell() > 0 and not self._ends_with_newline():
                payload = "\n" + payload
            handle.write(payload.encode("utf-8"))
            handle.flush()

    def _ends_with_newline(self) -> bool:
        with self.path.open("rb") as raw:
            raw.seek(-1, os.SEEK_END)
            return raw.read(1) == b"\n"

    def load_attempts(self, run_key: str) -> list[Attempt]:
        latest: dict[str, Attempt] = {}
        for row in self._lines():
            if row.get("type") == "attempt" and row["data"].get("run_key") == run_key:
                attempt = Attempt.model_validate(row["data"])
                latest[attempt.key] = attempt
        return list(latest.values())

    def load_kept(self, run_key: str) -> list[Query]:
        return [q for q in self.load_queries() if q.provenance.get("run_key") == run_key]

    def load_queries(self) -> list[Query]:
        seen: dict[str, Query] = {}
        for row in self._lines():
            if row.get("type") == "query":
                query = Query.model_validate(row["data"])
                seen.setdefault(query.id, query)
        return list(seen.values())

    def save(self, attempts: list[Attempt], kept: list[Query]) -> None:
        rows = [{"type": "query", "data": q.model_dump(mode="json")} for q in kept]
        rows += [{"type": "attempt", "data": a.model_dump(mode="json")} for a in attempts]
        self._append(rows)

    def load_seed_nodes(self, run_key: str) -> dict[str, list[str]]:
        nodes: dict[str, list[str]] = {}
        for row in self._lines():
            if row.get("type") == "seed_nodes" and row.get("run_key") == run_key:
                nodes.update(row["data"])
        return nodes

    def save_seed_nodes(self, run_key: str, nodes: dict[str, list[str]]) -> None:
        self._append([{"type": "seed_nodes", "run_key": run_key, "data": nodes}])
