"""Summary offsets index the ticket's own normalised text, with and without PII masking (issue 20).

Contract (``triage.schema.SummaryPoint``): ``start``/``end`` index ``normalize_text(field).text`` of the part
named by ``source``/``message_index``, as the ticket gave it. With the redact step on, the summary quotes the
masked sentence (the original never appears in a result) while the offsets still index the unmasked text.
"""

from __future__ import annotations

from typing import Any

import pytest

from triage.config import TriageConfig
from triage.normalize import normalize_text
from triage.pii import unmask
from triage.pii.step import original_offset, original_span
from triage.pipeline import Triager
from triage.schema import Ticket, TriageResult
from triage.summarize.cues import decode_entities, display_text

EMAIL, EMAIL2, PHONE = "anna.kovacs@example.com", "support-team@shop.example.org", "+36 30 123 4567"
PII = [EMAIL, EMAIL2, PHONE, "anna.kovacs", "30 123 4567"]

TICKETS: list[dict[str, Any]] = [
    {  # e-mail before the first sentence, PII inside sentences, a phone after the last one
        "id": "before-inside-after",
        "subject": f"Order 123456 missing, reply to {EMAIL}",
        "body": f"{EMAIL}\nHello, my order 123456 never arrived and the app shows error E1042. "
        f"Please call me on {PHONE} or write to {EMAIL} before Friday. "
        f"I already checked the tracking page twice. Reach me at {PHONE}",
        "messages": [
            {"role": "agent", "text": f"We are sorry. We have sent a replacement, tracking from {EMAIL2}."},
            {"role": "customer", "text": f"{PHONE} is my number. The replacement has not arrived either."},
        ],
    },
    {  # one long sentence with two values, and values at both ends of the text
        "id": "one-sentence",
        "body": f"{PHONE} I cannot log in since version 2.4.1 although {EMAIL} is my login and {PHONE} my "
        f"phone, please reset it {EMAIL}",
    },
    {  # HTML: offsets index the normalised text, not the markup
        "id": "html",
        "body": f"<p>Hi,</p><p>the invoice INV-2025-0142 shows the wrong VAT number. Send it to "
        f"<b>{EMAIL}</b> please.</p><p>I tried to download it again yesterday.</p><p>Call {PHONE}.</p>",
    },
]


def _triager(redact: bool, keep: str = "memory") -> Triager:
    steps = ["normalize", "redact", "summarize"] if redact else ["normalize", "summarize"]
    return Triager(TriageConfig(steps=steps, options={"redact": {"keep_mapping": keep}} if redact else {}))


def _field(ticket: dict[str, Any], source: str, index: int | None) -> str:
    """The normalised text the offsets index: normalize_text of the field as the caller sent it."""
    parsed = Ticket.model_validate(ticket)
    raw = {"subject": parsed.subject, "body": parsed.body}.get(source)
    if source == "message":
        assert index is not None
        raw = parsed.messages[index].text
    assert raw is not None
    return normalize_text(raw).text


def _points(result: TriageResult) -> list[Any]:
    summary = result.summary
    assert summary is not None and summary.sentences
    optional = [summary.problem, summary.request, summary.status, *summary.tried]
    return [*summary.sentences, *(p for p in optional if p is not None)]


def _span(ticket: dict[str, Any], item: Any) -> str:
    assert item.start is not None and item.end is not None, item
    return _field(ticket, item.source, item.message_index)[item.start : item.end]


def _fold(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["id"] for t in TICKETS])
def test_offsets_index_the_normalised_field_without_masking(ticket: dict[str, Any]) -> None:
    result = _triager(redact=False)(ticket)
    assert result.ok, result.errors
    for point in _points(result):
        assert _fold(_span(ticket, point)) == point.text
    for fact in result.summary.facts:
        assert _span(ticket, fact).strip(" .,;:") == fact.text


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["id"] for t in TICKETS])
def test_offsets_index_the_unmasked_field_with_masking_on(ticket: dict[str, Any]) -> None:
    result = _triager(redact=True)(ticket)
    assert result.ok, result.errors and result.redactions
    mapping = result.redaction_mapping
    assert mapping and set(result.redactions) >= {"EMAIL", "PHONE"}
    masked_sentences = 0
    for point in _points(result):
        original = _span(ticket, point)
        assert _fold(original) == unmask(point.text, mapping)  # the same sentence, as the caller wrote it
        if point.text != _fold(original):
            masked_sentences += 1
            assert "<EMAIL_" in point.text or "<PHONE_" in point.text
    assert masked_sentences  # the tickets are built so that the summary holds masked sentences
    for fact in result.summary.facts:
        assert unmask(fact.text, mapping) == _span(ticket, fact).strip(" .,;:")


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["id"] for t in TICKETS])
def test_the_same_sentence_has_the_same_offsets_with_and_without_masking(ticket: dict[str, Any]) -> None:
    plain = {
        (p.source, p.message_index, p.text): (p.start, p.end) for p in _points(_triager(redact=False)(ticket))
    }
    masked = _triager(redact=True)(ticket)
    compared = 0
    for point in _points(masked):
        key = (point.source, point.message_index, unmask(point.text, masked.redaction_mapping))
        if key in plain:
            assert (point.start, point.end) == plain[key]
            compared += 1
    assert compared


