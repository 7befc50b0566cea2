"""TicketClassifier core: fit / predict / calibration / abstain / persistence / bad input."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from triage.classify import (
    TicketClassifier,
    expected_calibration_error,
    fit_temperature,
    threshold_for_precision,
)
from triage.classify.calibration import softmax
from triage.errors import EncoderMismatchError, InputError, NotFittedError
from triage.models import ModelIntegrityError
from triage.schema import Ticket


class HashEncoder:
    """A tiny deterministic bag-of-words encoder (no model): texts sharing words get similar vectors."""

    def __init__(self, name: str = "test/hash-bow", dim: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.calls = 0

    def encode(self, texts, *, kind="query", batch_size=32):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                h = int(hashlib.md5(word.strip(".,!?").encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
                out[i, (h // self.dim) % self.dim] += 0.5
        out += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


TOPICS = {
    "delivery": ["parcel", "package", "courier", "arrived", "shipping", "tracking"],
    "refund": ["refund", "money", "back", "reimburse", "charged", "return"],
    "account": ["password", "login", "account", "locked", "username", "reset"],
}
FILLER = ["my", "the", "please", "help", "today", "still", "not", "is", "with", "a"]


def make_texts(n_per_class: int, seed: int = 0, noise: float = 0.0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    names = list(TOPICS)
    for label in names:
        for _ in range(n_per_class):
            source = label
            if rng.random() < noise:  # a confusing ticket: words of another topic
                source = names[(names.index(label) + 1) % len(names)]
            words = list(rng.choice(TOPICS[source], 2)) + list(rng.choice(FILLER, 4))
            rng.shuffle(words)
            texts.append(" ".join(words))
            labels.append(label)
    return texts, labels


def make_embeddings(n: int = 300, k: int = 4, dim: int = 32, spread: float = 2.0, seed: int = 0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, dim))
    y = rng.integers(0, k, n)
    X = centers[y] * 0.35 + rng.normal(size=(n, dim)) * spread / np.sqrt(dim) * 3
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    return X, np.array([f"class_{i}" for i in y], dtype=object)


@pytest.fixture(scope="module")
def emb_model():
    X, y = make_embeddings()
    return TicketClassifier(C=(1.0, 10.0)).fit(X, y), X, y


def test_fit_returns_self_and_learns_state(emb_model):
    clf, X, y = emb_model
    assert clf.classes_.tolist() == sorted(set(y))
    assert clf.features_ == "embedding"  # no texts: hybrid is never tried
    assert clf.embedding_dim_ == X.shape[1]
    proba = clf.predict_proba(X[:20])
    assert proba.shape == (20, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    assert (clf.predict(X) == y).mean() > 0.7
    assert {r["C"] for r in clf.selection_} == {1.0, 10.0}


def test_not_fitted_error():
    with pytest.raises(NotFittedError, match="fit"):
        TicketClassifier().predict_proba(np.zeros((1, 8), dtype=np.float32))


def test_sklearn_params_and_clone():
    from sklearn.base import clone

    clf = TicketClassifier(C=3.0, target_precision=0.9, encoder="default")
    twin = clone(clf)
    assert twin.get_params()["C"] == 3.0 and twin.get_params()["target_precision"] == 0.9
    assert not hasattr(twin, "coef_")


def test_abstain_threshold_reaches_target_precision_on_heldout(emb_model):
    clf, _, _ = emb_model
    held = clf.heldout_
    accepted = held["confidence"] >= clf.abstain_threshold_
    assert accepted.any()
    assert held["correct"][accepted].mean() >= clf.target_precision
    assert clf.metrics_["precision_at_target"] >= 0.95
    assert clf.auto_route_threshold_ >= clf.abstain_threshold_


def test_automation_levels_agree_with_thresholds(emb_model):
    clf, X, _ = emb_model
    preds = clf.predictions(X)
    levels = {p.automation for p in preds}
    assert levels <= {"auto_route", "suggest", "abstain"}
    for p in preds:
        assert p.abstained == (p.score < clf.abstain_threshold_)
        assert (p.automation == "auto_route") == (p.score >= clf.auto_route_threshold_)
        assert (p.review_queue == "triage-review") == p.abstained
        assert p.label in clf.classes_
        assert p.top_k[0].label == p.label
    # a noisy task has some abstentions and some confident routes
    assert "abstain" in levels and "auto_route" in levels


def test_never_returns_an_untrained_label(emb_model):
    clf, X, _ = emb_model
    rng = np.random.default_rng(5)
    junk = rng.normal(size=(50, X.shape[1])).astype(np.float32)
    assert set(clf.predict(junk)) <= set(clf.classes_)
    assert all(p.label in clf.classes_ for p in clf.predictions(junk))


def test_temperature_scaling_reduces_ece_of_overconfident_logits():
    rng = np.random.default_rng(0)
    n, k = 2000, 5
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.5  # ~60 % accuracy ...
    logits *= 6.0  # ... but near-certain confidences
    raw = softmax(logits)
    t = fit_temperature(logits, y)
    cal = softmax(logits, t)
    correct = raw.argmax(1) == y
    assert t > 2.0
    assert (cal.argmax(1) == raw.argmax(1)).all()  # accuracy unchanged
    before = expected_calibration_error(raw.max(1), correct)
    after = expected_calibration_error(cal.max(1), correct)
    assert before > 0.2 and after < 0.05


def test_threshold_for_precision_picks_largest_accepted_set():
    conf = np.array([0.99, 0.95, 0.9, 0.8, 0.7, 0.6])
    correct = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    choice = threshold_for_precision(conf, correct, 0.8)
    assert choice.threshold == 0.7 and choice.coverage == pytest.approx(5 / 6) and choice.precision == 0.8
    strict = threshold_for_precision(conf, correct, 1.0)
    assert strict.threshold == 0.9 and strict.precision == 1.0
    none = threshold_for_precision(conf, np.zeros(6, dtype=bool), 0.5)
    assert not none.achieved and none.threshold > 1.0


@pytest.mark.parametrize(
    ("labels", "match"),
    [
        (["a", "a", "b", "b", "c"], r"'c' \(rows 4\)"),
        ([None] * 5, "label column is empty"),
        (["a", "", "b", "b", "a"], r"empty label \(rows 1\)"),
        (["a", "b", "a"], "mismatched lengths: 5 inputs but 3 labels"),
        (["a"] * 5, "only one label"),
    ],
)
def test_bad_training_data_names_the_rows(labels, match):
    X = np.random.default_rng(0).normal(size=(5, 8)).astype(np.float32)
    with pytest.raises(InputError, match=match):
        TicketClassifier().fit(X, labels)


def test_bad_rows_use_given_row_ids_and_blank_texts():
    texts, labels = ["x y", "  ", "z"], ["a", "a", "b"]
    with pytest.raises(InputError, match=r"no text \(rows 11\)"):
        TicketClassifier(encoder=HashEncoder()).fit(texts, labels, row_ids=[10, 11, 12])


def test_texts_tickets_and_embeddings_agree():
    enc = HashEncoder()
    texts, labels = make_texts(30, noise=0.1)
    clf = TicketClassifier(encoder=enc, features="embedding").fit(texts, labels)
    probe = ["my parcel is still not here", "refund my money please"]
    from_text = clf.predict_proba(probe)
    from_emb = clf.predict_proba(enc.encode(probe))
    from_ticket = clf.predict_proba([Ticket(subject=probe[0]), {"body": probe[1]}])
    np.testing.assert_allclose(from_text, from_emb, atol=1e-6)
    np.testing.assert_allclose(from_text, from_ticket, atol=1e-6)
    assert clf.predict(probe).tolist() == ["delivery", "refund"]
    single = clf("courier package tracking")
    assert single.label == "delivery"


def test_hybrid_with_precomputed_embeddings_and_term_evidence():
    enc = HashEncoder(dim=16)  # weak embedding: TF-IDF has to help
    texts, labels = make_texts(40, noise=0.05)
    emb = enc.encode(texts)
    clf = TicketClassifier(encoder=enc, features="hybrid", C=10.0).fit(texts, labels, embeddings=emb)
    calls = enc.calls
    pred = clf.predictions(
        ["the courier lost my parcel"], embeddings=enc.encode(["the courier lost my parcel"])
    )[0]
    assert enc.calls == calls + 1  # only the explicit encode above: predictions reused the given vector
    assert pred.label == "delivery"
    kinds = {e.kind for e in pred.evidence}
    assert kinds == {"example", "term"}
    terms = [e.text for e in pred.evidence if e.kind == "term"]
    assert any(t in ("courier", "parcel") or t in "courier parcel" for t in terms)
    examples = [e for e in pred.evidence if e.kind == "example"]
    assert len(examples) == 3 and all(e.label in clf.classes_ for e in examples)
    with pytest.raises(InputError, match="TF-IDF"):
        clf.predict_proba(enc.encode(["only vectors"]))


def test_auto_features_picked_by_validation_score():
    enc = HashEncoder(dim=8)
    texts, labels = make_texts(40, noise=0.05)
    clf = TicketClassifier(encoder=enc, C=10.0).fit(texts, labels)
    scores = {r["features"]: r["macro_f1"] for r in clf.selection_}
    assert set(scores) == {"embedding", "hybrid"}
    assert round(scores[clf.features_], 4) == round(max(scores.values()), 4)
    if round(scores["embedding"], 4) == round(scores["hybrid"], 4):  # tie: lower calibrated log-loss wins
        losses = {r["features"]: r["log_loss"] for r in clf.selection_}
        assert losses[clf.features_] <= min(losses.values()) + 1e-4


def test_cv_uses_every_row_for_heldout_metrics():
    enc = HashEncoder()
    texts, labels = make_texts(8)
    clf = TicketClassifier(encoder=enc, cv=4, features="embedding").fit(texts, labels)
    assert clf.metrics_["n_heldout"] == len(texts)
    assert "cross-validation" in clf.metrics_["heldout"]


def test_save_load_roundtrip(tmp_path):
    enc = HashEncoder()
    texts, labels = make_texts(30, noise=0.1)
    clf = TicketClassifier(encoder=enc, features="hybrid", C=10.0).fit(texts, labels)
    out = clf.save(tmp_path / "model")
    names = {p.name for p in out.iterdir()}
    assert {"config.json", "weights.npz", "metrics.json", "MODEL_CARD.md", "manifest.json"} <= names
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    config = json.loads((out / "config.json").read_text())
    assert config["encoder"] == {"name": "test/hash-bow", "dim": 64}
    card = (out / "MODEL_CARD.md").read_text()
    assert "expected calibration error" in card and "| refund |" in card
    loaded = TicketClassifier.load(out, encoder=enc)
    probe = ["parcel tracking please", "locked out of my account", "reimburse me"]
    np.testing.assert_allclose(loaded.predict_proba(probe), clf.predict_proba(probe), atol=1e-6)
    assert [p.model_dump() for p in loaded.predictions(probe)] == [
        p.model_dump() for p in clf.predictions(probe)
    ]


def test_load_refuses_other_encoder_and_tampered_files(tmp_path):
    X, y = make_embeddings(n=120, dim=16)
    clf = TicketClassifier(encoder=HashEncoder(dim=16), C=1.0).fit(X, y)
    out = clf.save(tmp_path / "m")
    with pytest.raises(EncoderMismatchError, match="test/hash-bow"):
        TicketClassifier.load(out, encoder=HashEncoder(name="other-encoder", dim=16))
    with pytest.raises(EncoderMismatchError, match="dimension 8"):
        TicketClassifier.load(out).predict_proba(np.ones((1, 8), dtype=np.float32))
    weights = out / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ModelIntegrityError, match="sha256"):
        TicketClassifier.load(out)


def test_save_replaces_existing_model_atomically(tmp_path):
    X, y = make_embeddings(n=120, dim=16)
    first = TicketClassifier(C=1.0).fit(X, y).save(tmp_path / "m")
    X2, y2 = make_embeddings(n=150, k=5, dim=16, seed=3)
    TicketClassifier(C=1.0).fit(X2, y2).save(first)
    assert len(TicketClassifier.load(first).classes_) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["m"]  # no temporary folders left


def test_tune_thresholds_learns_to_abstain_on_out_of_scope_rows(tmp_path):
    X, y = make_embeddings(n=400, k=3, dim=16, spread=0.4, seed=1)
    clf = TicketClassifier(C=10.0).fit(X[:300], y[:300])
    # out of scope: blends of two tickets of different classes (between the known topics)
    a_idx = [i for i in range(300) if y[i] == "class_0"][:100]
    b_idx = [i for i in range(300) if y[i] == "class_1"][:100]
    n = min(len(a_idx), len(b_idx))
    oos = (X[a_idx[:n]] + X[b_idx[:n]]).astype(np.float32)
    oos /= np.linalg.norm(oos, axis=1, keepdims=True)
    X_val = np.concatenate([X[300:], oos])
    y_val = list(y[300:]) + [None] * n
    summary = clf.tune_thresholds(X_val, y_val, target_precision=0.95)
    assert summary["out_of_scope"] == n and summary["target_reached"]
    assert summary["precision"] >= 0.95
    preds = clf.predictions(X_val)
    accepted = [p.label == t for p, t in zip(preds, y_val, strict=True) if not p.abstained]
    assert np.mean(accepted) >= 0.95
    assert np.mean([not p.abstained for p in clf.predictions(oos)]) <= 0.2  # out of scope: mostly abstained
    assert np.mean([not p.abstained for p in preds[: len(y_val) - n]]) >= 0.3  # in scope: many still routed
    card = (clf.save(tmp_path / "m") / "MODEL_CARD.md").read_text()
    assert "**in use**" in card and f"{n} out of scope" in card


@pytest.mark.parametrize(
    ("params", "match"),
    [
        (
            {"features": "tfidf"},
            r"features='tfidf' is not valid; features must be one of 'auto', 'embedding'",
        ),
        ({"target_precision": 1.5}, r"target_precision=1.5 .* a number in \(0, 1\]"),
        ({"validation_size": 0.0}, r"validation_size=0.0 .* a number in \(0, 1\)"),
        ({"cv": 1}, r"cv=1 .* None or an int >= 2"),
        ({"class_weight": "auto"}, r"class_weight='auto' .* one of 'balanced' or None"),
        ({"C": 0}, r"C=0 .* a number > 0"),
        ({"C": (1.0, -1.0)}, r"C=\(1.0, -1.0\) .* a list whose items are each a number > 0"),
        ({"memory_per_class": -1}, r"memory_per_class=-1 .* an int >= 0"),
        ({"calibrate": "yes"}, r"calibrate='yes' .* True or False"),
    ],
)
def test_bad_parameters_name_the_parameter_and_what_to_pass(params, match):
    X, y = make_embeddings(n=60, dim=8)
    with pytest.raises(InputError, match=match) as info:
        TicketClassifier(**params).fit(X, y)
    assert "set_params(" in str(info.value) and "TicketClassifier" in str(info.value)


def test_parameters_are_declared_once_and_checked_at_fit():
    clf = TicketClassifier()
    assert set(TicketClassifier._parameter_constraints) == set(clf.get_params())
    clf._validate_params()  # the defaults are valid
    X, y = make_embeddings(n=120, dim=8)
    clf.set_params(C=1.0, cv=None, abstain_threshold=0.5, fine_tune=None).fit(X, y)
    assert clf.abstain_threshold_ == 0.5


def test_the_state_table_drives_save_and_load(tmp_path):
    enc = HashEncoder()
    texts, labels = make_texts(30, noise=0.1)
    clf = TicketClassifier(encoder=enc, features="hybrid", C=10.0).fit(texts, labels)
    loaded = TicketClassifier.load(clf.save(tmp_path / "m"), encoder=enc)
    for field in TicketClassifier._state:
        mine, theirs = getattr(clf, field.attr), getattr(loaded, field.attr)
        if isinstance(mine, np.ndarray):
            assert mine.dtype == theirs.dtype, field.attr
            np.testing.assert_array_equal(mine, theirs)
        else:
            assert mine == theirs, field.attr
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["classes"] == ["account", "delivery", "refund"] and config["encoder"]["dim"] == 64
    with np.load(tmp_path / "m" / "weights.npz", allow_pickle=False) as weights:
        assert set(weights.files) == {f.key for f in TicketClassifier._state if f.where == "array"} | {
            "idf_0",
            "idf_1",
        }


def test_predict_and_proba_take_one_text_or_a_list():
    enc = HashEncoder()
    texts, labels = make_texts(30, noise=0.1)
    clf = TicketClassifier(encoder=enc, features="embedding").fit(texts, labels)
    assert clf.predict("courier package tracking").tolist() == ["delivery"]
    assert clf.predict_proba({"body": "refund my money"}).shape == (1, 3)
    assert clf.predict_proba([]).shape == (0, 3)
    assert clf.predictions([]) == []
    assert clf("refund my money").label == "refund"


def test_not_fitted_is_also_reported_to_scikit_learn():
    from sklearn.utils.validation import check_is_fitted

    clf = TicketClassifier()
    with pytest.raises(Exception, match="not fitted"):
        check_is_fitted(clf)
    X, y = make_embeddings(n=120, dim=8)
    check_is_fitted(clf.set_params(C=1.0).fit(X, y))
