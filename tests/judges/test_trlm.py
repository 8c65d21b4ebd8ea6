"""TRLM: reverse scores from known logprobs, rerank order, citation search, α mix; a tiny
random GPT-2 built on the spot (batched == unbatched == manual); the sim's completions endpoint."""

from __future__ import annotations

import pytest

from judgebench.judges import TRLMScorer
from judgebench.judges.trlm import CITATION_PHRASE, DEFAULT_PHRASE, PASSAGE_PHRASE


class KnownLogprobs:
    """Per-token logprobs from a rule: how many of the target's words the context contains."""

    name = "fake/known"

    def __init__(self):
        self.pairs: list[tuple[str, str]] = []
        self.calls = 0

    async def target_logprobs(self, pairs):
        self.calls += 1
        self.pairs.extend(pairs)
        out = []
        for context, target in pairs:
            words = target.split()
            out.append([-0.5 if w.lower() in context.lower() else -3.0 for w in words])
        return out


QUERY = "capital of France"


async def test_rerank_orders_by_reverse_score_with_phrase():
    backend = KnownLogprobs()
    scorer = TRLMScorer(backend)
    ranked = await scorer.rerank(
        QUERY, ["Paris is the capital of France.", "It is a city.", "The capital is Paris."]
    )
    texts = [j.details["candidate_index"] for j in ranked]
    assert texts == [0, 2, 1]
    assert [j.details["rank"] for j in ranked] == [1, 2, 3]
    assert ranked[0].score == pytest.approx(-0.5) and ranked[2].score == pytest.approx(-3.0)
    assert backend.pairs[0] == ("Paris is the capital of France." + DEFAULT_PHRASE, QUERY)
    assert (
        ranked[0].judge == "trlm"
        and ranked[0].judge_model == "fake/known"
        and ranked[0].kind == "reverse"
    )


async def test_sum_and_mean_give_the_same_order_within_a_set():
    cands = ["capital", "France capital of", "nothing"]
    mean = await TRLMScorer(KnownLogprobs(), reduction="mean").rerank(QUERY, cands)
    total = await TRLMScorer(KnownLogprobs(), reduction="sum").rerank(QUERY, cands)
    assert [j.details["candidate_index"] for j in mean] == [
        j.details["candidate_index"] for j in total
    ]
    assert total[0].score == pytest.approx(3 * mean[0].score)


async def test_alpha_mixes_forward_score():
    backend = KnownLogprobs()
    j = await TRLMScorer(backend, alpha=0.25).evaluate(QUERY, "capital city")
    assert j.score == pytest.approx(0.25 * j.details["reverse"] + 0.75 * j.details["forward"])
    assert len(backend.pairs) == 2 and backend.pairs[1][1] == "capital city"
    assert backend.calls == 1  # both directions go to the backend in one batch


async def test_passage_rerank_uses_document_phrase():
    backend = KnownLogprobs()
    ranked = await TRLMScorer(backend).rerank_passages(
        QUERY, ["Lyon is big.", "France: its capital is Paris."]
    )
    assert ranked[0].details["candidate_index"] == 1 and backend.pairs[0][0].endswith(
        PASSAGE_PHRASE
    )
    assert ranked[0].params["phrase"] == PASSAGE_PHRASE


SOURCES = [
    "Cats sleep a lot.",
    "Dogs bark at night.",
    "The treaty was signed in Vienna.",
    "Rain fell in May.",
]


@pytest.mark.parametrize("method", ["linear", "binary", "exclusion"])
async def test_citation_search_finds_the_source(method):
    backend = KnownLogprobs()
    result = await TRLMScorer(backend).find_citation("treaty signed Vienna", SOURCES, method=method)
    assert result.best == 2
    assert all(c.endswith(CITATION_PHRASE) for c, _ in backend.pairs)
    expected_calls = {"linear": 4, "binary": 4, "exclusion": 5}[method]
    assert result.calls == expected_calls == len(backend.pairs)


async def test_backend_failure_is_an_error_judgment():
    class Broken:
        name = "fake/broken"

        async def target_logprobs(self, pairs):
            raise ValueError("target text has no tokens")

    j = await TRLMScorer(Broken()).evaluate(QUERY, "x")
    assert j.status == "error" and j.score is None and "no tokens" in j.reason


