"""Transformers (Marian) and CTranslate2 backends on a tiny randomly initialised model built in the test.

The weights are random, so the output is gibberish; what is checked is the real loading, tokenisation,
batching, truncation, routing (pivot through English) and caching code.
"""

from __future__ import annotations

import io
import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
spm = pytest.importorskip("sentencepiece")

pytestmark = pytest.mark.slow

CORPUS = [
    "a rendelésem nem érkezett meg",
    "kérem segítsenek",
    "a számla hibás",
    "nem tudok bejelentkezni",
    "my order has not arrived",
    "please help me",
    "the invoice is wrong",
    "I cannot log in",
] * 4


def build_tiny_marian(folder, *, with_pair_file: bool = False):
    """Save a random 1-layer Marian model with a real sentencepiece tokenizer trained on CORPUS."""
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS),
        model_writer=proto,
        vocab_size=60,
        model_type="unigram",
        character_coverage=1.0,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
        pad_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    for name in ("source.spm", "target.spm"):
        (folder / name).write_bytes(proto.getvalue())
    processor = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    pieces = (
        ["</s>", "<unk>"]
        + [processor.id_to_piece(i) for i in range(1, processor.get_piece_size())]
        + ["<pad>"]
    )
    vocab = {piece: i for i, piece in enumerate(pieces)}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = MarianTokenizer(
        str(folder / "source.spm"),
        str(folder / "target.spm"),
        str(folder / "vocab.json"),
        model_max_length=64,
    )
    config = MarianConfig(
        vocab_size=len(vocab),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=vocab["<pad>"],
        eos_token_id=vocab["</s>"],
        decoder_start_token_id=vocab["<pad>"],
        forced_eos_token_id=None,  # so that a length cap means the same in transformers and CTranslate2
    )
    torch.manual_seed(0)
    model = MarianMTModel(config)
    model.generation_config.num_beams = 1
    model.save_pretrained(str(folder))
    tokenizer.save_pretrained(str(folder))
    if with_pair_file:
        (folder / "triage_translation.json").write_text('{"source": "hu", "target": "en"}', encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def marian_dir(tmp_path_factory):
    return build_tiny_marian(tmp_path_factory.mktemp("models") / "opus-mt-hu-en")


def test_marian_folder_name_gives_the_pair_and_translates_in_batches(marian_dir):
    from triage.translate import TransformersBackend, load_backend

    backend = load_backend(marian_dir)
    assert isinstance(backend, TransformersBackend) and backend.family == "marian"
    assert backend.pairs() == {("hu", "en")}
    backend.num_beams, backend.max_new_tokens = 1, 8
    sentences = ["a számla hibás", "kérem segítsenek " * 40, "nem tudok bejelentkezni", "a rendelésem"]
    backend.batch_size = 2
    batched = backend.translate_batch(sentences, "hu", "en")
    assert len(batched) == 4 and all(isinstance(t, str) for t in batched)
    one_by_one = [backend.translate_batch([s], "hu", "en")[0] for s in sentences]
    assert batched == one_by_one  # sorting by length and padding do not change or reorder outputs
    with pytest.raises(ValueError, match="does not translate"):
        backend.translate_batch(["x"], "en", "hu")


def test_marian_without_a_pair_name_needs_source_and_target(tmp_path, marian_dir):
    import shutil

    from triage.errors import ModelNotAvailableError
    from triage.translate import load_backend

    plain = tmp_path / "my-model"
    shutil.copytree(marian_dir, plain)
    with pytest.raises(ModelNotAvailableError, match="pass source= and target="):
        load_backend(plain)
    assert load_backend({"path": str(plain), "source": "hu", "target": "en"}).pairs() == {("hu", "en")}
    (plain / "triage_translation.json").write_text('{"source": "hun", "target": "eng"}', encoding="utf-8")
    assert load_backend(plain).pairs() == {("hu", "en")}


def test_translator_pivots_hu_to_pt_through_english_and_caches(marian_dir):
    from triage.translate import Translator

    translator = Translator([{"path": str(marian_dir), "max_new_tokens": 8}], per_sentence_language=False)
    hops = translator.route("hu", "pt")
    assert [(b.name.split(":")[0], s, t) for b, s, t in hops] == [
        ("marian", "hu", "en"),
        ("bergamot", "en", "pt"),
    ]
    text = "A számla hibás.\nKérem segítsenek."
    result = translator.translate(text, target="pt", source="hu")
    assert result.pivot_language == "en" and result.backend == "marian:opus-mt-hu-en+bergamot"
    assert result.original == text and result.text.count("\n") == 1
    misses = translator.cache_misses
    assert translator.translate(text, target="pt", source="hu").text == result.text
    assert translator.cache_misses == misses  # every sentence and hop came from the cache


def test_pipeline_uses_the_configured_model_folder(marian_dir):
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    config = TriageConfig(
        steps=["normalize", "language", "translate"],
        options={
            "translate": {
                "models": [{"path": str(marian_dir), "max_new_tokens": 8}],
                "bundled": False,
                "quality": False,
            }
        },
    )
    hu, ru = Triager(config)(
        [
            "Jó napot! A rendelésem nem érkezett meg, és a számla is hibás. Kérem, segítsenek!",
            "Здравствуйте! Мой заказ не пришёл, и счёт тоже неправильный. Помогите, пожалуйста!",
        ]
    )
    assert hu.language == "hu" and hu.translation is not None and hu.translation.backend.startswith("marian")
    assert hu.translation.quality is None
    assert ru.translation is None and ru.errors[0].type == "TranslationUnavailable"


def test_ctranslate2_conversion_of_the_same_model_translates_like_transformers(marian_dir, tmp_path):
    ctranslate2 = pytest.importorskip("ctranslate2")
    from ctranslate2.converters import TransformersConverter

    from triage.translate import CTranslate2Backend, load_backend

    out = tmp_path / "ct2-hu-en"
    TransformersConverter(str(marian_dir), copy_files=["source.spm", "target.spm"]).convert(
        str(out), force=True
    )
    (out / "triage_translation.json").write_text('{"source": "hu", "target": "en"}', encoding="utf-8")
    backend = load_backend(out)
    assert isinstance(backend, CTranslate2Backend) and backend.pairs() == {("hu", "en")}
    backend.beam_size, backend.max_new_tokens = 1, 8
    sentences = ["a számla hibás", "nem tudok bejelentkezni", "kérem segítsenek"]
    got = backend.translate_batch(sentences, "hu", "en")
    reference = load_backend(marian_dir)
    reference.num_beams, reference.max_new_tokens = 1, 8
    assert got == reference.translate_batch(sentences, "hu", "en")
    assert ctranslate2.__version__
