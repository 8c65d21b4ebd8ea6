"""Language Ranker benchmark: MiniLM on NTREX-128 (all languages × 200 sentences), CPU and GPU.

CPU (default): the full probe, every language of NTREX-128 against English, with the ranking
and its CIs, the wall time and sentences/s; the baseline in the same run is a naive loop
(fixed batches of 64 in corpus order, padded to the batch maximum, every hidden state copied
out) over a slice of the same sentences.

``--gpu`` (on the device machine): sentences/s and tokens/s for the MiniLM shape and for a
1B-parameter Llama-shaped model with random bf16 weights, the latter with achieved TFLOP/s
against the card's bf16 peak (~790 TFLOP/s), each against a naive loop measured in the same run.
Weights: MiniLM from ``--model`` (an fp16 copy travels in ``.device/``; see docs/probes.md) or,
when that is absent, the same shapes with random weights (throughput does not depend on them).

    .venv/bin/python bench/language_ranker.py                       # CPU, ~1-3 min on 2 cores
    python3 bench/language_ranker.py --gpu --model .device/minilm-fp16 --corpus .device/ntrex

Headlines (BENCH.md): languages, cpu_sentences_per_s; with --gpu: gpu_sentences_per_s,
gpu_tokens_per_s, tflops, peak_fraction.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DEFAULT_CORPUS = REPO.parent / "shared" / "data" / "ntrex128_subset" / "NTREX-128"
PEAK_TFLOPS = 790.0


def _corpus_path(given: str | None) -> Path:
    for candidate in [given, DEFAULT_CORPUS, REPO / ".device" / "ntrex"]:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise SystemExit(f"no corpus found (tried {given}, .device/ntrex, {DEFAULT_CORPUS})")


def naive_sentences_per_s(encoder, sentences: list[str], batch_size: int) -> float:  # type: ignore[no-untyped-def]
    """The obvious loop: corpus order, fixed batches, tokenise per batch, all states to the host."""
    import torch

    model, tokenizer, device = encoder.model, encoder.tokenizer, encoder.device
    _sync(device)
    started = time.perf_counter()
    with torch.inference_mode():
        for start in range(0, len(sentences), batch_size):
            chunk = sentences[start : start + batch_size]
            batch = tokenizer(
                chunk, padding=True, truncation=True, max_length=256, return_tensors="pt"
            ).to(device)
            out = model(**batch, output_hidden_states=True)
            last = batch["attention_mask"].sum(1) - 1
            rows = torch.arange(len(chunk), device=device)
            [h[rows, last].float().cpu() for h in out.hidden_states[1:]]
    _sync(device)
    return len(sentences) / (time.perf_counter() - started)


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


# --- CPU: the full probe ---------------------------------------------------------------------
def cpu_bench(args: argparse.Namespace) -> None:
    import torch

    from judgebench.probes.corpus import load_corpus
    from judgebench.probes.encoder import HiddenStateEncoder
    from judgebench.probes.language_ranker import RankerSettings, run_language_ranker

    corpus = load_corpus(_corpus_path(args.corpus)).select(None, args.pairs)
    encoder = HiddenStateEncoder.load(args.model, device="cpu")
    print(
        f"CPU: {torch.get_num_threads()} torch threads; model {encoder.name}; corpus {corpus.name}"
    )
    print(f"{len(corpus.languages)} languages × {len(corpus.english)} sentences (+ English)")

    sample = [
        s
        for code in corpus.languages[:: max(1, len(corpus.languages) // 8)]
        for s in corpus.translations[code]
    ]
    sample = sample[: args.naive_sentences]
    naive = naive_sentences_per_s(encoder, sample, 64)
    print(
        f"naive loop (batch 64, corpus order, all states out): {naive:.0f} sentences/s on {len(sample)} sentences"
    )

    report = run_language_ranker(encoder, corpus, settings=RankerSettings(n_boot=1000, seed=0))
    level = 95
    print(
        f"\nRanking ({report.settings.pooling}-token pooling, mean over layers 1-{report.n_layers}; "
        f"score = raw cosine − mismatched-pair baseline; {level}% bootstrap CI over pairs)"
    )
    print(
        f"{'rank':>4}  {'code':<9} {'language':<30} {'score':>7}  {'CI':<17} {'raw':>6} {'base':>6}"
    )
    for row in report.ranking:
        print(
            f"{row['rank']:>4}  {row['language']:<9} {row['language_name'][:30]:<30} {row['score']:7.4f}  "
            f"[{row['ci_low']:.4f},{row['ci_high']:.4f}] {row['raw']:6.3f} {row['baseline']:6.3f}"
        )
    rate = report.sentences_per_s
    print(
        f"\nencoded {report.sentences} sentences in {report.encode_s:.1f} s; probe wall time {report.wall_s:.1f} s "
        f"(model loaded before); {report.truncated} sentences truncated"
    )
    print(f"speed-up over the naive loop: {rate / naive:.2f}x")
    print(f"languages: {len(report.ranking)}")
    print(f"cpu_sentences_per_s: {rate:.1f}")
    print(f"cpu_naive_sentences_per_s: {naive:.1f}")
    print(f"cpu_speedup: {rate / naive:.2f}")
    print(f"cpu_wall_s: {report.wall_s:.1f}")


# --- GPU: throughput ----------------------------------------------------------------------------
def _median_time(fn, repeats: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def llama_1b(device: str, *, tiny: bool = False, causal_lm: bool = False):  # type: ignore[no-untyped-def]
    """Llama-3.2-1B's shapes (16 layers, d=2048, GQA 32/8 heads, MLP 8192, vocab 128256), random
    bf16; ``causal_lm``: with the (tied) output head, as TRLM scoring needs."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM, LlamaModel

    if tiny:
        config = LlamaConfig(
            vocab_size=1000,
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=512,
        )
    else:
        config = LlamaConfig(
            vocab_size=128256,
            hidden_size=2048,
            intermediate_size=8192,
            num_hidden_layers=16,
            num_attention_heads=32,
            num_key_value_heads=8,
            max_position_embeddings=2048,
            tie_word_embeddings=True,
            rope_theta=500000.0,
        )
    config._attn_implementation = "sdpa"
    dtype = torch.bfloat16 if device.startswith("cuda") else torch.float32
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = (LlamaForCausalLM if causal_lm else LlamaModel)(config)
    finally:
        torch.set_default_dtype(previous)
    return model.eval(), config


