"""Translation: language codes, routing, cache, quality flag, errors, and the real bundled en<->pt model."""

from __future__ import annotations

import pytest

from triage.errors import InputError, ModelNotAvailableError
from triage.translate import TranslationUnavailable, Translator, load_backend, nllb_code, normalize_language
from triage.translate.translator import _repeats


class CountingBackend:
    """Wraps a real backend and counts the sentences it is asked to translate."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[list[str]] = []

    def pairs(self):
        return self.inner.pairs()

    def translate_batch(self, sentences, source, target):
        self.calls.append(list(sentences))
        return self.inner.translate_batch(sentences, source, target)


@pytest.fixture(scope="module")
def bergamot():
    return load_backend("bergamot")


def test_language_codes():
    assert normalize_language("pt-BR") == "pt"
    assert normalize_language("pt_br") == "pt"
    assert normalize_language("por") == "pt"
    assert normalize_language("por_Latn") == "pt"
    assert normalize_language("__hu__") == "hu"
    assert normalize_language(">>deu<<") == "de"
    assert normalize_language("EN") == "en"
    assert nllb_code("hu") == "hun_Latn" and nllb_code("ru") == "rus_Cyrl"
    with pytest.raises(ValueError, match="non-empty"):
        normalize_language(" ")


def test_bundled_pairs_and_unavailable_pair_names_it(bergamot):
    translator = Translator([], bundled=True)
    assert translator.available_pairs() == [("en", "pt"), ("pt", "en")]
    with pytest.raises(TranslationUnavailable) as info:
        translator.translate("Nem működik a bejelentkezés, kérem segítsenek.", target="en", source="hu")
    message = str(info.value)
    assert "hu->en" in message and "en->pt" in message and "opus-mt" in message and "models=[DIR]" in message
    assert info.value.source == "hu" and info.value.target == "en"
    assert not translator.can_translate("ru", "de")


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotAvailableError, match="not found"):
        load_backend(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotAvailableError, match="neither a CTranslate2"):
        load_backend(tmp_path / "empty")


@pytest.mark.slow
def test_bergamot_pt_en_real_translation_keeps_original_and_layout(bergamot):
    translator = Translator([bergamot], bundled=False)
    text = "Olá!\nO meu pedido não chegou e já se passaram duas semanas. Podem me ajudar?"
    result = translator.translate(text, target="en", source="pt")
    assert result.original == text
    assert result.source_language == "pt" and result.target_language == "en" and result.backend == "bergamot"
    assert result.text.count("\n") == 1  # line structure kept
    lower = result.text.lower()
    assert "two weeks" in lower and "help" in lower and "arrive" in lower
    back = translator.translate_reply("Thank you for your patience, we have sent a new package.", to="pt-BR")
    assert back.source_language == "en" and back.target_language == "pt"
    assert "paciência" in back.text.lower()


@pytest.mark.slow
def test_cache_translates_each_sentence_once(bergamot):
    counting = CountingBackend(bergamot)
    translator = Translator([counting], bundled=False, per_sentence_language=False)
    texts = ["Obrigado pela ajuda. O problema continua.", "O problema continua. Obrigado pela ajuda."]
    first = translator.translate(texts, target="en", source="pt")
    assert sum(len(c) for c in counting.calls) == 2  # two distinct sentences across both texts, one batch
    assert len(counting.calls) == 1
    again = translator.translate(texts[0], target="en", source="pt")
    assert sum(len(c) for c in counting.calls) == 2 and translator.cache_hits >= 2
    assert again.text == first[0].text


@pytest.mark.slow
def test_mixed_language_text_keeps_target_language_sentences(bergamot):
    translator = Translator([bergamot], bundled=False)
    english = "The payment was declined by the issuing bank yesterday evening."
    text = f"O meu cartão foi recusado na loja. {english}"
    result = translator.translate(text, target="en", source="pt")
    assert result.text.endswith(english)
    assert "card" in result.text.lower()


def test_empty_and_same_language_texts_are_identity(bergamot):
    translator = Translator([bergamot], bundled=False)
    out = translator.translate(["", "Where is my order?"], target="en", source=[None, "en"])
    assert [t.backend for t in out] == ["identity", "identity"]
    assert out[1].text == "Where is my order?" and out[1].original == "Where is my order?"


def test_huge_and_undetectable_inputs_are_clear_errors(bergamot):
    translator = Translator([bergamot], bundled=False, max_chars=10_000)
    with pytest.raises(InputError, match="max_chars"):
        translator.translate("Olá. " * 1_000_000, target="en", source="pt")  # 5 MB
    with pytest.raises(InputError, match="pass source="):
        translator.translate("12345 ???", target="en")
    with pytest.raises(InputError, match="source languages"):
        translator.translate(["a", "b"], target="en", source=["pt"])


def test_repetition_detector_and_review_flag_without_encoder():
    assert _repeats("the the the " * 6)
    assert not _repeats("My order did not arrive and I would like a refund, please.")
    translator = Translator([], bundled=False)
    source = "O meu pedido não chegou e preciso dele com urgência para o trabalho de amanhã."
    assert not translator.needs_review(
        source, "My order has not arrived and I urgently need it for work.", "pt", "en", None
    )
    assert translator.needs_review(
        source, "My order has not arrived.", "pt", "en", None
    )  # half of it dropped
    assert translator.needs_review(source, "order order order order " * 5, "pt", "en", None)
    assert translator.needs_review(
        source, "My order has not arrived and I urgently need it for work.", "pt", "en", -0.05
    )  # low cross-lingual agreement


@pytest.mark.slow
def test_quality_score_separates_faithful_from_wrong_output(bergamot, encoder):
    translator = Translator([bergamot], bundled=False, encoder=encoder)
    sources = ["O meu pedido não chegou e preciso dele com urgência para o trabalho."] * 3
    outputs = [
        "My order has not arrived and I urgently need it for work.",
        "The museum is closed on Mondays and public holidays.",
        "Please find attached the minutes of the meeting held last week.",
    ]
    good, bad1, bad2 = translator.quality(sources, outputs)
    assert good > translator.quality_threshold
    assert good > bad1 + 0.05 and good > bad2 + 0.05
    result = translator.translate(sources[0], target="en", source="pt")
    assert result.quality is not None and result.quality > translator.quality_threshold
    assert not result.needs_review


@pytest.mark.slow
def test_pipeline_translate_step_records_unavailable_pairs_and_carries_on(encoder):
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    config = TriageConfig(steps=["normalize", "language", "encode", "translate"], agent_language="en")
    triager = Triager(config, encoder=encoder)
    tickets = [
        {"id": "pt", "body": "Olá, o meu pedido não chegou. Podem verificar o que aconteceu, por favor?"},
        {"id": "en", "body": "Hello, my order did not arrive. Can you check what happened?"},
        {
            "id": "ru",
            "body": "Здравствуйте, мой заказ так и не пришёл. Проверьте, пожалуйста, что случилось.",
        },
        {"id": "und", "body": "12345 67890"},
    ]
    pt, en, ru, und = triager(tickets)
    assert pt.translation is not None and pt.translation.backend == "bergamot"
    assert "order" in pt.translation.text.lower() or "request" in pt.translation.text.lower()
    assert (
        pt.translation.original == "Olá, o meu pedido não chegou. Podem verificar o que aconteceu, por favor?"
    )
    assert pt.translation.quality is not None and not pt.errors
    assert en.translation is None and not en.errors
    assert ru.translation is None
    assert [e.type for e in ru.errors] == ["TranslationUnavailable"] and "ru->en" in ru.errors[0].message
    assert und.translation is None and any("undetermined" in w for w in und.warnings)
    assert "translate" in pt.timings_ms


def test_translate_step_rejects_unknown_options():
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    config = TriageConfig(steps=["normalize", "language", "translate"], options={"translate": {"modles": []}})
    with pytest.raises(ValueError, match="unknown translate options"):
        Triager(config).steps  # noqa: B018 - building the steps is what raises


def test_cli_translation_pairs_and_translate():
    import json

    from typer.testing import CliRunner

    from triage.cli import app

    runner = CliRunner()
    pairs = runner.invoke(app, ["translation-pairs"])
    assert pairs.exit_code == 0, pairs.output
    assert "pt->en" in json.loads(pairs.stdout)["pairs"]
    out = runner.invoke(app, ["translate", "Obrigado pela ajuda!", "--to", "en", "--from", "pt"])
    assert out.exit_code == 0, out.output
    assert "thank" in json.loads(out.stdout)["text"].lower()
    bad = runner.invoke(app, ["translate", "Спасибо за помощь!", "--to", "de", "--from", "ru"])
    assert bad.exit_code == 2 and "ru->de" in bad.output
