"""Loaders for the public sentiment sets the default head is trained and measured on.

UMSAB (XLM-T, 8 languages) and TweetEval sentiment, read from ``../shared/data``; labels 0/1/2 are mapped to
``negative`` / ``neutral`` / ``positive``. Nothing here downloads anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from triage.errors import InputError

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")
#: UMSAB folder name -> ISO 639-1 code.
UMSAB_LANGUAGES: dict[str, str] = {
    "arabic": "ar",
    "english": "en",
    "french": "fr",
    "german": "de",
    "hindi": "hi",
    "italian": "it",
    "portuguese": "pt",
    "spanish": "es",
}
_ESCAPE = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")


def unescape_tweet(text: str) -> str:
    """Turn literal ``\\u2019`` escapes (present in UMSAB English) into characters; surrogate pairs joined."""

    def _decode(match: re.Match[str]) -> str:
        raw = match.group(0)
        units = bytes.fromhex("".join(raw[i + 2 : i + 6] for i in range(0, len(raw), 6)))
        return units.decode("utf-16-be", errors="replace")

    return _ESCAPE.sub(_decode, text).strip()


@dataclass
class SentimentSplit:
    """Texts with labels (indices into :data:`LABELS`) and the language of each text."""

    texts: list[str]
    labels: list[int]
    languages: list[str]

    def __len__(self) -> int:
        return len(self.texts)


def _read_pair(text_file: Path, label_file: Path, language: str) -> SentimentSplit:
    if not text_file.exists() or not label_file.exists():
        raise InputError(f"{text_file} or {label_file} is missing: point data_dir at ../shared/data")
    texts = [unescape_tweet(t) for t in text_file.read_text(encoding="utf-8").splitlines()]
    labels = [int(x) for x in label_file.read_text(encoding="utf-8").split()]
    if len(texts) != len(labels):
        raise InputError(f"{text_file}: {len(texts)} texts but {len(labels)} labels")
    bad = sorted({x for x in labels if x not in (0, 1, 2)})
    if bad:
        raise InputError(f"{label_file}: labels must be 0, 1 or 2, found {bad}")
    return SentimentSplit(texts, labels, [language] * len(texts))


def load_umsab(data_dir: str | Path, split: str, languages: list[str] | None = None) -> SentimentSplit:
    """UMSAB ``split`` (train / val / test) for ``languages`` (ISO codes; default all eight), concatenated."""
    root = Path(data_dir) / "umsab-xlmt-sentiment"
    wanted = languages or list(UMSAB_LANGUAGES.values())
    out = SentimentSplit([], [], [])
    for folder, code in UMSAB_LANGUAGES.items():
        if code not in wanted:
            continue
        part = _read_pair(root / folder / f"{split}_text.txt", root / folder / f"{split}_labels.txt", code)
        out.texts += part.texts
        out.labels += part.labels
        out.languages += part.languages
    return out


def load_tweeteval(data_dir: str | Path, split: str) -> SentimentSplit:
    """TweetEval sentiment ``split`` (val / test; the train text is not in the shared data)."""
    root = Path(data_dir) / "tweeteval-sentiment"
    return _read_pair(root / f"{split}_text.txt", root / f"{split}_labels.txt", "en")
