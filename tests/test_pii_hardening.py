"""Hardening: saved models are checked against their manifest on load (a tampered file is a clear error), and
what a pickle dropped into a model directory does."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from triage.models import ModelIntegrityError


class BagEncoder:
    """A tiny deterministic encoder (hashed bag of words): a real classifier trains in under a second."""

    name = "bag-test"
    dim = 32

    def encode(self, texts, *, kind="query", batch_size=32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-12)


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    from triage.classify.model import TicketClassifier

    billing = [f"invoice {i} charged twice refund payment" for i in range(12)]
    login = [f"cannot log in password reset link {i} broken" for i in range(12)]
    clf = TicketClassifier(encoder=BagEncoder(), features="embedding", calibrate=False, C=1.0)
    clf.fit(billing + login, ["billing"] * 12 + ["login"] * 12)
    folder = tmp_path_factory.mktemp("model") / "clf"
    clf.save(folder)
    return folder


def _copy(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_saved_model_loads_and_tampered_weights_are_refused(saved_model, tmp_path) -> None:
    from triage.classify.model import TicketClassifier

    TicketClassifier.load(saved_model, encoder=BagEncoder())
    tampered = _copy(saved_model, tmp_path / "tampered")
    weights = next(p for p in tampered.iterdir() if p.suffix == ".npz")
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="does not match the sha256"):
        TicketClassifier.load(tampered, encoder=BagEncoder())


def test_pickle_listed_in_the_manifest_is_refused(saved_model, tmp_path) -> None:
    from triage.classify.model import TicketClassifier
    from triage.models import write_manifest

    folder = _copy(saved_model, tmp_path / "listed")
    (folder / "extra.pkl").write_bytes(b"\x80\x04\x95")  # pickle protocol 4 header
    write_manifest(folder)
    with pytest.raises(ModelIntegrityError, match="unsupported file type"):
        TicketClassifier.load(folder, encoder=BagEncoder())


def test_pickle_dropped_into_a_model_directory_is_refused(saved_model, tmp_path) -> None:
    from triage.classify.model import TicketClassifier

    folder = _copy(saved_model, tmp_path / "dropped")
    (folder / "model.pkl").write_bytes(b"\x80\x04\x95")
    with pytest.raises(ModelIntegrityError):
        TicketClassifier.load(folder, encoder=BagEncoder())
