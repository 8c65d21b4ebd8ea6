"""Cheap text primitives the simulated models read and write with.

A deterministic tokenizer approximation (roughly BPE-sized pieces that concatenate back to the
text), content-term extraction, and a stable seed from any request content. Everything here is
on the simulator's hot path, so regexes are compiled once and nothing imports heavy modules.
"""

from __future__ import annotations

import hashlib
import random
import re
from functools import lru_cache

# Pieces of at most 8 letters or 3 digits, a leading space attached to the piece after it (as
# BPE vocabularies do); every character of the text belongs to exactly one piece.
_TOKEN_RE = re.compile(r" ?[^\W\d_]{1,8}| ?\d{1,3}| ?[^\w\s]|\s+(?=\s)|\s+|.", re.DOTALL)
_WORD_RE = re.compile(r"[^\W\d_][\w'-]*[^\W_]|[^\W\d_]")
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and answer any anything are as at based
    be because been before being below best better between both but by can could create
    describe did do does doing down during each either etc even ever every everything
    explain few find following for from further get give given good had has have having he
    help her here hers herself him himself his how i if in include including into is it its
    itself just keep let like make many may me might more most much must my myself need
    neither new no nor not now of off on once one only or other our ours ourselves out over
    own per please provide question really response same shall she should show so some
    someone something such sure take tell than that the their theirs them themselves then
    there these they thing things this those through to too two under until up use used
    using very via want was way we well were what when where whether which while who whom
    why will with within without would write yes you your yours yourself yourselves""".split()  # noqa: SIM905 (kept compact)
)


# Words that say what to do rather than what about: an answer takes up the topic, not these.
INSTRUCTION_WORDS = frozenset(
    """act brief briefly build calculate come compose compute concise consider could craft
    create design detail detailed determine develop discuss draft generate greet identify
    imagine implement list outline paragraph paragraphs prepare pretend produce recommend
    rewrite sentences short should solve step steps suggest summarise summarize words would""".split()  # noqa: SIM905 (kept compact)
)


def tokenize(text: str) -> list[str]:
    """Approximate LLM tokens; ``"".join(tokenize(t)) == t``."""
    return _TOKEN_RE.findall(text)


def count_tokens(text: str) -> int:
    return len(_TOKEN_RE.findall(text))


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def stem(word: str) -> str:
    """A crude suffix stripper so that "sorting"/"sorted"/"sorts" meet (good enough to read)."""
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


@lru_cache(maxsize=4096)
def content_terms(text: str, limit: int | None = None) -> tuple[str, ...]:
    """Distinct content words of a text (no stopwords, ≥ 3 letters), in order of appearance."""
    seen: dict[str, None] = {}
    for word in _WORD_RE.findall(text.lower()):
        if len(word) < 3 or word in STOPWORDS:
            continue
        seen.setdefault(word, None)
        if limit is not None and len(seen) >= limit:
            break
    return tuple(seen)


@lru_cache(maxsize=4096)
def key_terms(text: str, limit: int = 12) -> tuple[str, ...]:
    """The topic terms of a query: content terms that are not instructions."""
    return tuple(t for t in content_terms(text) if t not in INSTRUCTION_WORDS)[:limit]


_PHRASE_SPLIT = re.compile(r"[^\w'\s-]+|\n")


@lru_cache(maxsize=4096)
def key_phrases(text: str, limit: int = 8) -> tuple[str, ...]:
    """Topic phrases of a query: runs of up to three consecutive content words ("autumn
    leaves", "Roman Empire", "sorted lists"), in order, distinct, original case kept except
    for a capital that only starts a sentence."""
    seen: dict[str, None] = {}
    for chunk in _PHRASE_SPLIT.split(text):
        run: list[str] = []
        words_in = chunk.split()
        for i, raw in enumerate(words_in + [""]):
            word = raw.strip("'-")
            low = word.lower()
            content = word and len(low) >= 3 and low.isalpha()
            content = content and low not in STOPWORDS and low not in INSTRUCTION_WORDS
            # a participle ends a noun phrase ("essay arguing", "leaves falling")
            participle = content and run and len(low) > 5 and low.endswith("ing")
            if content and not participle:
                run.append(low if i == 0 and word[:1].isupper() and word[1:].islower() else word)
                continue
            for phrase in ([" ".join(run[-3:])] if run else []) + ([low] if participle else []):
                if phrase.lower() not in {p.lower() for p in seen}:
                    seen[phrase] = None
            run = []
    return tuple(seen)[:limit]


def stems(text: str) -> frozenset[str]:
    return frozenset(stem(w) for w in content_terms(text))


def numbers(text: str) -> list[str]:
    return _NUMBER_RE.findall(text)


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from any parts, identical across processes (unlike ``hash``)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(stable_seed(*parts))
