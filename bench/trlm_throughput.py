"""TRLM throughput: candidates scored per second, S(query | response), with a local causal LM.

The model is a GPT-2-shaped causal LM with random weights built on the spot (default: GPT-2
small's 12 layers × 768, 92 M parameters with the 8k-token vocabulary; nothing is downloaded) and
a byte-level BPE tokenizer trained on the candidate texts; random weights cost exactly what
trained ones do. Measured figures: docs/judges.md (TRLM). Candidates are real
(query, response) pairs from AlpacaEval (../shared/data; built-in texts when absent), each
scored through ``judgebench.judges.HFCausalLM`` exactly as ``TRLMScorer("hf:<path>")`` does:
response ⊕ conditioning phrase as context, the query as target, batched with padding.

CPU (default): the simple path at batch 1 (the baseline taken in the same run), 8 and 32, and
the packed path; medians over ``--rounds`` (the machines are shared and noisy).

``--gpu``: for the GPT-2 shape and a 1B-parameter Llama shape (Llama-3.2-1B's layers, random
bf16 weights, 128k vocabulary), a naive Hugging Face loop (batch 8 in corpus order, padded with
an attention mask, full logits and a full-vocabulary log-softmax) against the simple path and
the packed path (``HFCausalLM.score_packed``), with achieved TFLOP/s of useful work (real
tokens only: body 2 × parameters per token + causal attention + the head at target tokens)
against the card's ~790 TFLOP/s bf16 peak, and the packed scores' largest difference from the
naive loop's.

    python bench/trlm_throughput.py                       # CPU, GPT-2 small
    python3 bench/trlm_throughput.py --gpu --candidates-file .device/trlm_cands.json [--compile]

Ends with ``cpu_candidates_per_s`` (at batch 32) or, with ``--gpu``, ``gpu_candidates_per_s``,
``tflops`` and ``peak_fraction`` of the 1B shape, see ../shared/docs/BENCH.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("JUDGEBENCH_SHARED_DATA", REPO.parent / "shared" / "data"))
if not SHARED.is_dir() and (REPO / "shared" / "data").is_dir():  # device machines carry shared/
    SHARED = REPO / "shared" / "data"

PEAK_TFLOPS = 790.0  # bf16 dense, measured on an H200 of this workplace (KINDS.md)
SIZES = {
    "small": dict(n_layer=12, n_embd=768, n_head=12),  # GPT-2 small, 124 M
    "tiny": dict(n_layer=2, n_embd=64, n_head=2),
}


def import_logprobs():
    """``judgebench.judges.logprobs``; on a machine without judgebench's dependencies (device
    machines have torch and transformers only) the module file is loaded on its own."""
    try:
        import judgebench.judges.logprobs as logprobs
    except ModuleNotFoundError:
        import importlib.util

        spec = importlib.util.spec_from_file_location(
            "trlm_logprobs", REPO / "judges" / "logprobs.py"
        )
        logprobs = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(logprobs)
    return logprobs


def load_candidates(n: int, path: str | None = None) -> tuple[list[tuple[str, str]], str]:
    if path:  # a saved candidate set (e.g. carried to a device machine without shared data)
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
        return [tuple(p) for p in saved["pairs"][:n]], saved["source"]
    folder = SHARED / "alpaca_eval" / "model_outputs"
    files = sorted(folder.glob("*.json.gz")) if folder.is_dir() else []
    if files:
        pairs = []
        used = []
        for file in files:
            with gzip.open(file, "rt", encoding="utf-8") as fh:
                pairs += [(r["output"], r["instruction"]) for r in json.load(fh) if r.get("output")]
            used.append(file.name)
            if len(pairs) >= n:
                break
        return pairs[:n], f"AlpacaEval outputs ({', '.join(used)})"
    base = [
        ("Paris is the capital and largest city of France.", "What is the capital of France?"),
        (
            "Photosynthesis converts light into chemical energy in chloroplasts.",
            "How do plants make food?",
        ),
    ]
    return (base * (n // 2 + 1))[:n], "built-in texts (shared data absent)"


def build_model(size: str, texts: list[str], max_positions: int):
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=8000,
        special_tokens=["<|endoftext|>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<unk>",
    )
    torch.manual_seed(0)
    config = GPT2Config(
        vocab_size=len(fast),
        n_positions=max_positions,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        **SIZES[size],
    )
    return GPT2LMHeadModel(config).eval(), fast


def timed(fn, rounds: int, cuda: bool) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of ``rounds`` calls (after the caller's warm-up)."""
    import torch

    times = []
    for _ in range(rounds):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cpu_bench(args: argparse.Namespace, logprobs, raw, source) -> None:  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    pairs = [(resp + logprobs.DEFAULT_PHRASE, query) for resp, query in raw]
    model, tok = build_model(args.size, [t for p in raw for t in p], args.max_positions)
    params = sum(p.numel() for p in model.parameters()) / 1e6
    lengths = [len(tok(c + t)["input_ids"]) for c, t in pairs]
    print(
        f"TRLM throughput: GPT-2-shaped causal LM, {params:.0f} M parameters (random weights), "
        f"CPU ({torch.get_num_threads()} threads)"
    )
    print(
        f"candidates: {len(pairs)} from {source}; tokens per candidate median "
        f"{statistics.median(lengths):.0f}, max {max(lengths)} (cut at {args.max_positions})"
    )
    results: dict[str, float] = {}
    for batch in args.batches:
        scorer = logprobs.HFCausalLM(model, tok, batch_size=batch, device="cpu", packed=False)
        scorer.score_pairs(pairs[: max(2, batch)])  # warm-up
        seconds = timed(lambda s=scorer: s.score_pairs(pairs), args.rounds, False)
        results[f"batch {batch}"] = len(pairs) / seconds
    packed = logprobs.HFCausalLM(model, tok, device="cpu", packed=True)
    packed.score_pairs(pairs[:2])
    results["packed"] = len(pairs) / timed(lambda: packed.score_pairs(pairs), args.rounds, False)
    base = results[f"batch {args.batches[0]}"]
    for label, rate in results.items():
        print(
            f"{label:>10}: {rate:8.1f} candidates/s  ({rate / base:.2f}x batch {args.batches[0]})"
        )
    headline = results.get("batch 32", max(results.values()))
    print(f"cpu_candidates_per_s: {headline:.1f}")
    print(f"cpu_packed_candidates_per_s: {results['packed']:.1f}")


