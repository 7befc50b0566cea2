"""Case-insensitive lexicon regexes matched on the lower-cased text where that gives the same matches.

A big ``re.IGNORECASE`` alternation (cue lexicons: hundreds of phrases in eight languages) is slow in Python's
engine: an alternative starting with a case-folded letter cannot be skipped on its first character, so every
alternative is tried at every word start. The same expression compiled case-sensitively and run on
``text.lower()`` skips them and is 2-3x faster. The matches (spans) are the same when

* the expression has no upper-case literal and no case-sensitive group (``(?-i:...)``);
* ``text.lower()`` has the text's length (one character per character, so the spans line up);
* the text holds none of the letters that ``re.IGNORECASE`` equates with a letter of the expression
  although ``str.lower`` does not map them to it (``ſ`` for ``s``, ``ı`` for ``i``, ``ᲀ`` for ``в``...):
  those texts are matched case-insensitively, as before;
* ``\\w``, ``\\d`` and ``\\s`` agree on a character and its lower case (checked for every code point in
  ``tests/test_fast_paths.py``).

Where this Python does not expose the table of those letters, every text is matched case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["CaselessPattern"]


def _extra_cases() -> dict[int, tuple[int, ...]] | None:
    try:
        from re._casefix import _EXTRA_CASES  # CPython >= 3.11: the letters IGNORECASE equates beyond lower()
    except ImportError:  # pragma: no cover - other interpreters: the case-insensitive path only
        return None
    return dict(_EXTRA_CASES)


_EXTRA = _extra_cases()
#: Scoped flags that switch case-insensitivity off inside the expression.
_CASE_SENSITIVE_GROUP = re.compile(r"\(\?[a-zA-Z]*-[a-zA-Z]*i")


def _members(pattern: str) -> set[str]:
    """Every character of the expression, and every character of each ``x-y`` span in it (an
    over-approximation of what its literals and classes can match, which only makes the guard stricter)."""
    chars = set(pattern)
    for start, end in re.findall(r"(.)-(.)", pattern, flags=re.DOTALL):
        if start < end:
            chars.update(map(chr, range(ord(start), ord(end) + 1)))
    return chars


def _upper_literal(pattern: str) -> bool:
    """Whether ``pattern`` holds an upper-case letter that is not an escape (``\\W``, ``\\S``...)."""
    escaped = False
    for char in pattern:
        if not escaped and char != char.lower():
            return True
        escaped = not escaped and char == "\\"
    return False


class CaselessPattern:
    """``re.compile(pattern, flags | re.IGNORECASE)`` with the same ``finditer`` spans, ``findall`` and
    ``sub`` (plain replacement) results, faster where the lower-cased text may be matched instead (see the
    module docstring).

    ``regex`` is the case-insensitive expression (for anything else, or to see the pattern).
    """

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.regex = re.compile(pattern, flags | re.IGNORECASE)
        self.pattern = pattern
        self._cased: re.Pattern[str] | None = None
        self._variants: frozenset[str] = frozenset()
        if _EXTRA is None or _upper_literal(pattern) or _CASE_SENSITIVE_GROUP.search(pattern):
            return
        self._variants = frozenset(chr(x) for c in _members(pattern) for x in _EXTRA.get(ord(c), ()))
        self._cased = re.compile(pattern, flags & ~re.IGNORECASE)

    def _plan(self, text: str, lowered: str | None = None) -> tuple[re.Pattern[str], str]:
        if self._cased is not None:
            lowered = text.lower() if lowered is None else lowered
            if len(lowered) == len(text) and self._variants.isdisjoint(lowered):
                return self._cased, lowered
        return self.regex, text

    def spans(self, text: str, lowered: str | None = None) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of each match of ``regex.finditer(text)``; ``lowered``: ``text.lower()`` when the
        caller has it already (several patterns on one text)."""
        regex, haystack = self._plan(text, lowered)
        return (m.span() for m in regex.finditer(haystack))

    def findall(self, text: str) -> list[str]:
        """``regex.findall(text)`` (the matched text, from ``text``; groups are not split out)."""
        if self.regex.groups:
            return self.regex.findall(text)
        return [text[start:end] for start, end in self.spans(text)]

    def count(self, text: str) -> int:
        """How many non-overlapping matches ``text`` holds."""
        regex, haystack = self._plan(text)
        return sum(1 for _ in regex.finditer(haystack))

    def search(self, text: str) -> bool:
        """Whether ``text`` holds a match."""
        regex, haystack = self._plan(text)
        return regex.search(haystack) is not None

    def sub(self, replacement: str, text: str) -> str:
        """``regex.sub(replacement, text)`` for a replacement without group references."""
        if "\\" in replacement:
            return self.regex.sub(replacement, text)
        out: list[str] = []
        last = 0
        for start, end in self.spans(text):
            out += (text[last:start], replacement)
            last = end
        out.append(text[last:])
        return "".join(out)
