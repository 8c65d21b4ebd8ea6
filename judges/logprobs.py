"""Backends that return log-probabilities of a target text given a context (for TRLM).

- :class:`HFCausalLM`: a local transformers causal LM (``hf:<path>``), CPU or GPU, batched;
  ``reversed_tokens=True`` for a TRLM-Ba checkpoint trained on reversed token order: the text
  target ⊕ context is tokenised and read backwards, i.e. Reverse(context) then Reverse(target)
  (arXiv 2412.02626 Alg. 2).
- :class:`CompletionsLogprobs`: an OpenAI-compatible ``/v1/completions`` endpoint through the
  gateway with ``echo=True, logprobs=1`` (the prompt's own token log-probabilities).

torch and transformers are imported lazily, only when a local model is loaded; this module
imports nothing heavy at all (benchmarks load it on machines with only torch installed).
"""

from __future__ import annotations

import asyncio
import inspect
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from judgebench.errors import ConfigError

# Conditioning phrases c joining the answer and the text scored after it (TRLM paper wording).
DEFAULT_PHRASE = "\n\nThe above answers the question: "
FORWARD_PHRASE = "\n\nAnswer: "
PASSAGE_PHRASE = "\n\nDocument has an answer to: "
CITATION_PHRASE = "\n\nThe text above supports the statement: "


@runtime_checkable
class LogprobBackend(Protocol):
    """``target_logprobs([(context, target), ...])`` → per pair, the log-probability of each
    target token given the context and the target tokens before it."""

    name: str

    async def target_logprobs(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]: ...


