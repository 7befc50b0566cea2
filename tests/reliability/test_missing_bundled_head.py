"""A missing or damaged bundled head is an error that says to reinstall the package, never a silent gap.

Every test works on a copy of the bundled models that ``triage.models`` treats as the bundled folder; the
package's own files are never touched.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from triage.batch.hashing import HashingEncoder
from triage.bundled import REINSTALL
from triage.config import TriageConfig
from triage.errors import ModelNotAvailableError, TriageError
from triage.pipeline import Triager

STEPS = ["normalize", "encode", "classify"]


@pytest.fixture
def bundled_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    import triage.bundled as bundled

    copy = tmp_path / "bundled-models"
    shutil.copytree(bundled.MODELS_DIR, copy)
    monkeypatch.setattr(bundled, "MODELS_DIR", copy)
    return copy


def _build(steps: list[str]) -> Triager:
    triager = Triager(TriageConfig(steps=steps), encoder=HashingEncoder())
    _ = triager.steps  # steps (and their models) are built on first use
    return triager


@pytest.mark.parametrize("head", ["bitext-category", "bitext-intent"])
def test_missing_default_head_is_an_error_naming_the_reinstall(bundled_copy: Path, head: str) -> None:
    from triage.classify.step import default_heads

    shutil.rmtree(bundled_copy / head)
    with pytest.raises(ModelNotAvailableError) as info:
        default_heads()
    message = str(info.value)
    assert REINSTALL in message and "pip install --force-reinstall helpdesk-triage" in message
    assert head in message and "options.classify.heads" in message
    with pytest.raises(ModelNotAvailableError, match="force-reinstall"):
        _build(STEPS)


def test_head_folder_without_its_manifest_counts_as_missing(bundled_copy: Path) -> None:
    from triage.classify.step import default_heads

    (bundled_copy / "bitext-category" / "manifest.json").unlink()
    with pytest.raises(ModelNotAvailableError, match="bitext-category") as info:
        default_heads()
    assert REINSTALL in str(info.value)


def test_damaged_default_head_is_refused_with_the_reinstall(bundled_copy: Path) -> None:
    from triage.models import ModelIntegrityError

    weights = bundled_copy / "bitext-category" / "weights.npz"
    weights.write_bytes(weights.read_bytes()[:-10])  # truncated: its sha256 no longer matches
    with pytest.raises(ModelIntegrityError) as info:
        _build(STEPS)
    assert REINSTALL in str(info.value)


def test_complete_install_gives_both_default_heads() -> None:
    from triage.classify.step import DEFAULT_HEADS, default_heads

    assert default_heads() == DEFAULT_HEADS


def test_explicit_heads_do_not_need_the_bundled_ones(bundled_copy: Path, tmp_path: Path) -> None:
    """A config naming its own heads runs even when the bundled defaults are gone."""
    from triage.classify.model import TicketClassifier

    shutil.rmtree(bundled_copy / "bitext-category")
    texts = [f"refund my money for order {i}" for i in range(12)] + [f"parcel {i} is late" for i in range(12)]
    own = tmp_path / "own-head"
    labels = ["billing"] * 12 + ["shipping"] * 12
    TicketClassifier(encoder=HashingEncoder(), C=1.0).fit(texts, labels).save(own)
    config = TriageConfig(steps=STEPS, options={"classify": {"heads": {"category": str(own)}}})
    result = Triager(config, encoder=HashingEncoder())({"id": "1", "body": "where is parcel 3, it is late"})
    assert result.ok and result.category is not None


def test_sentiment_message_fits_a_wheel_install(bundled_copy: Path, tmp_path: Path) -> None:
    """No checkout-only script in the advice: the bundled head says reinstall, a user folder says save one."""
    from triage.sentiment.scorer import SentimentScorer

    (bundled_copy / "sentiment" / "lexical.npz").unlink()
    with pytest.raises(ModelNotAvailableError) as info:
        _ = SentimentScorer("sentiment", encoder=HashingEncoder()).head
    message = str(info.value)
    assert REINSTALL in message and "models/train_sentiment.py" not in message

    with pytest.raises(TriageError) as info:
        _ = SentimentScorer(tmp_path / "no-such-head", encoder=HashingEncoder()).head
    message = str(info.value)
    assert "SentimentHead.save" in message and "models/train_sentiment.py" not in message
    assert "force-reinstall" not in message
