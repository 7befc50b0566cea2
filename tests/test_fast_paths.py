"""The pipeline's faster code paths give the same results as the straightforward ones they replace.

Case-insensitive lexicons matched on lower-cased text (``triage.caseless``), TF-IDF n-gram counting with numpy
(``triage.sentiment.head.tfidf_transform``), fact patterns tried only where their keyword starts, and the
pipeline's undo snapshots.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from triage.caseless import CaselessPattern
from triage.sentiment.cues import CueDetector
from triage.summarize import cues as summary_cues

TRICKY = [
    "",
    "URGENT!!! I WANT A REFUND NOW, THIS IS UNACCEPTABLE",
    "SÜRGŐS! Harmadszor írok, a rendszer nem működik!!!",
    "ſue you, LAWYER ſorry for the delay",  # long s: IGNORECASE equates it with s, lower() does not
    "İSTANBUL office, urgent lawyer letter",  # İ lowers to two characters
    "ОЧЕНЬ СРОЧНО верните деньги, ᲀторой раз пишу",  # rounded ve: IGNORECASE equates it with в
    "ΣΑΣ urgent: ς and σ and Σ",
    "Thank you! Kind regards, DEAR SIR, PLEASE HELP ME",
    "Danke SCHÖN, Mit freundlichen Grüßen",
    "ǅ ǈ ǋ titlecase digraphs; Kelvin sign K and Ohm Ω",
    "not urgent at all; nicht dringend; nem sürgős",
    "Order #12345 and ORDER NO. 998877, orderorder 123456",
    "Rechnung RE-2024-001 / Rechnungsnummer: 4711-AB1; RECHNUNG 998877",
    "Ticket TCK-12345 case 99999 ref. AB-1234 account 1234567 TICKET 55555",
    "заказ № 123456, счёт 7788990, СЧЁТ 1234",
    "Számla szám: SZ-2025/001 számlaszám 123456",
]


def _corpus(sample_tickets: list[dict]) -> list[str]:
    texts = list(TRICKY)
    for ticket in sample_tickets:
        parts = [ticket.get("subject") or "", ticket.get("body") or ""]
        parts += [m.get("text", "") for m in ticket.get("messages", [])]
        texts += parts + [p.upper() for p in parts] + [p.title() for p in parts]
    return texts


def _lexicons() -> list[tuple[str, CaselessPattern]]:
    cues = list(CueDetector()._regexes.items())
    names = ("GREETING", "THANKS", "PLEASANTRY", "PROBLEM", "REQUEST", "TRIED", "STATUS")
    return cues + [(name, getattr(summary_cues, name)) for name in names]


def test_caseless_patterns_match_like_ignorecase(sample_tickets):
    texts = _corpus(sample_tickets)
    lowered_path = 0
    for name, pattern in _lexicons():
        for text in texts:
            expected = [m.span() for m in pattern.regex.finditer(text)]
            assert list(pattern.spans(text)) == expected, (name, text)
            assert pattern.findall(text) == pattern.regex.findall(text), (name, text)
            assert pattern.sub(" ", text) == pattern.regex.sub(" ", text), (name, text)
            assert pattern.count(text) == len(expected)
            assert pattern.search(text) == bool(expected)
            lowered_path += pattern._plan(text)[0] is not pattern.regex
    assert lowered_path > 0.8 * len(texts) * len(_lexicons())  # the fast path is the common one


@pytest.mark.parametrize("text", ["ſorry", "İstanbul", "ᲀторой", "Σας"])
def test_texts_with_case_variants_take_the_ignorecase_path(text):
    pattern = CaselessPattern(r"(?<!\w)(?:sorry|istanbul|второй|σας)(?!\w)")
    assert pattern._plan(text)[0] is pattern.regex
    assert list(pattern.spans(text)) == [m.span() for m in pattern.regex.finditer(text)]


def test_case_sensitive_expressions_are_left_to_ignorecase():
    assert CaselessPattern(r"Order\d+")._cased is None  # an upper-case literal
    assert CaselessPattern(r"(?-i:abc)")._cased is None  # a case-sensitive group
    assert CaselessPattern(r"\W\S\D abc")._cased is not None  # escapes are not literals


def test_lower_case_keeps_word_digit_and_space_classes():
    """``\\w``, ``\\d`` and ``\\s`` agree on every character and its (one-character) lower case."""
    classes = [re.compile(r"\w"), re.compile(r"\d"), re.compile(r"\s")]
    for point in range(0x110000):
        char = chr(point)
        lower = char.lower()
        if lower == char or len(lower) != 1:
            continue
        for cls in classes:
            assert bool(cls.match(char)) == bool(cls.match(lower)), (hex(point), cls.pattern)


def test_ignorecase_equals_lower_case_match_outside_the_variants():
    """For every letter of the lexicons, ``re.IGNORECASE`` matches a character exactly when its lower case is
    that letter, except for the variant letters the guard sends to the IGNORECASE path."""
    letters = sorted({c for _, p in _lexicons() for c in p.pattern if c.isalpha()})
    cased = [chr(p) for p in range(0x110000) if chr(p).lower() != chr(p) or chr(p).upper() != chr(p)]
    variants = frozenset().union(*(p._variants for _, p in _lexicons()))
    for letter in letters:
        regex = re.compile(re.escape(letter), re.IGNORECASE)
        for char in cased:
            lower = char.lower()
            if len(lower) != 1 or lower in variants:
                continue
            assert bool(regex.fullmatch(char)) == (lower == letter), (letter, hex(ord(char)))


def test_cue_detector_finds_the_same_cues_both_ways(sample_tickets):
    fast = CueDetector()
    for pattern in fast._regexes.values():
        assert pattern._cased is not None
    slow = CueDetector()
    for pattern in slow._regexes.values():
        pattern._cased = None
    for text in _corpus(sample_tickets):
        assert fast.detect(text) == slow.detect(text), text


def test_facts_tried_at_keyword_starts_are_the_same(sample_tickets, monkeypatch):
    texts = _corpus(sample_tickets)
    fast = [summary_cues.find_facts(t) for t in texts]
    assert sum(len(found) for found in fast) > 20
    monkeypatch.setattr(summary_cues, "_KEYWORD_STARTS", {})  # every pattern by finditer over the whole text
    for text, found in zip(texts, fast, strict=True):
        assert found == summary_cues.find_facts(text), text


@pytest.fixture(scope="module")
def lexical_head():
    from triage.errors import ModelNotAvailableError
    from triage.sentiment.scorer import SentimentScorer

    try:
        head = SentimentScorer().head
    except ModelNotAvailableError as exc:  # pragma: no cover - the bundled head ships with the package
        pytest.skip(str(exc))
    if head.lexical_ is None:  # pragma: no cover
        pytest.skip("the bundled sentiment head has no lexical part")
    return head.lexical_


def test_tfidf_fast_counts_are_sklearns_to_the_bit(lexical_head, sample_tickets):
    from triage.sentiment.head import tfidf_transform

    texts = _corpus(sample_tickets) + ["a", "I", "x\ty\nz  w", "日本語のテキスト", "x" * 40, "\x00\x01 bin"]
    index = lexical_head._char_index()
    assert index is not None
    for vectorizer, idx in ((lexical_head.char_, index), (lexical_head.word_, None)):
        for batch in (texts, texts[:1], texts[-7:]):
            expected = vectorizer.transform(batch)
            expected.sort_indices()
            got = tfidf_transform(vectorizer, batch, idx)
            assert got.shape == expected.shape and got.dtype == expected.dtype
            assert np.array_equal(got.indptr, expected.indptr)
            assert np.array_equal(got.indices, expected.indices)
            assert np.array_equal(got.data, expected.data)  # bit for bit, not approximately


def test_tfidf_falls_back_for_options_it_does_not_cover(sample_tickets):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from triage.sentiment.head import tfidf_transform

    texts = [t.get("body") or "" for t in sample_tickets]
    for options in ({"analyzer": "char", "ngram_range": (2, 4)}, {"analyzer": "word", "stop_words": ["the"]}):
        vectorizer = TfidfVectorizer(**options).fit(texts)
        assert (tfidf_transform(vectorizer, texts) != vectorizer.transform(texts)).nnz == 0
