"""Text normalisation for helpdesk tickets (email, chat and web-form text in any language).

The pipeline is: Unicode NFC -> HTML to text (only if the input looks like HTML) -> cut quoted earlier
replies -> drop trailing legal disclaimers -> drop the signature -> fold whitespace -> optional truncation.

Every step works line by line with anchored, length-bounded regular expressions, so the cost is linear
in the input size (no catastrophic backtracking), and no stripping step may turn text that has words
into text without words.
"""

from __future__ import annotations

import bisect
import html as html_module
import itertools
import re
import unicodedata
from dataclasses import dataclass

from triage import lang
from triage.html_text import ANY_TAG_RE, NEWLINE_RE, fold_whitespace, html_to_text, looks_like_html

__all__ = [
    "NormalizedText",
    "fold_whitespace",
    "html_to_text",
    "looks_like_html",
    "normalize_text",
    "strip_disclaimer",
    "strip_quoted_reply",
    "strip_signature",
]

# A closing phrase ("Best regards") starts a signature only if, counting it, at most this many non-blank
# lines follow to the end of the text.
SIGNATURE_MAX_LINES = 6
# A "-- " delimiter starts a signature only if at most this many non-blank lines follow it.
SIGNATURE_DELIMITER_MAX_LINES = 12
# A disclaimer must start within this many non-blank lines of the end of the text.
DISCLAIMER_MAX_LINES = 40
# Only this many leading characters of a line are inspected by the line-level patterns.
_LINE_PREFIX = 400


@dataclass(frozen=True)
class NormalizedText:
    """Result of :func:`normalize_text`."""

    text: str
    original: str
    removed: tuple[str, ...] = ()


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W_]")


def _has_words(text: str) -> bool:
    """True if ``text`` contains at least one letter or digit (in any script)."""
    return _WORD_RE.search(text) is not None


def _join_head(lines: list[str], end: int) -> str:
    """``lines[:end]`` joined and right-stripped."""
    return "\n".join(lines[:end]).rstrip()


# --------------------------------------------------------------------------------------------------
# Quoted replies
# --------------------------------------------------------------------------------------------------

# Attribution lines ("On <date>, X wrote:") in several languages. Applied with ``re.match`` to at most
# _LINE_PREFIX characters, so the bounded ``.{0,n}`` runs cannot backtrack catastrophically.
_ATTRIBUTION_RES = (
    re.compile(r"on\s.{0,300}?\s(?:wrote|has written|writes)\s?:$", re.IGNORECASE),  # en
    re.compile(r"am\s.{0,300}?\sschrieb\b.{0,200}:$", re.IGNORECASE),  # de (Gmail/Apple)
    re.compile(r"le\s.{0,300}?\sa\s[ée]crit\s?:$", re.IGNORECASE),  # fr
    re.compile(r"el\s.{0,300}?\sescribi[óo]\s?:$", re.IGNORECASE),  # es
)
# Attribution lines without a fixed first word.
_LOOSE_ATTRIBUTION_RES = (
    re.compile(r".{0,300}?\sschrieb\sam\s.{0,200}:$", re.IGNORECASE),  # de (Thunderbird)
    re.compile(r".{0,300}?\s(?:ezt\s)?írta\b.{0,150}:$", re.IGNORECASE),  # hu: "X ezt írta (időpont: ...):"
    re.compile(r".{0,300}?\s(?:пишет|писал[аи]?|написал(?:а|и|\(а\))?)\s?:$", re.IGNORECASE),  # ru
    re.compile(r".{0,300}?\swrote\s?:$", re.IGNORECASE),  # en, "John Doe <j@x.com> wrote:"
)
_ORIGINAL_MESSAGE_RE = re.compile(
    r"[-_=*\s]*(?:original message|ursprüngliche nachricht|originalnachricht|message d'origine|"
    r"message original|mensaje original|eredeti üzenet|исходное сообщение|пересылаемое сообщение)"
    r"[-_=*\s]*$",
    re.IGNORECASE,
)
# Outlook header blocks: a "From:" line followed (same line or within 3 lines) by a "Sent:" line.
_FROM_RE = re.compile(r"\*?(?:from|von|de|feladó|от|od|da)\s?\*?\s?:\s?\*?\s*\S", re.IGNORECASE)
_SENT_RE = re.compile(
    r"\*?(?:sent|date|gesendet|datum|envoyé|date d'envoi|enviado|fecha|elküldve|dátum|küldve|"
    r"отправлено|дата|wysłano|inviato)\s?\*?\s?:",
    re.IGNORECASE,
)
_SENT_INLINE_RE = re.compile(
    r"\s\*?(?:sent|gesendet|envoyé|enviado|elküldve|отправлено)\s?\*?\s?:", re.IGNORECASE
)
_SEPARATOR_RE = re.compile(r"[_\-=*]{5,}$")


