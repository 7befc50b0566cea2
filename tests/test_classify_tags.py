"""TicketTagger: multi-label one-vs-rest tags with per-tag thresholds; persistence; bad input."""

from __future__ import annotations

import numpy as np
import pytest

from triage.classify import TicketTagger, load_head
from triage.errors import EncoderMismatchError, InputError, NotFittedError


def make_tagged(n: int = 400, dim: int = 24, seed: int = 0):
    """Embeddings whose tag set is readable from two directions: 'urgent' and 'vip' (independent)."""
    rng = np.random.default_rng(seed)
    u, v = rng.normal(size=dim), rng.normal(size=dim)
    urgent = rng.random(n) < 0.35
    vip = rng.random(n) < 0.25
    X = rng.normal(size=(n, dim)) + 1.6 * urgent[:, None] * u + 1.6 * vip[:, None] * v
    X = (X / np.linalg.norm(X, axis=1, keepdims=True)).astype(np.float32)
    tags = [[t for t, on in (("urgent", a), ("vip", b)) if on] for a, b in zip(urgent, vip, strict=True)]
    return X, tags


@pytest.fixture(scope="module")
def tagger():
    X, tags = make_tagged()
    return TicketTagger(target_precision=0.85).fit(X, tags), X, tags


def test_tagger_probabilities_have_one_column_per_tag(tagger):
    model, _, _ = tagger
    X, _ = make_tagged(n=300, seed=1)
    assert model.tags_.tolist() == ["urgent", "vip"]
    proba = model.predict_proba(X)
    assert proba.shape == (300, 2) and ((proba >= 0) & (proba <= 1)).all()


def test_tagger_on_training_distribution(tagger):
    model, X, tags = tagger
    pred = model.predict(X)
    for tag in model.tags_:
        truth = np.array([tag in t for t in tags])
        got = np.array([tag in p for p in pred])
        if got.any():
            assert truth[got].mean() >= 0.8, tag
        assert got[truth].mean() >= 0.5, tag  # recall
    assert any(len(p) == 2 for p in pred)  # multi-label: some rows get both tags
    assert any(len(p) == 0 for p in pred)
    per_tag = model.metrics_["per_tag"]
    assert set(per_tag) == {"urgent", "vip"} and all(r["examples"] > 0 for r in per_tag.values())


def test_tagger_string_tags_save_load_and_load_head(tmp_path):
    X, tags = make_tagged(n=200, seed=3)
    as_strings = [",".join(t) for t in tags]
    model = TicketTagger(C=1.0).fit(X, as_strings)
    out = model.save(tmp_path / "tags")
    loaded = load_head(out)
    assert isinstance(loaded, TicketTagger)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), atol=1e-6)
    assert loaded.predict(X) == model.predict(X)
    preds = loaded.predictions(X[:5])
    assert all(all(s.label in ("urgent", "vip") for s in row) for row in preds)

    class Other:
        name, dim = "other", 24

    with pytest.raises(EncoderMismatchError):
        TicketTagger.load(out, encoder=Other())


def test_tagger_bad_input():
    X, _ = make_tagged(n=20)
    with pytest.raises(InputError, match="fewer than 4 examples: 'rare' \\(1\\)"):
        TicketTagger().fit(X, [["common"]] * 10 + [[]] * 9 + [["rare", "common"]])
    with pytest.raises(InputError, match="mismatched lengths"):
        TicketTagger().fit(X, [["a"]] * 3)
    with pytest.raises(InputError, match="every row's tag list is empty"):
        TicketTagger().fit(X, [[]] * 20)
    with pytest.raises(NotFittedError):
        TicketTagger().predict(X)


def test_tagger_parameters_are_declared_and_checked():
    assert set(TicketTagger._parameter_constraints) == set(TicketTagger().get_params())
    X, tags = make_tagged(n=60)
    with pytest.raises(InputError, match=r"C=0 .* a number > 0"):
        TicketTagger(C=0).fit(X, tags)
    with pytest.raises(InputError, match="target_precision=0"):
        TicketTagger(target_precision=0).fit(X, tags)


def test_tagger_takes_one_input_or_a_list(tagger):
    model, X, _ = tagger
    assert model.predict_proba(X[0]).shape == (1, 2)
    assert model.predict(X[0]) == model.predict(X[:1])
    assert model.predict_proba(np.zeros((0, X.shape[1]), dtype=np.float32)).shape == (0, 2)