def useful_flops(model, encoded) -> float:  # type: ignore[no-untyped-def]
    """FLOPs a perfect scorer must spend: 2 × body weight parameters per real token (embeddings
    are look-ups), causal attention (QKᵀ and AV over the causal half) and the output head at
    the target tokens only. Padding and vocabulary-wide logits are waste, not counted."""
    config = model.config
    body = model.base_model
    embeddings = {
        id(p) for m in body.modules() if "Embedding" in type(m).__name__ for p in m.parameters()
    }
    weights = sum(p.numel() for p in body.parameters() if id(p) not in embeddings and p.dim() == 2)
    d = config.hidden_size
    layers = config.num_hidden_layers
    head = 2 * d * model.get_output_embeddings().weight.shape[0]
    total = 0.0
    for ctx, tgt in encoded:
        n = len(ctx) + len(tgt)
        total += 2 * weights * n + 2 * 2 * d * layers * n * (n + 1) / 2 + head * len(tgt)
    return total


def naive_hf_loop(model, scorer, pairs, batch: int = 8) -> list[list[float]]:  # type: ignore[no-untyped-def]
    """What a first version does: corpus order, fixed batches, tokenise per batch, right-pad
    with an attention mask, full logits, float32 log-softmax over the whole vocabulary."""
    import torch

    out: list[list[float]] = []
    with torch.inference_mode():
        for start in range(0, len(pairs), batch):
            encoded = scorer._encode(pairs[start : start + batch])
            width = max(len(c) + len(t) for c, t in encoded)
            ids = torch.full((len(encoded), width), scorer.pad_id, dtype=torch.long)
            mask = torch.zeros((len(encoded), width), dtype=torch.long)
            for row, (c, t) in enumerate(encoded):
                ids[row, : len(c) + len(t)] = torch.tensor(c + t)
                mask[row, : len(c) + len(t)] = 1
            dev = scorer.device
            logits = model(input_ids=ids.to(dev), attention_mask=mask.to(dev)).logits
            logp = torch.log_softmax(logits.float(), dim=-1)
            for row, (c, t) in enumerate(encoded):
                picked = logp[row, len(c) - 1 : len(c) + len(t) - 1]
                out.append(picked.gather(1, torch.tensor(t, device=dev)[:, None])[:, 0].tolist())
    return out


