"""SentimentHead: trains on real (tiny) multilingual text, language-gated blend, safe save/load."""

from __future__ import annotations

import numpy as np
import pytest

from triage.errors import InputError, NotFittedError
from triage.models import ModelIntegrityError
from triage.sentiment import SentimentHead

DATA = [
    ("en", "I love this, thank you so much, it works perfectly", 2),
    ("en", "Great service, very happy with the quick fix", 2),
    ("en", "Wonderful support team, excellent experience", 2),
    ("en", "Amazing, everything is fine now, thanks a lot", 2),
    ("en", "The invoice is attached to this message", 1),
    ("en", "My order number is 12345", 1),
    ("en", "The office opens at nine on Mondays", 1),
    ("en", "I changed my address last week", 1),
    ("en", "This is terrible, nothing works and nobody helps", 0),
    ("en", "Worst service ever, I am furious", 0),
    ("en", "Awful experience, I want my money back", 0),
    ("en", "I hate this app, it keeps crashing", 0),
    ("de", "Vielen Dank, alles funktioniert wunderbar", 2),
    ("de", "Toller Service, ich bin sehr zufrieden", 2),
    ("de", "Super, das Problem ist gelöst, danke", 2),
    ("de", "Hervorragende Hilfe, sehr freundlich", 2),
    ("de", "Die Rechnung liegt im Anhang", 1),
    ("de", "Meine Kundennummer ist 4711", 1),
    ("de", "Das Paket wurde am Dienstag verschickt", 1),
    ("de", "Ich wohne jetzt in Berlin", 1),
    ("de", "Eine Frechheit, nichts funktioniert", 0),
    ("de", "Schrecklicher Service, ich bin wütend", 0),
    ("de", "Ich bin sehr enttäuscht und verärgert", 0),
    ("de", "Katastrophe, die App stürzt ständig ab", 0),
]


@pytest.fixture(scope="module")
def trained(encoder):
    texts = [t for _, t, _ in DATA]
    emb = encoder.encode(texts, kind="query")
    head = SentimentHead(C=(1.0,), folds=2, weights=(0.5, 1.0)).fit(
        texts, [y for *_, y in DATA], embeddings=emb, languages=[lang for lang, _, _ in DATA]
    )
    return head, texts, emb


@pytest.mark.slow
def test_fit_predicts_calibrated_probabilities(trained, encoder) -> None:
    head, texts, emb = trained
    proba = head.predict_proba(texts, embeddings=emb, languages=[lang for lang, _, _ in DATA])
    assert proba.shape == (len(DATA), 3)
    assert np.allclose(proba.sum(1), 1.0)
    assert (proba.argmax(1) == np.array([y for *_, y in DATA])).mean() >= 0.8
    new = ["Thank you, you are wonderful!", "Das ist eine Katastrophe, ich bin wütend!"]
    got = head.predict_proba(new, embeddings=encoder.encode(new, kind="query"), languages=["en", "de"])
    assert got.argmax(1).tolist() == [2, 0]
    assert head.weight_ in (0.5, 1.0) and head.temperature_ > 0
    assert head.lexical_languages_ == ["de", "en"]


@pytest.mark.slow
def test_lexical_head_is_gated_by_language(trained) -> None:
    head, texts, emb = trained
    head.weight_ = 0.5  # force a blend so the gate is visible
    unknown = head.predict_proba(texts[:3], embeddings=emb[:3], languages=["hu", None, "ru"])
    none = head.predict_proba(texts[:3], embeddings=emb[:3], languages=None)
    known = head.predict_proba(texts[:3], embeddings=emb[:3], languages=["en"] * 3)
    assert np.allclose(unknown, none)
    assert not np.allclose(known, none)


@pytest.mark.slow
def test_save_load_round_trip_and_tamper_check(trained, tmp_path) -> None:
    head, texts, emb = trained
    langs = [lang for lang, _, _ in DATA]
    path = head.save(tmp_path / "sent", metrics={"note": "test"}, card="# card\n")
    files = {p.name for p in path.iterdir()}
    assert {
        "config.json",
        "manifest.json",
        "lexical.npz",
        "lexical_vocab.json",
        "embedding",
        "metrics.json",
        "MODEL_CARD.md",
    } <= files
    assert not any(p.suffix in {".pkl", ".pickle", ".joblib"} for p in path.rglob("*"))
    loaded = SentimentHead.load(path)
    assert np.allclose(
        loaded.predict_proba(texts, embeddings=emb, languages=langs),
        head.predict_proba(texts, embeddings=emb, languages=langs),
        atol=2e-3,  # lexical weights are stored as float16
    )
    with open(path / "lexical.npz", "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelIntegrityError):
        SentimentHead.load(path)


def test_unfitted_and_bad_input_errors() -> None:
    with pytest.raises(NotFittedError):
        SentimentHead().predict_proba(["x"], embeddings=np.zeros((1, 384)))
    with pytest.raises(InputError, match="texts"):
        SentimentHead().fit(["a", "b"], [0, 1], embeddings=np.zeros((3, 384)), languages=["en", "en"])


def test_head_is_an_estimator_with_declared_parameters() -> None:
    from sklearn.base import clone

    head = SentimentHead(C=(0.5, 2.0), folds=3)
    assert set(SentimentHead._parameter_constraints) == set(head.get_params())
    twin = clone(head)
    assert twin.get_params() == head.get_params() and not hasattr(twin, "embedding_")
    with pytest.raises(InputError, match=r"folds=1 .* an int >= 2"):
        SentimentHead(folds=1).fit(["a", "b"], [0, 1], embeddings=np.zeros((2, 8)), languages=["en", "en"])
    with pytest.raises(InputError, match=r"weights=\(1.5,\)"):
        SentimentHead(weights=(1.5,)).fit(["a"], [0], embeddings=np.zeros((1, 8)), languages=["en"])


@pytest.mark.slow
def test_predict_takes_one_text_or_a_list_and_encodes_when_not_given(trained, encoder) -> None:
    head, texts, emb = trained
    head.embedding_.set_params(encoder=encoder)  # the head's own encoder is the shared default one
    one = head.predict_proba(texts[0], embeddings=emb[0], languages="en")
    assert one.shape == (1, 3)
    np.testing.assert_allclose(one, head.predict_proba(texts[:1], embeddings=emb[:1], languages=["en"]))
    np.testing.assert_allclose(
        head.predict_proba(texts[:3], languages="en"),
        head.predict_proba(texts[:3], embeddings=emb[:3], languages=["en"] * 3),
        atol=1e-5,
    )
    labels = head.predict(texts, embeddings=emb, languages=[lang for lang, _, _ in DATA])
    assert labels.tolist() == [
        ["negative", "neutral", "positive"][i]
        for i in head.predict_proba(texts, embeddings=emb, languages=[lang for lang, _, _ in DATA]).argmax(1)
    ]
    assert head.predict("Thank you, you are wonderful!", languages="en").tolist() == ["positive"]
