"""Multilingual escalation cues: urgency, repeat contact, deadlines, money, churn, legal threats, outages,
frustration and shouting, each found with its span so an agent sees why a ticket was flagged.

The detector is a curated lexicon of anchored regular expressions (en de hu ru fr es it pt, kept in
:mod:`triage.lang`), matched on every text whatever its detected language (tickets mix languages and short
ones are hard to identify). Cue words preceded by a negation ("not urgent", "nem sürgős", "не срочно") are
dropped.

>>> [c.kind for c in detect_cues("SÜRGŐS! Harmadszor írok, a rendszer nem működik!!!")]
['urgency', 'shouting', 'repeat_contact', 'outage', 'shouting']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from triage import lang
from triage.caseless import CaselessPattern
from triage.lang import shared
from triage.schema import Cue

#: Cue kinds, in the order they are documented.
CUE_KINDS: tuple[str, ...] = (
    "urgency",
    "repeat_contact",
    "deadline",
    "money",
    "churn",
    "legal",
    "outage",
    "frustration",
    "shouting",
)

#: The languages whose escalation cues (triage.lang) the detector reads, in this order.
CUE_LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "ru", "fr", "es", "it", "pt")

#: kind -> language -> regular expressions (case-insensitive, matched with word boundaries around them);
#: "all" holds the cues of every language (amounts with a currency).
PATTERNS: dict[str, dict[str, list[str]]] = {
    kind: ({"all": list(shared.MONEY_CUES)} if kind == "money" else {})
    | {code: list(lang.module(code).SENTIMENT_CUES[kind]) for code in CUE_LANGUAGES}
    for kind in CUE_KINDS
    if kind != "shouting"
}

#: Words that, just before a cue, negate it ("not urgent", "nicht dringend", "nem sürgős", "не срочно").
_NEGATIONS = "|".join(dict.fromkeys(lang.gather("NEGATIONS", CUE_LANGUAGES)))  # "non": fr and it
_NEGATION = re.compile(rf"(?:\b(?:{_NEGATIONS})\b[ \t]+(?:\w+[ \t]+)?)$", re.IGNORECASE)
#: Kinds whose cue words may be negated; outage / repeat-contact patterns carry their own negations.
_NEGATABLE = {"urgency", "frustration", "churn", "legal"}

_CAPS_WORD = r"[A-ZÁÉÍÓÖŐÚÜŰÄÀÂÇÈÊËÎÏÔÙÛÑÃÕА-ЯЁ]{2,}"
_CAPS_RUN = re.compile(rf"(?<![\w]){_CAPS_WORD}(?:[\s,.'’-]+{_CAPS_WORD})+(?![\w])")
_CAPS_SINGLE = re.compile(r"(?<![\w])[A-ZÁÉÍÓÖŐÚÜŰÄÀÂÇÈÊËÎÏÔÙÛÑÃÕА-ЯЁ]{6,}(?![\w])")
_BANG = re.compile(r"[!?¡¿]*!(?:\s?[!?¡¿1]){2,}|(?:\?\s?!|!\s?\?)[!?]*")


def _compile(kind: str) -> CaselessPattern:
    parts = [p for lang_patterns in PATTERNS[kind].values() for p in lang_patterns]
    parts.sort(key=len, reverse=True)  # prefer the longest alternative at a position
    return CaselessPattern(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])")


@dataclass
class CueDetector:
    """Find named escalation cues with their spans.

    Args:
        kinds: cue kinds to look for (default: all of :data:`CUE_KINDS`).
        max_chars: only the first ``max_chars`` characters of a text are scanned (bounds the cost on huge
          input).
        min_caps_letters: shouting needs at least this many upper-case letters in a run.
    """

    kinds: Sequence[str] = CUE_KINDS
    max_chars: int = 20_000
    min_caps_letters: int = 8
    _regexes: dict[str, CaselessPattern] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(CUE_KINDS))
        if unknown:
            raise ValueError(f"unknown cue kinds {unknown}; choose from {list(CUE_KINDS)}")
        self._regexes = {k: _compile(k) for k in self.kinds if k != "shouting"}

    def detect(self, text: str, *, message_index: int | None = None, source: str | None = None) -> list[Cue]:
        """Cues in ``text``, sorted by position; overlapping cues of one kind are merged to the first."""
        if not text:
            return []
        text = text[: self.max_chars]
        found: list[Cue] = []
        lowered = text.lower()
        for kind, regex in self._regexes.items():
            last_end = -1
            for start, end in regex.spans(text, lowered):
                if start < last_end:
                    continue
                if kind in _NEGATABLE and _NEGATION.search(text[max(0, start - 30) : start]):
                    continue
                found.append(self._cue(kind, text[start:end], start, end, message_index, source))
                last_end = end
        if "shouting" in self.kinds:
            found += self._shouting(text, message_index, source)
        found.sort(key=lambda c: (c.start, c.end))
        return found

    def _cue(self, kind: str, text: str, start: int, end: int, index: int | None, source: str | None) -> Cue:
        return Cue(kind=kind, text=text, start=start, end=end, message_index=index, source=source)

    def _shouting(self, text: str, index: int | None, source: str | None) -> list[Cue]:
        out: list[Cue] = []
        letters = list(filter(str.isalpha, text))
        upper = sum(map(str.isupper, letters))
        if len(letters) >= 20 and upper / len(letters) > 0.7:  # the whole message in capitals
            out.append(self._cue("shouting", text.strip()[:80], 0, len(text.rstrip()), index, source))
        else:
            taken: list[tuple[int, int]] = []
            for regex in (_CAPS_RUN, _CAPS_SINGLE):
                for m in regex.finditer(text):
                    if sum(c.isalpha() for c in m.group(0)) < self.min_caps_letters and regex is _CAPS_RUN:
                        continue
                    if any(m.start() < e and s < m.end() for s, e in taken):
                        continue
                    taken.append((m.start(), m.end()))
                    out.append(self._cue("shouting", m.group(0), m.start(), m.end(), index, source))
        for m in _BANG.finditer(text):
            out.append(self._cue("shouting", m.group(0), m.start(), m.end(), index, source))
        return out

    def detect_many(self, texts: Iterable[str]) -> list[list[Cue]]:
        """:meth:`detect` for each text."""
        return [self.detect(t) for t in texts]


_DEFAULT: CueDetector | None = None


def detect_cues(text: str, *, message_index: int | None = None, source: str | None = None) -> list[Cue]:
    """Escalation cues in ``text`` with the default :class:`CueDetector`."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = CueDetector()
    return _DEFAULT.detect(text, message_index=message_index, source=source)
