"""Tiny random transformers (one encoder, one decoder) and a small parallel corpus, built on the spot.

Nothing is downloaded: the tokenizer is trained here with the ``tokenizers`` library.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ENGLISH = [
    "the cat sat on the mat",
    "a dog ran in the park today",
    "we like green tea",
    "rain fell all night over the old town",
    "she reads books",
    "the market opens at nine",
]
GERMAN = [
    "die katze sass auf der matte",
    "ein hund lief heute im park",
    "wir moegen gruenen tee",
    "regen fiel die ganze nacht ueber die alte stadt",
    "sie liest buecher",
    "der markt oeffnet um neun",
]
FRENCH = [
    "le chat etait sur le tapis",
    "un chien a couru dans le parc",
    "nous aimons le the vert",
    "la pluie est tombee toute la nuit sur la vieille ville",
    "elle lit des livres",
    "le marche ouvre a neuf heures",
]


def _tokenizer(folder: Path, *, bos_eos: bool):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    trainer = trainers.WordPieceTrainer(vocab_size=200, special_tokens=specials)
    tok.train_from_iterator(ENGLISH + GERMAN + FRENCH, trainer=trainer)
    if bos_eos:
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]",
            special_tokens=[
                ("[CLS]", tok.token_to_id("[CLS]")),
                ("[SEP]", tok.token_to_id("[SEP]")),
            ],
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
    )
    fast.save_pretrained(folder)
    return fast


@pytest.fixture(scope="session")
def tiny_encoder_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    folder = tmp_path_factory.mktemp("tiny_bert")
    tokenizer = _tokenizer(folder, bos_eos=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=3,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id,
    )
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_decoder_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import GPT2Config, GPT2Model

    folder = tmp_path_factory.mktemp("tiny_gpt2")
    tokenizer = _tokenizer(folder, bos_eos=False)
    torch.manual_seed(1)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_layer=2,
        n_embd=32,
        n_head=4,
        n_positions=64,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.sep_token_id,
        eos_token_id=tokenizer.sep_token_id,
    )
    GPT2Model(config).save_pretrained(folder)
    return folder


def write_parallel(
    folder: Path, languages: dict[str, list[str]], english: list[str] = ENGLISH
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "test-src.eng.txt").write_text("\n".join(english) + "\n", encoding="utf-8")
    for code, lines in languages.items():
        (folder / f"test-ref.{code}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def parallel_folder(tmp_path: Path) -> Path:
    return write_parallel(tmp_path / "corpus", {"deu": GERMAN, "fra": FRENCH, "cpy": list(ENGLISH)})