def _is_quote_line(line: str) -> bool:
    return line.lstrip().startswith(">")


_DIGIT_RE = re.compile(r"\d")


def _is_attribution(line: str, *, anchored_only: bool = False) -> bool:
    """True for "On <date>, X wrote:" style lines (and their translations).

    Mail clients always put a date (or an address) in the line, so one is required: "On Monday I wrote:"
    in a ticket body is not a marker.
    """
    candidate = line.strip()
    if not candidate.endswith(":") or not 8 <= len(candidate) <= _LINE_PREFIX:
        return False
    if "@" not in candidate and not _DIGIT_RE.search(candidate):
        return False
    if any(rx.match(candidate) for rx in _ATTRIBUTION_RES):
        return True
    if anchored_only:
        return False
    if any(rx.match(candidate) for rx in _LOOSE_ATTRIBUTION_RES):
        return True
    # Language-independent: "<date> ... Name <name@example.com>:" (Gmail in ru/pl/..., Yandex, Mail.ru).
    return candidate.endswith(">:") and "@" in candidate and _DIGIT_RE.search(candidate) is not None


def _is_outlook_header(lines: list[str], i: int) -> bool:
    """True if ``lines[i]`` starts an Outlook style "From: ... Sent: ..." header block."""
    line = lines[i].strip()[:_LINE_PREFIX]
    if not _FROM_RE.match(line):
        return False
    if _SENT_INLINE_RE.search(line):
        return True
    return any(_SENT_RE.match(nxt.strip()[:_LINE_PREFIX]) for nxt in lines[i + 1 : i + 4])


# Cheap pre-filter (one C-level scan): lines that might be a marker. Each hit is verified in Python.
_CANDIDATE_RE = re.compile(
    r"^[ \t]*(?:>|[-_=*]{2}|\*?[^\W\d_]{2,8}[ \t]?\*?[ \t]?:|[^\n]{0,400}:[ \t]*$)", re.MULTILINE
)


def _marker_kind(lines: list[str], i: int) -> str | None:
    """Classify ``lines[i]`` as the start of a quoted message: "quote", "attribution", "header"."""
    line = lines[i]
    if _is_quote_line(line):
        return "quote"
    stripped = line.strip()
    if not stripped:
        return None
    if _is_attribution(stripped):
        return "attribution"
    if _ORIGINAL_MESSAGE_RE.match(stripped[:_LINE_PREFIX]) and ("-" in stripped or "_" in stripped):
        return "header"
    if _is_outlook_header(lines, i):
        return "header"
    return None


def _is_wrapped_attribution(lines: list[str], i: int) -> bool:
    """Gmail wraps long attribution lines: "On Mon, 1 Jan 2024, John Doe <" + "john@x.com> wrote:"."""
    first = lines[i].strip()
    if not first or len(first) >= _LINE_PREFIX or i + 1 >= len(lines):
        return False
    return _is_attribution(first + " " + lines[i + 1].strip(), anchored_only=True)


