"""Lexical cues for the structured summary, in the languages of the sample backlog (en de hu ru fr es pt it).

Cue lists (phrases in :mod:`triage.lang`) are small and readable on purpose: they nudge the ranking (a
greeting is not a summary sentence, "I already restarted it" is what the customer *tried*), and the ranking
still works for languages without cues. Facts (order and invoice numbers, dates, amounts, error codes,
versions, product names) are found with regular expressions that do not depend on the language.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from triage import lang
from triage.caseless import CaselessPattern


def _words(*phrases: str) -> CaselessPattern:
    """A case-insensitive pattern matching any phrase at word boundaries (``\\w`` is Unicode-aware)."""
    alternatives = sorted({p.strip() for group in phrases for p in group.split("|") if p.strip()}, key=len)
    body = "|".join(
        re.escape(p).replace(r"\ ", r"\s+").replace(r"\*", r"\w*") for p in reversed(alternatives)
    )
    return CaselessPattern(rf"(?<!\w)(?:{body})(?!\w)")


#: The languages whose cue phrases (triage.lang) the summariser reads.
CUE_LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "ru", "fr", "es", "pt", "it")


def _cues(kind: str) -> CaselessPattern:
    """The summariser's cue phrases of ``kind`` in every cue language, as one pattern."""
    return _words(*lang.gather("SUMMARY_CUES", CUE_LANGUAGES, kind))


GREETING = _words(*lang.gather("GREETINGS", CUE_LANGUAGES), *lang.gather("SUMMARY_GREETINGS", CUE_LANGUAGES))
THANKS = _cues("thanks")
#: Service pleasantries that carry no content of their own.
PLEASANTRY = _cues("pleasantry")
PROBLEM = _cues("problem")
REQUEST = _cues("request")
TRIED = _cues("tried")
STATUS = _cues("status")

_HANDLE = re.compile(r"(?<![\w.])@\w{1,30}")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*", re.UNICODE)


def clean_for_model(text: str) -> str:
    """Drop @handles, URLs and e-mail addresses: they dominate short chat sentences for an encoder."""
    text = _URL.sub(" ", text)
    text = _EMAIL.sub(" ", text)
    text = _HANDLE.sub(" ", text)
    return " ".join(text.split())


_LEADING_HANDLES = re.compile(r"^(?:\s*@\w{1,30}[:,]?)+\s*")
_SIGNATURE = re.compile(r"\s+[\^*][A-Z]{1,4}\s*$")
_TRAILING_URLS = re.compile(r"(?:\s*(?:https?://|www\.)\S+)+\s*$", re.IGNORECASE)


_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fwd?|aw|wg|tr|sv|vs|antw|odp|vá|továbbítás|rv|enc)\s*:\s*)+", re.I)


#: A character reference, with its semicolon (``&amp;``, ``&#39;``, ``&#x27;``).
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
#: What a reference may turn into in a summary: quotes, apostrophes, angle brackets, the ampersand.
_SHOWN_AS_IS = frozenset("\"'<>&‘’“”")
_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]{1,30}_\d{1,6}>")
_TOKEN = re.compile(r"[^&\s]{0,40}")


def decode_entities(text: str) -> str:
    """Decode the HTML references to punctuation in ``text`` (``&amp;``, ``&quot;``, ``&#39;``), no others.

    Summaries never un-mask anything: the redactor read the text with its references decoded once, so a
    reference to a letter, a digit, ``@``, ``+`` or a space (``john&#64;example.com``), one without its
    semicolon, or an ``&amp;`` that would start another reference (``john&amp;#64;example.com``) stays as
    written, and angle brackets are not decoded where they would make a placeholder (``&lt;EMAIL_1&gt;``).
    """
    if "&" not in text:
        return text

    def decode(match: re.Match[str], brackets: bool) -> str:
        char = html.unescape(match.group(0))
        if char not in _SHOWN_AS_IS or (char in "<>" and not brackets):
            return match.group(0)
        if char == "&":
            token = _TOKEN.match(text, match.end())
            rest = "&" + (token.group(0) if token else "")
            if html.unescape(rest) != rest:  # "&amp;#64;" must not become "&#64;", nor "&amp;nbsp" "&nbsp"
                return match.group(0)
        return char

    shown = _ENTITY.sub(lambda m: decode(m, True), text)
    if len(_PLACEHOLDER.findall(shown)) != len(_PLACEHOLDER.findall(text)):
        shown = _ENTITY.sub(lambda m: decode(m, False), text)
    return shown


