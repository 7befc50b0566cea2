from __future__ import annotations

import pytest

from triage.config import TriageConfig
from triage.errors import TriageError
from triage.pipeline import Triager, register_step
from triage.steps import unregister_step


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
        unregister_step("boom")
        unregister_step("after")


def test_unknown_step_is_a_clear_error():
    with pytest.raises(TriageError, match="unknown pipeline steps"):
        Triager(TriageConfig(steps=["normalize", "telepathy"]))


def test_iter_triage_streams_in_order(triager):
    records = [f"Ticket number {i}: my order has not arrived yet." for i in range(5)]
    ids = [r.ticket_id for r in triager.iter_triage(records, batch_size=2)]
    assert ids == [f"row-{i}" for i in range(5)]


@pytest.mark.slow  # the real models over the whole sample backlog: left out by `make test-fast`
def test_sample_backlog_languages(triager, sample_tickets):
    results = triager(sample_tickets)
    expected = [t["metadata"]["expected_language"] for t in sample_tickets]
    assert [r.language for r in results] == expected
    assert all(r.ok for r in results)


def test_redact_is_ordered_before_the_steps_that_read_text():
    """``redact`` rewrites the text it reads: the declarations put it right after ``normalize``."""
    triager = Triager(TriageConfig(steps=["normalize", "language", "encode", "redact"]))
    assert triager.analysis.order == ["normalize", "redact", "language", "encode"]
    assert [s.name for s in triager.steps] == triager.analysis.order


class NestedThenBoom:
    """Mutates nested parts of the result in place, then fails on the ticket asking for it."""

    name = "nested_boom"
    requires = ("encode",)

    def run(self, states):
        for s in states:
            s.result.message_languages.append("xx")
            s.result.timings_ms["fake"] = 1.0
            if s.result.category is not None:
                s.result.category.evidence.clear()
                s.result.category.top_k[0].score = -1.0
            s.result.redaction_mapping = {"<EMAIL_1>": "changed@example.com"}
        for s in states:
            if "explode" in s.text:
                raise RuntimeError("nested boom")


def test_failed_step_is_undone_to_the_last_nested_value(encoder):
    register_step("nested_boom", lambda t: NestedThenBoom())
    try:
        steps = ["normalize", "language", "encode", "classify", "nested_boom"]
        reference = Triager(TriageConfig(steps=steps[:-1]), encoder=encoder)
        triager = Triager(TriageConfig(steps=steps), encoder=encoder)
        texts = ["My card was charged twice, please refund.", "Please explode: my parcel never arrived."]
        before = reference(texts)[1]
        good, bad = triager(texts)
        assert good.ok and good.message_languages[-1] == "xx"
        assert [e.step for e in bad.errors] == ["nested_boom"]
        assert bad.category == before.category  # evidence and top-k scores restored
        assert bad.category.evidence and bad.category.top_k[0].score > 0
        assert bad.message_languages == before.message_languages
        assert "fake" not in bad.timings_ms
        assert bad.redaction_mapping is None  # fields left out of model_dump are restored too
    finally:
        unregister_step("nested_boom")


class StoresForeignValue:
    name = "foreign"
    requires = ("normalize",)

    def run(self, states):
        for s in states:
            s.result.labels["odd"] = {"not": "a Prediction"}  # not what the schema describes


def test_results_holding_foreign_values_are_still_undone(encoder):
    register_step("foreign", lambda t: StoresForeignValue())
    register_step("nested_boom", lambda t: NestedThenBoom())
    try:
        steps = ["normalize", "language", "encode", "foreign", "nested_boom"]
        good, bad = Triager(TriageConfig(steps=steps), encoder=encoder)(
            ["Where is my order?", "Please explode this ticket."]
        )
        assert bad.labels["odd"] == {"not": "a Prediction"}
        assert bad.message_languages == [] and bad.errors[0].step == "nested_boom"
    finally:
        unregister_step("foreign")
        unregister_step("nested_boom")


def test_parts_reuse_the_normalised_subject_and_body(triager):
    from triage.pipeline import TicketState
    from triage.schema import Ticket, TriageResult
    from triage.sentiment.scorer import ticket_parts as sentiment_parts
    from triage.summarize.step import ticket_parts as summary_parts

    ticket = {
        "subject": "Re: <b>Rechnung</b> falsch",
        "body": "<p>Hallo,</p><p>die Rechnung 4711 ist falsch.</p><p>Gruß<br>Anna</p>",
        "messages": [{"role": "customer", "text": "Noch keine Antwort?"}],
    }
    state = TicketState(ticket=Ticket.model_validate(ticket), result=TriageResult(ticket_id="x"))
    next(s for s in triager.steps if s.name == "normalize").run([state])
    assert set(state.normalized) == {state.ticket.subject, state.ticket.body}
    fresh = sentiment_parts(state.ticket, state.message_texts)
    assert sentiment_parts(state.ticket, state.message_texts, normalized=state.normalized) == fresh
    fresh = summary_parts(state.ticket, state.message_texts)
    assert summary_parts(state.ticket, state.message_texts, normalized=state.normalized) == fresh


def test_redacted_ticket_parts_are_normalised_from_the_masked_text(encoder):
    email, phone = "anna.kovacs@example.com", "+36 30 123 4567"
    triager = Triager(TriageConfig(redact=True), encoder=encoder)
    result = triager(
        {
            "subject": f"Refund for {email}",
            "body": f"Hello, I was charged twice and it is urgent! Write to {email} or call {phone}. Thanks",
        }
    )
    dumped = result.model_dump_json()
    assert result.ok and email not in dumped and phone not in dumped
    assert result.summary is not None and result.summary.text
    assert any(c.kind == "urgency" for c in result.sentiment.cues)


def _same(a, b, *, tol: float = 1e-4) -> bool:
    """Equal structures, floats within ``tol`` (batch shapes change float rounding in the encoder)."""
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= tol
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k], tol=tol) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, tol=tol) for x, y in zip(a, b, strict=True))
    return a == b


def test_a_ticket_alone_gets_what_it_gets_in_a_batch(triager, sample_tickets):
    """Batch-wide work (n-gram counting, encoding) does not leak between tickets."""
    batch = triager(sample_tickets)
    for ticket, together in zip(sample_tickets[:8], batch, strict=False):
        alone = triager(ticket).model_dump(exclude={"timings_ms"})
        assert _same(alone, together.model_dump(exclude={"timings_ms"})), ticket["id"]
    assert not _same({"score": 0.5}, {"score": 0.6}) and not _same({"label": "A"}, {"label": "B"})


def test_single_threaded_blas_is_scoped():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from triage.pipeline import single_threaded_blas

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with single_threaded_blas():
        assert all(n == 1 for n in blas_threads())
    assert blas_threads() == before
