"""Escalation cues: multilingual kinds, spans, negation, shouting, bounded cost, labelled-set quality."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from triage.sentiment import CUE_KINDS, CueDetector, detect_cues

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # the labelled cue set lives in benchmarks/, at the repo root
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks.sentiment_cue_eval import CUE_EVAL, CUE_HELDOUT, evaluate_cues  # noqa: E402


def kinds(text: str) -> list[str]:
    return [c.kind for c in detect_cues(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("URGENT: the portal is down and we are losing money", {"urgency", "shouting", "outage", "money"}),
        ("Zum wiederholten Mal: die App funktioniert nicht!", {"repeat_contact", "outage"}),
        ("Sürgős! Harmadszor írok, a rendszer nem működik.", {"urgency", "repeat_contact", "outage"}),
        ("Уже третий раз пишу, сайт не работает, срочно", {"repeat_contact", "outage", "urgency"}),
        ("Je vais résilier mon abonnement et contacter mon avocat", {"churn", "legal"}),
        ("Es urgente, me cobraron dos veces 49,99 €", {"urgency", "money"}),
        ("Disdico il contratto se non risolvete entro venerdì", {"churn", "deadline"}),
        ("Vou procurar o Procon, o sistema caiu de novo", {"legal", "outage"}),
    ],
)
def test_cues_in_eight_languages(text: str, expected: set[str]) -> None:
    assert set(kinds(text)) == expected


def test_spans_point_at_the_matched_text() -> None:
    text = "Hello. Ich kündige, wenn das nicht bis Freitag behoben ist. Mein Anwalt weiß Bescheid."
    found = detect_cues(text, message_index=2, source="message")
    assert found, "expected cues"
    for cue in found:
        assert text[cue.start : cue.end] == cue.text
        assert cue.message_index == 2 and cue.source == "message"
    assert [c.kind for c in found] == ["churn", "deadline", "legal"]
    assert [c.start for c in found] == sorted(c.start for c in found)


@pytest.mark.parametrize(
    "text",
    [
        "This is not urgent.",
        "Nem sürgős, ráér.",
        "Это не срочно.",
        "Es ist nicht dringend.",
        "No es urgente.",
    ],
)
def test_negated_urgency_is_not_a_cue(text: str) -> None:
    assert "urgency" not in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Please try again later.",  # "again" alone is not repeat contact
        "Quel est le délai de livraison ?",  # delivery time is not a deadline
        "Qual è la data di scadenza della carta?",
        "Das Gericht war lecker.",  # a dish, not a court
        "Посылка лежит на почте.",  # lies at the post office, not "the site is down"
        "O dinheiro caiu na conta.",  # money arrived, not an outage
        "Can I use the VPN API over HTTP?",  # acronyms are not shouting
    ],
)
def test_traps_give_no_cue(text: str) -> None:
    assert kinds(text) == []


def test_shouting_caps_and_exclamations() -> None:
    found = detect_cues("WHY DOES NOBODY ANSWER?! I waited all day!!!")
    shouts = [c.text for c in found if c.kind == "shouting"]
    assert "WHY DOES NOBODY ANSWER" in shouts
    assert "!!!" in shouts
    assert any(s.startswith("?!") for s in shouts)
    whole = detect_cues("ПОЧЕМУ НИКТО НЕ ОТВЕЧАЕТ НА МОИ ПИСЬМА")
    assert [c.kind for c in whole] == ["shouting"]


def test_kinds_can_be_restricted_and_unknown_kinds_rejected() -> None:
    only = CueDetector(kinds=("legal",))
    assert [c.kind for c in only.detect("URGENT!!! my lawyer")] == ["legal"]
    with pytest.raises(ValueError, match="unknown cue kinds"):
        CueDetector(kinds=("anger",))
    assert set(CUE_KINDS) >= {
        "urgency",
        "repeat_contact",
        "deadline",
        "money",
        "churn",
        "legal",
        "outage",
        "shouting",
    }


def test_huge_and_empty_input_are_cheap_and_safe() -> None:
    assert detect_cues("") == []
    big = ("lorem ipsum dolor sit amet " * 40_000) + " URGENT"
    assert detect_cues(big) == []  # its speed: `python -m benchmarks robustness`
    late = ("lorem ipsum dolor sit amet " * 1_000) + " URGENT"  # past the default 20,000 characters
    assert detect_cues(late) == []  # only the first max_chars are scanned: the late cue is out of reach
    assert CueDetector(max_chars=len(late)).detect(late)[-1].kind in {"urgency", "shouting"}


def test_labelled_set_quality() -> None:
    assert len(CUE_EVAL) >= 100
    assert {lang for lang, _, _ in CUE_EVAL} >= {"en", "de", "hu", "ru", "fr", "es"}
    assert sum(not e for _, _, e in CUE_EVAL) >= len(CUE_EVAL) // 2
    dev = evaluate_cues()["by_language"]["all"]
    assert dev["precision"] >= 0.95 and dev["recall"] >= 0.9 and dev["false_alarm_rate"] <= 0.05
    held = evaluate_cues(items=CUE_HELDOUT)["by_language"]["all"]
    assert held["precision"] >= 0.9 and held["recall"] >= 0.8
