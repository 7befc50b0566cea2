from __future__ import annotations

import pytest

from triage.config import TriageConfig
from triage.errors import TriageError
from triage.pipeline import STEP_FACTORIES, Triager, register_step


def test_single_and_batch(triager):
    one = triager(
        {"id": "A", "subject": "Login", "body": "Nem tudok bejelentkezni a fiókomba, segítsenek kérem."}
    )
    assert one.ticket_id == "A" and one.language == "hu"
    many = triager(
        [
            "Где мой заказ? Я жду уже две недели.",
            {"title": "Rechnung", "description": "Die Rechnung ist falsch."},
        ]
    )
    assert [r.language for r in many] == ["ru", "de"]
    assert [r.ticket_id for r in many] == ["row-0", "row-1"]
    assert {"normalize", "language", "encode"} <= set(many[0].timings_ms)


def test_invalid_record_does_not_fail_the_batch(triager):
    results = triager(
        [{"id": "ok", "body": "My parcel has not arrived yet, please check."}, {"id": "bad", "body": ""}]
    )
    assert results[0].ok and results[0].language == "en"
    assert results[1].ticket_id == "bad"
    assert results[1].errors[0].step == "validate"
    assert "no text" in results[1].errors[0].message


def test_huge_body_is_cut_and_said(triager):
    body = "Mein Paket ist nicht angekommen und niemand antwortet. " * 20_000  # ~1.1 MB
    result = triager({"id": "big", "body": body})
    assert result.ok and result.language == "de"
    assert any("cut" in w for w in result.warnings)


def test_emoji_only_and_binary_garbage_are_und(triager):
    results = triager(["🙂🙂🙂🙂", "\x00\x01\x02\x03\ufffd\ufffd"])
    assert [r.language for r in results] == ["und", "und"]
    assert all(r.ok for r in results)


def test_html_and_quotes_are_stripped_before_language(triager):
    html = (
        "<html><body><p>Bonjour, je n'arrive pas &agrave; me connecter &agrave; mon compte depuis hier.</p>"
        "<blockquote>On Mon, Jan 1, 2026 at 10:00 Support wrote:<br>&gt; Dear customer, please try again"
        "</blockquote></body></html>"
    )
    assert triager({"body": html}).language == "fr"


class Boom:
    name = "boom"
    requires = ("encode",)

    def run(self, states):
        for s in states:
            if "explode" in s.text:
                raise RuntimeError("step failed on this ticket")
            s.result.warnings.append("boom ran")


class After:
    name = "after"
    requires = ("boom",)

    def run(self, states):
        for s in states:
            s.result.warnings.append("after ran")


def test_one_ticket_failing_a_step_is_isolated(encoder):
    register_step("boom", lambda t: Boom())
    register_step("after", lambda t: After())
    try:
        triager = Triager(
            TriageConfig(steps=["normalize", "language", "encode", "boom", "after"]), encoder=encoder
        )
        good, bad = triager(["Please reset my password, thank you.", "Please explode this ticket right now."])
        assert good.ok and good.warnings == ["boom ran", "after ran"]
        assert [e.step for e in bad.errors] == ["boom", "after"]
        assert bad.errors[0].type == "RuntimeError"
        assert bad.errors[1].type == "Skipped"
        assert bad.language == "en"  # earlier steps' output is kept
    finally:
        STEP_FACTORIES.pop("boom")
        STEP_FACTORIES.pop("after")


def test_unknown_step_is_a_clear_error():
    with pytest.raises(TriageError, match="unknown pipeline steps"):
        Triager(TriageConfig(steps=["normalize", "telepathy"]))


def test_iter_triage_streams_in_order(triager):
    records = [f"Ticket number {i}: my order has not arrived yet." for i in range(5)]
    ids = [r.ticket_id for r in triager.iter_triage(records, batch_size=2)]
    assert ids == [f"row-{i}" for i in range(5)]


def test_sample_backlog_languages(triager, sample_tickets):
    results = triager(sample_tickets)
    expected = [t["metadata"]["expected_language"] for t in sample_tickets]
    assert [r.language for r in results] == expected
    assert all(r.ok for r in results)


def test_redact_must_come_before_steps_that_read_text():
    with pytest.raises(TriageError, match="right after 'normalize'"):
        Triager(TriageConfig(steps=["normalize", "language", "redact", "encode"]))
