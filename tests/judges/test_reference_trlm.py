"""Reference test for TRLM scoring (Yerram et al., "Time-Reversal Provides Unsupervised Feedback
to LLMs", arXiv 2412.02626, NeurIPS 2024).

The paper's Table 1 / Alg. 2 (supplement) defines TRLM-Ba scoring as
    log P_Ba( Reverse(Scoring Prompt + Query) | Reverse(Conditioning Prompt + Answer) )
and TRLM-Fo scoring (Alg. 3) as
    log P_Fo( Query | Answer + Conditioning Prompt ).
No official code was released with the paper, so the expected token sequences below are built
straight from those formulas with an independent word-level tokenizer (one token per GPT-2
pre-token, so the token list of a text is known without our code), and the expected
log-probabilities come from a bigram "language model" whose next-token distribution is a fixed
table: log p(x_t | x_<t) = log_softmax(table[x_(t-1)])[x_t], computed here with numpy.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from judgebench.judges import HFCausalLM, TRLMScorer  # noqa: E402

QUERY = "What is the capital?"
ANSWER = "Paris is the capital."
CONDITIONING = "\n\nAnswer: "  # reads, in natural order, between the query and the answer
SCORING = "Question: "  # the paper's scoring prompt, before the query
FORWARD_PHRASE = "\n\nThe above answers the question: "  # ends in a space, like DEFAULT_PHRASE
BOS = "<s>"


def pre_tokens(text: str) -> list[str]:
    from tokenizers import pre_tokenizers

    return [t for t, _ in pre_tokenizers.ByteLevel(add_prefix_space=False).pre_tokenize_str(text)]


@pytest.fixture(scope="module")
def word_tokenizer():
    """Word-level tokenizer over GPT-2 byte-level pre-tokens: tokens(text) == pre_tokens(text)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    words = {BOS: 0, "<unk>": 1}
    for text in [
        SCORING + QUERY + CONDITIONING + ANSWER,
        QUERY,
        ANSWER + FORWARD_PHRASE + QUERY,
        " ",
    ]:
        for w in pre_tokens(text) + pre_tokens(FORWARD_PHRASE):
            words.setdefault(w, len(words))
    tok = Tokenizer(models.WordLevel(words, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=BOS, unk_token="<unk>"
    )
    return fast, words


class BigramLM(torch.nn.Module):
    """logits[t] = table[x_t]: the next-token distribution depends on the current token only."""

    def __init__(self, vocab: int, seed: int = 0) -> None:
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        self.table = torch.nn.Parameter(torch.randn(vocab, vocab, generator=gen) * 2)
        self.config = SimpleNamespace(n_positions=64)

    def forward(self, input_ids, attention_mask=None, position_ids=None, logits_to_keep=0):
        logits = self.table[input_ids]
        return SimpleNamespace(logits=logits[:, -logits_to_keep:] if logits_to_keep else logits)


def bigram_logprobs(table: np.ndarray, ids: list[int], n_target: int) -> list[float]:
    """log p of the last ``n_target`` ids of ``ids`` under the bigram table."""
    out = []
    for t in range(len(ids) - n_target, len(ids)):
        row = table[ids[t - 1]]
        out.append(float(row[ids[t]] - np.log(np.exp(row - row.max()).sum()) - row.max()))
    return out


def ids_of(words: dict[str, int], text: str) -> list[int]:
    return [words[w] for w in pre_tokens(text)]


def test_trlm_ba_sequence_is_reverse_of_conditioning_plus_answer_then_reverse_query(
    word_tokenizer,
):
    """Alg. 2: context Reverse(CP + A), target Reverse(SP + Q); the CP sits between A and Q."""
    tok, words = word_tokenizer
    lm = HFCausalLM(BigramLM(len(words)), tok, reversed_tokens=True, device="cpu")
    scorer = TRLMScorer(lm, phrase=CONDITIONING, scored_prompt=SCORING)
    context, target = scorer.pair(ANSWER, CONDITIONING, QUERY, SCORING)
    [(ctx_ids, tgt_ids)] = lm._encode([(context, target)])
    expected_ctx = [words[BOS]] + ids_of(words, CONDITIONING + ANSWER)[::-1]
    expected_tgt = ids_of(words, SCORING + QUERY)[::-1]
    assert ctx_ids == expected_ctx and tgt_ids == expected_tgt
    # reading order: ".", "Ġcapital", ..., "ĠParis", ":", "Answer", "Ċ", "Ċ", "?", ... "Question"
    inverse = {v: k for k, v in words.items()}
    read = [inverse[i] for i in ctx_ids + tgt_ids]
    assert read[1] == "." and read[read.index("ĠParis") + 1 : read.index("ĠParis") + 5] == [
        ":",
        "Answer",
        "Ċ",
        "Ċ",
    ]
    assert read[-1] == "Question" and read[read.index("Ċ") + 2] == "?"


async def test_trlm_ba_score_equals_alg2_formula(word_tokenizer):
    tok, words = word_tokenizer
    model = BigramLM(len(words), seed=3)
    table = model.table.detach().numpy().astype(np.float64)
    sequence = [words[BOS]] + ids_of(words, CONDITIONING + ANSWER)[::-1]
    query_only = ids_of(words, QUERY)[::-1]
    with_prompt = ids_of(words, SCORING + QUERY)[::-1]
    expected_query = bigram_logprobs(table, sequence + query_only, len(query_only))
    expected_scored = bigram_logprobs(table, sequence + with_prompt, len(with_prompt))

    lm = HFCausalLM(model, tok, reversed_tokens=True, device="cpu")
    plain = await TRLMScorer(lm, phrase=CONDITIONING).evaluate(QUERY, ANSWER)
    scored = await TRLMScorer(lm, phrase=CONDITIONING, scored_prompt=SCORING).evaluate(
        QUERY, ANSWER
    )
    assert plain.details["reverse_tokens"] == len(query_only)
    assert plain.score == pytest.approx(np.mean(expected_query), abs=1e-5)
    assert scored.details["reverse_tokens"] == len(with_prompt)
    assert scored.details["reverse_sum"] == pytest.approx(sum(expected_scored), abs=1e-4)
    assert scored.params["scored_prompt"] == SCORING and "scored_prompt" not in plain.params
    assert scored.template_hash != plain.template_hash


async def test_trlm_fo_score_equals_alg3_formula_with_no_lone_space_token(word_tokenizer):
    """Alg. 3: log P(Q | A + CP). Tokenised as one text, the space that ends the phrase joins
    the query's first word ("ĠWhat"); tokenised apart it would be a lone "Ġ" the model scores
    the query after."""
    tok, words = word_tokenizer
    model = BigramLM(len(words), seed=5)
    table = model.table.detach().numpy().astype(np.float64)
    lm = HFCausalLM(model, tok, device="cpu")
    joined = ids_of(words, ANSWER + FORWARD_PHRASE + QUERY)
    n_query = len(pre_tokens(QUERY))  # "What" becomes "ĠWhat": same count, one token each
    assert words["Ġ"] not in joined and words["ĠWhat"] == joined[-n_query]
    [(ctx_ids, tgt_ids)] = lm._encode([(ANSWER + FORWARD_PHRASE, QUERY)])
    assert ctx_ids == [words[BOS]] + joined[:-n_query] and tgt_ids == joined[-n_query:]
    expected = bigram_logprobs(table, [words[BOS]] + joined, n_query)
    judged = await TRLMScorer(lm, phrase=FORWARD_PHRASE).evaluate(QUERY, ANSWER)
    assert judged.score == pytest.approx(np.mean(expected), abs=1e-5)


def test_context_is_cut_from_the_far_end_keeping_bos_and_target(word_tokenizer):
    tok, words = word_tokenizer
    lm = HFCausalLM(BigramLM(len(words)), tok, device="cpu")
    lm.max_positions = 8
    [(ctx_ids, tgt_ids)] = lm._encode([(ANSWER + FORWARD_PHRASE, QUERY)])
    joined = ids_of(words, ANSWER + FORWARD_PHRASE + QUERY)
    assert tgt_ids == joined[-5:] and ctx_ids == [words[BOS], *joined[-7:-5]]