def display_text(text: str) -> str:
    """A sentence as shown in a summary: no leading @handles or "Re:", no trailing links or ``^AB``.

    Only references to punctuation are decoded (see :func:`decode_entities`), so nothing masked reappears.
    """
    shown = _REPLY_PREFIX.sub("", decode_entities(text))
    shown = _SIGNATURE.sub("", _LEADING_HANDLES.sub("", shown))
    shown = _SIGNATURE.sub("", _TRAILING_URLS.sub("", shown))
    shown = " ".join(shown.split())
    return shown if content_words(shown) else " ".join(text.split())


def content_words(text: str) -> list[str]:
    """Word tokens of a cleaned text (Unicode letters and digits)."""
    return _WORD.findall(text)


def is_boilerplate(text: str) -> bool:
    """A greeting, thanks or sign-off with (almost) nothing else in it: "Hi John,", "Thanks a lot!"."""
    cleaned = clean_for_model(text)
    words = content_words(cleaned)
    if not words:
        return True
    rest = THANKS.sub(" ", GREETING.sub(" ", cleaned))
    rest = PLEASANTRY.sub(" ", rest)
    left = content_words(rest)
    return len(left) <= 2 and len(left) < len(words)


def cue_count(pattern: CaselessPattern | re.Pattern[str], text: str) -> int:
    """How many times a cue pattern occurs in ``text``."""
    if isinstance(pattern, CaselessPattern):
        return pattern.count(text)
    return len(pattern.findall(text))


@dataclass(frozen=True)
class FactMatch:
    """A fact found in a text: its kind, the matched text and its span."""

    kind: str
    text: str
    start: int
    end: int


