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
from html.parser import HTMLParser

from triage import lang

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
# HTML
# --------------------------------------------------------------------------------------------------

_HTML_TAGS = (
    "a|abbr|address|article|aside|b|blockquote|body|br|caption|center|code|col|colgroup|dd|div|dl|dt|em|"
    "font|footer|h[1-6]|head|header|hr|html|i|img|label|li|main|meta|nav|o:p|ol|p|pre|section|small|span|"
    "strong|style|sub|sup|script|table|tbody|td|tfoot|th|thead|title|tr|u|ul"
)
_HTML_TAG_RE = re.compile(rf"</?(?:{_HTML_TAGS})(?:\s[^<>]{{0,2000}})?/?>", re.IGNORECASE)
_HTML_STRONG_RE = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]", re.IGNORECASE)
_ANY_TAG_RE = re.compile(r"<[^<>]{0,2000}>")

_SKIP_TAGS = frozenset({"script", "style", "head", "title", "noscript", "template", "svg", "object"})
_BLOCK_TAGS = frozenset(
    "address article aside blockquote body caption center dd div dl dt fieldset figcaption figure footer "
    "form h1 h2 h3 h4 h5 h6 header hr html li main nav ol p pre section table tbody tfoot thead tr ul".split()
)
_PARAGRAPH_TAGS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"})
_CELL_TAGS = frozenset({"td", "th"})
_VOID_TAGS = frozenset({"br", "hr", "img", "meta", "link", "input", "col", "wbr", "area", "base", "source"})
_INLINE_SPACE_RE = re.compile(r"[ \t\r\n\f\v]+")


def looks_like_html(text: str) -> bool:
    """True if ``text`` contains a doctype/html/body tag or at least two common HTML tags."""
    if _HTML_STRONG_RE.search(text):
        return True
    return next(itertools.islice(_HTML_TAG_RE.finditer(text), 1, None), None) is not None


