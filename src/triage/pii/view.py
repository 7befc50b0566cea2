"""A folded view of a text for the detectors, with a map back to the original offsets.

Raw ticket text hides personal data from plain patterns in ways the normaliser later undoes: zero-width
characters and soft hyphens inside an address (``anna\\u200b@example.com``), HTML entities
(``anna&#64;example.com``), no-break and thin spaces inside a phone number, full-width forms
(``ｍａｒｉａ＠example.com``), decomposed accents (``Ju\\u0308rgen``) and HTML markup (``<p>Best regards,</p>
<p>Anna Kovács</p>``: block tags become line breaks, inline tags are dropped). The detectors run on the folded
view, and each span found is mapped back to the original text, so what is masked is the value as written.

Folding is linear in the text length and only happens when the text holds one of these characters.
"""

from __future__ import annotations

import bisect
import html
import re
import unicodedata
from dataclasses import dataclass, field

__all__ = ["TextView", "fold"]

# Characters the normaliser drops (format and control characters) plus the ones it folds to a space.
_HIDDEN = "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
_SPACES = "\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
_HYPHENS = "\u2010\u2011\u2012"
_TRIGGER_RE = re.compile(
    rf"(?P<hidden>[{_HIDDEN}]+)"
    rf"|(?P<space>[{_SPACES}])"
    rf"|(?P<hyphen>[{_HYPHENS}])"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,15});)"
    r"|(?P<wide>[\uff01-\uff5e])"
    r"|(?P<cluster>[^\u0300-\u036f][\u0300-\u036f]{1,4})"
    r"|(?P<block></?(?:p|div|br|li|tr|td|th|h[1-6]|table|tbody|ul|ol|blockquote|pre|hr)\b[^<>]{0,500}>)"
    r"|(?P<inline></?(?:span|b|i|u|em|strong|font|a|small|big|sup|sub|code|wbr)\b[^<>]{0,500}>)",
    re.IGNORECASE,
)


@dataclass
class TextView:
    """``text`` as the detectors see it; ``span`` maps a span of ``text`` back to the original."""

    text: str
    original: str
    # Non-empty pieces of the view, in order: (view start, original start, view length, original length).
    # A piece is either copied (lengths equal, offsets shift together) or one folded character.
    _view_starts: list[int] = field(default_factory=list)
    _pieces: list[tuple[int, int, int, int]] = field(default_factory=list)

    @property
    def folded(self) -> bool:
        """True when the view differs from the original."""
        return self.text is not self.original

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the view's ``text[start:end]`` (``end > start``)."""
        if not self.folded:
            return start, end
        return self._origin(start, first=True), self._origin(end - 1, first=False)

    def _origin(self, pos: int, *, first: bool) -> int:
        i = bisect.bisect_right(self._view_starts, pos) - 1
        view_start, orig_start, view_len, orig_len = self._pieces[i]
        if view_len == orig_len:  # copied: offsets shift together
            return orig_start + (pos - view_start) + (0 if first else 1)
        return orig_start if first else orig_start + orig_len  # one folded character


def _folded_char(kind: str, raw: str) -> str | None:
    """The view's character for a trigger, or None to drop it (hidden) or keep it as written."""
    if kind == "space":
        return " "
    if kind == "block":
        return "\n"
    if kind == "hyphen":
        return "-"
    if kind == "wide":
        return chr(ord(raw) - 0xFEE0)
    if kind == "entity":
        value = html.unescape(raw)
        if value == raw or len(value) != 1:
            return raw
        return " " if value in _SPACE_CHARS else value
    composed = unicodedata.normalize("NFC", raw)  # cluster: a letter and its combining marks
    return composed if len(composed) == 1 else raw


_SPACE_CHARS = frozenset("\u00a0\u2007\u2009\u202f\u3000 ")


def fold(text: str) -> TextView:
    """The folded view of ``text`` (the text itself, unmapped, when there is nothing to fold)."""
    if _TRIGGER_RE.search(text) is None:
        return TextView(text, text)
    parts: list[str] = []
    view = TextView("", text)
    view_pos = 0
    cursor = 0

    def piece(orig_start: int, view_text: str, orig_len: int) -> None:
        nonlocal view_pos
        if view_text:
            view._view_starts.append(view_pos)
            view._pieces.append((view_pos, orig_start, len(view_text), orig_len))
            parts.append(view_text)
            view_pos += len(view_text)

    for m in _TRIGGER_RE.finditer(text):
        if m.start() > cursor:
            piece(cursor, text[cursor : m.start()], m.start() - cursor)
        kind = m.lastgroup or ""
        raw = m.group(0)
        if kind not in ("hidden", "inline"):
            char = _folded_char(kind, raw)
            if char is not None and char != raw:
                piece(m.start(), char, len(raw))
            else:
                piece(m.start(), raw, len(raw))
        cursor = m.end()
    if cursor < len(text):
        piece(cursor, text[cursor:], len(text) - cursor)
    view.text = "".join(parts)
    return view
