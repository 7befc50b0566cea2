"""SentimentScorer with the bundled head: polarity across languages, threads, bad input, pipeline, CLI."""

from __future__ import annotations

import json

import pytest

from triage.sentiment import SentimentScorer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scorer(encoder):
    return SentimentScorer(encoder=encoder)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thank you so much, the new version works perfectly and your team was wonderful!", "positive"),
        ("This is the worst service I have ever had, I am furious and disgusted.", "negative"),
        ("Vielen herzlichen Dank, Sie haben mir sehr geholfen, alles ist super!", "positive"),
        ("Das ist eine absolute Frechheit, ich bin extrem verärgert über diesen miesen Service.", "negative"),
        # Hungarian and Russian were not in the training data: cross-lingual transfer through the encoder
        ("Nagyon köszönöm, fantasztikus a csapatuk, minden tökéletesen működik!", "positive"),
        ("Felháborító és szégyenletes, hogy senki nem segít, nagyon dühös vagyok.", "negative"),
        ("Огромное спасибо, всё отлично работает, вы лучшие!", "positive"),
        ("Это ужасный сервис, я в ярости, никто не помогает!", "negative"),
    ],
)
def test_clear_polarity_in_seen_and_unseen_languages(scorer, text: str, label: str) -> None:
    res = scorer(text)
    assert res.label == label
    assert (res.score > 0.2) if label == "positive" else (res.score < -0.2)
    assert 1 / 3 < res.confidence <= 1.0
    assert -1.0 <= res.score <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "😡😡😡 !!! 👎", "12345 ???", "a" * 1_000_000])
def test_bad_input_is_neutral_with_zero_confidence(scorer, text: str) -> None:
    res = scorer(text)
    assert res.label == "neutral" and res.score == 0.0 and res.confidence == 0.0
    assert res.warnings or not text.strip()


def test_thread_trajectory_gets_angrier(scorer) -> None:
    ticket = {
        "id": "T-9",
        "body": "Hello, thanks for the quick reply yesterday, the new router is great.",
        "messages": [
            {"role": "agent", "text": "Glad to help!"},
            {"role": "customer", "text": "Unfortunately the internet stopped working again this morning."},
            {"role": "agent", "text": "We are looking into it."},
            {
                "role": "customer",
                "text": "This is absolutely unacceptable!!! Third time I write, I will cancel "
                "my contract and call my lawyer.",
            },
        ],
    }
    res = scorer(ticket)
    assert [m.source for m in res.messages] == ["body", "message", "message"]
    assert [m.message_index for m in res.messages] == [None, 1, 3]
    assert len(res.trajectory) == 3
    assert res.trajectory[0] > res.trajectory[-1]
    assert res.trend == "worsening"
    kinds = {c.kind for c in res.cues if c.message_index == 3}
    assert {"frustration", "shouting", "repeat_contact", "churn", "legal"} <= kinds
    assert not any(c.message_index in (0, 2) for c in res.cues)  # agent messages are not scanned
    assert res.escalation_risk is not None and res.escalation_risk > 0.8
    calm = scorer("Could you tell me your opening hours?")
    assert calm.escalation_risk < 0.3 and calm.trend is None


def test_batch_scores_texts_in_order(scorer) -> None:
    out = scorer.score_texts(["I love it, thanks!", "", "I hate this, it is awful."])
    assert [o.label for o in out] == ["positive", "neutral", "negative"]
    assert out[1].confidence == 0.0 and out[1].warning


def test_pipeline_fills_sentiment_and_priority(encoder, sample_tickets) -> None:
    from triage import Triager
    from triage.config import TriageConfig

    triager = Triager(
        TriageConfig(steps=["normalize", "language", "encode", "sentiment", "priority"]), encoder=encoder
    )
    results = triager(sample_tickets)
    assert all(not r.errors for r in results)
    assert all(r.sentiment is not None and r.priority is not None for r in results)
    assert all(r.priority.label in {"P1", "P2", "P3", "P4"} for r in results)
    assert all(r.priority.evidence[0].label == "total" for r in results)
    assert all("sentiment" in r.timings_ms and "priority" in r.timings_ms for r in results)
    flagged = [r for r in results if r.sentiment.cues]
    assert flagged, "the sample backlog has urgent tickets"
    urgent = triager(
        {
            "id": "x",
            "subject": "SÜRGŐS",
            "body": "Harmadszor írok, a rendszer nem működik!",
            "metadata": {"vip": True},
        }
    )
    assert urgent.priority.label == "P1"
    assert {"cue:urgency", "cue:repeat_contact", "cue:outage", "vip_customer"} <= {
        e.label for e in urgent.priority.evidence
    }
    bad = triager([{"id": "ok", "body": "thanks!"}, {"id": "emoji", "body": "😡😡😡"}])
    assert bad[1].sentiment.confidence == 0.0 and not bad[1].errors


def test_cli_sentiment_command() -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    res = CliRunner().invoke(app, ["sentiment", "Срочно! Уже третий раз пишу, сайт не работает!", "--vip"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["label"] in {"negative", "neutral", "positive"}
    assert {"urgency", "repeat_contact", "outage"} <= {c["kind"] for c in out["cues"]}
    assert out["priority"]["label"] == "P1"
    assert any("vip" in r for r in out["priority"]["reasons"])
    bad = CliRunner().invoke(app, ["sentiment", "hello", "--metadata", "[1"])
    assert bad.exit_code == 2 and "not valid JSON" in bad.output


def test_sentiment_parts_are_the_customers_ticket_parts(sample_tickets) -> None:
    from triage.schema import Ticket
    from triage.sentiment.scorer import ticket_parts
    from triage.tickets import Part
    from triage.tickets import ticket_parts as all_parts

    thread = {
        "subject": "Re: <b>Rechnung</b>",
        "body": "<p>Hallo,</p><p>die Rechnung ist falsch.</p>",
        "messages": [
            {"role": "agent", "text": "Wir prüfen das."},
            {"role": "customer", "text": "   "},
            {"role": "customer", "text": "Immer noch falsch!"},
            {"role": "note", "text": "intern"},
        ],
    }
    for record in [*sample_tickets, thread]:
        ticket = Ticket.model_validate(record)
        parts = ticket_parts(ticket)
        expected = [p for p in all_parts(ticket, max_part_chars=None) if p.role == "customer"]
        assert [(p.text, p.source, p.message_index) for p in parts] == [
            (p.text, p.source, p.message_index) for p in expected
        ]
        assert all(isinstance(p, Part) and p.index == p.message_index for p in parts)
    parts = ticket_parts(Ticket.model_validate(thread))
    assert [(p.source, p.message_index) for p in parts] == [("subject", None), ("body", None), ("message", 2)]
