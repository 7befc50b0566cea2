"""SetFit-style fine-tuning of multilingual-e5-small for a classifier head (``fine_tune=True``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from triage.errors import InputError

# Four queues, eight short requests each, in several languages (training) ...
TRAIN = {
    "billing": [
        "I was charged twice for my subscription this month",
        "Please refund the duplicate payment on my card",
        "Why is my invoice higher than the price on the website?",
        "Die Rechnung ist falsch, ich wurde doppelt belastet",
        "Kétszer vonták le a havidíjat a kártyámról",
        "С моей карты дважды списали оплату за подписку",
        "On m'a facturé deux fois ce mois-ci",
        "Me cobraron dos veces la suscripción",
    ],
    "login": [
        "I cannot log in, the password reset link has expired",
        "My account is locked after too many login attempts",
        "The two-factor code never arrives so I cannot sign in",
        "Ich kann mich nicht anmelden, das Passwort wird abgelehnt",
        "Nem tudok belépni a fiókomba, a jelszó nem jó",
        "Не могу войти в аккаунт, пароль не подходит",
        "Je n'arrive pas à me connecter à mon compte",
        "No puedo iniciar sesión, la contraseña no funciona",
    ],
    "delivery": [
        "My parcel has not arrived although it says delivered",
        "Where is my order? Tracking has not changed for a week",
        "The courier left the package at the wrong address",
        "Mein Paket ist immer noch nicht angekommen",
        "A csomagom még mindig nem érkezett meg",
        "Мой заказ до сих пор не доставлен",
        "Ma commande n'est toujours pas arrivée",
        "Mi pedido todavía no ha llegado",
    ],
    "bug": [
        "The app crashes when I open the settings page",
        "Export to PDF produces an empty file",
        "The dashboard shows error 500 after the update",
        "Die App stürzt beim Start ab",
        "Az alkalmazás összeomlik, amikor megnyitom a beállításokat",
        "Приложение вылетает при открытии настроек",
        "L'application plante au démarrage",
        "La aplicación se cierra al abrir la configuración",
    ],
}
# ... and unseen requests for the same queues.
HELD_OUT = {
    "billing": ["You billed my credit card two times", "Doppelte Abbuchung auf meinem Konto"],
    "login": ["Password reset does not work, I am locked out", "Nem működik a bejelentkezés"],
    "delivery": ["The shipment is late and tracking is stuck", "Посылка потерялась в пути"],
    "bug": ["Clicking save throws an exception", "Le bouton exporter ne fait rien"],
}


def _flat(data: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    texts = [t for texts in data.values() for t in texts]
    labels = [label for label, texts in data.items() for _ in texts]
    return texts, labels


def _separation(emb: np.ndarray, labels: list[str]) -> float:
    """Mean cosine within a label minus mean cosine across labels."""
    y = np.array(labels)
    sim = emb @ emb.T
    same = (y[:, None] == y[None, :]) & ~np.eye(len(y), dtype=bool)
    return float(sim[same].mean() - sim[y[:, None] != y[None, :]].mean())


@pytest.fixture
def e5_cache(converted_e5, monkeypatch):
    """Point the default converted-model location at the tests' conversion (fine-tuning needs torch)."""
    pytest.importorskip("torch")
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(converted_e5.parents[1]))
    monkeypatch.delenv("TRIAGE_ENCODER_BACKEND", raising=False)
    return converted_e5


def test_pair_losses_reward_label_structure():
    torch = pytest.importorskip("torch")
    from triage.classify.finetune import pair_loss

    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    perfect = torch.nn.functional.one_hot(labels, 4).float()  # same label: cos 1, other: cos 0
    rng = torch.Generator().manual_seed(0)
    noisy = torch.nn.functional.normalize(torch.randn(6, 4, generator=rng), dim=1)
    assert pair_loss(perfect, labels, "cosine").item() == pytest.approx(0.0, abs=1e-7)
    assert pair_loss(noisy, labels, "cosine").item() > 0.05
    assert pair_loss(perfect, labels, "supcon").item() < pair_loss(noisy, labels, "supcon").item()
    # a batch without any same-label pair still gives a finite loss (negatives only)
    single = torch.tensor([0, 1, 2])
    assert torch.isfinite(pair_loss(noisy[:3], single, "cosine"))
    assert pair_loss(noisy[:3], single, "supcon").item() == 0.0


def test_fine_tune_settings_are_checked():
    from triage.classify.finetune import FineTuneConfig

    assert FineTuneConfig.from_value(False) is None and FineTuneConfig.from_value(None) is None
    assert FineTuneConfig.from_value(True) == FineTuneConfig()
    assert FineTuneConfig.from_value({"steps": 5}).n_steps(10) == 5
    assert FineTuneConfig(epochs=2, labels_per_batch=8, per_label=4).n_steps(3200) == 200  # 2 passes
    assert FineTuneConfig().n_steps(10) == 50 and FineTuneConfig().n_steps(10**6) == 300  # clipped
    with pytest.raises(InputError, match="unknown settings"):
        FineTuneConfig.from_value({"stpes": 5})
    with pytest.raises(InputError, match="loss"):
        FineTuneConfig(loss="triplet").validate()  # type: ignore[arg-type]