_NUM = r"\d{1,3}(?:[ \u00a0.,’']\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_ID = r"[A-Z0-9][A-Z0-9-]{2,}\d|\d{3,}[A-Z0-9-]*"
_ORDER_WORDS = (
    r"order|bestellung|bestellnummer|auftrag|rendelés|rendelésszám|заказ|commande|pedido|encomenda"
    r"|ordine|booking|buchung|reservation|tracking|sendung|shipment"
)
_INVOICE_WORDS = (
    r"invoice|rechnung|rechnungsnummer|számla|számlaszám|сч[её]т|facture|factura|fatura|fattura"
    r"|receipt|quittung"
)
_REFERENCE_WORDS = (
    r"ticket|case|reference|ref\.?|account|konto|kundennummer|ügyfélszám|fiók|аккаунт|compte"
    r"|cuenta|conta|contract|vertrag|szerződés|договор|confirmation"
)
_FACT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    (
        "date",
        re.compile(
            r"\b(?P<id>\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}\.\s?\d{1,2}\.\s?\d{1,2}\.?"
            r"|\d{1,2}\.?\s+(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januar|februar|märz|mai|juni"
            r"|juli|oktober|dezember|janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre"
            r"|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre"
            r"|noviembre|diciembre|janeiro|fevereiro|março|maio|junho|julho|setembro|outubro|novembro"
            r"|dezembro|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
            r"[a-zéû]*\.?(?:\s+\d{4})?"
            r"|(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?"
            r"(?:,?\s+\d{4})?)(?!\d)"
        ),
    ),
    (
        "order_id",
        re.compile(
            rf"(?i:{_ORDER_WORDS})"
            r"\w{0,4}\s*(?i:number|no\.?|nr\.?|num\.?|n°|№|#|id|szám|номер|número|numéro)?\s*[:#№(]?\s*"
            rf"(?P<id>{_ID})"
        ),
    ),
    (
        "invoice_id",
        re.compile(
            rf"(?i:{_INVOICE_WORDS})"
            r"\w{0,4}\s*(?i:number|no\.?|nr\.?|num\.?|n°|№|#|id|szám|номер|número|numéro)?\s*[:#№(]?\s*"
            rf"(?P<id>{_ID})"
        ),
    ),
    (
        "reference",
        re.compile(
            rf"(?i:{_REFERENCE_WORDS})"
            r"\w{0,4}\s*(?i:number|no\.?|nr\.?|num\.?|n°|№|#|id|szám|номер|número|numéro)?\s*[:#№(]?\s*"
            rf"(?P<id>{_ID})"
        ),
    ),
    ("reference", re.compile(r"(?<![\w&])#(?P<id>[A-Z0-9-]*\d[A-Z0-9-]*)\b")),
    ("reference", re.compile(r"\b(?P<id>[A-Z]{2,5}-\d{3,}(?:-\d+)*)\b")),
    (
        "error_code",
        re.compile(
            r"\b(?P<id>0x[0-9A-Fa-f]{4,}|ERR_[A-Z_]{3,}|E[A-Z]?-?\d{3,5}"
            r"|(?i:error|fehler|hiba|ошибка|erreur|código|code|codice|err)\s*(?i:code|kód|код)?\s*[:#]?\s*\d{2,5}"
            r"|HTTP\s*[45]\d\d)\b"
        ),
    ),
    (
        "amount",
        re.compile(
            rf"(?P<id>(?:[$€£¥₽₹]|R\$|(?:USD|EUR|GBP|HUF|CHF|RUB|BRL|CAD|AUD|PLN)\s?)\s?(?:{_NUM})"
            rf"|(?:{_NUM})\s?(?:[$€£¥₽₹]|(?:USD|EUR|GBP|HUF|CHF|RUB|BRL|CAD|AUD|PLN|Ft|руб\.?|рублей|euros?"
            r"|dollars?|forint|reais)\b))"
        ),
    ),
    (
        "version",
        re.compile(
            r"(?<![\w.])(?P<id>v?\d{1,3}\.\d{1,3}(?:\.\d{1,4}){1,2}|v\d{1,3}(?:\.\d{1,3})?)(?!\w|\.\d)"
        ),
    ),
    (
        "product",
        re.compile(
            r"\b(?P<id>(?:[a-z]+[A-Z][A-Za-z]*|[A-Z][a-z]+[A-Z][A-Za-z]*)(?:\s+(?:[A-Z][\w+-]*|\d+[A-Za-z]*))*"
            r"|[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?\s+(?:[A-Z]{0,3}\d{1,4}[A-Za-z]{0,3}|Pro|Max|Plus|Ultra|Mini))\b"
        ),
    ),
]


#: For the patterns that open with a case-insensitive keyword: where that keyword can start (every position,
#: overlapping ones too), found on the lower-cased text; a match can start only there.
_KEYWORD_STARTS: dict[int, CaselessPattern] = {
    1: CaselessPattern(rf"(?=(?:{_ORDER_WORDS}))"),
    2: CaselessPattern(rf"(?=(?:{_INVOICE_WORDS}))"),
    3: CaselessPattern(rf"(?=(?:{_REFERENCE_WORDS}))"),
}


def _finditer(index: int, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer(text)``; for a keyword-led pattern, tried only where its keyword starts (the same
    matches: finditer's leftmost match lies at such a position, and it goes on from the match's end)."""
    starts = _KEYWORD_STARTS.get(index)
    if starts is None:
        yield from pattern.finditer(text)
        return
    last_end = 0
    for start, _ in starts.spans(text):
        if start < last_end:
            continue
        match = pattern.match(text, start)
        if match is not None:
            yield match
            last_end = max(match.end(), start + 1)


def find_facts(text: str) -> list[FactMatch]:
    """Order/invoice/reference numbers, error codes, dates, amounts, versions and product names in ``text``.

    Overlapping matches are resolved in favour of the earlier pattern in the list (an order number is not
    also reported as an amount or a version).
    """
    found: list[FactMatch] = []
    taken: list[tuple[int, int]] = []
    for index, (kind, pattern) in enumerate(_FACT_PATTERNS):
        for match in _finditer(index, pattern, text):
            start, end = match.span("id")
            value = text[start:end].strip(" .,;:")
            if not value or len(value) < 2:
                continue
            end = start + len(text[start:end].rstrip(" .,;:"))
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.append(FactMatch(kind, value, start, end))
    found.sort(key=lambda f: f.start)
    return found
