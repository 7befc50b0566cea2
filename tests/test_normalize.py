"""Tests for triage.normalize."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from pathlib import Path

import pytest

from triage.normalize import (
    NormalizedText,
    fold_whitespace,
    html_to_text,
    looks_like_html,
    normalize_text,
    strip_disclaimer,
    strip_quoted_reply,
    strip_signature,
)

# ------------------------------------------------------------------------------------------------
# NormalizedText
# ------------------------------------------------------------------------------------------------


def test_normalized_text_is_frozen_and_keeps_original() -> None:
    raw = "Hello   world\r\n\r\n\r\n\r\nsecond line  "
    result = normalize_text(raw)
    assert isinstance(result, NormalizedText)
    assert result.original == raw
    assert result.text == "Hello world\n\nsecond line"
    assert result.removed == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "x"  # type: ignore[misc]


def test_normalize_rejects_non_str_and_bad_max_chars() -> None:
    with pytest.raises(TypeError):
        normalize_text(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        normalize_text("text", max_chars=0)


def test_empty_and_whitespace_only_input() -> None:
    assert normalize_text("").text == ""
    assert normalize_text(" \n\t \u200b ").text == ""


# ------------------------------------------------------------------------------------------------
# Whitespace and control characters
# ------------------------------------------------------------------------------------------------


def test_fold_whitespace_collapses_spaces_and_blank_lines() -> None:
    text = "  a \t\t b  \n\n\n\n  c\u00a0\u00a0d \n \n \n e  "
    assert fold_whitespace(text) == "a b\n\nc d\n\ne"


def test_fold_whitespace_normalises_line_endings() -> None:
    assert fold_whitespace("a\r\nb\rc\u2028d\x0ce") == "a\nb\nc\nd\ne"


def test_fold_whitespace_removes_zero_width_and_control_chars() -> None:
    text = "in\u200bvoice\u200c \ufeffnum\u00adber\x00\x07\x1b 42\u202e\x7f\x9f\nnext"
    assert fold_whitespace(text) == "invoice number 42\nnext"


def test_normalize_removes_control_chars_but_keeps_newlines() -> None:
    result = normalize_text("line\x00one\x08\nline\ttwo\x1f")
    assert result.text == "lineone\nline two"


def test_unicode_is_nfc_normalised() -> None:
    decomposed = "Cafe\u0301 a\u0300 Budapest, sz\u00e1mla"  # e + combining acute
    assert normalize_text(decomposed).text == "Café à Budapest, számla"


def test_non_latin_text_is_preserved() -> None:
    text = "Здравствуйте! Сервис не работает уже два дня, срочно помогите."
    assert normalize_text(text).text == text


# ------------------------------------------------------------------------------------------------
# HTML
# ------------------------------------------------------------------------------------------------


def test_html_to_text_blocks_entities_and_dropped_elements() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>Ticket</title><style>p { color: red; }</style>"
        "<script>var x = '<p>hidden</p>';</script></head>"
        "<body><div><p>Hello &amp; welcome &ndash; caf&eacute; &#8364;5&nbsp;000</p>"
        "<div>Line one<br>Line two<br/>Line three</div>"
        "<ul><li>first</li><li>second</li></ul>"
        "<table><tr><td>Order</td><td>12345</td></tr></table>"
        "<!-- a comment --><script>alert('x')</script></div></body></html>"
    )
    text = html_to_text(html)
    assert text == (
        "Hello & welcome – café €5 000\n\nLine one\nLine two\nLine three\n\n- first\n- second\n\nOrder 12345"
    )
    for hidden in ("color", "hidden", "alert", "Ticket", "comment"):
        assert hidden not in text


def test_html_nested_inline_tags_join_words() -> None:
    assert html_to_text("<p>My <b>order <i>#42</i></b> is <span>late</span>.</p>") == "My order #42 is late."


def test_html_blockquote_is_marked_as_quote() -> None:
    html = "<div>New text</div><blockquote><p>old one</p><p>old two</p></blockquote>"
    assert html_to_text(html) == "New text\n> old one\n>\n> old two"


def test_html_pre_keeps_line_breaks() -> None:
    assert html_to_text("<p>Log:</p><pre>line 1\nline 2</pre>") == "Log:\n\nline 1\nline 2"


def test_html_deeply_nested_does_not_recurse() -> None:
    html = "<div>" * 50000 + "deep text" + "</div>" * 50000
    assert html_to_text(html) == "deep text"
    result = normalize_text(html)
    assert result.text == "deep text"
    assert "html" in result.removed


def test_html_deeply_nested_unclosed() -> None:
    html = "<div><span><b>" * 20000 + "still here"
    assert normalize_text(html).text == "still here"


@pytest.mark.parametrize(
    "html, expected",
    [
        ("<p>unclosed <b>bold <i>italic</p><div>next", "unclosed bold italic\n\nnext"),
        ("<p>a < b and c > d</p><div>x</div>", "a < b and c > d\n\nx"),
        ("<div>text</div><p>more</p><!-- never closed", "text\n\nmore"),
        ('<div>ok</div><p>x</p><a href="broken>link', 'ok\n\nx\n\n<a href="broken>link'),
        ("<div>ok</div><p>y</p><![if !supportLists]>- item<![endif]>", "ok\n\ny\n\n- item"),
        ("<div>ok</div></p></div></span><p>z", "ok\n\nz"),
    ],
)
def test_html_malformed(html: str, expected: str) -> None:
    assert html_to_text(html) == expected


def test_html_all_markup_gives_empty_text() -> None:
    assert normalize_text("<div></div>" * 1000).text == ""


def test_html_only_script_falls_back_to_tag_stripped_text() -> None:
    result = normalize_text("<html><body><script>please refund order 42</script></body></html>")
    assert result.text == "please refund order 42"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<html><body>Hi</body></html>", True),
        ("<p>Hello</p><p>World</p>", True),
        ("Line one<br>Line two<br>Line three", True),
        ("Price is < 5 and > 3", False),
        ("Contact John Doe <john@example.com> please", False),
        ("I <3 your product", False),
        ("only one <b> tag mentioned", False),
    ],
)
def test_looks_like_html(text: str, expected: bool) -> None:
    assert looks_like_html(text) is expected


def test_plain_text_with_angle_brackets_is_not_treated_as_html() -> None:
    text = "From John Doe <john@example.com>: price < 5 and > 3"
    result = normalize_text(text)
    assert result.text == text
    assert "html" not in result.removed


# ------------------------------------------------------------------------------------------------
# Quoted replies
# ------------------------------------------------------------------------------------------------

BODY = "Hello,\nmy invoice INV-1001 is still wrong, please fix it."


@pytest.mark.parametrize(
    "marker",
    [
        # en
        "On Mon, Mar 4, 2024 at 10:12 AM John Doe <john@example.com> wrote:",
        "On 4 Mar 2024, at 10:12, Support <support@example.com> wrote:",
        # de
        "Am Di., 5. März 2024 um 10:12 Uhr schrieb Max Mustermann <max@example.de>:",
        "Am 05.03.2024 um 10:12 schrieb Support-Team:",
        "Max Mustermann <max@example.de> schrieb am 05.03.2024 um 10:12:",
        # fr
        "Le mar. 5 mars 2024 à 10:12, Jean Dupont <jean@example.fr> a écrit :",
        "Le 05/03/2024 à 10:12, Service client a écrit:",
        # es
        "El mar, 5 mar 2024 a las 10:12, Juan Pérez <juan@example.es> escribió:",
        # hu
        "Kovács János <kovacs@example.hu> ezt írta (időpont: 2024. márc. 5., K, 10:12):",
        "2024. 03. 05. 10:12 keltezéssel, Ügyfélszolgálat írta:",
        # ru
        "05.03.2024 10:12, Иван Петров пишет:",
        "5 марта 2024 г., в 10:12, Служба поддержки написал(а):",
        "пн, 5 мар. 2024 г. в 10:12, Иван Петров <ivan@example.ru>:",
        # separators
        "-----Original Message-----",
        "-----Ursprüngliche Nachricht-----",
        "----- Original Message -----",
        "-------- Message d'origine --------",
    ],
)
def test_strip_quoted_reply_markers(marker: str) -> None:
    text = f"{BODY}\n\n{marker}\nEarlier message from the support team.\nMore old text."
    assert strip_quoted_reply(text) == BODY
    result = normalize_text(text)
    assert result.text == BODY
    assert "quoted_reply" in result.removed


def test_strip_quoted_reply_wrapped_gmail_attribution() -> None:
    text = f"{BODY}\n\nOn Mon, Mar 4, 2024 at 10:12 AM John Doe <\njohn@example.com> wrote:\n> old text"
    assert strip_quoted_reply(text) == BODY


def test_strip_quoted_reply_angle_bracket_lines() -> None:
    text = f"{BODY}\n> earlier line one\n> earlier line two\n>> even older"
    assert strip_quoted_reply(text) == BODY


@pytest.mark.parametrize(
    "header",
    [
        "From: Support Team <support@example.com>\nSent: Monday, March 4, 2024 10:12 AM\nTo: Jane\nCc: Bob",
        "From: Support Team\nDate: Monday, March 4, 2024\nSubject: Re: x",
        "*From:* Support Team <support@example.com>\n*Sent:* Monday, March 4, 2024 10:12 AM",
        "From: Support Team <support@example.com> Sent: Monday, March 4, 2024 10:12 AM To: Jane",
        "Von: Support <support@example.de>\nGesendet: Montag, 4. März 2024 10:12\nAn: Max\nBetreff: AW: x",
        "De : Service client <sc@example.fr>\nEnvoyé : lundi 4 mars 2024 10:12\nÀ : Jean",
        "De: Soporte <soporte@example.es>\nEnviado: lunes, 4 de marzo de 2024 10:12\nPara: Juan",
        "Feladó: Ügyfélszolgálat <info@example.hu>\nElküldve: 2024. március 4. 10:12\nCímzett: János",
        "От: Поддержка <support@example.ru>\nОтправлено: 4 марта 2024 г. 10:12\nКому: Иван",
    ],
)
def test_strip_quoted_reply_outlook_headers(header: str) -> None:
    text = f"{BODY}\n\n________________________________\n{header}\n\nOld message body."
    assert strip_quoted_reply(text) == BODY


def test_from_line_without_sent_header_is_kept() -> None:
    text = "From: Berlin, the parcel never arrived.\nPlease check the delivery."
    assert strip_quoted_reply(text) == text


def test_body_sentence_with_wrote_is_not_a_marker() -> None:
    text = "On Monday I wrote to you and nobody answered. This is what I wrote:\nMy order never arrived."
    assert strip_quoted_reply(text) == text


def test_bottom_posted_reply_keeps_new_text() -> None:
    text = "On Mon, Mar 4, 2024 at 10:12 AM Support <s@example.com> wrote:\n> old question\n\nMy new answer."
    assert strip_quoted_reply(text) == "My new answer."
    assert strip_quoted_reply("> old question\n> more\n\nMy new answer.") == "My new answer."


def test_only_quoted_text_is_kept_unchanged() -> None:
    text = "> nothing but\n> quoted text"
    assert strip_quoted_reply(text) == text
    result = normalize_text(text)
    assert result.text == text
    assert "quoted_reply" not in result.removed


def test_forwarded_message_without_comment_is_kept() -> None:
    text = "-----Original Message-----\nFrom: shop\nSent: today\n\nYour invoice is attached."
    assert strip_quoted_reply(text) == text


def test_html_gmail_quote_is_stripped() -> None:
    html = (
        '<div dir="ltr">Still waiting for my refund!</div><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Mar 4, 2024 at 10:12 AM '
        "Support &lt;support@example.com&gt; wrote:<br></div>"
        '<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">We are processing it.</blockquote></div>'
    )
    result = normalize_text(html)
    assert result.text == "Still waiting for my refund!"
    assert result.removed == ("html", "quoted_reply")


def test_html_outlook_quote_is_stripped() -> None:
    html = (
        "<html><body><p class=MsoNormal>Bitte dringend antworten.</p>"
        "<div style='border:none;border-top:solid #E1E1E1 1.0pt'><p><b>Von:</b> Support &lt;s@example.de&gt;"
        "<br><b>Gesendet:</b> Montag, 4. März 2024 10:12<br><b>An:</b> Max</p></div>"
        "<p>Alte Nachricht</p></body></html>"
    )
    assert normalize_text(html).text == "Bitte dringend antworten."


# ------------------------------------------------------------------------------------------------
# Signatures
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, signature",
    [
        ("My order 123 has not arrived.", "Best regards,\nJohn Smith\nACME Ltd\n+1 555 0100"),
        ("My order 123 has not arrived.", "Kind regards\nJane"),
        ("My order 123 has not arrived.", "Regards,\nJane"),
        ("My order 123 has not arrived.", "Thanks,\nJane"),
        ("My order 123 has not arrived.", "Sent from my iPhone"),
        ("My order 123 has not arrived.", "-- \nJohn Smith\nhttps://example.com"),
        ("Meine Bestellung ist nicht angekommen.", "Mit freundlichen Grüßen\nMax Mustermann"),
        ("Meine Bestellung ist nicht angekommen.", "Viele Grüße,\nMax"),
        ("Meine Bestellung ist nicht angekommen.", "Von meinem iPhone gesendet"),
        ("Nem érkezett meg a rendelésem.", "Üdvözlettel:\nKovács János"),
        ("Nem érkezett meg a rendelésem.", "Tisztelettel,\nKovács János\nKovács Kft."),
        ("Мой заказ не пришёл.", "С уважением,\nИван Петров"),
        ("Ma commande n'est pas arrivée.", "Cordialement,\nJean Dupont"),
        ("Mi pedido no ha llegado.", "Saludos,\nJuan"),
        ("Mi pedido no ha llegado.", "Atentamente,\nJuan Pérez\nEnviado desde mi iPhone"),
    ],
)
def test_strip_signature(body: str, signature: str) -> None:
    text = f"{body}\n\n{signature}"
    assert strip_signature(text) == body
    result = normalize_text(text)
    assert result.text == body
    assert result.removed == ("signature",)


def test_closing_in_the_middle_is_not_stripped() -> None:
    body_lines = [f"Line {i} of the ticket body with details." for i in range(1, 9)]
    text = "Best regards,\nI wrote last week already.\n" + "\n".join(body_lines)
    assert strip_signature(text) == text
    text_mid = "\n".join([*body_lines[:3], "Kind regards", "John", *body_lines[3:]])
    assert strip_signature(text_mid) == text_mid


def test_closing_phrase_inside_a_sentence_is_not_stripped() -> None:
    text = "My order is late.\nBest price guaranteed was what you promised.\nRegarding the invoice: wrong."
    assert strip_signature(text) == text


def test_thanks_with_content_is_not_a_signature() -> None:
    text = "My order is late.\nThanks in advance for fixing this today, it is urgent!"
    assert strip_signature(text) == text


def test_signature_only_is_kept() -> None:
    text = "Best regards,\nJohn"
    assert strip_signature(text) == text
    assert normalize_text(text).text == text


# ------------------------------------------------------------------------------------------------
# Disclaimers
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "disclaimer",
    [
        "This e-mail and any attachments are confidential and may be privileged. If you are not the "
        "intended recipient, please notify the sender immediately and delete this message.",
        "CONFIDENTIALITY NOTICE: The contents of this email message and any attachments are intended "
        "solely for the addressee(s).",
        "Diese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. Wenn Sie nicht "
        "der richtige Adressat sind, informieren Sie bitte sofort den Absender.",
        "Ce message et ses pièces jointes sont confidentiels et destinés exclusivement au destinataire. "
        "Toute utilisation non autorisée est interdite.",
    ],
)
def test_strip_disclaimer(disclaimer: str) -> None:
    body = "Please refund order 5521, the item arrived broken."
    text = f"{body}\n\n{disclaimer}"
    assert strip_disclaimer(text) == body
    result = normalize_text(text)
    assert result.text == body
    assert result.removed == ("disclaimer",)


def test_disclaimer_after_signature() -> None:
    text = (
        "Please cancel my subscription.\n\nKind regards,\nAnna Smith\nHead of IT\n\n"
        "This email and any files transmitted with it are confidential and intended solely for the use "
        "of the individual or entity to whom they are addressed."
    )
    result = normalize_text(text)
    assert result.text == "Please cancel my subscription."
    assert result.removed == ("disclaimer", "signature")


def test_short_confidential_sentence_in_body_is_kept() -> None:
    text = "My account was hacked.\n\nThis message is confidential, please hurry."
    assert strip_disclaimer(text) == text


# ------------------------------------------------------------------------------------------------
# Combined pipeline, fallback and truncation
# ------------------------------------------------------------------------------------------------


def test_full_email_pipeline() -> None:
    text = (
        "Hi team,\r\n\r\nthe service is down   again since 9:00. This is URGENT!\r\n\r\n"
        "Best regards,\r\nJane Doe\r\nACME Corp\r\n\r\n"
        "On Mon, Mar 4, 2024 at 10:12 AM Support <support@example.com> wrote:\r\n"
        "> Thanks for reaching out.\r\n> We are looking into it."
    )
    result = normalize_text(text)
    assert result.text == "Hi team,\n\nthe service is down again since 9:00. This is URGENT!"
    assert result.removed == ("quoted_reply", "signature")
    assert result.original == text


def test_everything_stripped_falls_back_to_original() -> None:
    text = "  Thanks!  \n\n\n"
    result = normalize_text(text)
    assert result.text == "Thanks!"
    assert result.removed == ()


def test_never_empty_when_input_has_words() -> None:
    samples = [
        "-- \nJohn",
        "Sent from my iPhone",
        "> quoted",
        "On Mon, Mar 4, 2024 at 10:12 AM X <x@example.com> wrote:\n> hi",
        "CONFIDENTIALITY NOTICE: this message is confidential and only for the intended recipient.",
        "<html><body><blockquote>only a quote</blockquote></body></html>",
    ]
    for sample in samples:
        assert normalize_text(sample).text, sample


def test_truncation_at_word_boundary() -> None:
    text = "alpha beta gamma delta epsilon"
    result = normalize_text(text, max_chars=14)
    assert result.text == "alpha beta"
    assert result.removed == ("truncated",)
    assert len(result.text) <= 14


def test_truncation_exactly_at_boundary_and_long_word() -> None:
    assert normalize_text("alpha beta gamma", max_chars=10).text == "alpha beta"
    assert normalize_text("x" * 50, max_chars=10).text == "x" * 10


def test_no_truncation_flag_when_short_enough() -> None:
    result = normalize_text("short text", max_chars=100)
    assert result.text == "short text"
    assert "truncated" not in result.removed


def test_truncation_is_recorded_after_other_steps() -> None:
    text = "word " * 100 + "\n\nBest regards,\nJohn"
    result = normalize_text(text, max_chars=50)
    assert result.removed == ("signature", "truncated")
    assert len(result.text) <= 50
    assert not result.text.endswith(" ")


# ------------------------------------------------------------------------------------------------
# Huge inputs (their speed is measured by `python -m benchmarks robustness`, not asserted here)
# ------------------------------------------------------------------------------------------------


def test_one_megabyte_plain_text_is_kept_whole() -> None:
    line = "Hello, my order 12345 has not arrived yet: could you check the delivery status?\n"
    text = (line * (1_000_000 // len(line) + 1))[:1_000_000]
    result = normalize_text(text)
    assert result.text == text.strip() and result.removed == ()


def test_one_megabyte_single_line_is_kept_whole() -> None:
    text = ("lorem ipsum dolor sit amet " * 40000)[:1_000_000]
    result = normalize_text(text)
    assert result.text == text.strip() and result.removed == ()
    assert normalize_text(text, max_chars=1000).removed == ("truncated",)


def test_one_megabyte_html_is_converted() -> None:
    chunk = "<div><p>Hello &amp; <b>welcome</b> to the <a href='https://example.com'>shop</a></p></div>\n"
    html = "<html><body>" + chunk * (1_000_000 // len(chunk)) + "</body></html>"
    result = normalize_text(html)
    assert result.text.startswith("Hello & welcome to the shop") and result.removed == ("html",)
    assert result.text.count("Hello & welcome to the shop") == 1_000_000 // len(chunk)


@pytest.mark.parametrize(
    ("hostile", "start"),
    [
        ("<p>x</p><div>y</div>" + "<a" * 200_000, "x\n\ny\n<a<a"),
        ("<p>x</p><div>y</div>" + '<a title=x"y z=\'w">' * 40_000, 'x\n\ny\n<a title=x"y'),
        ("<p>x</p><div>y</div>" + "<!-- >" * 100_000, "x\n\ny"),
        ("<p>x</p><div>y</div>" + "<![cdata[ >" * 80_000, "x\n\ny"),
        ("On " + "x " * 200 + "\n" + ("a\n" * 300_000), "On x x"),
        (("On " + "a " * 150 + ":\n") * 3000, "On a a"),
        (">" * 500_000, ">>>"),
        ("x" + " \t" * 300_000 + "y", "x y"),
        ("\n" * 500_000 + "word", "word"),
    ],
)
def test_hostile_inputs_are_handled(hostile: str, start: str) -> None:
    """Inputs that make naive regexes backtrack; their speed: `python -m benchmarks robustness`."""
    result = normalize_text(hostile)
    assert result.text.startswith(start) and len(result.text) <= len(hostile)


# ------------------------------------------------------------------------------------------------
# Bundled sample backlog
# ------------------------------------------------------------------------------------------------

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "triage" / "bundled" / "samples" / "tickets.jsonl"


@pytest.mark.skipif(not EXAMPLES.exists(), reason="the bundled sample tickets.jsonl is not present")
def test_bundled_tickets_normalise_cleanly() -> None:
    rows = [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) == 30
    languages = Counter(row["metadata"]["expected_language"] for row in rows)
    assert languages == {"en": 6, "de": 5, "hu": 5, "ru": 5, "fr": 5, "es": 4}
    removed: Counter[str] = Counter()
    for row in rows:
        result = normalize_text(row["body"])
        assert len(result.text.split()) >= 12, row["id"]
        assert "<" not in result.text and "&amp;" not in result.text, row["id"]
        removed.update(result.removed)
        for message in row.get("messages", []):
            assert normalize_text(message["text"]).text
    # the sample exercises every stripping step
    assert {"html", "quoted_reply", "signature", "disclaimer"} <= set(removed)


# ------------------------------------------------------------------------------------------------
# Language data (triage.lang): the closing lexicons above come from there
# ------------------------------------------------------------------------------------------------


def test_language_modules_hold_only_known_lower_case_data() -> None:
    from triage import lang

    for code in lang.LANGUAGES:
        module = lang.module(code)
        for name, value in vars(module).items():
            if not name.isupper():
                continue
            assert name in lang.FIELDS or name == "WEEKDAYS", (code, name)
            phrases = [p for group in value.values() for p in group] if isinstance(value, dict) else value
            phrases = [phrases] if isinstance(phrases, str) else list(phrases)
            assert phrases and all(p == p.lower() and p.strip() == p for p in phrases), (code, name)
    with pytest.raises(ValueError, match="no language data"):
        lang.module("xx")
    with pytest.raises(KeyError):
        lang.gather("GREETING", ["en"])


@pytest.mark.parametrize(
    "line",
    ["Mit freundlichen Grüßen", "Üdvözlettel,", "С уважением, Мария", "Saludos cordiales", "Merci !"],
)
def test_closings_from_the_language_modules_start_a_signature(line: str) -> None:
    assert strip_signature(f"The VPN drops every hour.\n\n{line}\nAnna") == "The VPN drops every hour."
