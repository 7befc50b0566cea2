"""Text helpers for the knowledge base: language-aware tokens for BM25 and passage chunking."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["chunk_text", "split_paragraphs", "tokenize"]

#: ISO 639-1 -> Snowball stemmer name (PyStemmer).
STEMMERS = {
    "ar": "arabic",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "de": "german",
    "el": "greek",
    "en": "english",
    "es": "spanish",
    "et": "estonian",
    "eu": "basque",
    "fi": "finnish",
    "fr": "french",
    "ga": "irish",
    "hi": "hindi",
    "hu": "hungarian",
    "hy": "armenian",
    "id": "indonesian",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "nl": "dutch",
    "no": "norwegian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
}
#: ISO 639-1 -> name of a bm25s stop-word list.
_STOPWORD_LISTS = {
    "en": "STOPWORDS_EN",
    "de": "STOPWORDS_GERMAN",
    "fr": "STOPWORDS_FRENCH",
    "es": "STOPWORDS_SPANISH",
    "ru": "STOPWORDS_RUSSIAN",
    "it": "STOPWORDS_ITALIAN",
    "pt": "STOPWORDS_PORTUGUESE",
    "nl": "STOPWORDS_DUTCH",
    "da": "STOPWORDS_DANISH",
    "sv": "STOPWORDS_SWEDISH",
    "no": "STOPWORDS_NORWEGIAN",
    "tr": "STOPWORDS_TURKISH",
}
# Hungarian is missing from bm25s; a short list of its commonest function words.
_HU_STOPWORDS = frozenset(
    "a az egy és is nem hogy de van volt meg már még csak mint ha el ki be le fel sem vagy mert ez azt ezt "
    "én te ő mi ti ők nekem neked kell lesz lett nagyon itt ott amikor akkor pedig ami aki amely".split()
)
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)


@lru_cache(maxsize=64)
def _stemmer(language: str):  # noqa: ANN202 - Stemmer.Stemmer or None
    name = STEMMERS.get(language)
    if name is None:
        return None
    try:
        import Stemmer
    except ImportError:  # pragma: no cover - PyStemmer is a core dependency
        return None
    return Stemmer.Stemmer(name)


@lru_cache(maxsize=64)
def _stopwords(language: str) -> frozenset[str]:
    if language == "hu":
        return _HU_STOPWORDS
    name = _STOPWORD_LISTS.get(language)
    if name is None:
        return frozenset()
    import bm25s.stopwords

    return frozenset(getattr(bm25s.stopwords, name, ()))


def tokenize(text: str, language: str | None = "en") -> list[str]:
    """Lower-cased word tokens of ``text``, stop words dropped and Snowball-stemmed for ``language``.

    Unknown languages keep the plain lower-cased words, so names and codes still match across languages.
    """
    words = [w.lower() for w in _WORD.findall(text)]
    lang = (language or "").lower()
    stop = _stopwords(lang)
    if stop:
        words = [w for w in words if w not in stop] or words
    stemmer = _stemmer(lang)
    return list(stemmer.stemWords(words)) if stemmer is not None else words


_PARAGRAPH = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of ``text`` (blank-line separated), whitespace folded, empty ones dropped."""
    return [" ".join(p.split()) for p in _PARAGRAPH.split(text) if p.strip()]


def _pieces(paragraph: str, max_chars: int) -> Iterable[str]:
    if len(paragraph) <= max_chars:
        yield paragraph
        return
    buf = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > max_chars:  # one enormous "sentence": cut at a space
            cut = sentence.rfind(" ", 0, max_chars)
            cut = cut if cut > max_chars // 2 else max_chars
            if buf:
                yield buf
                buf = ""
            yield sentence[:cut].strip()
            sentence = sentence[cut:].strip()
        if buf and len(buf) + 1 + len(sentence) > max_chars:
            yield buf
            buf = sentence
        else:
            buf = f"{buf} {sentence}".strip()
    if buf:
        yield buf


def chunk_text(text: str, max_chars: int = 1000) -> list[str]:
    """Split ``text`` into passages of at most ``max_chars``: whole paragraphs packed together where they fit,
    long paragraphs cut at sentence ends."""
    if max_chars < 50:
        raise ValueError(f"max_chars must be at least 50, got {max_chars}")
    chunks: list[str] = []
    buf = ""
    for paragraph in split_paragraphs(text):
        for piece in _pieces(paragraph, max_chars):
            if buf and len(buf) + 2 + len(piece) > max_chars:
                chunks.append(buf)
                buf = piece
            else:
                buf = f"{buf}\n\n{piece}" if buf else piece
    if buf:
        chunks.append(buf)
    return chunks
