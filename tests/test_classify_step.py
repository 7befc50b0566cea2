"""The classify pipeline step: configured heads, shared embedding, shipped default heads across languages."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from triage.classify import TicketClassifier
from triage.classify.data import read_labelled
from triage.config import TriageConfig
from triage.models import bundled_models
from triage.pipeline import Triager

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "notebooks" / "data"
STEPS = ["normalize", "language", "encode", "classify"]


class CountingEncoder:
    """Wrap the session encoder and count encode calls (the step must reuse the pipeline's embedding)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.calls = inner, inner.name, inner.dim, 0
        self.family = inner.family

    def encode(self, texts, *, kind="query", batch_size=32):
        self.calls += 1
        return self.inner.encode(texts, kind=kind, batch_size=batch_size)


@pytest.fixture(scope="module")
def queue_head(tmp_path_factory, encoder) -> Path:
    texts, labels, rows = read_labelled(
        str(DATA / "tickets_train.csv"), label_col="queue", text_cols=["subject", "body"]
    )
    clf = TicketClassifier(encoder=encoder, cv=4).fit(texts, labels, row_ids=rows)
    return clf.save(tmp_path_factory.mktemp("heads") / "queue")


@pytest.mark.slow
def test_step_fills_category_priority_and_labels_with_one_encode(encoder, queue_head):
    counting = CountingEncoder(encoder)
    config = TriageConfig(
        steps=STEPS,
        options={
            "classify": {
                "heads": {"category": str(queue_head), "priority": str(queue_head), "queue": str(queue_head)}
            }
        },
    )
    triager = Triager(config, encoder=counting)
    results = triager(
        [
            {"id": "a", "subject": "Charged twice", "body": "My card was billed two times for one order."},
            {"id": "b", "subject": "App", "body": "The app crashes every time I open it."},
            {"id": "c"},  # invalid: no text; the rest of the batch is still classified
        ]
    )
    assert counting.calls == 1  # the encode step only: heads reuse state.embedding
    a, b, c = results
    assert a.category.label == "billing" and b.category.label == "technical"
    assert a.priority.label == "billing"  # a head named "priority" fills result.priority
    assert a.labels["queue"].label == "billing"
    assert a.category.automation in {"auto_route", "suggest", "abstain"}
    assert a.category.evidence and a.category.evidence[0].kind == "example"
    assert "classify" in a.timings_ms
    assert c.category is None and c.errors


@pytest.mark.slow
def test_step_refuses_head_trained_with_another_encoder(tmp_path, encoder):
    class Other:
        name, dim = "other/encoder", 384

        def encode(self, texts, *, kind="query", batch_size=32):
            return encoder.encode(texts, kind=kind, batch_size=batch_size)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 384)).astype(np.float32)
    head = TicketClassifier(encoder=Other(), C=1.0).fit(X, ["a", "b"] * 20).save(tmp_path / "other")
    triager = Triager(
        TriageConfig(steps=STEPS, options={"classify": {"heads": {"category": str(head)}}}), encoder=encoder
    )
    from triage.errors import EncoderMismatchError

    with pytest.raises(EncoderMismatchError, match="other/encoder"):
        triager("hello")


@pytest.mark.slow
@pytest.mark.skipif("bitext-category" not in bundled_models(), reason="default head not trained yet")
def test_default_heads_classify_sample_tickets_across_languages(encoder, sample_tickets):
    from triage.classify.step import default_heads

    assert default_heads()["category"] == "bitext-category"
    triager = Triager(TriageConfig(steps=STEPS), encoder=encoder)
    results = triager(sample_tickets)
    per_lang: dict[str, list[bool]] = defaultdict(list)
    for ticket, result in zip(sample_tickets, results, strict=True):
        assert result.category is not None, result.errors
        model = TicketClassifier.load("bitext-category")
        assert result.category.label in model.classes_
        expected = ticket["metadata"]["expected_category"]
        per_lang[ticket["metadata"]["expected_language"]].append(result.category.label == expected)
        if "bitext-intent" in bundled_models():
            assert "intent" in result.labels
    overall = np.mean([ok for oks in per_lang.values() for ok in oks])
    assert overall >= 0.6, dict(per_lang)
    for lang in ("de", "hu", "ru"):
        assert np.mean(per_lang[lang]) >= 0.4, (lang, per_lang[lang])


def test_ticket_text_matches_the_pipeline_text(sample_tickets):
    """Training reads tickets as the pipeline does, so a trained head sees the same text at run time."""
    from triage.classify.data import ticket_text
    from triage.pipeline import NormalizeStep, TicketState, Triager
    from triage.schema import Ticket, TriageResult

    step = NormalizeStep(Triager(TriageConfig(steps=["normalize"])))
    for record in sample_tickets:
        ticket = Ticket.model_validate(record)
        state = TicketState(ticket=ticket, result=TriageResult(ticket_id="x"))
        step.run([state])
        assert ticket_text(ticket) == state.text, record.get("id")


@pytest.mark.slow
def test_step_fills_tags_from_a_multilabel_head(tmp_path, encoder, queue_head):
    from triage.classify import TicketTagger

    texts, labels, _ = read_labelled(
        str(DATA / "tickets_train.csv"), label_col="queue", text_cols=["subject", "body"]
    )
    emb = encoder.encode(texts)
    tags = [[q] + (["money"] if q == "billing" else []) for q in labels]
    tagger = TicketTagger(encoder=encoder, C=10.0, target_precision=0.8).fit(texts, tags, embeddings=emb)
    head = tagger.save(tmp_path / "topics")
    config = TriageConfig(
        steps=STEPS, options={"classify": {"heads": {"category": str(queue_head), "topics": str(head)}}}
    )
    result = Triager(config, encoder=encoder)("I was charged twice for the same order, please refund me")
    assert result.category.label == "billing"
    assert "billing" in [t.label for t in result.tags["topics"]]