class _TextExtractor(HTMLParser):
    """Iterative (non-recursive) HTML to text converter; tolerant of malformed markup.

    Line breaks requested by block elements are kept pending and merged, so nested blocks
    (``<div><div><p>``) produce at most one blank line instead of one per element.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip: dict[str, int] = {}
        self._pre = 0
        self._quote = 0
        self._pending = 0
        self._quote_opened = False

    # -- output helpers -------------------------------------------------------------------------
    def _break(self, count: int = 1) -> None:
        if self.parts:
            self._pending = max(self._pending, count)

    def _emit(self, text: str) -> None:
        if self._pending:
            count = 1 if self._quote_opened else self._pending  # no blank first line inside a quote
            self.parts.append(("\n" + "> " * self._quote) * count)
            self._pending = 0
        elif not self.parts and self._quote:
            self.parts.append("> " * self._quote)
        self.parts.append(text)
        self._quote_opened = False

    def _skipping(self) -> bool:
        return any(self._skip.values())

    # -- HTMLParser callbacks -------------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            self._skip[tag] = self._skip.get(tag, 0) + 1
            return
        if tag == "body":
            self._skip.pop("head", None)  # an unclosed <head> ends where <body> starts
        if self._skipping():
            return
        if tag == "br":
            # consecutive <br> tags are meaningful: emit directly rather than merging
            self._emit("")
            self._pending = 1
        elif tag == "blockquote":
            self._break(1)
            self._quote += 1
            self._quote_opened = True
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self._pre += 1
            self._break(2 if tag in _PARAGRAPH_TAGS else 1)
            if tag == "li":
                self._emit("- ")
        elif tag in _CELL_TAGS:
            self._emit(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag.lower() in _VOID_TAGS:
            self.handle_starttag(tag, attrs)
        # self-closing non-void tags (<div/>) carry no text

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _SKIP_TAGS:
            if self._skip.get(tag):
                self._skip[tag] -= 1
            return
        if self._skipping():
            return
        if tag == "blockquote":
            self._break(1)
            self._quote = max(0, self._quote - 1)
        elif tag in _BLOCK_TAGS:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._break(2 if tag in _PARAGRAPH_TAGS else 1)
        elif tag in _CELL_TAGS:
            self._emit(" ")

    def handle_data(self, data: str) -> None:
        if self._skipping() or not data:
            return
        if self._pre:
            if self._quote:
                data = data.replace("\n", "\n" + "> " * self._quote)
            self._emit(data)
            return
        data = _INLINE_SPACE_RE.sub(" ", data)
        if data == " " and (self._pending or not self.parts):
            return  # whitespace between block tags
        self._emit(data)


# A start/end tag whose quoting html.parser will read exactly as written (used only for tags with quotes).
_STRICT_TAG_RE = re.compile(
    r"/?[A-Za-z][\w:.-]*"
    r"(?:\s+[^\s\"'<>/=]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*"
    r"\s*/?"
)
_STRAY_LT_RE = re.compile(r"<(?=[^<>]*(?:<|\Z))")
_SUSPECT_TAG_RE = re.compile(r"<([!?][^<>]*|[^<>\"']*[\"'][^<>]*)>")


def _sanitize_tag(match: re.Match[str]) -> str:
    inner = match.group(1)
    if inner.startswith(("!", "?")):
        return ""  # doctype, processing instruction, <![if ...]> marked sections
    if _STRICT_TAG_RE.fullmatch(inner):
        return match.group(0)
    return "&lt;" + inner + ">"


def _sanitize_html(html: str) -> str:
    """Prepare markup so that html.parser runs in linear time.

    html.parser rescans to the end of the input for every unterminated construct (stray "<", unclosed
    comments, marked sections or quotes), which is quadratic on hostile input. Comments are removed
    here in one pass, stray "<" are escaped and tags with unbalanced quotes are turned into text.
    """
    pieces: list[str] = []
    pos = 0
    while True:
        start = html.find("<!--", pos)
        if start < 0:
            pieces.append(html[pos:])
            break
        pieces.append(html[pos:start])
        end = html.find("-->", start + 4)
        if end < 0:
            break  # an unclosed comment swallows the rest, as in browsers
        pos = end + 3
    html = _STRAY_LT_RE.sub("&lt;", "".join(pieces))  # a "<" with no ">" before the next "<"
    return _SUSPECT_TAG_RE.sub(_sanitize_tag, html)  # only tags with quotes, "<!...>" and "<?...>"


def html_to_text(html: str) -> str:
    """Convert HTML to plain text with the stdlib parser.

    ``script``/``style``/``head`` content is dropped, block elements and ``<br>`` become newlines,
    list items get a "- " bullet, ``<blockquote>`` lines are prefixed with "> " (so quoted replies can
    be stripped later) and entities are unescaped. The result is whitespace-folded.
    """
    parser = _TextExtractor()
    try:
        parser.feed(_sanitize_html(html))
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # pragma: no cover - html.parser is very tolerant; this is a last resort
        text = html_module.unescape(_ANY_TAG_RE.sub(" ", html))
    return fold_whitespace(text)


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
# Whitespace
# --------------------------------------------------------------------------------------------------

_NEWLINE_RE = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Control (Cc) and invisible format (Cf) characters, except \n and \t.
_INVISIBLE_RE = re.compile(
    "[\x00-\x08\x0e-\x1b\x1f\x7f-\x84\x86-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)
_SPACES_RE = re.compile("[ \t\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")
_EDGE_SPACES_RE = re.compile(r" ?\n ?")
_BLANK_LINES_RE = re.compile(r"\n{3,}")


def fold_whitespace(text: str) -> str:
    """Normalise newlines, drop control/zero-width characters, collapse spaces, keep <= 1 blank line."""
    text = _NEWLINE_RE.sub("\n", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    text = _EDGE_SPACES_RE.sub("\n", text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()


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
    work = unicodedata.normalize("NFC", _NEWLINE_RE.sub("\n", text))
    base = work
    if looks_like_html(work):
        converted = html_to_text(work)
        if not _has_words(converted):
            # No text outside script/style/markup: fall back to the bare tag-stripped text, if any.
            converted = fold_whitespace(html_module.unescape(_ANY_TAG_RE.sub(" ", work)))
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