class HFCausalLM:
    """A local causal LM. ``device``: "auto" (CUDA when available), "cpu", "cuda", "cuda:1"…"""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        name: str = "hf:local",
        batch_size: int = 8,
        reversed_tokens: bool = False,
        device: str = "auto",
        packed: bool | None = None,
        max_tokens: int | None = None,
        compile: bool = False,
    ) -> None:
        import torch

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.model = model.to(device).eval()
        if not getattr(tokenizer, "is_fast", False):
            # the context/target split reads character offsets, which only fast tokenizers give
            raise ConfigError(f"{name}: TRLM scoring needs a fast (Rust) tokenizer")
        self.tokenizer = tokenizer
        self.name = name
        self.batch_size = max(1, batch_size)
        self.reversed_tokens = reversed_tokens
        config = getattr(model, "config", None)
        self.max_positions = (
            getattr(config, "n_positions", None)
            or getattr(config, "max_position_embeddings", None)
            or 1_000_000
        )
        self.pad_id = (
            tokenizer.pad_token_id
            if tokenizer.pad_token_id is not None
            else (tokenizer.eos_token_id or 0)
        )
        self.bos_id = tokenizer.bos_token_id
        self._keeps_logits = "logits_to_keep" in inspect.signature(model.forward).parameters
        on_gpu = device.startswith("cuda")
        # the packed path needs the model split into body and output head (see score_packed)
        self.packed = can_split(self.model) if packed is None else packed and can_split(model)
        self.packed = self.packed and (on_gpu or packed is True)
        self.max_tokens = max_tokens or (65536 if on_gpu else 4096)
        self.chunk_pairs = 4096  # tokenised on a thread while the device scores the chunk before
        self._body: Any = model.base_model if self.packed else None
        if compile and self._body is not None:
            self._body = torch.compile(self._body, dynamic=True)

    @classmethod
    def from_path(
        cls,
        path: str | Path,
        *,
        device: str = "auto",
        dtype: str | None = None,
        batch_size: int = 8,
        reversed_tokens: bool = False,
        packed: bool | None = None,
        compile: bool = False,
    ) -> HFCausalLM:
        """Load ``AutoModelForCausalLM`` + ``AutoTokenizer`` from a local folder (or hub id when
        the machine is online). ``dtype``: e.g. "bfloat16" on GPU."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        path = str(path)
        try:
            tokenizer = AutoTokenizer.from_pretrained(path)
            kwargs: dict[str, Any] = {}
            if dtype:
                kwargs["dtype"] = getattr(torch, dtype)
            model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load a causal LM from {path!r}: {exc}".splitlines()[0]
            ) from exc
        return cls(
            model,
            tokenizer,
            name=f"hf:{path}",
            batch_size=batch_size,
            reversed_tokens=reversed_tokens,
            device=device,
            packed=packed,
            compile=compile,
        )

    def _encode(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
        """Per pair, (context ids, target ids) ready to concatenate.

        Context and target are tokenised as ONE text and split at the character boundary (a
        token that carries any target character belongs to the target): tokenised apart, a
        context ending in a space (``"...question: "``) leaves a lone-space token before the
        query that the model never sees in running text. One batched tokenizer call for all
        pairs (a fast tokenizer encodes a list in parallel).

        ``reversed_tokens`` (TRLM-Ba, arXiv 2412.02626 Alg. 2: score
        Reverse(target) given Reverse(context)): the natural reading order is target ⊕ context
        (e.g. scoring prompt + query + conditioning prompt + answer); that text's token ids,
        reversed as a whole, are Reverse(context) followed by Reverse(target)."""
        if not pairs:
            return []
        texts = [t + c if self.reversed_tokens else c + t for c, t in pairs]
        encoded = self.tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
        out = []
        for (context, target), ids, offsets in zip(
            pairs, encoded["input_ids"], encoded["offset_mapping"], strict=True
        ):
            if self.reversed_tokens:
                # target text first: its tokens are the prefix that starts before len(target)
                split = bisect_left(offsets, len(target), key=itemgetter(0))
                ctx, tgt = ids[split:][::-1], ids[:split][::-1]
            else:
                split = bisect_right(offsets, len(context), key=itemgetter(1))
                ctx, tgt = ids[:split], ids[split:]
            out.append(self._fit(ctx, tgt))
        return out

    def _fit(self, ctx: list[int], tgt: list[int]) -> tuple[list[int], list[int]]:
        if not tgt:
            raise ValueError("target text has no tokens")
        bos = [] if self.bos_id is None else [self.bos_id]
        if not ctx and not bos:
            raise ValueError("empty context and no BOS token to condition on")
        # keep the target and BOS whole; cut the context from the left if it does not fit
        room = self.max_positions - len(tgt) - len(bos)
        if room < 0 or not (room or bos):
            raise ValueError(
                f"target of {len(tgt)} tokens does not fit the model's {self.max_positions} positions"
            )
        return bos + ctx[max(0, len(ctx) - room) :], tgt

    def score_pairs(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        """Synchronous: :meth:`score_packed` when the model allows it (on a GPU by default),
        else :meth:`score_simple`. Both give the same values (tests/judges/test_trlm.py)."""
        return self.score_packed(pairs) if self.packed else self.score_simple(pairs)

    def score_simple(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        """The reference path. Batches group similar lengths; sequences are left-padded (with
        explicit position ids) so every target ends at the last position, and the model only
        computes the logits of the last ``max target + 1`` positions: the full (batch × length ×
        vocabulary) logits tensor, gigabytes for a 50k vocabulary, is never built."""
        import torch

        encoded = self._encode(pairs)
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i][0]) + len(encoded[i][1]))
        out: list[list[float]] = [[] for _ in encoded]
        with torch.inference_mode():
            for start in range(0, len(order), self.batch_size):
                batch = order[start : start + self.batch_size]
                seqs = [encoded[i][0] + encoded[i][1] for i in batch]
                width = max(len(s) for s in seqs)
                ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(seqs), width), dtype=torch.long)
                for row, seq in enumerate(seqs):
                    ids[row, width - len(seq) :] = torch.tensor(seq)
                    mask[row, width - len(seq) :] = 1
                positions = (mask.cumsum(-1) - 1).clamp(min=0)
                keep = max(len(encoded[i][1]) for i in batch) + 1
                kwargs = {"logits_to_keep": keep} if self._keeps_logits else {}
                logits = self.model(
                    input_ids=ids.to(self.device),
                    attention_mask=mask.to(self.device),
                    position_ids=positions.to(self.device),
                    **kwargs,
                ).logits[:, -keep:, :]
                # row r, target token j sits at kept index keep - len(tgt) - 1 + j
                rows: list[int] = []
                cols: list[int] = []
                tokens: list[int] = []
                for row, i in enumerate(batch):
                    tgt = encoded[i][1]
                    rows += [row] * len(tgt)
                    cols += range(keep - len(tgt) - 1, keep - 1)
                    tokens += tgt
                dev = logits.device
                picked = logits[
                    torch.tensor(rows, device=dev), torch.tensor(cols, device=dev)
                ].float()
                logp = torch.log_softmax(picked, dim=-1)
                values = logp[
                    torch.arange(len(tokens), device=dev), torch.tensor(tokens, device=dev)
                ].tolist()
                offset = 0
                for i in batch:
                    n = len(encoded[i][1])
                    out[i] = values[offset : offset + n]
                    offset += n
        return out

    def score_packed(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        """The fast path. Pairs are tokenised in chunks on a thread while the device scores the
        chunk before; a chunk's sequences are sorted by length and cut into batches under a
        token budget, right-padded to a multiple of 64 WITHOUT an attention mask (causal: pads
        after a sequence never reach its tokens; no mask lets SDPA take its fused causal
        kernel). The model body runs alone; only the hidden states just before target tokens
        go through the output head and the log-softmax (no vocabulary-wide logits for the
        context), and the values stay on the device until one copy at the end."""
        import torch

        size = self.chunk_pairs
        chunks = [list(pairs[i : i + size]) for i in range(0, len(pairs), size)]
        pieces: list[tuple[Any, list[tuple[int, int]]]] = []
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trlm-tokenize") as pool:
            pending = pool.submit(self._encode, chunks[0]) if chunks else None
            for k in range(len(chunks)):
                assert pending is not None
                encoded = pending.result()
                if k + 1 < len(chunks):
                    pending = pool.submit(self._encode, chunks[k + 1])
                pieces.extend(self._score_chunk(encoded, k * size))
        if not pieces:
            return []
        values = torch.cat([v for v, _ in pieces]).tolist()  # the one device-to-host copy
        out: list[list[float]] = [[] for _ in pairs]
        offset = 0
        for index, n in (row for _, rows in pieces for row in rows):
            out[index] = values[offset : offset + n]
            offset += n
        return out

    def _score_chunk(
        self, encoded: list[tuple[list[int], list[int]]], first: int
    ) -> list[tuple[Any, list[tuple[int, int]]]]:
        """Per batch: (target log-probs on the device, [(pair index, target count)] in order)."""
        import numpy as np
        import torch

        from judgebench.probes.encoder import plan_batches

        lengths = [len(c) + len(t) for c, t in encoded]
        plans = plan_batches(lengths, max_tokens=self.max_tokens, max_batch=4096, pad_to=64)
        head = self.model.get_output_embeddings()
        results = []
        with torch.inference_mode():
            for positions, width in plans:
                ids = np.full((len(positions), width), self.pad_id, dtype=np.int64)
                rows: list[tuple[int, int]] = []
                targets: list[int] = []
                gather: list[int] = []
                for row, i in enumerate(positions.tolist()):
                    ctx, tgt = encoded[i]
                    n = len(ctx) + len(tgt)
                    ids[row, : len(ctx)] = ctx
                    ids[row, len(ctx) : n] = tgt
                    # the state at position p predicts token p + 1
                    gather.extend(range(row * width + len(ctx) - 1, row * width + n - 1))
                    targets.extend(tgt)
                    rows.append((first + i, len(tgt)))
                hidden = self._body(input_ids=self._to_device(ids), use_cache=False)[0]
                picked = hidden.reshape(-1, hidden.shape[-1]).index_select(
                    0, self._to_device(np.asarray(gather, dtype=np.int64))
                )
                wanted = self._to_device(np.asarray(targets, dtype=np.int64))
                results.append((self._head_logprobs(head, picked, wanted), rows))
        return results

    def _head_logprobs(self, head: Any, states: Any, tokens: Any) -> Any:
        """log p(token) for each state through the output head, 8192 rows at a time (bounds
        the rows × vocabulary float32 logits)."""
        import torch

        parts = []
        for start in range(0, states.shape[0], 8192):
            logits = head(states[start : start + 8192]).float()
            chosen = logits.gather(1, tokens[start : start + 8192, None])[:, 0]
            parts.append(chosen - torch.logsumexp(logits, dim=-1))
        return torch.cat(parts)

    def _to_device(self, array: Any) -> Any:
        import torch

        tensor = torch.from_numpy(array)
        if self.device.startswith("cuda"):
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor

    async def target_logprobs(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        return await asyncio.to_thread(self.score_pairs, pairs)


def can_split(model: Any) -> bool:
    """Whether logits = output head(body's last hidden state) exactly: a transformers causal
    LM whose body is a separate module and with no logit scaling or soft-capping after the
    head (those models take the simple path)."""
    config = getattr(model, "config", None)
    if config is None or not hasattr(model, "get_output_embeddings"):
        return False
    if any(getattr(config, k, None) for k in ("final_logit_softcapping", "logit_scale")):
        return False
    body = getattr(model, "base_model", model)
    return body is not model and model.get_output_embeddings() is not None


class CompletionsLogprobs:
    """Prompt log-probabilities from an OpenAI-compatible completions endpoint (echo + logprobs)
    through the gateway; ``model`` is any gateway model name (``sim/…``, an ``api_base`` model)."""

    def __init__(self, model: str, *, concurrency: int = 16) -> None:
        self.name = model
        self.concurrency = concurrency

    async def _one(self, context: str, target: str) -> list[float]:
        from judgebench.llm import get_gateway
        from judgebench.llm.types import BadResponseError

        prompt = context + target
        completion = await get_gateway().complete_text(
            self.name, prompt, echo=True, logprobs=1, max_tokens=1, temperature=0.0
        )
        tokens = completion.prompt_logprobs or completion.logprobs or []
        if not tokens:
            raise BadResponseError(
                f"{self.name} returned no prompt log-probabilities (does it support echo + logprobs?)"
            )
        values: list[float] = []
        offset = 0
        for tok in tokens:
            start, offset = offset, offset + len(tok.token)
            if start >= len(prompt):
                break  # generated tokens after the echoed prompt
            if offset > len(context):  # the token carries target text
                if tok.logprob is None:
                    raise BadResponseError(
                        f"{self.name} gave no log-probability for target token {tok.token!r}"
                    )
                values.append(tok.logprob)
        if offset < len(prompt) or not values:
            raise BadResponseError(
                f"{self.name}: echoed tokens cover {offset} of {len(prompt)} prompt characters"
            )
        return values

    async def target_logprobs(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        from judgebench.llm import gather_limited

        return await gather_limited(
            [partial(self._one, c, t) for c, t in pairs], limit=self.concurrency
        )


def resolve_backend(spec: str | LogprobBackend, **options: Any) -> LogprobBackend:
    """``hf:<path>`` → :class:`HFCausalLM`; any other model name → :class:`CompletionsLogprobs`."""
    if not isinstance(spec, str):
        return spec
    if spec.startswith("hf:"):
        return HFCausalLM.from_path(spec[3:], **options)
    return CompletionsLogprobs(spec, **{k: v for k, v in options.items() if k == "concurrency"})
