"""Summaries: sentence splitting, facts, extractive ranking, structured fields, the pipeline step, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triage.schema import Ticket
from triage.summarize import (
    ExtractiveSummarizer,
    Part,
    Summarizer,
    find_facts,
    split_sentences,
    ticket_parts,
    word_count,
)
from triage.summarize.cues import is_boilerplate

THREAD = {
    "id": "T-7",
    "subject": "Cannot log in",
    "messages": [
        {
            "role": "customer",
            "text": "Hi,\nI cannot log in to my account since yesterday's update. "
            "I already reset my password twice but the link in the e-mail does not work. "
            "The app shows error E-4012 on my iPhone 13. "
            "Could you unlock the account please?\nThanks, Anna",
        },
        {
            "role": "agent",
            "text": "Hello Anna, sorry to hear that! I have unlocked your account and sent a new reset "
            "link to your e-mail. Let us know if it works.",
        },
        {"role": "customer", "text": "Thanks!"},
    ],
}


class CountingEncoder:
    """A real encoder that records each call (to check one call per batch)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.calls: list[tuple[int, str]] = []

    def encode(self, texts, *, kind="query", batch_size=32):
        self.calls.append((len(texts), kind))
        return self.inner.encode(texts, kind=kind, batch_size=batch_size)


# ------------------------------------------------------------------------------------------ splitting
def test_split_sentences_handles_abbreviations_numbers_urls_and_lists():
    text = (
        "Hello Mr. Smith. My order no. 12345 cost 12.50 EUR, e.g. via PayPal! "
        "See https://shop.example.com/a.b. Then:\n1. Restart it.\n2. Call us on 3. März.\nWhat now?"
    )
    got = [s.text for s in split_sentences(text)]
    assert got == [
        "Hello Mr. Smith.",
        "My order no. 12345 cost 12.50 EUR, e.g. via PayPal!",
        "See https://shop.example.com/a.b.",
        "Then:",
        "1. Restart it.",
        "2. Call us on 3. März.",
        "What now?",
    ]


def test_split_sentences_joins_hard_wrapped_email_lines_and_splits_cjk():
    text = "my laptop does not start\nafter the update since monday. Please help\n- restarting did not work"
    assert [s.text for s in split_sentences(text)] == [
        "my laptop does not start after the update since monday.",
        "Please help",
        "- restarting did not work",
    ]
    assert [s.text for s in split_sentences("我的订单没有到。请帮忙！谢谢")] == [
        "我的订单没有到。",
        "请帮忙！",
        "谢谢",
    ]
    assert [s.text for s in split_sentences("Заказ № 123 не пришёл, т.е. его нет. Что делать?")] == [
        "Заказ № 123 не пришёл, т.е. его нет.",
        "Что делать?",
    ]


def test_split_sentences_bounds_huge_input():
    text = "word " * 200_000  # 1 MB without any punctuation
    sentences = split_sentences(text, max_chars=400, max_sentences=50)
    assert len(sentences) == 50 and all(len(s.text) <= 400 for s in sentences)
    # many rejected boundaries and joined lines (its speed: `python -m benchmarks robustness`)
    assert split_sentences("x. " * 100_000 + "\n" + "abc\n" * 100_000)
    with pytest.raises(ValueError, match="max_chars"):
        split_sentences("x", max_chars=5)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # no clocks
@given(
    st.lists(st.sampled_from(list("ab .!?\n\t:;-1Éй。@/") + ["Mr.", "e.g.", " 3. ", "https://x.y/z."])).map(
        "".join
    )
)
def test_split_sentence_spans_are_exact_ordered_and_cover_all_words(text):
    sentences = split_sentences(text, max_chars=40)
    previous_end = 0
    for sentence in sentences:
        assert sentence.start >= previous_end
        assert " ".join(text[sentence.start : sentence.end].split()) == sentence.text
        assert sentence.text and len(sentence.text) <= 40
        previous_end = sentence.end
    assert "".join(s.text for s in sentences).replace(" ", "") == "".join(text.split())


def test_word_count_counts_unspaced_scripts():
    assert word_count("my order did not arrive") == 5
    assert word_count("我的订单没有到") == 4