@pytest.mark.parametrize("ticket", TICKETS, ids=[t["id"] for t in TICKETS])
def test_no_masked_value_reappears_in_any_output(ticket: dict[str, Any]) -> None:
    result = _triager(redact=True, keep="none")(ticket)
    dumped = result.model_dump_json()
    for value in PII:
        assert value not in dumped and value not in result.summary.text
    assert result.redaction_mapping is None and result.masked_parts  # positions only, never serialised
    assert "masked_parts" not in dumped


def test_values_found_only_in_the_raw_field_are_mapped_back_too() -> None:
    """The second masking pass (a name the stripped signature gave away) composes with the first."""
    body = (
        f"Write to {EMAIL} about it. My parcel never arrived, so I asked Bálint Szabó at the desk and he "
        f"could not help. Call {PHONE} please. I already checked the tracking page twice.\n\n"
        "Best regards,\nBálint Szabó"
    )
    ticket = {"id": "second-pass", "body": body}
    result = _triager(redact=True)(ticket)
    assert result.redactions == {"EMAIL": 1, "PHONE": 1, "PERSON": 1}
    with_name = [p for p in _points(result) if "<PERSON_1>" in p.text]
    assert with_name, [p.text for p in _points(result)]
    for point in _points(result):
        assert _fold(_span(ticket, point)) == unmask(point.text, result.redaction_mapping)
    assert "Bálint Szabó" not in _triager(redact=True, keep="none")(ticket).model_dump_json()


def test_a_part_that_cannot_be_mapped_back_gets_no_offsets() -> None:
    """Masking on and a body over max_input_chars: no recorded masked text to map from, so None."""
    body = f"My order never arrived, write to {EMAIL}. I already checked the tracking page. " + "x " * 700
    config = TriageConfig(steps=["normalize", "redact", "summarize"], max_input_chars=1000)
    result = Triager(config)({"id": "long", "body": body})
    points = _points(result)
    assert all(p.start is None and p.end is None for p in points)
    assert EMAIL not in result.model_dump_json()


def test_original_offset_snaps_positions_inside_a_placeholder_to_the_value() -> None:
    #     masked: "call <PHONE_1> now"  original: "call +36 30 123 4567 now"
    segments = [(5, 14, 5, 20)]
    assert original_span(segments, 0, 4) == (0, 4)
    assert original_span(segments, 5, 14) == (5, 20)
    assert original_span(segments, 15, 18) == (21, 24)
    assert original_span(segments, 7, 9) == (5, 20)  # inside: the whole value, never half of it
    assert original_offset(segments, 14, end=False) == 20 and original_offset([], 9, end=True) == 9


@pytest.mark.parametrize(
    "written",
    [
        "anna&#64;example.com",  # what the redactor decodes once and masks
        "anna&amp;#64;example.com",  # double encoded: one decode more would give an address
        "anna&#64example.com",  # no semicolon: html.unescape decodes it, the redactor does not
        "anna&#x40example&#46com",
        "anna&commat;example&period;com",
    ],
)
def test_entity_encoded_email_never_reappears_in_a_summary(written: str) -> None:
    body = f"My parcel never arrived. Write to {written} please. I already checked the tracking."
    for keep in ("none", "memory"):
        result = _triager(redact=True, keep=keep)({"id": "e", "body": body})
        shown = result.summary.text + " " + " ".join(p.text for p in _points(result))
        assert "anna@example.com" not in shown and "anna@example" not in shown
        assert "anna@example.com" not in result.model_dump_json()


def test_entity_encoded_phone_never_reappears_in_a_summary() -> None:
    body = "My parcel never arrived. Call +36&nbsp30&nbsp123&nbsp4567 please. I already checked the tracking."
    result = _triager(redact=True, keep="none")({"id": "p", "body": body})
    assert "30 123 4567" not in result.summary.text and "\xa0" not in result.summary.text


def test_display_text_decodes_punctuation_only() -> None:
    assert display_text("AT&amp;T is down &amp; slow, &quot;again&quot; it&#39;s &lt;3") == (
        'AT&T is down & slow, "again" it\'s <3'
    )
    for kept in ("anna&#64;example.com", "anna&amp;#64;example.com", "a&amp;nbsp30", "+36&#32;30"):
        assert "@" not in display_text(kept) and "\xa0" not in display_text(kept)
        assert decode_entities(kept) == kept
    # angle brackets are not decoded where they would forge a placeholder that unmask() would fill
    assert decode_entities("literal &lt;EMAIL_1&gt; text &amp; more") == "literal &lt;EMAIL_1&gt; text & more"


def test_a_second_masking_pass_keeps_the_first_passes_placeholders_in_place() -> None:
    from triage.pii.redactor import PiiMapping
    from triage.pii.step import RedactStep

    original = f"call {PHONE} or mail {EMAIL} today"
    first = f"call <PHONE_1> or mail {EMAIL} today"  # as if the phone had been masked by an earlier pass
    done = [(5, 14, 5, 5 + len(PHONE))]
    masked, segments = RedactStep()._redact_tracked(first, PiiMapping(), done)
    assert masked == "call <PHONE_1> or mail <EMAIL_1> today"
    assert segments[0] == done[0] and len(segments) == 2
    start, end = original_span(segments, masked.index("<EMAIL_1>"), masked.index(" today"))
    assert original[start:end] == EMAIL
    assert original[original_offset(segments, len(masked), end=True) - 6 :] == " today"
