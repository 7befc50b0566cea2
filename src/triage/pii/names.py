"""Person names: found only after salutations, titles and self-introductions, or as a signature after a
closing ("Best regards, Anna Schmidt"), never by guessing that a capitalised word is a name.

The salutations, introductions, titles, closings and stop words come from :mod:`triage.lang`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from triage import lang
from triage.lang import shared
from triage.pii.entities import PERSON, Entity

__all__ = ["find_names"]

#: The languages whose salutations, closings and stop words the name finder reads.
NAME_LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "ru", "fr", "es")

_SALUTATION = "|".join(
    lang.gather("GREETINGS", NAME_LANGUAGES) + lang.gather("NAME_SALUTATIONS", NAME_LANGUAGES)
)
_INTRO = "|".join(lang.gather("INTRODUCTIONS", NAME_LANGUAGES))
# Introductions that are everyday phrases too ("I am", "je suis"): the name must be followed by punctuation.
_AMBIGUOUS_INTROS = frozenset(lang.gather("AMBIGUOUS_INTRODUCTIONS", NAME_LANGUAGES))
# Titles are tried in this order (each language's titles in their own order, academic titles last).
_TITLES = "|".join(
    lang.gather("TITLES", ("en", "de", "fr", "es", "ru")) + lang.gather("ACADEMIC_TITLES", NAME_LANGUAGES)
)
# Titles that count written in lower case too ("an herrn Müller", "el señor García").
_LOWERCASE_TITLES = lang.gather("LOWERCASE_TITLES", NAME_LANGUAGES)
# Every closing, except those the name finder has never taken to open a signature.
_SKIPPED_CLOSINGS = frozenset(lang.gather("PII_SKIPPED_CLOSINGS", NAME_LANGUAGES))
_CLOSINGS = "|".join(
    closing
    for field in ("CLOSINGS", "WEAK_CLOSINGS", "THANKS")
    for closing in lang.gather(field, NAME_LANGUAGES)
    if closing not in _SKIPPED_CLOSINGS
)
_STOPWORDS = frozenset(lang.gather("NAME_STOPWORDS", NAME_LANGUAGES))
_PARTICLES = shared.NAME_PARTICLES

_NAME_TOKEN_RE = re.compile(r"[^\W\d_][\w'’\-]{0,30}\.?|[^\W\d_]\.")


def _longest_first(alternation: str) -> str:
    """The ``|``-separated alternatives longest first, so "saludos cordiales" wins over "saludos"."""
    return "|".join(sorted(set(alternation.split("|")), key=lambda alt: (-len(alt), alt)))


_SALUTATION_RE = re.compile(
    rf"(?<![^\W\d_])(?:{_longest_first(_SALUTATION)})(?![^\W\d_])[ ,]{{0,3}}", re.IGNORECASE
)
_INTRO_RE = re.compile(rf"(?<![^\W\d_])(?:{_longest_first(_INTRO)})(?![^\W\d_])[ :,]{{0,3}}", re.IGNORECASE)
_TITLE_RE = re.compile(rf"(?<![^\W\d_])(?:{_TITLES})(?![^\W\d_])\s{{0,2}}", re.IGNORECASE)
_CLOSING_LINE_RE = re.compile(
    rf"^\s*(?:{_longest_first(_CLOSINGS)})(?![^\W\d_])[\s,.!:;\-–—]*(.*)$", re.IGNORECASE
)
# Closings that are everyday words too ("thanks, Windows Update"): after a comma they start no signature.
_PLAIN_CLOSINGS = frozenset(lang.gather("EVERYDAY_CLOSINGS", NAME_LANGUAGES))
_CLAUSE_CLOSINGS = "|".join(set(_CLOSINGS.split("|")) - _PLAIN_CLOSINGS)
# A closing after a sentence or clause on the same line: ". Kind regards, Anna", ", с уважением, Мария"
_INLINE_CLOSING_RE = re.compile(
    rf"(?:[.!?]\s{{1,3}}(?:{_longest_first(_CLOSINGS)})"
    rf"|[,;]\s{{1,3}}(?:{_longest_first(_CLAUSE_CLOSINGS)}))"
    r"(?![^\W\d_])[,.!:;\-–—]?\s*(?=[^\W\d_]|$)",
    re.IGNORECASE,
)
_HU_HONORIFIC_RE = re.compile(
    r"((?:[A-ZÁÉÍÓÖŐÚÜŰ][\w\-]{1,30}\s){1,3})(?:[úÚ]r|[úÚ]rnak|[aA]sszony|[aA]sszonynak|[úÚ]rnő)\b"
)
# Hungarian self-introduction with the name first: "Szabó Éva vagyok" (2-3 capitalised words right before it).
_HU_SELF_INTRO_RE = re.compile(r"(?<![\w'’\-])((?:[^\W\d_][\w'’\-]{0,30} ){2,3})vagyok(?![^\W\d_])")
_TERMINATOR = set(",!.:;?)\n")
_SIGNATURE_DELIMITERS = frozenset({"--", "—", "–", "__"})


def _is_name_token(token: str) -> bool:
    word = token.rstrip(".")
    if not word or not word[0].isupper():
        return False
    if word.lower() in _STOPWORDS:
        return False
    # ALL-CAPS words longer than 3 letters are headings or acronyms, not names ("URGENT", "VPN").
    return not (len(word) > 3 and word.isupper())


def _scan_name(text: str, pos: int, *, need_terminator: bool, max_tokens: int = 4) -> tuple[int, int] | None:
    """Capitalised name tokens starting at ``pos`` on the same line; (start, end) or None."""
    limit = min(len(text), pos + 200)  # a name is short: never scan a whole long line (linear time overall)
    line_end = text.find("\n", pos, limit)
    line_end = limit if line_end == -1 else line_end
    end = pos
    count = 0
    cursor = pos
    while count < max_tokens:
        while cursor < line_end and text[cursor] == " ":
            cursor += 1
        m = _NAME_TOKEN_RE.match(text, cursor, line_end)
        if not m:
            break
        token = m.group(0)
        if token.lower() in _PARTICLES and count and need_terminator:
            cursor = m.end()
            continue
        if not _is_name_token(token):
            break
        # A trailing dot is an initial ("J.") or a sentence end; keep it only for one-letter initials.
        end = m.end() if len(token.rstrip(".")) == 1 else m.start() + len(token.rstrip("."))
        cursor = m.end()
        count += 1
    if count == 0:
        return None
    if need_terminator:
        rest = text[end:line_end].lstrip(" ")
        if rest and rest[0] not in _TERMINATOR and not rest.startswith(("-", "–", "—")):
            return None
    return pos + (len(text[pos:end]) - len(text[pos:end].lstrip())), end


def find_names(text: str) -> Iterable[Entity]:
    for m in _SALUTATION_RE.finditer(text):
        pos = m.end()
        titled = _TITLE_RE.match(text, pos)
        while titled and titled.end() > pos:
            pos = titled.end()
            titled = _TITLE_RE.match(text, pos)
        span = _scan_name(text, pos, need_terminator=True, max_tokens=3)
        if span:
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "salutation")
    for m in _INTRO_RE.finditer(text):
        span = _scan_name(text, m.end(), need_terminator=False, max_tokens=3)
        if span and (m.group(0).strip().lower() not in _AMBIGUOUS_INTROS or _terminated(text, span[1])):
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "introduction")
    for m in _TITLE_RE.finditer(text):
        if text[m.start()].islower() and not m.group(0).lower().startswith(_LOWERCASE_TITLES):
            continue
        span = _scan_name(text, m.end(), need_terminator=False, max_tokens=3)
        if span and span[0] == m.end():
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "title")
    for m in _HU_HONORIFIC_RE.finditer(text):
        tokens = list(re.finditer(r"\S+", m.group(1)))
        while tokens and not _is_name_token(tokens[0].group(0)):
            tokens.pop(0)  # "Kedves Nagy Úr": the salutation is not part of the name
        if tokens and all(_is_name_token(t.group(0)) for t in tokens):
            start, end = m.start(1) + tokens[0].start(), m.start(1) + tokens[-1].end()
            yield Entity(PERSON, start, end, text[start:end], "title")
    yield from _hu_self_introductions(text)
    yield from _signature_names(text)


def _hu_self_introductions(text: str) -> Iterable[Entity]:
    for m in _HU_SELF_INTRO_RE.finditer(text):
        tokens = list(re.finditer(r"\S+", m.group(1)))
        while tokens and not _is_name_token(tokens[0].group(0)):
            tokens.pop(0)  # "hogy Kiss Bence vagyok", "Én Kiss Bence vagyok": the name starts later
        if len(tokens) >= 2 and all(_is_name_token(t.group(0)) for t in tokens):
            start, end = m.start(1) + tokens[0].start(), m.start(1) + tokens[-1].end()
            yield Entity(PERSON, start, end, text[start:end], "introduction")


def _terminated(text: str, end: int) -> bool:
    rest = text[end : end + 3].lstrip(" ")
    return not rest or rest[0] in _TERMINATOR


def _signature_names(text: str) -> Iterable[Entity]:
    lines = text.split("\n")
    offsets = []
    pos = 0
    for line in lines:
        offsets.append(pos)
        pos += len(line) + 1
    for index, line in enumerate(lines):
        if len(line) > 400:
            continue
        line_end = offsets[index] + len(line)
        m = _CLOSING_LINE_RE.match(line) if len(line) <= 80 else None
        if line.strip() in _SIGNATURE_DELIMITERS:
            tails = [len(line)]  # "-- " (the e-mail signature delimiter): the name is on the next line
        else:
            # A closing that opens the line ("Üdvözlettel: Tóth Gábor") or follows a sentence on it
            # ("Спасибо! С уважением, Мария", "..., cordialement, Anne"): the name ends the line, or is next.
            tails = [m.start(1)] if m else []
            tails += [found.end() for found in _INLINE_CLOSING_RE.finditer(line)][-1:]
        found_here = False
        for tail_start in tails:
            if not line[tail_start:].strip():
                continue
            span = _scan_name(text, offsets[index] + tail_start, need_terminator=True, max_tokens=4)
            if span and not text[span[1] : line_end].strip(" ,.!-–—"):
                yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "signature")
                found_here = True
                break
        if found_here or not any(not line[t:].strip() for t in tails):
            continue
        # The name is on the next non-blank line, alone (up to 4 tokens, nothing else on the line).
        nxt = index + 1
        while nxt < len(lines) and not lines[nxt].strip():
            nxt += 1
        if nxt >= len(lines) or nxt - index > 2 or len(lines[nxt].strip()) > 50:
            continue
        start = offsets[nxt]
        title = _TITLE_RE.match(text, start + (len(lines[nxt]) - len(lines[nxt].lstrip())))
        span = _scan_name(text, title.end() if title else start, need_terminator=True, max_tokens=4)
        if span and not text[span[1] : offsets[nxt] + len(lines[nxt])].strip(" ,.-–—"):
            yield Entity(PERSON, span[0], span[1], text[span[0] : span[1]], "signature")
