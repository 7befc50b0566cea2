"""HTML e-mail and web-form bodies to plain text, and whitespace folding.

Block structure is kept as line breaks, scripts and styles dropped, malformed markup read without failing:
the first and last stages of :func:`triage.normalize.normalize_text`.
"""

from __future__ import annotations

import html as html_module
import itertools
import re
from html.parser import HTMLParser

__all__ = ["ANY_TAG_RE", "NEWLINE_RE", "fold_whitespace", "html_to_text", "looks_like_html"]

_HTML_TAGS = (
    "a|abbr|address|article|aside|b|blockquote|body|br|caption|center|code|col|colgroup|dd|div|dl|dt|em|"
    "font|footer|h[1-6]|head|header|hr|html|i|img|label|li|main|meta|nav|o:p|ol|p|pre|section|small|span|"
    "strong|style|sub|sup|script|table|tbody|td|tfoot|th|thead|title|tr|u|ul"
)
_HTML_TAG_RE = re.compile(rf"</?(?:{_HTML_TAGS})(?:\s[^<>]{{0,2000}})?/?>", re.IGNORECASE)
_HTML_STRONG_RE = re.compile(r"<!doctype\s+html|<html[\s>]|<body[\s>]", re.IGNORECASE)
ANY_TAG_RE = re.compile(r"<[^<>]{0,2000}>")

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
        text = html_module.unescape(ANY_TAG_RE.sub(" ", html))
    return fold_whitespace(text)


NEWLINE_RE = re.compile(r"\r\n?|[\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
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
    text = NEWLINE_RE.sub("\n", text)
    text = _INVISIBLE_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    text = _EDGE_SPACES_RE.sub("\n", text)
    text = _BLANK_LINES_RE.sub("\n\n", text)
    return text.strip()