def gpu_shape(args, logprobs, label, model, tok, pairs) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Naive loop, simple path and packed path(s) on one model shape; returns the figures."""

    params = sum(p.numel() for p in model.parameters()) / 1e9
    device = str(next(model.parameters()).device)
    cuda = device.startswith("cuda")
    probe = logprobs.HFCausalLM(model, tok, device=device, packed=False, batch_size=32)
    probe.max_positions = args.max_positions
    encoded = probe._encode(pairs)
    flops = useful_flops(model, encoded)
    tokens = sum(len(c) + len(t) for c, t in encoded)
    lengths = sorted(len(c) + len(t) for c, t in encoded)
    print(
        f"\n{label}: {params:.2f} B parameters (random, {next(model.parameters()).dtype}), {len(pairs)} candidates, "
        f"{tokens:,} tokens (median {lengths[len(lengths) // 2]}, cut at {args.max_positions}), "
        f"{flops / 1e12:.1f} TFLOP of useful work per pass"
    )
    rows: list[tuple[str, float]] = []
    naive = naive_hf_loop(model, probe, pairs[:16])  # warm-up
    naive_s = timed(lambda: naive_hf_loop(model, probe, pairs), args.rounds, cuda)
    rows.append(("naive HF loop (batch 8, mask, full logits)", naive_s))
    naive = naive_hf_loop(model, probe, pairs[:256])
    probe.score_pairs(pairs[:64])
    rows.append(
        (
            "simple path (batch 32, left pad)",
            timed(lambda: probe.score_pairs(pairs), args.rounds, cuda),
        )
    )
    variants = [(budget, False) for budget in (32768, 65536)]
    variants += [(65536, True)] if args.compile else []
    agreement = 0.0
    for budget, compiled in variants:
        fast = logprobs.HFCausalLM(
            model, tok, device=device, packed=True, max_tokens=budget, compile=compiled
        )
        fast.max_positions = args.max_positions
        started = time.perf_counter()
        try:
            got = fast.score_pairs(pairs[:256])  # warm-up (and compile)
        except Exception as exc:  # noqa: BLE001  (torch.compile is an experiment: report, go on)
            print(f"  torch.compile failed: {str(exc).splitlines()[0][:200]}")
            continue
        if compiled:
            print(f"  torch.compile: first pass {time.perf_counter() - started:.0f} s")
        agreement = max(
            abs(a - b) for g, n in zip(got, naive, strict=True) for a, b in zip(g, n, strict=True)
        )
        name = f"packed, {budget} tokens/batch" + (", torch.compile" if compiled else "")
        rows.append((name, timed(lambda f=fast: f.score_pairs(pairs), args.rounds, cuda)))
    print(f"  {'variant':<44} {'cand/s':>8} {'tokens/s':>10} {'TFLOP/s':>8} {'of peak':>8}")
    for name, seconds in rows:
        achieved = flops / seconds / 1e12
        print(
            f"  {name:<44} {len(pairs) / seconds:>8,.0f} {tokens / seconds:>10,.0f} "
            f"{achieved:>8.1f} {achieved / PEAK_TFLOPS:>8.1%}"
        )
    best = min(seconds for name, seconds in rows if name.startswith("packed"))
    print(
        f"  packed vs naive: {naive_s / best:.2f}x; largest |packed - naive| log-prob on 256 "
        f"candidates (bf16): {agreement:.3f}"
    )
    return {
        "rate": len(pairs) / best,
        "tflops": flops / best / 1e12,
        "naive_rate": len(pairs) / naive_s,
        "naive_tflops": flops / naive_s / 1e12,
        "agreement": agreement,
    }


def gpu_bench(args: argparse.Namespace, logprobs, raw, source) -> None:  # type: ignore[no-untyped-def]
    import torch

    from bench.language_ranker import llama_1b

    pairs = [(resp + logprobs.DEFAULT_PHRASE, query) for resp, query in raw]
    smoke = not torch.cuda.is_available()  # a CPU smoke run of the same code, tiny shapes
    card = (
        "CPU smoke run (tiny shapes, not a measurement)" if smoke else torch.cuda.get_device_name(0)
    )
    device, dtype = ("cpu", torch.float32) if smoke else ("cuda", torch.bfloat16)
    print(f"device: {card}; torch {torch.__version__}; candidates from {source}")
    texts = [t for p in raw for t in p]
    gpt2, tok = build_model("tiny" if smoke else "small", texts, args.max_positions)
    gpt2 = gpt2.to(device, dtype)
    # a query longer than half the window leaves no room for the answer: not a TRLM candidate
    fits = [len(q) <= args.max_positions // 2 for q in tok([q for _, q in pairs])["input_ids"]]
    pairs = [p for p, ok in zip(pairs, fits, strict=True) if ok]
    print(
        f"{len(pairs)} candidates ({fits.count(False)} with a query over half the window left out)"
    )
    small = gpu_shape(args, logprobs, "GPT-2 small shape", gpt2, tok, pairs)
    del gpt2
    torch.cuda.empty_cache()
    llama, _ = llama_1b(device, tiny=smoke, causal_lm=True)
    if smoke:  # the tiny shape's 1,000-token vocabulary is smaller than the trained tokenizer's
        llama.resize_token_embeddings(len(tok))
    big = gpu_shape(args, logprobs, "1B Llama shape", llama, tok, pairs)
    print(f"\ncard: {card}")
    print(f"gpt2_candidates_per_s: {small['rate']:.1f}")
    print(f"gpt2_tflops: {small['tflops']:.1f}")
    print(f"gpt2_naive_candidates_per_s: {small['naive_rate']:.1f}")
    print(f"naive_candidates_per_s: {big['naive_rate']:.1f}")
    print(f"naive_peak_fraction: {big['naive_tflops'] / PEAK_TFLOPS:.3f}")
    print(f"speedup_vs_naive: {big['rate'] / big['naive_rate']:.2f}")
    print(f"gpu_candidates_per_s: {big['rate']:.1f}")
    print(f"tflops: {big['tflops']:.1f}")
    print(f"peak_fraction: {big['tflops'] / PEAK_TFLOPS:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=64)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--gpu", action="store_true", help="GPT-2 and 1B Llama shapes on CUDA")
    parser.add_argument("--compile", action="store_true", help="GPU: also torch.compile")
    parser.add_argument("--max-positions", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--candidates-file", help="JSON saved with --save-candidates")
    parser.add_argument("--save-candidates", help="write the candidate set to this JSON and exit")
    args = parser.parse_args()
    if args.save_candidates:
        raw, source = load_candidates(args.candidates)
        Path(args.save_candidates).write_text(
            json.dumps({"source": source, "pairs": raw}), encoding="utf-8"
        )
        return
    raw, source = load_candidates(args.candidates, args.candidates_file)
    (gpu_bench if args.gpu else cpu_bench)(args, import_logprobs(), raw, source)


if __name__ == "__main__":
    main()