async def test_one_unscorable_item_fails_alone_not_its_batch():
    class LongTargetFails(KnownLogprobs):
        async def target_logprobs(self, pairs):
            if any("too long" in target for _, target in pairs):
                raise ValueError("target text is too long for the model")
            return await super().target_logprobs(pairs)

    # α < 1 scores S(A|Q) too: the response is a target (an empty one is invalid before any
    # call: tests/judges/test_unseen_trlm_blank.py)
    scorer = TRLMScorer(LongTargetFails(), alpha=0.5)
    judged = await scorer.score_many(
        [(QUERY, "Paris is the capital of France"), (QUERY, "an answer too long to score")]
    )
    assert [j.status for j in judged] == ["ok", "error"]
    assert judged[0].score is not None and "too long" in judged[1].reason


# --- a tiny random GPT-2 --------------------------------------------------------------------

CORPUS = [
    "the capital of france is paris",
    "paris is a large city in france",
    "the above answers the question",
    "dogs and cats are pets",
    "photosynthesis turns light into sugar in plants",
] * 20


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.train_from_iterator(
        CORPUS,
        trainers.BpeTrainer(
            vocab_size=300,
            special_tokens=["<|endoftext|>", "<unk>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        ),
    )
    from tokenizers import decoders

    tok.decoder = decoders.ByteLevel()
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<|endoftext|>",
        eos_token="<|endoftext|>",
        unk_token="<unk>",
    )
    torch.manual_seed(0)
    config = transformers.GPT2Config(
        n_layer=2,
        n_embd=64,
        n_head=2,
        vocab_size=fast.vocab_size,
        n_positions=128,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
    )
    model = transformers.GPT2LMHeadModel(config).eval()
    path = tmp_path_factory.mktemp("tiny-gpt2")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return model, fast, path


def manual_logprobs(model, tok, context: str, target: str, reverse: bool = False) -> list[float]:
    """One unbatched full forward pass. The text is tokenised as one piece (context ⊕ target;
    target ⊕ context read backwards for TRLM-Ba); the target is what follows the longest
    common prefix with the first part tokenised alone."""
    import torch

    first, second = (target, context) if reverse else (context, target)
    joint = tok(first + second, add_special_tokens=False)["input_ids"]
    alone = tok(first, add_special_tokens=False)["input_ids"]
    common = next(
        (i for i, (a, b) in enumerate(zip(joint, alone, strict=False)) if a != b),
        min(len(joint), len(alone)),
    )
    if reverse:
        ctx, tgt = joint[len(alone) :][::-1], joint[: len(alone)][::-1]
    else:
        ctx, tgt = joint[:common], joint[common:]
    ids = [tok.bos_token_id, *ctx, *tgt]
    with torch.inference_mode():
        logp = torch.log_softmax(model(torch.tensor([ids])).logits[0], -1)
    start = 1 + len(ctx)
    return [logp[start + i - 1, t].item() for i, t in enumerate(tgt)]


PAIRS = [
    ("paris is the capital of france" + DEFAULT_PHRASE, "the capital of france"),
    ("dogs" + DEFAULT_PHRASE, "what are pets"),
    (
        "photosynthesis turns light into sugar in plants and more plants" + DEFAULT_PHRASE,
        "how do plants make sugar",
    ),
]


def test_hf_batched_equals_unbatched_equals_manual(tiny_lm):
    from judgebench.judges import HFCausalLM

    model, tok, _ = tiny_lm
    batched = HFCausalLM(model, tok, batch_size=8, device="cpu").score_pairs(PAIRS)
    single = HFCausalLM(model, tok, batch_size=1, device="cpu").score_pairs(PAIRS)
    for b, s, (c, t) in zip(batched, single, PAIRS, strict=True):
        assert b == pytest.approx(s, abs=1e-4)
        assert b == pytest.approx(manual_logprobs(model, tok, c, t), abs=1e-4)


def test_hf_reversed_tokens_for_trlm_ba(tiny_lm):
    from judgebench.judges import HFCausalLM

    model, tok, _ = tiny_lm
    # TRLM-Ba pair: the conditioning phrase before the answer in reading order (Alg. 2)
    pair = ("\n\nanswer: paris is the capital of france", "the capital of france")
    rev = HFCausalLM(model, tok, reversed_tokens=True, device="cpu").score_pairs([pair])[0]
    assert rev == pytest.approx(manual_logprobs(model, tok, *pair, reverse=True), abs=1e-4)
    assert rev != pytest.approx(manual_logprobs(model, tok, *pair), abs=1e-4)


async def test_hf_path_scorer_reranks_and_truncates_long_context(tiny_lm):
    _, _, path = tiny_lm
    scorer = TRLMScorer(f"hf:{path}", device="cpu", batch_size=4)
    assert scorer.model == f"hf:{path}"
    long_answer = "paris is a large city in france " * 40  # far beyond 128 positions
    ranked = await scorer.rerank(
        "the capital of france", ["dogs", "paris is the capital of france", long_answer]
    )
    assert all(j.ok for j in ranked) and sorted(j.details["rank"] for j in ranked) == [1, 2, 3]
    assert all(j.details["reverse_tokens"] > 0 for j in ranked)


def test_hf_bad_path_is_a_one_line_config_error(tmp_path):
    from judgebench.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot load a causal LM"):
        TRLMScorer(f"hf:{tmp_path / 'nothing'}")


# --- the simulator's completions endpoint -------------------------------------------------------


async def test_sim_completions_in_process_prefers_the_on_topic_answer():
    scorer = TRLMScorer("sim/large")
    q = "How does photosynthesis turn light into chemical energy in plants?"
    ranked = await scorer.rerank(
        q,
        [
            "My favourite football team won on Sunday.",
            "Photosynthesis in plants captures light energy in chlorophyll and turns it into chemical energy stored as sugar.",
        ],
    )
    assert ranked[0].details["candidate_index"] == 1 and all(j.ok for j in ranked)


async def test_sim_server_http_completions_endpoint():
    from judgebench.config import settings_from_dict
    from judgebench.llm import Gateway, set_gateway
    from judgebench.sim.server import FaultConfig, ServerThread, SimServer

    server = SimServer(faults=FaultConfig(latency_ms=1))
    thread = ServerThread(server)
    thread.start()
    try:
        settings = settings_from_dict(
            {"models": {"sim/large": {"api_base": server.url, "timeout_s": 5}}}
        )
        set_gateway(Gateway(settings=settings))
        scorer = TRLMScorer("sim/large")
        q = "What is the capital city of France?"
        ranked = await scorer.rerank(
            q, ["Bananas are yellow fruit.", "The capital city of France is Paris."]
        )
        assert all(j.ok for j in ranked), [j.reason for j in ranked]
        assert ranked[0].details["candidate_index"] == 1
    finally:
        thread.stop()


# --- the packed (GPU) fast path == the simple path, on the CPU -------------------------------


def tiny_llama(vocab: int, bos: int):
    import torch
    import transformers

    torch.manual_seed(1)
    config = transformers.LlamaConfig(
        vocab_size=vocab,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=128,
        bos_token_id=bos,
    )
    return transformers.LlamaForCausalLM(config).eval()


@pytest.mark.parametrize("shape", ["gpt2", "llama"])
@pytest.mark.parametrize("reverse", [False, True])
def test_packed_path_equals_simple_path(tiny_lm, shape, reverse):
    from judgebench.judges import HFCausalLM

    gpt2, tok, _ = tiny_lm
    model = gpt2 if shape == "gpt2" else tiny_llama(len(tok), tok.bos_token_id)
    words = " ".join(CORPUS[:5]).split()
    # 23 pairs of varied lengths, some cut at the model's 128 positions
    pairs = [
        (
            " ".join(words[: 3 + 7 * i]) * (1 + i // 8) + DEFAULT_PHRASE,
            " ".join(words[i : i + 2 + i % 5]),
        )
        for i in range(23)
    ]
    simple = HFCausalLM(model, tok, batch_size=4, device="cpu", reversed_tokens=reverse)
    packed = HFCausalLM(
        model, tok, device="cpu", reversed_tokens=reverse, packed=True, max_tokens=512
    )
    packed.chunk_pairs = 10  # three tokenised chunks, several batches each
    assert packed.packed and not simple.packed
    expected = simple.score_simple(pairs)
    got = packed.score_pairs(pairs)
    assert [len(g) for g in got] == [len(e) for e in expected]
    for g, e in zip(got, expected, strict=True):
        assert g == pytest.approx(e, abs=1e-4)


def test_models_with_logit_scaling_keep_the_simple_path(tiny_lm):
    from judgebench.judges import HFCausalLM

    model, tok, _ = tiny_lm
    model.config.logit_scale = 0.5
    try:
        assert not HFCausalLM(model, tok, device="cpu", packed=True).packed
    finally:
        del model.config.logit_scale
