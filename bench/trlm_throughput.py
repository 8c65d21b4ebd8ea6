"""TRLM throughput: candidates scored per second, S(query | response), with a local causal LM.

The model is a GPT-2-shaped causal LM with random weights built on the spot (default: GPT-2
small's 12 layers × 768, 92 M parameters with the 8k-token vocabulary; nothing is downloaded) and
a byte-level BPE tokenizer trained on the candidate texts; random weights cost exactly what
trained ones do. Measured figures: docs/judges.md (TRLM). Candidates are real
(query, response) pairs from AlpacaEval (../shared/data; built-in texts when absent), each
scored through ``judgebench.judges.HFCausalLM`` exactly as ``TRLMScorer("hf:<path>")`` does:
response ⊕ conditioning phrase as context, the query as target, batched with padding.

The baseline taken in the same run is batch size 1; batch 8 and 32 are reported as speed-ups
over it (the machines are shared and noisy: medians over ``--rounds``).

    python bench/trlm_throughput.py                       # CPU, batch 1/8/32, GPT-2 small
    python bench/trlm_throughput.py --device cuda --batches 1 8 32 128 --dtype bfloat16

Ends with ``cpu_candidates_per_s`` (at batch 32) or, on a GPU, ``gpu_candidates_per_s`` (at the
largest batch), see ../shared/docs/BENCH.md.
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
        with gzip.open(files[0], "rt", encoding="utf-8") as fh:
            rows = json.load(fh)
        pairs = [(r["output"], r["instruction"]) for r in rows if r.get("output")][:n]
        return pairs, f"AlpacaEval outputs ({files[0].name})"
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=64)
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--size", choices=sorted(SIZES), default="small")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default=None, help="e.g. bfloat16 (GPU)")
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

    import torch

    logprobs = import_logprobs()

    if args.device == "cpu":
        torch.set_num_threads(max(1, os.cpu_count() or 1))
    raw, source = load_candidates(args.candidates, args.candidates_file)
    pairs = [(resp + logprobs.DEFAULT_PHRASE, query) for resp, query in raw]
    model, tok = build_model(args.size, [t for p in raw for t in p], args.max_positions)
    if args.dtype:
        model = model.to(getattr(torch, args.dtype))
    params = sum(p.numel() for p in model.parameters()) / 1e6
    lengths = [len(tok(c + t)["input_ids"]) for c, t in pairs]
    device_name = (
        torch.cuda.get_device_name(0)
        if args.device.startswith("cuda")
        else f"CPU ({torch.get_num_threads()} threads)"
    )
    print(
        f"TRLM throughput: GPT-2-shaped causal LM, {params:.0f} M parameters (random weights), {device_name}"
    )
    print(
        f"candidates: {len(pairs)} from {source}; tokens per candidate median {statistics.median(lengths):.0f}, "
        f"max {max(lengths)} (context cut at {args.max_positions} positions)"
    )

    results: dict[int, float] = {}
    for batch in args.batches:
        scorer = logprobs.HFCausalLM(
            model, tok, name=f"hf:gpt2-{args.size}", batch_size=batch, device=args.device
        )
        scorer.score_pairs(pairs[: max(2, batch)])  # warm-up
        times = []
        for _ in range(args.rounds):
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            scores = scorer.score_pairs(pairs)
            if args.device.startswith("cuda"):
                torch.cuda.synchronize()
            times.append(time.perf_counter() - t0)
        assert len(scores) == len(pairs) and all(s for s in scores)
        results[batch] = len(pairs) / statistics.median(times)
        print(
            f"batch {batch:>4}: {results[batch]:8.1f} candidates/s  (median of {args.rounds}: {statistics.median(times):.2f} s)"
        )
    # tokenising runs on the CPU inside every score_pairs call (one batched call per side, which
    # a fast tokenizer spreads over the cores unless TOKENIZERS_PARALLELISM=false)
    encode_times = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        scorer._encode(pairs)
        encode_times.append(time.perf_counter() - t0)
    encode_s = statistics.median(encode_times)
    pass_s = len(pairs) / results[max(results)]
    print(
        f"tokenising alone: {encode_s:.2f} s per pass = {100 * encode_s / pass_s:.0f}% of the "
        f"batch-{max(results)} pass ({pass_s:.2f} s)"
    )
    base = results[args.batches[0]]
    for batch in args.batches[1:]:
        print(f"speed-up batch {batch} vs batch {args.batches[0]}: {results[batch] / base:.2f}x")
    key = "gpu_candidates_per_s" if args.device.startswith("cuda") else "cpu_candidates_per_s"
    headline_batch = 32 if 32 in results and not args.device.startswith("cuda") else max(results)
    print(f"{key}: {results[headline_batch]:.1f}")


if __name__ == "__main__":
    main()
