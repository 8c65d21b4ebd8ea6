"""Batched, length-sorted, padded encoding gives the same pooled states as one sentence at a time."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from judgebench.errors import ConfigError
from judgebench.probes.encoder import HiddenStateEncoder, bucket_rows, plan_batches, resolve_model

from .conftest import ENGLISH, FRENCH, GERMAN


def _reference_states(encoder: HiddenStateEncoder, sentence: str) -> list[np.ndarray]:
    """Every layer's states of one unpadded sentence, straight from the model."""
    import torch

    ids = encoder.tokenizer(sentence)["input_ids"]
    with torch.no_grad():
        out = encoder.model(input_ids=torch.tensor([ids]), output_hidden_states=True)
    return [h[0].double().numpy() for h in out.hidden_states]


@pytest.mark.parametrize("which", ["tiny_encoder_path", "tiny_decoder_path"])
def test_last_and_mean_pooling_match_unbatched_forward(
    which: str, request: pytest.FixtureRequest
) -> None:
    encoder = HiddenStateEncoder.load(
        str(request.getfixturevalue(which)), device="cpu", max_tokens=24
    )
    sentences = ENGLISH + GERMAN  # mixed lengths: several batches, padding in each
    last = encoder.encode(sentences, "last")
    mean = encoder.encode(sentences, "mean")
    assert last.shape == (encoder.n_layers, len(sentences), encoder.hidden_size)
    for index, sentence in enumerate(sentences):
        states = _reference_states(encoder, sentence)
        assert (
            len(states) == encoder.n_layers + 1
        )  # embeddings + layers; the probe drops the embeddings
        for layer in range(encoder.n_layers):
            expected_last = states[layer + 1][-1]
            expected_mean = states[layer + 1].mean(axis=0)
            np.testing.assert_allclose(last[layer, index], expected_last, rtol=1e-4, atol=1e-5)
            np.testing.assert_allclose(mean[layer, index], expected_mean, rtol=1e-4, atol=1e-5)
    assert not np.allclose(last, mean)


def test_hand_computed_cosines_for_two_pairs(tiny_decoder_path: Path) -> None:
    from judgebench.probes.ranker import pair_terms

    encoder = HiddenStateEncoder.load(str(tiny_decoder_path), device="cpu")
    states = encoder.encode([ENGLISH[0], ENGLISH[1], GERMAN[0], GERMAN[1]], "last")
    e0, e1, g0, g1 = (
        _reference_states(encoder, s)[-1][-1]
        for s in (ENGLISH[0], ENGLISH[1], GERMAN[0], GERMAN[1])
    )

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(
            sum(x * x for x in a) * sum(y * y for y in b)
        )

    matched, mismatched = pair_terms(states[:, :2], states[:, 2:])
    assert matched[-1, 0] == pytest.approx(cos(e0, g0), abs=1e-5)
    assert matched[-1, 1] == pytest.approx(cos(e1, g1), abs=1e-5)
    assert mismatched[-1, 0] == pytest.approx(cos(e0, g1), abs=1e-5)  # the only mismatched partner


def test_truncation_keeps_the_final_special_token(tiny_encoder_path: Path) -> None:
    encoder = HiddenStateEncoder.load(str(tiny_encoder_path), device="cpu", max_length=4)
    ids = encoder.tokenize([ENGLISH[3], "tea"])
    assert len(ids[0]) == 4 and ids[0][-1] == encoder.tokenizer.sep_token_id
    assert encoder.truncated == 1
    assert ids[1][-1] == encoder.tokenizer.sep_token_id


def test_plan_batches_sorts_by_length_and_respects_budget() -> None:
    lengths = [3, 10, 7, 1, 10, 2]
    plans = plan_batches(lengths, max_tokens=20, max_batch=8)
    seen = np.concatenate([positions for positions, _ in plans])
    assert sorted(seen.tolist()) == list(range(6))
    for positions, width in plans:
        assert width == max(lengths[p] for p in positions)
        assert width * len(positions) <= 20
    widths = [width for _, width in plans]
    assert widths == sorted(widths, reverse=True)
    padded = plan_batches([5, 9], max_tokens=100, max_batch=8, pad_to=8)
    assert padded[0][1] == 16


