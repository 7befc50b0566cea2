"""Priority rules: levels, named reasons, floors, metadata, editable config, the pipeline step contract."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from triage.errors import InputError
from triage.schema import Evidence, Prediction, SentimentResult, Ticket, TriageResult
from triage.sentiment import PriorityRules, detect_cues, suggest_priority
from triage.sentiment.step import PriorityStep
from triage.steps import TicketState


def reasons(pred: Prediction) -> set[str]:
    return {e.label for e in pred.evidence if e.label}


def test_calm_question_is_p4_with_only_the_total_as_reason() -> None:
    pred = suggest_priority(PriorityRules(), cues=detect_cues("How do I change my address?"), sentiment=None)
    assert pred.label == "P4"
    assert reasons(pred) == {"total"}
    assert pred.automation == "suggest" and 0.0 <= pred.score <= 1.0


def test_urgent_outage_with_repeat_contact_is_p1_and_says_why() -> None:
    cues = detect_cues("Sürgős! Harmadszor írok, a rendszer nem működik.")
    sentiment = SentimentResult(label="negative", score=-0.7, confidence=0.8, cues=cues)
    pred = suggest_priority(PriorityRules(), cues=cues, sentiment=sentiment)
    assert pred.label == "P1"
    assert {"cue:urgency", "cue:repeat_contact", "cue:outage", "sentiment:very_negative"} <= reasons(pred)
    total = pred.evidence[0]
    assert total.label == "total" and total.score == pytest.approx(2.0 + 1.5 + 2.5 + 1.5)
    assert any("Sürgős" in e.text for e in pred.evidence)


def test_vip_outage_floor_raises_to_p1() -> None:
    cues = detect_cues("The app is not working.")
    plain = suggest_priority(PriorityRules(), cues=cues, sentiment=None)
    vip = suggest_priority(PriorityRules(), cues=cues, sentiment=None, metadata={"customer": {"vip": "yes"}})
    assert plain.label == "P3"
    assert vip.label == "P1"
    assert {"vip_customer", "floor:P1"} <= reasons(vip)


def test_legal_threat_is_at_least_p2_even_with_low_weights() -> None:
    rules = PriorityRules.parse({"cues": {"legal": 0.1}})
    pred = suggest_priority(rules, cues=detect_cues("Mein Anwalt meldet sich."), sentiment=None)
    assert pred.label == "P2"
    assert "floor:P2" in reasons(pred)


def test_category_counts_only_when_not_abstained() -> None:
    cat = Prediction(label="PAYMENT", score=0.9)
    abstained = Prediction(label="PAYMENT", score=0.3, abstained=True)
    assert "category:payment" in reasons(
        suggest_priority(PriorityRules(), cues=[], sentiment=None, category=cat)
    )
    assert "category:payment" not in reasons(
        suggest_priority(PriorityRules(), cues=[], sentiment=None, category=abstained)
    )


def test_bundled_category_labels_have_points() -> None:
    news = suggest_priority(
        PriorityRules(), cues=[], sentiment=None, category=Prediction(label="NEWSLETTER", score=1)
    )
    ev = [e for e in news.evidence if e.label == "category:newsletter"]
    assert ev and ev[0].score < 0
    fee = suggest_priority(
        PriorityRules(), cues=[], sentiment=None, category=Prediction(label="CANCELLATION_FEE", score=1)
    )
    assert "category:cancellation_fee" in reasons(fee)


def test_helpdesk_priority_and_tier_metadata() -> None:
    pred = suggest_priority(
        PriorityRules(), cues=[], sentiment=None, metadata={"priority": "High", "tier": "Gold"}
    )
    assert {"helpdesk_priority_high", "premium_tier"} <= reasons(pred)
    assert pred.label == "P3"  # 1.5 + 1.0 points


def test_worsening_trend_adds_points() -> None:
    s = SentimentResult(
        label="negative", score=-0.3, confidence=0.6, trajectory=[0.2, -0.5], trend="worsening"
    )
    pred = suggest_priority(PriorityRules(), cues=[], sentiment=s)
    assert {"trend:worsening", "sentiment:negative"} <= reasons(pred)


def test_rules_file_round_trip_and_edits(tmp_path) -> None:
    data = PriorityRules().model_dump(mode="json")
    data["cues"]["money"] = 5.0
    data["thresholds"] = {"P1": 5.0, "P2": 3.0, "P3": 1.0}
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    rules = PriorityRules.from_file(path)
    pred = suggest_priority(rules, cues=detect_cues("please refund my money"), sentiment=None)
    assert pred.label == "P1"
    toml = tmp_path / "rules.toml"
    toml.write_text("[thresholds]\nP1 = 9.0\nP2 = 5.0\nP3 = 2.0\n", encoding="utf-8")
    assert PriorityRules.from_file(toml).thresholds["P1"] == 9.0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"thresholds": {"P1": 1.0, "P2": 3.0, "P3": 0.5}}, "thresholds"),
        ({"cues": {"anger": 1.0}}, "unknown cue kinds"),
        ({"colour": "red"}, "colour"),
        ({"floors": [{"when": ["cue:legal"], "at_least": "P9"}]}, "floors"),
    ],
)
def test_bad_rules_are_clear_errors(data, message) -> None:
    with pytest.raises(InputError, match=message):
        PriorityRules.parse(data)


def test_missing_or_broken_rules_file(tmp_path) -> None:
    with pytest.raises(InputError, match="not found"):
        PriorityRules.from_file(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputError, match="not valid JSON"):
        PriorityRules.from_file(bad)


def _state(ticket: dict, result: TriageResult) -> TicketState:
    t = Ticket.model_validate(ticket)
    return TicketState(ticket=t, result=result, message_texts=[m.text for m in t.messages])


def _triager(options: dict) -> SimpleNamespace:
    return SimpleNamespace(config=SimpleNamespace(options=options))


def test_priority_step_fills_rules_prediction_without_sentiment_step() -> None:
    step = PriorityStep(_triager({}))
    state = _state({"body": "URGENT: payroll system is down", "vip": True}, TriageResult(ticket_id="1"))
    step.run([state])
    pred = state.result.priority
    assert pred is not None and pred.label == "P1"
    assert {"cue:urgency", "cue:outage", "vip_customer"} <= reasons(pred)


def test_priority_step_keeps_a_trained_heads_label_and_adds_reasons() -> None:
    step = PriorityStep(_triager({"priority": {"rules": {"thresholds": {"P1": 8, "P2": 4, "P3": 2}}}}))
    trained = Prediction(label="P4", score=0.91, evidence=[Evidence(kind="example", text="old ticket")])
    state = _state({"body": "My lawyer will call you."}, TriageResult(ticket_id="2", priority=trained))
    step.run([state])
    pred = state.result.priority
    assert pred.label == "P4" and pred.score == 0.91
    assert pred.evidence[0].kind == "example"
    assert "cue:legal" in reasons(pred)
    assert any(e.text.startswith("rules suggest P2") for e in pred.evidence)


def test_priority_step_rejects_unknown_options() -> None:
    from triage.errors import TriageError

    with pytest.raises(TriageError, match="unknown priority options"):
        PriorityStep(_triager({"priority": {"weights": {}}}))


def test_priority_rules_cli_dumps_parseable_rules(tmp_path) -> None:
    from typer.testing import CliRunner

    from triage.cli import app

    out = tmp_path / "rules.json"
    res = CliRunner().invoke(app, ["priority-rules", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert PriorityRules.from_file(out) == PriorityRules()
    cues = CliRunner().invoke(app, ["cues", "Срочно! Сайт не работает"])
    assert cues.exit_code == 0
    assert [c["kind"] for c in json.loads(cues.output)] == ["urgency", "outage"]