# ------------------------------------------------------------------------------------------ cues and facts
def test_find_facts_in_several_languages():
    def kinds(text):
        return [(f.kind, f.text) for f in find_facts(text)]

    assert kinds("My order #12345 from 2024-03-05 was charged 49.99 EUR twice, invoice INV-2024-0042.") == [
        ("order_id", "12345"),
        ("date", "2024-03-05"),
        ("amount", "49.99 EUR"),
        ("invoice_id", "INV-2024-0042"),
    ]
    assert kinds("Error 0x80070005 on Windows 10 after the update to v2.3.1") == [
        ("error_code", "0x80070005"),
        ("product", "Windows 10"),
        ("version", "v2.3.1"),
    ]
    assert kinds("A rendelésszám: 778812, a számla 2024. 03. 05. kelt, 12 500 Ft.") == [
        ("order_id", "778812"),
        ("date", "2024. 03. 05"),
        ("amount", "12 500 Ft"),
    ]
    assert kinds("Заказ № 55123 не пришёл 3 марта, оплатил 1500 руб.") == [
        ("order_id", "55123"),
        ("date", "3 марта"),
        ("amount", "1500 руб"),
    ]
    assert ("error_code", "Fehler 503") in kinds("Bestellung Nr. 99812 vom 3. März, Fehler 503.")
    text = "ticket 4421 and nothing else"
    fact = find_facts(text)[0]
    assert text[fact.start : fact.end] == fact.text == "4421"


def test_display_text_drops_chat_noise_but_keeps_content():
    from triage.summarize.cues import display_text

    assert display_text("@115802 @AirAsiaSupport your app crashes &amp; freezes https://t.co/x1 ^EZ") == (
        "your app crashes & freezes"
    )
    assert display_text("Re: AW: Refund still missing") == "Refund still missing"
    assert (
        display_text("See https://shop.example.com/help for details")
        == "See https://shop.example.com/help for details"
    )
    assert display_text("@AmazonHelp") == "@AmazonHelp"  # nothing left: keep the original


def test_boilerplate_detection():
    assert is_boilerplate("Hi John,")
    assert is_boilerplate("Thanks a lot!")
    assert is_boilerplate("Köszönöm!")
    assert is_boilerplate("@AmazonHelp")
    assert is_boilerplate("Sehr geehrte Damen und Herren,")
    assert not is_boilerplate("Thanks, but my order is still missing")
    assert not is_boilerplate("Hallo, mein Paket ist nicht angekommen.")


# ------------------------------------------------------------------------------------------ extractive
def test_thread_summary_structured_fields_point_back_to_their_message():
    summarizer = Summarizer(centrality="lexical")
    summary = summarizer(THREAD)
    parts = ticket_parts(Ticket(**THREAD))
    texts = {(p.source, p.message_index): p.text for p in parts}
    assert summary.method == "extractive"
    assert "Hi," not in summary.text and "Thanks, Anna" not in summary.text and "Thanks!" not in summary.text
    assert len(summary.sentences) <= 3 and word_count(summary.text) <= 60
    for point in [*summary.sentences, summary.problem, summary.request, summary.status, *summary.tried]:
        assert point is not None
        assert (
            " ".join(texts[(point.source, point.message_index)][point.start : point.end].split())
            == point.text
        )
    assert summary.problem.message_index == 0 and "cannot log in" in summary.problem.text
    assert summary.request.text == "Could you unlock the account please?"
    assert [t.text for t in summary.tried] == [
        "I already reset my password twice but the link in the e-mail does not work."
    ]
    assert summary.status.role == "agent" and summary.status.message_index == 1
    assert "unlocked your account" in summary.status.text
    assert any(p.role == "agent" for p in summary.sentences)  # the thread's state is in the summary
    assert {(f.kind, f.text) for f in summary.facts} >= {("error_code", "E-4012"), ("product", "iPhone 13")}
    error = next(f for f in summary.facts if f.kind == "error_code")
    assert texts[("message", error.message_index)][error.start : error.end] == "E-4012"


def test_one_sentence_ticket_and_greeting_only_ticket_never_fail():
    summarizer = Summarizer(centrality="lexical")
    one = summarizer("Where is my parcel?")
    assert one.text == "Where is my parcel?" and one.request is not None and one.status is None
    greeting = summarizer({"messages": [{"role": "customer", "text": "Hello!"}]})
    assert greeting.text == "Hello!"
    long_one = summarizer("word " * 500)
    assert long_one.text.endswith("…") and word_count(long_one.text) <= 61


def test_budget_and_redundancy_control():
    body = (
        "My parcel has not arrived yet. The parcel still has not arrived. "
        "My parcel has still not arrived at all. "
        "The tracking page shows it stuck in Leipzig since Monday. "
        "I need the shoes for a wedding on Saturday. "
        "Please send a replacement or refund the 89.90 EUR."
    )
    summarizer = ExtractiveSummarizer(max_sentences=3, max_words=40, centrality="lexical")
    summary = summarizer([Part(body)])
    assert len(summary.sentences) <= 3 and word_count(summary.text) <= 40
    assert sum("arrived" in s.text for s in summary.sentences) == 1  # near-duplicates are not repeated
    assert ("amount", "89.90 EUR") in {(f.kind, f.text) for f in summary.facts}