def flops_per_sequence(config, length: int) -> float:  # type: ignore[no-untyped-def]
    """Forward FLOPs of one sequence: 2 × non-embedding parameters per token + causal attention."""
    d, layers = config.hidden_size, config.num_hidden_layers
    kv = d // config.num_attention_heads * config.num_key_value_heads
    per_layer = d * (d + 2 * kv + d) + 3 * d * config.intermediate_size
    dense = 2 * per_layer * layers * length
    attention = 2 * 2 * d * layers * length * (length + 1) / 2  # QKᵀ and AV over the causal half
    return dense + attention


def pipeline_rates(encoder, sentences, tokens, repeats, smoke, suffix=""):  # type: ignore[no-untyped-def]
    """End-to-end rates (tokenise + pack on the producer thread, device on this one) for a few
    token budgets and group sizes; each row is (label, sentences/s, tokens/s, (budget, group))."""
    results = []

    def end_to_end(group: int) -> None:
        chunks = [sentences[i : i + group] for i in range(0, len(sentences), group)]
        for states in encoder.iter_encode(chunks, "last"):
            assert states.shape[0] == encoder.n_layers

    budgets = [16384, 32768, 65536] if not smoke else [4096]
    for max_tokens in budgets:
        for group in [2048, 4096] if not smoke else [256]:
            encoder.max_tokens = max_tokens
            encoder.max_batch = 8192
            end_to_end(group)  # warm-up at this size
            seconds = _median_time(lambda g=group: end_to_end(g), repeats)
            label = f"pipelined, {max_tokens} tokens/batch, groups of {group}{suffix}"
            results.append((label, len(sentences) / seconds, tokens / seconds, (max_tokens, group)))
    return results, end_to_end


