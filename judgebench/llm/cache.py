"""The call cache: what is cached, under which key, and where.

The key is a hash of (model, kind, messages or prompt, generation parameters). Transport
settings (``api_key``, ``api_base``, ``timeout`` ...) are never part of it, and never stored.
A call with ``temperature > 0`` is cached only when it names a ``sample_index``: two samples
are two entries, and an unnamed sample is never served from (or written to) the cache.

:class:`CallCache` is the interface; :class:`MemoryCallCache` keeps entries in this process,
``judgebench.db.callcache.SQLCallCache`` in the SQL store (shared by processes).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from judgebench.records import content_key

# Parameters that change how a call is made, not what it asks: kept out of the key and the DB.
TRANSPORT_PARAMS = frozenset(
    {
        "api_key",
        "api_base",
        "api_version",
        "base_url",
        "timeout",
        "request_timeout",
        "max_retries",
        "num_retries",
        "extra_headers",
        "headers",
        "organization",
        "cache",
        "sample_index",
        "metadata",
    }
)


@dataclass
class CacheEntry:
    key: str
    model: str
    request: dict[str, Any]
    response: dict[str, Any]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float | None = None
    latency_s: float | None = None


@runtime_checkable
class CallCache(Protocol):
    """Where cached completions live. Implementations must be safe to share between processes
    if they claim persistence (insert-or-ignore: the first writer of a key wins)."""

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored ``response`` dicts of the keys that are present."""
        ...

    def put_many(self, entries: Sequence[CacheEntry]) -> int:
        """Store entries whose key is new; returns how many were new."""
        ...

    def record_hits(self, hits: Mapping[str, int]) -> None:
        """Add ``n`` to the hit counter of each key."""
        ...


@dataclass
class MemoryCallCache:
    """A process-local cache (the default when no store is given)."""

    entries: dict[str, CacheEntry] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def get_many(self, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {k: self.entries[k].response for k in keys if k in self.entries}

    def put_many(self, entries: Sequence[CacheEntry]) -> int:
        new = 0
        with self._lock:
            for entry in entries:
                if entry.key not in self.entries:
                    self.entries[entry.key] = entry
                    new += 1
        return new

    def record_hits(self, hits: Mapping[str, int]) -> None:
        with self._lock:
            for key, n in hits.items():
                self.hits[key] = self.hits.get(key, 0) + n


def generation_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters that shape the reply (what the key and the stored request hold): no
    transport settings and nothing named like a credential (``aws_secret_access_key``, ...)."""
    from judgebench.llm.secrets import is_credential_name

    return {
        k: v
        for k, v in params.items()
        if k not in TRANSPORT_PARAMS and v is not None and not is_credential_name(k)
    }


def is_cacheable(params: Mapping[str, Any], sample_index: int | None) -> bool:
    """Greedy calls (temperature absent or 0) always; sampled calls only with a sample index."""
    temperature = params.get("temperature")
    if temperature is None or float(temperature) == 0.0:
        return True
    return sample_index is not None


def cache_key(
    model: str,
    kind: str,
    messages: Sequence[Mapping[str, Any]] | None,
    prompt: str | None,
    params: Mapping[str, Any],
    sample_index: int | None = None,
) -> str:
    return content_key(
        "llm-call/v1",
        model,
        kind,
        messages,
        prompt,
        generation_params(params),
        sample_index,
        length=64,
    )