def test_summarizer_validates_arguments_and_input():
    from triage.errors import InputError, TriageError

    with pytest.raises(ValueError, match="max_words"):
        ExtractiveSummarizer(max_words=1)
    with pytest.raises(ValueError, match="needs an encoder"):
        ExtractiveSummarizer(centrality="embedding")
    with pytest.raises(TriageError, match="model=DIR"):
        Summarizer(method="abstractive")
    with pytest.raises(InputError, match="record 1"):
        Summarizer(centrality="lexical")(["fine ticket", {"subject": ""}])


@pytest.mark.slow
def test_embedding_centrality_encodes_a_whole_batch_in_one_call(encoder):
    counting = CountingEncoder(encoder)
    summarizer = ExtractiveSummarizer(counting, centrality="embedding", max_sentences=2, max_words=40)
    docs = [
        ticket_parts(Ticket(**THREAD)),
        [
            Part(
                "Mein Paket ist nicht angekommen. Die Sendungsverfolgung zeigt seit Montag nichts Neues. "
                "Bitte prüfen Sie das. Ich brauche es bis Freitag für eine Hochzeit."
            )
        ],
        [Part("Only one sentence here.")],  # fits the budget: not encoded at all
    ]
    summaries = summarizer.summarize_parts(docs)
    assert len(counting.calls) == 1 and counting.calls[0][1] == "passage"
    assert counting.calls[0][0] == summarizer.last_encoded > 0
    assert summaries[2].text == "Only one sentence here."
    assert len(summaries[1].sentences) == 2 and "Paket" in summaries[1].text


@pytest.mark.slow
def test_pipeline_summarize_step_on_mixed_batch(encoder):
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    triager = Triager(TriageConfig(steps=["normalize", "language", "encode", "summarize"]), encoder=encoder)
    huge = {"id": "huge", "body": "Az alkalmazás nem indul el. " + "Lorem ipsum dolor sit amet. " * 40_000}
    results = triager(
        [
            THREAD,
            {
                "id": "hu",
                "body": "Jó napot! A rendelésem (1234567) nem érkezett meg. Már kétszer írtam. "
                "Kérem, segítsenek!",
            },
            {"id": "one", "body": "Refund please"},
            huge,
        ]
    )
    assert all(not r.errors for r in results), [r.errors for r in results]
    thread, hu, one, big = results
    assert thread.summary and thread.summary.status is not None
    assert "Jó napot!" not in hu.summary.text and hu.summary.problem is not None
    assert ("order_id", "1234567") in {(f.kind, f.text) for f in hu.summary.facts}
    assert one.summary.text == "Refund please"
    assert big.summary.text and word_count(big.summary.text) <= 60
    assert all("summarize" in r.timings_ms for r in results)


def test_step_options_are_checked():
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    config = TriageConfig(steps=["normalize", "summarize"], options={"summarize": {"max_word": 10}})
    with pytest.raises(ValueError, match="unknown summarize options"):
        Triager(config).steps  # noqa: B018 - building the steps is what raises
    ok = Triager(
        TriageConfig(
            steps=["normalize", "summarize"],
            options={"summarize": {"centrality": "lexical", "max_sentences": 1}},
        )
    )
    result = ok(THREAD)
    assert len(result.summary.sentences) == 1


def test_cli_summarize_text_and_file(tmp_path):
    from typer.testing import CliRunner

    from triage.cli import app

    runner = CliRunner()
    out = runner.invoke(
        app, ["summarize", "My order 991 has not arrived. Please refund me.", "--centrality", "lexical"]
    )
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["facts"][0]["text"] == "991" and data["request"]["text"] == "Please refund me."
    path = tmp_path / "tickets.jsonl"
    path.write_text(json.dumps(THREAD) + "\n{broken\n", encoding="utf-8")
    out = runner.invoke(app, ["summarize", str(path), "--centrality", "lexical"])
    assert out.exit_code == 0, out.output
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows[0]["row"] == 1 and rows[0]["summary"]["status"]["role"] == "agent"
    assert rows[1]["row"] == 2 and "error" in rows[1]


def test_zscore_and_tfidf_helpers_are_safe_on_degenerate_input():
    from triage.summarize.extractive import _tfidf_matrix, _zscore

    assert np.all(_zscore(np.array([1.0, 1.0, 1.0])) == 0)
    assert _tfidf_matrix(["!!!", "???"]).shape[0] == 2


def test_default_step_never_calls_the_encoder():
    from triage.config import TriageConfig
    from triage.pipeline import Triager

    class NoEncoder:
        name, dim = "none", 4

        def encode(self, texts, *, kind="query", batch_size=32):
            raise AssertionError("the default summarize step must not encode")

    triager = Triager(TriageConfig(steps=["normalize", "summarize"]), encoder=NoEncoder())
    result = triager(THREAD)
    assert not result.errors and result.summary.status is not None