def _find_marker(text: str, lines: list[str], offsets: list[int], start: int) -> tuple[int, str] | None:
    """First marker line at or after line ``start``: (line index, kind)."""
    for match in _CANDIDATE_RE.finditer(text, offsets[start]):
        idx = bisect.bisect_right(offsets, match.start()) - 1
        if idx > start and _is_wrapped_attribution(lines, idx - 1):
            return idx - 1, "attribution"
        kind = _marker_kind(lines, idx)
        if kind:
            return idx, kind
    return None


def strip_quoted_reply(text: str) -> str:
    """Cut ``text`` at the first marker of an earlier quoted message.

    Markers: lines starting with ">", attribution lines ("On ..., X wrote:", "Am ... schrieb ...:",
    "Le ... a écrit :", "El ... escribió:", "... írta:", "... пишет:"), "-----Original Message-----"
    (and translations) and Outlook "From:/Sent:" ("Von:/Gesendet:", ...) header blocks.
    If the quote comes first (bottom-posting), the leading quoted block is dropped instead. Text is
    returned unchanged when cutting would leave no words.
    """
    lines = text.split("\n")
    offsets = [0, *itertools.accumulate(len(line) + 1 for line in lines)][:-1]
    last_word_line = next((i for i in range(len(lines) - 1, -1, -1) if _has_words(lines[i])), -1)
    start = 0
    while start < len(lines):
        found = _find_marker(text, lines, offsets, start)
        if found is None:
            break
        cut, kind = found
        if any(_has_words(line) for line in lines[start:cut]):
            # Walk back over blank and separator lines ("________") that belong to the quote header.
            end = cut
            while end > start and (not lines[end - 1].strip() or _SEPARATOR_RE.match(lines[end - 1].strip())):
                end -= 1
            return "\n".join(lines[start:end]).rstrip()
        if kind == "header":
            break  # a forwarded/quoted message with nothing before it: keep it
        # Bottom-posting: skip the attribution line(s) and the following "> " block, then look again.
        j = cut + 1
        if kind == "attribution" and j < len(lines) and not _is_attribution(lines[cut]):
            j += 1  # wrapped two-line attribution
        while j < len(lines) and (_is_quote_line(lines[j]) or not lines[j].strip()):
            j += 1
        if j > last_word_line:
            break
        start = j
    if start == 0:
        return text
    return "\n".join(lines[start:]).strip()


# --------------------------------------------------------------------------------------------------
# Signatures
# --------------------------------------------------------------------------------------------------

# The closing lexicons of these languages (triage.lang), joined in this order.
_SIGNATURE_LANGUAGES = ("en", "de", "hu", "ru", "fr", "es")
# Unambiguous closing phrases: may be followed by punctuation and/or a short name on the same line.
_CLOSINGS = "|".join(lang.gather("CLOSINGS", _SIGNATURE_LANGUAGES))
# Short, ambiguous closings ("Best", "Regards", "Grüße", "Üdv"): only alone or followed by punctuation.
_WEAK_CLOSINGS = "|".join(lang.gather("WEAK_CLOSINGS", _SIGNATURE_LANGUAGES))
# Thank-you lines only count as a closing when they stand alone ("Thanks," / "Danke!" / "Спасибо.").
_THANKS = "|".join(lang.gather("THANKS", _SIGNATURE_LANGUAGES))
# "Sent from my iPhone", "Von meinem iPhone gesendet", ...
_MOBILE_SIGN_OFFS = "|".join(lang.gather("MOBILE_SIGN_OFFS", _SIGNATURE_LANGUAGES))
# Up to four short words after the closing, e.g. a name: "Best regards, John Smith".
_NAME_TAIL = r"(?:\S{1,30}(?:\s\S{1,30}){0,3})?"
_CLOSING_RE = re.compile(
    rf"(?:(?:{_CLOSINGS})(?![^\W\d_])[\s,.!:;\-–—]*|(?:{_WEAK_CLOSINGS})(?:\s*$|\s*[,.!:;\-–—]+\s*))"
    rf"{_NAME_TAIL}$",
    re.IGNORECASE,
)
_THANKS_RE = re.compile(rf"(?:{_THANKS})[\s,.!]*$", re.IGNORECASE)
_MOBILE_RE = re.compile(rf"(?:{_MOBILE_SIGN_OFFS})", re.IGNORECASE)


