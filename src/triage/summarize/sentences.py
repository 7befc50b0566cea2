"""Sentence splitting for e-mails and chat, in any language the encoder covers.

Rule-based and dependency-free: line structure first (hard-wrapped e-mail lines are joined, list items and
short header lines stay apart), then terminal punctuation (``. ! ? …`` and the CJK / Devanagari / Arabic
marks) followed by a plausible sentence start. Abbreviations (``Mr.``, ``z.B.``, ``Nr.``, ``т.е.``...),
initials, decimals, URLs and e-mail addresses do not end a sentence. Over-long "sentences" (a pasted log, a
1 MB line) are cut into pieces of at most ``max_chars`` at a space so downstream work stays bounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Abbreviations (lower-case, without the final dot) after which a dot does not end a sentence.
ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st vs etc eg ie al approx incl excl no nr nos tel fax dept est min max avg ref
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue wed thu fri sat sun inc ltd co corp fig vol pp
    ca bzw bspw ggf evtl usw zb zt u a z b d h s o sog vgl inkl zzgl abs str tel hr fr frl dipl ing
    kb mb gb tb pcs qty
    mme mlle cf env p ex av apr j c
    sra sres dra dña ud uds pág núm aprox
    kft zrt bt dr ifj id pl stb ún kb sz
    см стр тел т е д г гг ул др пр им
    """.split()
)

#: Month names (lower-case) that follow an ordinal date with a dot: "3. März", "15. január".
MONTHS = frozenset(
    """
    januar februar märz april mai juni juli august september oktober november dezember jänner
    január február március április május június július augusztus szeptember október november december
    jan feb mär apr jun jul aug sep sept okt nov dez márc ápr máj jún júl aug szept
    января февраля марта апреля мая июня июля августа сентября октября ноября декабря
    """.split()
)

_TERMINALS = ".!?…。！？؟।"
# A candidate boundary: terminal punctuation run, optional closing quotes/brackets, then whitespace.
_BOUNDARY = re.compile(r"([.!?…]+|[。！？؟।]+)([\"'”’»)\]]*)(\s+|$)")
# CJK terminal marks end a sentence even without a following space.
_CJK_BOUNDARY = re.compile(r"([。！？]+)([」』”’）)]*)(?=\S)")
_LIST_ITEM = re.compile(r"^\s*(?:[-*•·▪►–—]|\d{1,3}[.)]|[a-zA-Z][.)]|\(\d{1,3}\)|\[\d{1,3}\])\s+")


@dataclass(frozen=True)
class Sentence:
    """A sentence with its character span in the text it came from.

    ``text`` is ``source[start:end]`` with runs of whitespace (a joined line break) folded to one space.
    """

    text: str
    start: int
    end: int


def _word_before(text: str, end: int) -> str:
    """The token that ends at ``end`` (exclusive), without leading punctuation."""
    start = end
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start:end].lstrip("([\"'“‘«¿¡")


def _next_word(rest: str) -> str:
    words = rest.split(maxsplit=1)
    return words[0].strip(".,;:").lower() if words else ""


def _is_abbreviation(token: str) -> bool:
    """True when a token ending in a dot is an abbreviation, an initial or an ordinal, not a sentence end."""
    core = token.rstrip(".")
    if not core or any(c in core for c in "/@:"):  # URLs and addresses end sentences like any word
        return False
    if "." in core:  # "e.g", "z.B", "u.s.a", "т.е" but not "example.com"
        return all(0 < len(part) <= 2 for part in core.split("."))
    if core.lower() in ABBREVIATIONS:
        return True
    if len(core) == 1 and core.isalpha() and core.isupper():  # an initial: "J. Smith"
        return True
    return False


def _starts_sentence(rest: str) -> bool:
    """Whether text after a candidate boundary looks like a new sentence (not a lower-case continuation)."""
    stripped = rest.lstrip("\"'“‘«([¿¡-–— ")
    if not stripped:
        return True
    first = stripped[0]
    if first.isalpha():
        # Scripts without case (CJK, Arabic, Hebrew, Thai...) count as a start; lower case does not.
        return not first.islower()
    return True  # digits, symbols, emoji, @handles