def gpu_bench(args: argparse.Namespace) -> None:
    import numpy as np
    import torch

    from judgebench.probes.corpus import load_corpus
    from judgebench.probes.encoder import HiddenStateEncoder

    device = "cuda" if torch.cuda.is_available() else "cpu"
    smoke = device == "cpu"
    card = (
        torch.cuda.get_device_name(0)
        if not smoke
        else "CPU (smoke run: tiny shapes, not a measurement)"
    )
    print(f"device: {card}; torch {torch.__version__}; {os.cpu_count()} CPU cores")
    corpus = load_corpus(_corpus_path(args.corpus)).select(None, args.pairs)
    sentences = list(corpus.english) + [
        s for code in corpus.languages for s in corpus.translations[code]
    ]
    if smoke:
        sentences = sentences[:600]
    print(f"{len(sentences)} sentences ({len(corpus.languages)} languages + English)")
    repeats = 1 if smoke else args.repeats

    # --- MiniLM shape -------------------------------------------------------------------------
    encoder = HiddenStateEncoder.load(args.model, device=device)
    print(
        f"MiniLM: {encoder.name}, {encoder.n_layers} layers, d={encoder.hidden_size}, "
        f"{next(encoder.model.parameters()).dtype}"
    )
    naive_batch = 1024
    naive_rate = naive_sentences_per_s(encoder, sentences, naive_batch)  # also warms up
    ids = encoder.tokenize(sentences)
    tokens = sum(len(row) for row in ids)
    # the tokenizer alone: the pipeline's own tokenising step (worker processes on a GPU
    # machine), after a warm-up that starts the workers; median of the repeats
    encoder.tokenize_arrays(sentences)
    tokenize_rate = len(sentences) / _median_time(
        lambda: encoder.tokenize_arrays(sentences), max(3, repeats)
    )
    thread_rate = len(sentences) / _median_time(
        lambda: encoder.tokenize(sentences), max(3, repeats)
    )
    results, end_to_end = pipeline_rates(encoder, sentences, tokens, repeats, smoke)
    best_tokens = max(results, key=lambda r: r[1])
    encoder.max_tokens, group = best_tokens[3]
    if args.compile and not smoke:
        # torch.compile fuses BERT's elementwise work and cuts the launches the CPU must issue
        eager = encoder.model
        encoder.model = torch.compile(eager, dynamic=True)
        started = time.perf_counter()
        end_to_end(group)
        print(
            f"  MiniLM torch.compile: first pass (compiling) {time.perf_counter() - started:.0f} s"
        )
        compiled, _ = pipeline_rates(encoder, sentences, tokens, repeats, smoke, ", torch.compile")
        results += compiled
        if max(r[1] for r in compiled) > best_tokens[1]:
            best_tokens = max(compiled, key=lambda r: r[1])
        else:
            encoder.model = eager
        encoder.max_tokens, group = best_tokens[3]
    processes, encoder.processes = encoder.processes, 0
    end_to_end(group)
    seconds = _median_time(lambda: end_to_end(group), repeats)
    encoder.processes = processes
    results.append(
        (
            "as best, tokenising on threads (in-process)",
            len(sentences) / seconds,
            tokens / seconds,
            best_tokens[3],
        )
    )

    def compute_only() -> None:
        encoder.encode_ids_tensor(ids, "last")
        _sync(device)

    seconds = _median_time(compute_only, repeats)
    results.append(
        ("pre-tokenised, device only", len(sentences) / seconds, tokens / seconds, (0, 0))
    )
    print(f"\nMiniLM shape ({tokens / len(sentences):.1f} tokens/sentence on average):")
    print(
        f"  naive loop (batch {naive_batch}, corpus order, tokenise per batch): {naive_rate:,.0f} sentences/s"
    )
    for label, rate, token_rate, _ in results:
        print(
            f"  {label:<52} {rate:>10,.0f} sentences/s {token_rate:>12,.0f} tokens/s  ({rate / naive_rate:.2f}x)"
        )
    print(
        f"  tokeniser alone: {tokenize_rate:,.0f} sentences/s with {encoder.processes} worker "
        f"processes ({thread_rate:,.0f} on threads in-process)"
    )
    print(f"  end to end / tokeniser alone: {best_tokens[1] / tokenize_rate:.2f}")
    # The fast path must compute the same states: compare with float32 on the CPU.
    check = sentences[:: max(1, len(sentences) // 256)][:256]
    fast_states = encoder.encode(check, "last")
    reference = HiddenStateEncoder.load(args.model, device="cpu").encode(check, "last")
    unit = lambda a: a / np.linalg.norm(a, axis=-1, keepdims=True)  # noqa: E731
    agreement = (unit(fast_states) * unit(reference)).sum(-1)
    print(
        f"  {next(encoder.model.parameters()).dtype} states vs float32 CPU on {len(check)} sentences: "
        f"cosine min {agreement.min():.4f}, mean {agreement.mean():.5f}"
    )
    end_to_end_rate, end_to_end_tokens = best_tokens[1], best_tokens[2]

    # --- the 1B Llama shape ---------------------------------------------------------------------
    tflops = peak_fraction = llama_rate = llama_tokens = 0.0
    llama_e2e_rate = 0.0
    if not args.skip_1b:
        tokenizer = encoder.tokenizer
        del encoder
        torch.cuda.empty_cache() if not smoke else None
        model, config = llama_1b(device, tiny=smoke)
        if smoke:  # the tiny shape's 1,000 ids are fewer than MiniLM's tokenizer gives
            model.resize_token_embeddings(len(tokenizer), mean_resizing=False)
        params = sum(p.numel() for p in model.parameters())
        rng = np.random.default_rng(0)
        lengths = [len(row) for row in ids][: (2048 if smoke else args.llama_sentences)]
        llama_ids = [rng.integers(0, config.vocab_size, size=n).tolist() for n in lengths]
        flops = sum(flops_per_sequence(config, n) for n in lengths)
        real_tokens = sum(lengths)
        llama = HiddenStateEncoder(model, None, name="llama-1b-random", device=device)
        llama.causal = True
        print(
            f"\n1B Llama shape: {params / 1e9:.2f} B parameters, bf16 random weights, "
            f"{len(lengths)} sequences, {real_tokens:,} tokens, {flops / 1e12:.1f} TFLOP per pass"
        )

        def naive_llama() -> None:
            # Corpus order, batches of 256 padded to their longest, attention mask, all states kept.
            batch = 256
            with torch.inference_mode():
                for start in range(0, len(llama_ids), batch):
                    chunk = llama_ids[start : start + batch]
                    width = max(map(len, chunk))
                    x = torch.zeros((len(chunk), width), dtype=torch.long)
                    mask = torch.zeros((len(chunk), width), dtype=torch.long)
                    for row, seq in enumerate(chunk):
                        x[row, : len(seq)] = torch.tensor(seq)
                        mask[row, : len(seq)] = 1
                    out = model(
                        input_ids=x.to(device),
                        attention_mask=mask.to(device),
                        output_hidden_states=True,
                    )
                    last = mask.sum(1).to(device) - 1
                    rows = torch.arange(len(chunk), device=device)
                    [h[rows, last].float().cpu() for h in out.hidden_states[1:]]
            _sync(device)

        naive_llama()
        naive_s = _median_time(naive_llama, repeats)
        rows = [("naive (batch 256, corpus order, mask)", naive_s)]
        for max_tokens in [16384, 32768, 65536] if not smoke else [2048]:
            llama.max_tokens, llama.max_batch = max_tokens, 8192

            def fast() -> None:
                llama.encode_ids_tensor(llama_ids, "last")
                _sync(device)

            fast()
            rows.append(
                (f"sorted, no mask, {max_tokens} tokens/batch", _median_time(fast, repeats))
            )
        if args.compile:
            try:
                llama.model = torch.compile(model, dynamic=True)
                llama.max_tokens = 32768
                started = time.perf_counter()
                fast()
                print(
                    f"  torch.compile: first pass (compiling) {time.perf_counter() - started:.0f} s"
                )
                for max_tokens in (16384, 32768):
                    llama.max_tokens = max_tokens
                    fast()
                    rows.append(
                        (
                            f"sorted, no mask, {max_tokens}/batch, torch.compile",
                            _median_time(fast, repeats),
                        )
                    )
            except Exception as exc:  # noqa: BLE001  (an experiment: report and go on)
                print(f"  torch.compile failed: {str(exc).splitlines()[0][:200]}")
        print(f"  {'variant':<42} {'sent/s':>9} {'tokens/s':>11} {'TFLOP/s':>8} {'of peak':>8}")
        for label, seconds in rows:
            achieved = flops / seconds / 1e12
            print(
                f"  {label:<42} {len(lengths) / seconds:>9,.0f} {real_tokens / seconds:>11,.0f} "
                f"{achieved:>8.1f} {achieved / PEAK_TFLOPS:>8.1%}"
            )
        best = min(seconds for _, seconds in rows[1:])
        tflops = flops / best / 1e12
        peak_fraction = tflops / PEAK_TFLOPS
        llama_rate, llama_tokens = len(lengths) / best, real_tokens / best
        naive_tflops = flops / naive_s / 1e12
        print(f"  speed-up over naive: {naive_s / best:.2f}x (naive {naive_tflops:.1f} TFLOP/s)")
        # end to end on real text: MiniLM's tokenizer (its ids are valid Llama ids) feeding the
        # 1B shape through the same pipeline as the probe (tokenise + pack on a thread)
        text = sentences[: len(lengths)]
        piped = HiddenStateEncoder(model, tokenizer, name="llama-1b-random", device=device)
        piped.causal, piped.max_tokens, piped.max_batch = True, 32768, 8192
        piped.model = llama.model  # compiled when --compile ran
        groups = [text[i : i + 2048] for i in range(0, len(text), 2048)]

        def llama_end_to_end() -> None:
            for states in piped.iter_encode(groups, "last"):
                assert states.shape[0] == piped.n_layers

        llama_end_to_end()
        llama_e2e_rate = len(text) / _median_time(llama_end_to_end, repeats)
        print(
            f"  end to end on the corpus text (tokenise + pack on a thread, 32768/batch): "
            f"{llama_e2e_rate:,.0f} sentences/s"
        )

    print(f"\ncard: {card}")
    print(f"tokenizer_sentences_per_s: {tokenize_rate:.0f}")
    print(f"gpu_sentences_per_s: {end_to_end_rate:.0f}")
    print(f"gpu_vs_tokenizer: {end_to_end_rate / tokenize_rate:.2f}")
    print(f"gpu_tokens_per_s: {end_to_end_tokens:.0f}")
    print(f"gpu_naive_sentences_per_s: {naive_rate:.0f}")
    if not args.skip_1b:
        print(f"llama1b_sentences_per_s: {llama_rate:.0f}")
        print(f"llama1b_tokens_per_s: {llama_tokens:.0f}")
        print(f"llama1b_end_to_end_sentences_per_s: {llama_e2e_rate:.0f}")
        print(f"tflops: {tflops:.1f}")
        print(f"peak_fraction: {peak_fraction:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--gpu", action="store_true", help="GPU throughput (MiniLM shape and 1B Llama shape)"
    )
    parser.add_argument(
        "--model", default="minilm", help="minilm or a local model folder (fp16 copy on the device)"
    )
    parser.add_argument(
        "--corpus",
        default=None,
        help="NTREX-128 folder (default: ../shared/data/... or .device/ntrex)",
    )
    parser.add_argument("--pairs", type=int, default=200, help="sentences per language")
    parser.add_argument(
        "--naive-sentences", type=int, default=800, help="CPU naive-loop sample size"
    )
    parser.add_argument("--repeats", type=int, default=3, help="GPU: timed repeats (median)")
    parser.add_argument(
        "--llama-sentences", type=int, default=8192, help="GPU: sequences for the 1B shape"
    )
    parser.add_argument("--skip-1b", action="store_true")
    parser.add_argument(
        "--compile", action="store_true", help="GPU: also try torch.compile on the 1B shape"
    )
    args = parser.parse_args()
    (gpu_bench if args.gpu else cpu_bench)(args)


if __name__ == "__main__":
    main()