def test_missing_model_path_fails_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="model folder not found"):
        resolve_model(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no config.json"):
        resolve_model(str(tmp_path / "empty"))
    assert resolve_model("minilm")[0] == "minilm"


def test_importing_probes_does_not_import_torch() -> None:
    code = "import sys, judgebench.probes, judgebench.cli; assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("which", ["tiny_encoder_path", "tiny_decoder_path"])
def test_fast_tokenisation_matches_the_wrapper(which: str, request: pytest.FixtureRequest) -> None:
    encoder = HiddenStateEncoder.load(str(request.getfixturevalue(which)), device="cpu")
    sentences = (ENGLISH + GERMAN) * 180  # > one 2048-sentence chunk: the threaded path
    expected = encoder.tokenizer(sentences)["input_ids"]
    assert encoder.tokenize(sentences) == expected
    assert encoder.tokenize(sentences[:5]) == expected[:5]


def test_minilm_tokenizer_json_padding_is_ignored() -> None:
    encoder = HiddenStateEncoder.load("minilm", device="cpu")
    ids = encoder.tokenize(["hello world", "a much longer sentence than the first one"])
    assert len(ids[0]) == 4 and len(ids[1]) > 4  # [CLS] hello world [SEP], no padding to 128


def test_worker_processes_give_the_same_ids_and_states(tiny_encoder_path: Path) -> None:
    """The GPU pipeline's process pool (spawned workers, flat arrays, vectorised padding) gives
    the same ids, truncation count and pooled states as the threaded path."""
    threaded = HiddenStateEncoder.load(str(tiny_encoder_path), device="cpu", max_tokens=24)
    pooled = HiddenStateEncoder.load(str(tiny_encoder_path), device="cpu", max_tokens=24)
    threaded.max_length = pooled.max_length = 6  # some rows are cut
    pooled.processes = 2
    sentences = ENGLISH + GERMAN + [""]
    rows = threaded.tokenize(sentences)
    flat, lengths = pooled.tokenize_arrays(sentences)
    assert lengths.tolist() == [len(r) for r in rows]
    assert flat.tolist() == [t for r in rows for t in r]
    assert pooled.truncated == threaded.truncated > 0
    groups = [sentences[:3], sentences[3:]]
    expected = [threaded.encode(g, "last") for g in groups]
    got = list(pooled.iter_encode(groups, "last"))
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_bucket_rows_bounds_shapes_and_waste() -> None:
    for full in (1, 7, 64, 4096):
        counts = {bucket_rows(rows, full) for rows in range(1, full + 1)}
        assert len(counts) <= 8  # at most 8 graphs per width
        for rows in range(1, full + 1):
            padded = bucket_rows(rows, full)
            assert rows <= padded <= full
            assert padded - rows < max(1, -(-full // 8))  # under an eighth of a batch wasted


@pytest.mark.parametrize("which", ["tiny_encoder_path", "tiny_decoder_path"])
def test_static_shapes_pad_rows_without_changing_states(
    which: str, request: pytest.FixtureRequest
) -> None:
    """The CUDA-graph path pads each batch's rows up to a bucket with one-pad-token filler rows;
    on the CPU the same padding runs through the plain forward and must not change a state."""
    path = str(request.getfixturevalue(which))
    plain = HiddenStateEncoder.load(path, device="cpu", max_tokens=400)
    static = HiddenStateEncoder.load(path, device="cpu", max_tokens=400)
    static.static_shapes = True
    sentences = ENGLISH + GERMAN + FRENCH[:5]
    _, batches = static.pack(static.tokenize(sentences))
    assert any(len(p) < len(b) for p, b, _ in batches)  # some batch really has filler rows
    for pooling in ("last", "mean"):
        np.testing.assert_allclose(
            static.encode(sentences, pooling),
            plain.encode(sentences, pooling),
            rtol=1e-5,
            atol=1e-6,
        )


def test_decoders_run_sdpa_without_a_mask(tiny_decoder_path: Path, tiny_encoder_path: Path) -> None:
    """Decoder-only models are switched to the mask-free causal SDPA (their padded batches are
    checked against unpadded forwards above); encoders keep their padding mask."""
    from judgebench.probes.encoder import UNMASKED_CAUSAL_SDPA

    decoder = HiddenStateEncoder.load(str(tiny_decoder_path), device="cpu")
    encoder = HiddenStateEncoder.load(str(tiny_encoder_path), device="cpu")
    assert decoder.model.config._attn_implementation == UNMASKED_CAUSAL_SDPA
    assert encoder.model.config._attn_implementation == "sdpa"
    import torch
    from transformers import AutoModel

    stock = AutoModel.from_pretrained(tiny_decoder_path, attn_implementation="sdpa").eval()
    ids = torch.tensor([decoder.tokenizer(ENGLISH[3])["input_ids"]])
    with torch.no_grad():
        expected = stock(input_ids=ids, output_hidden_states=True).hidden_states[-1]
        got = decoder.model(input_ids=ids, output_hidden_states=True).hidden_states[-1]
    torch.testing.assert_close(got, expected)
