from __future__ import annotations

import pytest
from pydantic import ValidationError

from triage.schema import Message, Prediction, Ticket, TriageResult


def test_aliases_from_helpdesk_exports():
    t = Ticket.model_validate(
        {
            "ticket_id": 42,
            "title": "Refund",
            "description": "I want my money back",
            "requester_id": 7,
            "created": "2026-01-02T10:00:00Z",
            "priority_level": "high",
        }
    )
    assert t.id == "42"
    assert t.subject == "Refund"
    assert t.body == "I want my money back"
    assert t.customer_id == "7"
    assert t.created_at is not None and t.created_at.year == 2026
    # unknown fields are kept, not dropped
    assert t.metadata["priority_level"] == "high"


def test_unknown_fields_merge_into_existing_metadata():
    t = Ticket.model_validate({"body": "hi there", "metadata": {"vip": True}, "tags": ["a"]})
    assert t.metadata == {"vip": True, "tags": ["a"]}


def test_ticket_with_no_text_is_a_clear_validation_error():
    for bad in ({}, {"subject": "  ", "body": ""}, {"messages": [{"role": "customer", "text": " "}]}):
        with pytest.raises(ValidationError, match="ticket has no text"):
            Ticket.model_validate(bad)


def test_plain_string_is_a_body():
    assert Ticket.model_validate("Where is my parcel?").body == "Where is my parcel?"


def test_thread_roles_and_texts():
    t = Ticket.model_validate(
        {
            "subject": "Invoice",
            "thread": [
                {"sender": "Requester", "body": "The invoice is wrong."},
                {"role": "agent", "content": "We are checking."},
                {"role": "internal", "text": "Escalate to billing"},
            ],
        }
    )
    assert [m.role for m in t.messages] == ["customer", "agent", "note"]
    assert t.customer_text == "Invoice\nThe invoice is wrong."
    assert "Escalate to billing" in t.full_text


def test_unknown_role_is_rejected_with_the_valid_values():
    with pytest.raises(ValidationError, match="customer, agent or note"):
        Message.model_validate({"role": "robot", "text": "x"})


def test_result_round_trips_through_json():
    r = TriageResult(ticket_id="T1", language="de", category=Prediction(label="billing", score=0.9))
    again = TriageResult.model_validate_json(r.model_dump_json())
    assert again == r
    assert again.schema_version == "1.0"
    assert again.ok
