"""A small, honest "reading" language model for simulated log-probabilities.

p(token | context) is a mixture of three distributions a reader actually has:
- a bigram copy model: after ``x``, the tokens that followed ``x`` earlier in this context;
- a unigram copy model: tokens seen earlier in this context are likely again;
- a prior: common English words, punctuation and whitespace are likely, long rare words not.
So a response that covers a query's terms makes the query that follows it more probable, which
is exactly what time-reversed scoring (TRLM, S(query | response)) measures. Deterministic.
"""

from __future__ import annotations

import heapq
import math
from functools import lru_cache

from judgebench.llm.types import TokenLogprob
from judgebench.sim.text import tokenize

W_BIGRAM, W_COPY, W_PRIOR = 0.25, 0.35, 0.40

# Approximate relative frequencies of very common English words (per token), for the prior.
_COMMON = {
    w: f
    for w, f in zip(
        [
            "the",
            "of",
            "and",
            "to",
            "a",
            "in",
            "is",
            "that",
            "for",
            "it",
            "as",
            "with",
            "was",
            "on",
            "be",
            "by",
            "this",
            "are",
            "or",
            "at",
            "from",
            "an",
            "which",
            "not",
            "you",
            "have",
            "but",
            "can",
            "i",
            "we",
            "they",
            "he",
            "his",
            "her",
            "their",
            "its",
            "will",
            "one",
            "all",
            "would",
            "there",
            "what",
            "so",
            "if",
            "about",
            "more",
            "when",
            "how",
            "who",
            "do",
            "no",
            "your",
            "into",
            "has",
            "than",
            "them",
            "some",
            "could",
            "may",
            "these",
            "other",
            "only",
            "also",
        ],
        [
            0.05,
            0.03,
            0.028,
            0.026,
            0.022,
            0.019,
            0.012,
            0.011,
            0.009,
            0.009,
            0.008,
            0.007,
            0.007,
            0.006,
            0.006,
            0.006,
            0.006,
            0.005,
            0.005,
            0.005,
            0.005,
            0.004,
            0.004,
            0.004,
            0.004,
            0.004,
        ]
        + [0.003] * 60,
        strict=False,
    )
}


def _key(token: str) -> str:
    return token.strip().lower() or token


@lru_cache(maxsize=65536)
def prior(key: str) -> float:
    if key in _COMMON:
        return _COMMON[key]
    if not key.strip():
        return 0.03  # whitespace / newlines
    if not key[0].isalnum():
        return 0.02  # punctuation
    if key[0].isdigit():
        return 2e-4
    # rarer the longer: ~1e-4 for a 4-letter piece, ~1e-6 for a long one
    return max(1e-6, 1e-3 * math.exp(-0.55 * len(key)))


_FIELDS_SET = frozenset({"token", "logprob", "top_logprobs"})


def _token_logprob(token: str, logprob: float | None, top: dict[str, float]) -> TokenLogprob:
    """A TokenLogprob built without validation (this loop makes hundreds per call; the values
    are built right here). Same result as ``TokenLogprob.model_construct``, ~4x faster."""
    obj = object.__new__(TokenLogprob)
    object.__setattr__(obj, "__dict__", {"token": token, "logprob": logprob, "top_logprobs": top})
    object.__setattr__(obj, "__pydantic_fields_set__", set(_FIELDS_SET))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def score_tokens(tokens: list[str], start: int = 0, top_k: int = 0) -> list[TokenLogprob]:
    """Log-probabilities of ``tokens[start:]``, each conditioned on every token before it.

    The very first token of a text has no context and gets ``logprob=None`` (as the OpenAI
    completions API reports it). With ``top_k > 1`` each position also lists the most likely
    alternatives among the context's most frequent tokens (refreshed every few tokens, which
    keeps this linear in the text length)."""
    counts: dict[str, int] = {}
    follows: dict[str, dict[str, int]] = {}
    totals: dict[str, int] = {}  # how often each token had a successor
    out: list[TokenLogprob] = []
    candidates: list[str] = []
    prev: str | None = None
    log = math.log
    for i, token in enumerate(tokens):
        key = _key(token)
        if i >= start:
            if i == 0:
                out.append(_token_logprob(token, None, {}))
            else:
                lp = log(_prob(key, prev, counts, follows, totals, i))
                top = {token: lp}
                if top_k > 1:
                    if not candidates or i % 32 == 0:
                        candidates = heapq.nlargest(top_k + 1, counts, key=counts.__getitem__)
                    alts = sorted(
                        (
                            (log(_prob(alt, prev, counts, follows, totals, i)), alt)
                            for alt in candidates
                            if alt != key
                        ),
                        reverse=True,
                    )
                    for alt_lp, alt in alts[: top_k - 1]:
                        top[alt] = alt_lp
                out.append(_token_logprob(token, lp, top))
        counts[key] = counts.get(key, 0) + 1
        if prev is not None:
            nxt = follows.get(prev)
            if nxt is None:
                follows[prev] = {key: 1}
            else:
                nxt[key] = nxt.get(key, 0) + 1
            totals[prev] = totals.get(prev, 0) + 1
        prev = key
    return out


def _prob(
    key: str,
    prev: str | None,
    counts: dict[str, int],
    follows: dict[str, dict[str, int]],
    totals: dict[str, int],
    n: int,
) -> float:
    p_prior = prior(key)
    p_copy = counts.get(key, 0) / n if n else 0.0
    nxt = follows.get(prev) if prev is not None else None
    if nxt:
        p_bigram = nxt.get(key, 0) / totals[prev]  # type: ignore[index]
        return W_BIGRAM * p_bigram + W_COPY * p_copy + W_PRIOR * p_prior
    # no bigram evidence: its weight goes to the other two, keeping a proper mixture
    return (W_COPY + W_BIGRAM / 2) * p_copy + (W_PRIOR + W_BIGRAM / 2) * p_prior


def prompt_logprobs(text: str, top_k: int = 0) -> list[TokenLogprob]:
    return score_tokens(tokenize(text), 0, top_k)


def continuation_logprobs(context: str, continuation: str, top_k: int = 0) -> list[TokenLogprob]:
    """Log-probabilities of the tokens of ``continuation`` read after ``context``."""
    ctx = tokenize(context)
    return score_tokens(ctx + tokenize(continuation), len(ctx), top_k)