def _split_line(line: str, offset: int, limit: int | None = None) -> list[Sentence]:
    """Split one logical line at sentence-ending punctuation (at most ``limit`` cuts are looked for).

    Every look-around is bounded (a window of a few dozen characters), so a 1 MB line costs linear time.
    """
    pieces: list[Sentence] = []
    cuts: list[int] = []
    last = 0
    for match in _BOUNDARY.finditer(line):
        if limit is not None and len(cuts) > limit:
            break
        punct, _closing, space = match.group(1), match.group(2), match.group(3)
        end = match.end(2)
        rest = line[match.end() : match.end() + 40]
        if not rest.strip():
            continue
        if punct == "." and not space:
            continue
        if punct == ".":
            token = _word_before(line, match.start(1) + 1)
            if _is_abbreviation(token):
                continue
            if re.fullmatch(r"\d{1,4}\.", token) and (rest[:1].isdigit() or _next_word(rest) in MONTHS):
                continue
            if match.end(1) - last <= 8 and re.fullmatch(
                r"\d{1,2}\.|[a-zA-Z]\.", line[last : match.end(1)].strip()
            ):
                continue  # a list marker: "1. Restart it."
        if punct[0] in ".…" and not _starts_sentence(rest):
            continue
        cuts.append(end)
        last = end
    for match in _CJK_BOUNDARY.finditer(line):
        if limit is not None and len(cuts) > 2 * limit + 2:
            break
        cuts.append(match.end())
    start = 0
    for cut in sorted(set(cuts)):
        if cut > start:
            pieces.append(Sentence(line[start:cut], offset + start, offset + cut))
            start = cut
    pieces.append(Sentence(line[start:], offset + start, offset + len(line)))
    out: list[Sentence] = []
    for piece in pieces:
        lead = len(piece.text) - len(piece.text.lstrip())
        text = piece.text.strip()
        if text:
            out.append(Sentence(" ".join(text.split()), piece.start + lead, piece.start + lead + len(text)))
    return out


def _logical_lines(text: str) -> list[tuple[str, int]]:
    """Lines of ``text`` with their offsets; hard-wrapped lines that continue a sentence are joined."""
    lines: list[tuple[str, int]] = []
    pos = 0
    for raw in text.split("\n"):
        lines.append((raw, pos))
        pos += len(raw) + 1
    spans: list[list[int]] = []  # [start, end) of each logical line; a joined line spans the newline
    last_line = ""
    for raw, start in lines:
        stripped = raw.strip()
        if not stripped:
            last_line = ""
            continue
        continues = (
            bool(spans)
            and bool(last_line)
            and last_line.rstrip()[-1:] not in _TERMINALS + ":;"
            and not _LIST_ITEM.match(raw)
            and stripped[:1].isalpha()
            and stripped[:1].islower()
        )
        if continues:
            spans[-1][1] = start + len(raw)
        else:
            spans.append([start, start + len(raw)])
        last_line = raw
    return [(text[a:b], a) for a, b in spans]


def _cap(source: str, sentence: Sentence, max_chars: int) -> list[Sentence]:
    """Cut an over-long sentence into pieces of at most ``max_chars``, at spaces where possible."""
    if sentence.end - sentence.start <= max_chars:
        return [sentence]
    out: list[Sentence] = []
    text, base, start = source[sentence.start : sentence.end], sentence.start, 0
    while start < len(text):
        end = min(start + max_chars, len(text))
        if end < len(text):
            space = text.rfind(" ", start + max_chars // 2, end)
            if space > start:
                end = space
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        if chunk.strip():
            span = chunk.strip()
            out.append(Sentence(" ".join(span.split()), base + start + lead, base + start + lead + len(span)))
        start = end
    return out


def split_sentences(text: str, *, max_chars: int = 400, max_sentences: int | None = None) -> list[Sentence]:
    """Split an e-mail or chat text into sentences with character spans.

    Args:
        text: the text (normalised or raw; HTML should be converted first).
        max_chars: longer sentences are cut at a space into pieces of at most this many characters.
        max_sentences: stop after this many sentences (``None``: no limit); bounds work on huge inputs.

    Returns:
        Sentences in order; ``text[s.start:s.end] == s.text`` for each one.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be str, not {type(text).__name__}")
    if max_chars < 20:
        raise ValueError("max_chars must be at least 20")
    out: list[Sentence] = []
    for line, offset in _logical_lines(text):
        for sentence in _split_line(line, offset, max_sentences):
            out.extend(_cap(text, sentence, max_chars))
            if max_sentences is not None and len(out) >= max_sentences:
                return out[:max_sentences]
    return out


_NO_SPACE_SCRIPT = re.compile(r"[\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def word_count(text: str) -> int:
    """Number of words; in scripts written without spaces (CJK, Thai) two characters count as one word."""
    dense = len(_NO_SPACE_SCRIPT.findall(text))
    if not dense:
        return len(text.split())
    rest = _NO_SPACE_SCRIPT.sub(" ", text)
    return len(rest.split()) + (dense + 1) // 2
