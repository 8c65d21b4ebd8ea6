"""Seed queries: loading (JSONL, CSV, or records from the store) and sampling k per target leaf."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from judgebench.errors import DataError
from judgebench.records import Query

TEXT_FIELDS = ("text", "query", "prompt", "instruction", "question")
NODE_FIELDS = ("node_ids", "nodes", "node", "category", "path_id")
ID_FIELDS = ("id", "question_id", "uid", "prompt_id")
# chat-style rows (HF datasets, ShareGPT, OpenAI messages): a list of turns under one of these
TURN_FIELDS = ("turns", "messages", "conversations", "conversation")
USER_ROLES = ("user", "human")


def load_seed_file(path: str | Path) -> list[Query]:
    """Queries from a ``.jsonl``/``.json`` or ``.csv`` file.

    Each row needs a text (one of ``text``, ``query``, ``prompt``, ``instruction``, ``question``;
    or ``turns``, whose first entry is used); ``id`` and node ids (``node_ids`` as a list or a
    ``;``-separated string) are optional.
    """
    from judgebench.importers.base import iter_json_or_jsonl

    path = Path(path)
    if not path.is_file():
        raise DataError("seed file not found", where=str(path))
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json", ".ndjson"):
        rows = list(iter_json_or_jsonl(path))
    elif suffix in (".csv", ".tsv"):
        rows = list(_csv_rows(path, delimiter="\t" if suffix == ".tsv" else ","))
    else:
        raise DataError(
            f"unsupported seed file type {suffix!r} (use .jsonl or .csv)", where=str(path)
        )
    seeds = [_seed_from_row(row, f"{path}:{line}") for line, row in rows]
    if not seeds:
        raise DataError("no seed queries in the file", where=str(path))
    return seeds


def _csv_rows(path: Path, delimiter: str) -> Iterable[tuple[int, dict]]:
    from judgebench.importers.base import read_text

    reader = csv.DictReader(io.StringIO(read_text(path), newline=""), delimiter=delimiter)
    for row in reader:
        yield reader.line_num, row


def _seed_from_row(row: object, where: str) -> Query:
    if not isinstance(row, dict):
        raise DataError("each row must be an object with a text field", where=where)
    text = next(
        (row[f] for f in TEXT_FIELDS if isinstance(row.get(f), str) and row[f].strip()), None
    )
    chat: dict[str, Any] = {}
    if text is None:
        text, chat = _first_user_turn(row, where)
    if not text or not str(text).strip():
        raise DataError(
            f"row has no query text (expected one of {', '.join(TEXT_FIELDS)}, or a "
            f"non-empty first user turn in {', '.join(TURN_FIELDS)})",
            where=where,
        )
    nodes: list[str] = []
    for field in NODE_FIELDS:
        value = _json_list(row.get(field))
        if isinstance(value, list):
            nodes = [str(v).strip() for v in value if str(v).strip()]
        elif isinstance(value, str) and value.strip():
            nodes = [v.strip() for v in value.split(";") if v.strip()]
        if nodes:
            break
    query = Query(text=str(text).strip(), node_ids=nodes, source="seed")
    row_id = next((row[f] for f in ID_FIELDS if row.get(f) not in (None, "")), None)
    metadata = {**chat, **({"seed_file_id": str(row_id)} if row_id is not None else {})}
    if metadata:
        query = query.model_copy(update={"metadata": metadata})
    return query


def _json_list(value: object) -> object:
    """A CSV cell holding a JSON list (how ``judgebench export --format csv`` writes
    ``node_ids``) as that list; anything else unchanged."""
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, list) else value
    return value


def _turn_text(turn: object) -> str | None:
    """The text of one turn: a string, ``{"content"|"value"|"text": ...}``, or content parts."""
    if isinstance(turn, str):
        return turn
    if not isinstance(turn, dict):
        return None
    content = next((turn[k] for k in ("content", "value", "text") if k in turn), None)
    if isinstance(content, list):  # OpenAI content parts: keep the text ones
        content = "\n".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("text")
        )
    return content if isinstance(content, str) else None


def _first_user_turn(row: dict, where: str) -> tuple[str | None, dict[str, Any]]:
    """The first user turn of a chat-style row, and what a single-turn query leaves out of it
    (a system prompt, the number of user turns) as metadata, so the loss is on record.

    Only the first user turn is asked: a later turn depends on the model's own earlier answer.
    """
    lists: dict[str, list[Any]] = {  # in CSV, a JSON list in a cell
        f: v for f in TURN_FIELDS if isinstance(v := _json_list(row.get(f)), list) and v
    }
    field = next(iter(lists), None)
    if field is None:
        return None, {}
    turns = lists[field]
    roles = [
        str(t.get("role", t.get("from", ""))).lower() if isinstance(t, dict) else "" for t in turns
    ]
    user = [i for i, r in enumerate(roles) if r in USER_ROLES or r == ""]
    if not user:
        raise DataError(
            f"{field}: no user turn (roles: {', '.join(sorted(set(roles)))})", where=where
        )
    text = _turn_text(turns[user[0]])
    if text is None:
        raise DataError(
            f"{field}[{user[0]}]: a turn must be a string or hold its text under content, value or text",
            where=where,
        )
    chat: dict[str, Any] = {}
    system = [_turn_text(turns[i]) for i, r in enumerate(roles) if r == "system"]
    if system and system[0]:
        chat["system_prompt"] = system[0]
    if len(user) > 1:
        chat["user_turns"] = len(user)
    return text, chat


def restrict_to_taxonomy(
    seeds: Sequence[Query], taxonomy: Container[str]
) -> tuple[list[Query], set[str]]:
    """Drop node labels that are not node ids of ``taxonomy`` (e.g. a benchmark's own
    ``category`` column); seeds left without nodes get assigned. Returns the unknown labels."""
    unknown: set[str] = set()
    out = []
    for seed in seeds:
        keep = [n for n in seed.node_ids if n in taxonomy]
        unknown.update(n for n in seed.node_ids if n not in taxonomy)
        out.append(
            seed if len(keep) == len(seed.node_ids) else seed.model_copy(update={"node_ids": keep})
        )
    return out, unknown


@dataclass(frozen=True)
class SeedPick:
    seeds: list[Query]  # seeds[0] gives the target; the rest concrete details
    scope: str  # where seed 1 came from: leaf, ancestor:<path>, domain, any


class SeedPool:
    """Seeds indexed by node, for sampling k seeds for a target leaf.

    Seed 1 comes from the narrowest scope that has any: the leaf itself, its nearest ancestor's
    subtree, the leaf's domain, then any seed. Seeds 2..k come from the same domain when it has
    enough, else from everywhere.
    """

    def __init__(self, seeds: Sequence[Query]) -> None:
        if not seeds:
            raise DataError("synthesis needs at least one seed query")
        self.seeds = list(seeds)
        self._by_prefix: dict[str, list[int]] = {}
        for i, seed in enumerate(self.seeds):
            prefixes: set[str] = set()
            for node in seed.node_ids:
                parts = node.split("/")
                prefixes.update("/".join(parts[: d + 1]) for d in range(len(parts)))
            for prefix in prefixes:
                self._by_prefix.setdefault(prefix, []).append(i)

    def for_scope(self, path_id: str) -> list[int]:
        return self._by_prefix.get(path_id, [])

    def pick(self, leaf: str, k: int, rng: random.Random) -> SeedPick:
        parts = leaf.split("/")
        domain = parts[0]
        first_pool, scope = list(range(len(self.seeds))), "any"
        for depth in range(len(parts), 0, -1):
            prefix = "/".join(parts[:depth])
            pool = self.for_scope(prefix)
            if pool:
                first_pool = pool
                scope = (
                    "leaf"
                    if depth == len(parts)
                    else ("domain" if depth == 1 else f"ancestor:{prefix}")
                )
                break
        first = rng.choice(first_pool)
        detail_pool = [i for i in self.for_scope(domain) if i != first]
        if len(detail_pool) < k - 1:
            detail_pool = [i for i in range(len(self.seeds)) if i != first]
        details = rng.sample(detail_pool, min(k - 1, len(detail_pool)))
        return SeedPick([self.seeds[first], *(self.seeds[i] for i in details)], scope)
