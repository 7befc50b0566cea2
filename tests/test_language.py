from __future__ import annotations

import pytest

from triage.language import LanguageDetector

TEXTS = {
    "en": "I have been charged twice for my subscription this month, please refund one payment.",
    "de": "Ich wurde diesen Monat zweimal für mein Abonnement belastet, bitte erstatten Sie eine Zahlung.",
    "hu": "Ebben a hónapban kétszer vonták le az előfizetésem díját, kérem, térítsék vissza az egyiket.",
    "ru": "В этом месяце с меня дважды списали плату за подписку, пожалуйста, верните один платёж.",
    "fr": "J'ai été débité deux fois pour mon abonnement ce mois-ci, merci de rembourser un paiement.",
    "es": "Me han cobrado dos veces la suscripción este mes, por favor devuelvan uno de los pagos.",
}


@pytest.fixture(scope="module")
def detector():
    return LanguageDetector()


@pytest.mark.parametrize("lang", sorted(TEXTS))
def test_detects_ticket_languages(detector, lang):
    guess = detector.detect(TEXTS[lang])
    assert guess.language == lang
    assert guess.confidence > 0.8


@pytest.mark.parametrize(
    "text", ["", "   ", "🙂🙂🙂🔥", "12345 678 !!!", "\x00\x01\x02\xff\xfe", "ok", "asdkjh qwe"]
)
def test_garbage_or_too_short_is_und(detector, text):
    guess = detector.detect(text)
    assert guess.language == "und"
    assert guess.confidence < 0.5


def test_repeatable(detector):
    text = "Hola, no puedo entrar"
    assert len({detector.detect(text) for _ in range(5)}) == 1


def test_restrict_languages(detector):
    restricted = LanguageDetector(languages=["en", "de"])
    assert restricted.detect(TEXTS["hu"]).language == "und"
    assert restricted.detect(TEXTS["de"]).language == "de"


def test_batch_call(detector):
    assert [g.language for g in detector([TEXTS["ru"], TEXTS["fr"]])] == ["ru", "fr"]


def test_pii_placeholders_do_not_vote(detector):
    text = "Kérem hívjanak vissza a <PHONE_1> számon vagy írjanak a <EMAIL_1> címre, köszönöm."
    assert detector.detect(text).language == "hu"


# --- fastText decides alone when langdetect's vote cannot change the answer --------------------------------
MIXED = {
    "ru": "Заказ ORD-1234 для iPhone 15 Pro до сих пор не доставлен, помогите пожалуйста с доставкой.",
    "de": "Mein MacBook Pro zeigt seit dem Update auf macOS 15 den Fehler E-1002 beim Start.",
    "hu": "A Samsung Galaxy S24 telefonom nem kapcsol be a szoftverfrissítés után, kérem segítsenek.",
}


def _full_vote(detector: LanguageDetector, monkeypatch: pytest.MonkeyPatch, text: str):
    """The answer with both detectors always voting (the behaviour before the fastText-alone shortcut)."""
    with monkeypatch.context() as patch:
        patch.setattr(detector, "_fasttext_alone", lambda fast, scripts: None)
        return detector.detect(text)


SHORTCUT_TEXTS = [
    *TEXTS.values(),
    *MIXED.values(),
    "Hola, no puedo entrar",
    "ok thanks",
    "Bonjour",
    "asdkjh qwe zxcv",
    "Merci beaucoup pour votre aide rapide",
    "Danke",
    "Спасибо",
    "obrigado pela ajuda, o pedido chegou",
    "I am waiting",
    "kérem",
]


@pytest.mark.parametrize("text", SHORTCUT_TEXTS)
def test_answer_is_the_full_votes(detector, monkeypatch, text):
    assert detector.detect(text).language == _full_vote(detector, monkeypatch, text).language


@pytest.mark.parametrize("min_confidence", [0.3, 0.5, 0.7, 0.9])
def test_answer_is_the_full_votes_at_any_threshold(monkeypatch, min_confidence):
    detector = LanguageDetector(min_confidence=min_confidence)
    for text in SHORTCUT_TEXTS:
        assert detector.detect(text).language == _full_vote(detector, monkeypatch, text).language, text


def test_confident_text_does_not_ask_langdetect(detector, monkeypatch):
    def refuse(text: str) -> dict[str, float]:
        raise AssertionError("langdetect asked although fastText alone decides")

    monkeypatch.setattr(detector, "_langdetect", refuse)
    guess = detector.detect(TEXTS["de"])
    assert guess.language == "de" and guess.confidence >= 0.9


def test_unsure_text_still_asks_langdetect(detector, monkeypatch):
    asked: list[str] = []
    original = detector._langdetect

    def spy(text: str) -> dict[str, float]:
        asked.append(text)
        return original(text)

    monkeypatch.setattr(detector, "_langdetect", spy)
    texts = ["Hola, no puedo entrar", "ok thanks", "Danke", "asdkjh qwe zxcv", "I am waiting"]
    for text in texts:
        detector.detect(text)
    assert asked  # at least one of these short texts is left to the vote


@pytest.mark.parametrize("lang", sorted(MIXED))
def test_mixed_scripts_and_product_names(detector, lang):
    assert detector.detect(MIXED[lang]).language == lang


def test_latin_gibberish_is_never_an_asian_language(detector):
    for text in ["xqzv bnmk wrtp", "hjkl qwrt zxcv bnm", "aaaa bbbb cccc"]:
        assert detector.detect(text).language not in {"ja", "zh", "ko", "th"}


def test_sample_backlog_languages(detector, sample_tickets):
    from triage.schema import Ticket

    answers = [detector.detect(Ticket.model_validate(t).customer_text).language for t in sample_tickets]
    assert answers == [t["metadata"]["expected_language"] for t in sample_tickets]


def test_warm_up_loads_langdetect_before_the_first_vote():
    detector = LanguageDetector()
    detector.warm_up()
    assert detector._langdetect_factory is not None
    assert detector.detect(TEXTS["fr"]).language == "fr"


def test_detect_takes_one_text_or_a_list(detector):
    one = detector.detect(TEXTS["de"])
    many = detector.detect([TEXTS["de"], TEXTS["hu"], ""])
    assert isinstance(many, list) and many[0] == one
    assert [g.language for g in many] == ["de", "hu", "und"]
    assert detector.detect_many((TEXTS["de"], TEXTS["hu"], "")) == many
    assert detector.detect([]) == []
    assert detector.detect(None).language == "und"  # type: ignore[call-overload]