def test_classifier_fine_tune_needs_texts_and_one_split():
    from triage.classify import TicketClassifier

    texts, labels = _flat(TRAIN)
    with pytest.raises(InputError, match="texts"):
        TicketClassifier(fine_tune=True).fit(np.random.default_rng(0).normal(size=(32, 8)), labels)
    with pytest.raises(InputError, match="cv=None"):
        TicketClassifier(fine_tune=True, cv=3).fit(texts, labels)


@pytest.mark.slow
def test_fine_tuning_separates_unseen_texts_of_the_labels(e5_cache):
    from triage.classify.finetune import FineTuneConfig, fine_tune_e5
    from triage.encoders.torch_backend import TorchE5Encoder

    texts, labels = _flat(TRAIN)
    held_texts, held_labels = _flat(HELD_OUT)
    base = TorchE5Encoder(device="cpu")
    before = _separation(base.encode(held_texts), held_labels)
    config = FineTuneConfig(steps=30, labels_per_batch=4, per_label=4, learning_rate=1e-4, max_length=32)
    tuned = fine_tune_e5(texts, labels, config, device="cpu")
    after = _separation(tuned.encode(held_texts), held_labels)
    assert tuned.info["loss_last"] < tuned.info["loss_first"]
    assert after > before + 0.05, (before, after)
    assert tuned.family.startswith("multilingual-e5-small+ft-")
    # the frozen word-embedding table is shared with the base model, the layers are not
    word = "embeddings.word_embeddings.weight"
    assert tuned.model.bert.state_dict()[word].equal(base.model.bert.state_dict()[word])
    layer = "encoder.layer.0.attention.self.query.weight"
    assert not tuned.model.bert.state_dict()[layer].equal(base.model.bert.state_dict()[layer])


@pytest.mark.slow
def test_fine_tuned_classifier_saves_loads_and_runs_in_the_pipeline(e5_cache, tmp_path, encoder):
    from triage.classify import TicketClassifier
    from triage.config import TriageConfig
    from triage.models import ModelIntegrityError, verify_manifest
    from triage.pipeline import Triager

    texts, labels = _flat(TRAIN)
    held_texts, held_labels = _flat(HELD_OUT)
    fine_tune = {"steps": 20, "labels_per_batch": 4, "per_label": 4, "learning_rate": 1e-4, "max_length": 32}
    clf = TicketClassifier(fine_tune=fine_tune, features="embedding", C=10.0, validation_size=0.25)
    clf.fit(texts, labels)
    assert clf.encoder_name_.startswith("multilingual-e5-small+ft-")
    assert clf.fine_tuned_encoder_.info["n_texts"] == 24  # fine-tuned on the training split only
    held_pred = clf.predict(held_texts)
    assert np.mean(held_pred == np.array(held_labels)) >= 0.75

    out = clf.save(tmp_path / "queue")
    manifest = verify_manifest(out)
    assert "encoder/model.safetensors" in json.dumps(manifest)
    assert (out / "encoder" / "model.safetensors").stat().st_mode & 0o044  # readable like the other files
    config = json.loads((out / "config.json").read_text())
    assert config["encoder"]["fine_tuned"] == "encoder" and config["params"]["fine_tune"] == fine_tune
    assert "fine-tuned SetFit-style" in (out / "MODEL_CARD.md").read_text()

    # loaded with the pipeline's shared encoder: the head keeps (and uses) its own fine-tuned one
    loaded = TicketClassifier.load(out, encoder=encoder)
    assert loaded.encoder_name_ == clf.encoder_name_
    np.testing.assert_allclose(loaded.predict_proba(held_texts), clf.predict_proba(held_texts), atol=1e-5)

    config = TriageConfig(
        steps=["normalize", "language", "encode", "classify"],
        options={"classify": {"heads": {"category": str(out)}}},
    )
    triager = Triager(config, encoder=encoder)
    results = triager.triage_batch([{"id": i, "text": t} for i, t in enumerate(held_texts)])
    assert [r.category.label for r in results] == list(loaded.predict(held_texts))

    # refitting without fine-tuning goes back to the shared encoder's family
    clf.set_params(fine_tune=False).fit(texts, labels)
    assert clf.encoder_name_ == "multilingual-e5-small" and clf.fine_tuned_encoder_ is None

    # tampered fine-tuned weights are refused
    weights = out / "encoder" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\0\0\0\0")
    with pytest.raises(ModelIntegrityError):
        TicketClassifier.load(out)
