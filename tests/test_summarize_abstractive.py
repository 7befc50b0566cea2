"""The abstractive backend on tiny randomly initialised T5 and BART models built in the test (no hub).

Random weights give gibberish; what is checked is the real loading (config, tokenizer, weights from a local
folder), the T5 prefix, batching by length, input truncation, the generation length bound, the fallback to the
extractive summary, and the pipeline wiring.
"""

from __future__ import annotations

import pytest

from triage.schema import Ticket
from triage.summarize import Part, ticket_parts

pytest.importorskip("torch")
pytest.importorskip("transformers")

pytestmark = pytest.mark.slow

WORDS = (
    "customer cannot log in to the account since the update agent reset password and sent a new link order "
    "has not arrived invoice is wrong refund please help thanks error app crashes"
).split()


def _tokenizer(max_length: int):
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {
        tok: i
        for i, tok in enumerate(["<pad>", "</s>", "<unk>", "<s>", "summarize", ":", *dict.fromkeys(WORDS)])
    }
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), pre_tokenizers.Punctuation()])
    core.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token="<pad>",
        eos_token="</s>",
        unk_token="<unk>",
        bos_token="<s>",
        model_max_length=max_length,
    )


def build_tiny_seq2seq(folder, kind: str = "t5", max_length: int = 24):
    """Save a random 1-layer T5 or BART with a word-level tokenizer; specials are suppressed in generation."""
    import torch
    from transformers import BartConfig, BartForConditionalGeneration, T5Config, T5ForConditionalGeneration

    tokenizer = _tokenizer(max_length)
    size = len(tokenizer)
    torch.manual_seed(0)
    if kind == "t5":
        config = T5Config(
            vocab_size=size,
            d_model=16,
            d_ff=32,
            num_layers=1,
            num_decoder_layers=1,
            num_heads=2,
            d_kv=8,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
        model = T5ForConditionalGeneration(config)
    else:
        config = BartConfig(
            vocab_size=size,
            d_model=16,
            encoder_layers=1,
            decoder_layers=1,
            encoder_attention_heads=2,
            decoder_attention_heads=2,
            encoder_ffn_dim=32,
            decoder_ffn_dim=32,
            max_position_embeddings=64,
            pad_token_id=0,
            eos_token_id=1,
            bos_token_id=3,
            decoder_start_token_id=1,
            forced_eos_token_id=None,
        )
        model = BartForConditionalGeneration(config)
    model.generation_config.suppress_tokens = [0, 2, 3]  # never emit pad/unk/bos: readable random words
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    return folder


@pytest.fixture(scope="module")
def t5_dir(tmp_path_factory):
    return build_tiny_seq2seq(tmp_path_factory.mktemp("sum") / "tiny-t5", "t5")


@pytest.fixture(scope="module")
def bart_dir(tmp_path_factory):
    return build_tiny_seq2seq(tmp_path_factory.mktemp("sum") / "tiny-bart", "bart", max_length=64)


LONG = " ".join(WORDS * 3)  # ~100 tokens, over the 24-token window


def test_t5_generate_batches_truncates_and_bounds_length(t5_dir):
    from triage.summarize import AbstractiveSummarizer

    summarizer = AbstractiveSummarizer(
        t5_dir, max_input_tokens=512, max_new_tokens=6, min_new_tokens=2, num_beams=1, batch_size=2
    )
    texts = ["customer cannot log in", "", LONG, "order has not arrived", "refund please"]
    out = summarizer.generate(texts)
    assert summarizer._prefix == "summarize: "  # the T5 convention, from the model type
    assert summarizer.input_limit == 24  # the tokenizer's own limit wins over max_input_tokens
    assert [o.truncated for o in out] == [False, False, True, False, False]
    assert out[1].text == "" and out[2].input_tokens == 24
    tok = summarizer._tokenizer
    for o in (out[0], out[2], out[3], out[4]):
        n = len(tok(o.text, add_special_tokens=False)["input_ids"])
        assert 2 <= n <= 6 and all(w in WORDS or w in ("summarize", ":") for w in o.text.split())
    alone = [summarizer.generate([t])[0].text for t in texts]
    assert alone == [o.text for o in out]  # batching and length-sorting do not change or reorder outputs


def test_bart_through_summarizer_keeps_structured_fields(bart_dir):
    from triage.summarize import Summarizer

    summarizer = Summarizer(
        method="abstractive",
        model=bart_dir,
        centrality="lexical",
        abstractive_options={"max_new_tokens": 5, "num_beams": 2},
    )
    ticket = {
        "messages": [
            {
                "role": "customer",
                "text": "I cannot log in since the update. Error 403 every time. Please help.",
            },
            {"role": "agent", "text": "We have reset your password and sent a new link."},
        ]
    }
    summaries, notes = summarizer.summarize_parts_with_notes([ticket_parts(Ticket(**ticket))])
    summary = summaries[0]
    assert summary.method == "abstractive" and summary.text and notes == [None]
    assert summary.problem is not None and summary.status is not None and summary.status.role == "agent"
    assert ("error_code", "Error 403") in {(f.kind, f.text) for f in summary.facts}


def test_fallback_to_extractive_when_the_model_cannot_load(tmp_path, t5_dir):
    import shutil

    from triage.summarize import Summarizer

    broken = tmp_path / "broken"
    shutil.copytree(t5_dir, broken)
    summarizer = Summarizer(method="abstractive", model=broken, centrality="lexical")
    (broken / "model.safetensors").unlink()  # loading is lazy: it fails at the first batch
    summaries, notes = summarizer.summarize_parts_with_notes(
        [[Part("My order has not arrived. Please help.")]]
    )
    assert (
        summaries[0].method == "extractive" and summaries[0].text == "My order has not arrived. Please help."
    )
    assert notes[0] and "extractive used" in notes[0]


def test_wrong_or_missing_model_folders_are_clear_errors(tmp_path):
    from transformers import BertConfig

    from triage.errors import ModelNotAvailableError
    from triage.summarize import AbstractiveSummarizer

    with pytest.raises(ModelNotAvailableError, match="save_pretrained"):
        AbstractiveSummarizer(tmp_path / "missing")
    encoder_only = tmp_path / "bert"
    BertConfig(
        vocab_size=10, hidden_size=8, num_hidden_layers=1, num_attention_heads=2, intermediate_size=8
    ).save_pretrained(str(encoder_only))
    with pytest.raises(ModelNotAvailableError, match="not an encoder-decoder"):
        AbstractiveSummarizer(encoder_only).generate(["text"])
    with pytest.raises(ValueError, match="min_new_tokens"):
        AbstractiveSummarizer(tmp_path, min_new_tokens=10, max_new_tokens=5)


def test_pipeline_abstractive_option_and_truncation_warning(t5_dir):
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    config = TriageConfig(
        steps=["normalize", "summarize"],
        options={
            "summarize": {
                "method": "abstractive",
                "model": str(t5_dir),
                "centrality": "lexical",
                "abstractive": {"max_new_tokens": 4, "num_beams": 1},
            }
        },
    )
    short, long = Triager(config)(["The app crashes after the update. Please help.", LONG + "."])
    assert short.summary.method == "abstractive" and short.summary.text and not short.warnings
    assert long.summary.method == "abstractive"
    assert any("cut to the model's first 24 tokens" in w for w in long.warnings)
