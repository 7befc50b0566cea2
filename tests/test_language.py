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