def _is_closing(line: str) -> bool:
    candidate = line.strip()
    if not candidate or len(candidate) > 80:
        return False
    return bool(_CLOSING_RE.match(candidate) or _THANKS_RE.match(candidate) or _MOBILE_RE.match(candidate))


def _window_start(lines: list[str], count: int) -> int:
    """Index of the first of the last ``count`` non-blank lines (0 if there are fewer)."""
    seen = 0
    for idx in range(len(lines) - 1, -1, -1):
        if lines[idx].strip():
            seen += 1
            if seen == count:
                return idx
    return 0


def strip_signature(text: str) -> str:
    """Remove a trailing signature.

    Cuts at a "-- " delimiter line (at most ``SIGNATURE_DELIMITER_MAX_LINES`` non-blank lines from the end)
    or at a closing line ("Best regards", "Mit freundlichen Grüßen", "Üdvözlettel", "С уважением",
    "Cordialement", "Saludos", "Sent from my iPhone", ...) that lies within the last
    ``SIGNATURE_MAX_LINES`` non-blank lines, so a closing phrase inside the body is never used.
    Text is returned unchanged when cutting would leave no words.
    """
    lines = text.rstrip().split("\n")
    total = len(lines)
    cut = None
    delim_from = _window_start(lines, SIGNATURE_DELIMITER_MAX_LINES + 1)
    for idx in range(total - 1, delim_from - 1, -1):
        if lines[idx].strip() == "--":
            cut = idx
            break
    closing_from = _window_start(lines, SIGNATURE_MAX_LINES)
    for idx in range(closing_from, total):
        if cut is not None and idx >= cut:
            break
        if _is_closing(lines[idx]):
            cut = idx
            break
    if cut is None:
        return text
    head = _join_head(lines, cut)
    return head if _has_words(head) else text


# --------------------------------------------------------------------------------------------------
# Disclaimers
# --------------------------------------------------------------------------------------------------

# Headings that open a disclaimer on their own.
_DISCLAIMER_HEADING_RE = re.compile(
    r"[*_\s]*(?:confidentiality notice|confidential notice|confidentiality note|legal disclaimer|"
    r"disclaimer\s?:|privileged (?:and|&) confidential|please consider the environment before printing|"
    r"vertraulichkeitshinweis|haftungsausschluss|avis de confidentialité|aviso de confidencialidad|"
    r"aviso legal\s?:|titoktartási nyilatkozat|уведомление о конфиденциальности)",
    re.IGNORECASE,
)
# Disclaimer sentences ("This e-mail and any attachments are confidential ..."); these must open a
# paragraph of at least _DISCLAIMER_MIN_WORDS words running to the end of the text.
_DISCLAIMER_SENTENCE_RE = re.compile(
    r"[*_\s]*(?:"
    r"(?:this|the)\s+(?:e-?mail|message|communication|transmission)\b.{0,200}?"
    r"\b(?:confidential|privileged|intended (?:solely|only))|"
    r"the information (?:contained )?in this (?:e-?mail|message|communication)|"
    r"diese (?:e-?mail|nachricht)\b.{0,200}?vertraulich|"
    r"ce (?:message|courriel|e-?mail|mail)\b.{0,200}?confidentiel|"
    r"este (?:mensaje|correo)\b.{0,200}?confidencial|"
    r"(?:ez az?|jelen) (?:e-?mail|üzenet|levél)\b.{0,200}?bizalmas|"
    r"(?:данное|это|настоящее) (?:сообщение|письмо|электронное письмо)\b.{0,200}?конфиденциальн"
    r")",
    re.IGNORECASE,
)
_DISCLAIMER_MIN_WORDS = 12


