"""The decision log: every LLM decision a taxonomy build or assignment makes, as JSONL.

Each LLM attempt is one line (template name + hash, model, prompt hash, raw reply, parsed
decision or the reason it was rejected). The line that settles a question carries
``final: true``; a question is identified by ``key`` — a hash of the step, template hash, model
and the inputs that define it (candidate, siblings, ...). A rerun with the same log looks the key
up first and reuses the final decision, so a resumed build makes no repeated calls, whether or
not the gateway's call cache survived. Transport errors are logged but never final: a resume
asks again.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from judgebench.errors import DataError
from judgebench.records import utcnow


@dataclass
class Decision:
    """What one question ended as: ``ok`` with a parsed ``value``, or ``invalid``/``error``."""

    key: str
    step: str
    status: str  # ok | invalid | error
    value: Any = None
    reason: str | None = None
    replies: list[str] = field(default_factory=list)
    from_log: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


_ENTRY_START = '{"ts": "'  # every entry is written with its timestamp first (see append)


def _is_entry_prefix(line: str) -> bool:
    """Whether a non-JSON line can be an entry cut short by a killed write (not another file)."""
    return line.startswith(_ENTRY_START) or _ENTRY_START.startswith(line)


class DecisionLog:
    """Append-only JSONL log (or in memory when ``path`` is None) of LLM decisions."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else None
        self.entries: list[dict[str, Any]] = []
        self.torn_lines = 0
        self._final: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._handle: Any = None
        if self.path and self.path.exists():
            self._read()
            torn = False
            with self.path.open("rb") as raw:
                if raw.seek(0, os.SEEK_END) > 0:
                    raw.seek(-1, os.SEEK_END)
                    torn = raw.read(1) != b"\n"
            if torn:  # an interrupted write: end that line so the next entry starts cleanly
                with self.path.open("a", encoding="utf-8") as handle:
                    handle.write("\n")

    def _read(self) -> None:
        assert self.path is not None
        with self.path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    if not _is_entry_prefix(line.strip()):
                        raise DataError(
                            f"line {number} is not JSON (is this a decision log?)",
                            where=str(self.path),
                        ) from None
                    # a line cut short by an interrupted run: its question is simply asked again
                    self.torn_lines += 1
                    continue
                if not isinstance(entry, dict) or "key" not in entry or "step" not in entry:
                    raise DataError(f"line {number} is not a decision entry", where=str(self.path))
                self.entries.append(entry)
                if entry.get("final"):
                    self._final[entry["key"]] = entry

    def final(self, key: str) -> dict[str, Any] | None:
        return self._final.get(key)

    def append(self, entry: dict[str, Any]) -> None:
        entry = {"ts": utcnow().isoformat(), **entry}
        with self._lock:
            self.entries.append(entry)
            if entry.get("final"):
                self._final[entry["key"]] = entry
            if self.path is not None:
                if self._handle is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._handle = self.path.open("a", encoding="utf-8")
                # one line per write, flushed: a killed process loses at most the line in flight
                self._handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
                self._handle.flush()

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None

    def __del__(self) -> None:
        handle = getattr(self, "_handle", None)
        if handle is not None:
            handle.close()

    def finals(self, step: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self._final.values() if step is None or e.get("step") == step]

    def summary(self) -> dict[str, dict[str, int]]:
        """Counts of final decisions by step and status (for reports and the CLI)."""
        out: dict[str, dict[str, int]] = {}
        for entry in self._final.values():
            by_status = out.setdefault(entry["step"], {})
            by_status[entry["status"]] = by_status.get(entry["status"], 0) + 1
        return out