def _is_disclaimer_start(lines: list[str], idx: int) -> bool:
    line = lines[idx].strip()[:_LINE_PREFIX]
    if _DISCLAIMER_HEADING_RE.match(line):
        return True
    if _DISCLAIMER_SENTENCE_RE.match(line):
        return sum(len(rest.split()) for rest in lines[idx:]) >= _DISCLAIMER_MIN_WORDS
    return False


def strip_disclaimer(text: str) -> str:
    """Remove a legal/confidentiality disclaimer paragraph (and everything after it) at the end of text.

    The disclaimer must open a paragraph within the last ``DISCLAIMER_MAX_LINES`` non-blank lines.
    Text is returned unchanged when cutting would leave no words.
    """
    lines = text.rstrip().split("\n")
    nonblank_seen = 0
    cut = None
    for idx in range(len(lines) - 1, -1, -1):
        line = lines[idx].strip()
        if not line:
            continue
        nonblank_seen += 1
        if nonblank_seen > DISCLAIMER_MAX_LINES:
            break
        previous = lines[idx - 1].strip() if idx else ""
        paragraph_start = not previous or _SEPARATOR_RE.match(previous)
        if paragraph_start and _is_disclaimer_start(lines, idx):
            cut = idx
    if cut is None:
        return text
    end = cut
    while end > 0 and (not lines[end - 1].strip() or _SEPARATOR_RE.match(lines[end - 1].strip())):
        end -= 1
    head = _join_head(lines, end)
    return head if _has_words(head) else text


# --------------------------------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------------------------------


def _truncate(text: str, max_chars: int) -> str:
    """Cut ``text`` to at most ``max_chars`` characters, at a word boundary when there is one."""
    if len(text) <= max_chars:
        return text
    # A boundary exactly at max_chars is fine: look one character further.
    head = text[: max_chars + 1]
    boundary = max(head.rfind(" "), head.rfind("\n"))
    if boundary > 0:
        cut = text[:boundary].rstrip()
        if cut:
            return cut
    return text[:max_chars].rstrip()


def normalize_text(text: str, *, max_chars: int | None = None) -> NormalizedText:
    """Clean a ticket text for the models.

    ``removed`` lists what was stripped, in order, from "html", "quoted_reply", "disclaimer",
    "signature" and "truncated". If stripping would remove every word, the whitespace-folded original
    is returned instead. ``max_chars`` truncates at a word boundary.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if max_chars is not None and max_chars < 1:
        raise ValueError("max_chars must be a positive integer")

    removed: list[str] = []
    work = unicodedata.normalize("NFC", NEWLINE_RE.sub("\n", text))
    base = work
    if looks_like_html(work):
        converted = html_to_text(work)
        if not _has_words(converted):
            # No text outside script/style/markup: fall back to the bare tag-stripped text, if any.
            converted = fold_whitespace(html_module.unescape(ANY_TAG_RE.sub(" ", work)))
        work = base = converted
        removed.append("html")
    work = fold_whitespace(work)

    for name, step in (
        ("quoted_reply", strip_quoted_reply),
        ("disclaimer", strip_disclaimer),
        ("signature", strip_signature),
    ):
        stripped = step(work)
        if stripped != work and _has_words(stripped):
            work = stripped
            removed.append(name)

    cleaned = fold_whitespace(work)
    if not _has_words(cleaned) and _has_words(base):
        cleaned = fold_whitespace(base)
        removed = [name for name in removed if name == "html"]

    if max_chars is not None and len(cleaned) > max_chars:
        cleaned = _truncate(cleaned, max_chars)
        removed.append("truncated")

    return NormalizedText(text=cleaned, original=text, removed=tuple(removed))
