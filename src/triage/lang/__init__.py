"""Language data: greetings, sign-offs, stop words and cue lexicons, one module per language code.

This is the bottom floor of the package: the modules here hold data only (tuples, frozensets and dicts of
lower-case phrases or regular-expression fragments) and import nothing from :mod:`triage`. The components
that read them (:mod:`triage.normalize`, :mod:`triage.pii`, :mod:`triage.summarize.cues`,
:mod:`triage.sentiment.cues`) build their own patterns from it, each over the languages it covers.

Where two components had different lists for one idea, each module keeps a shared list and names the
difference explicitly (``SUMMARY_GREETINGS``, ``NAME_SALUTATIONS``, ``PII_SKIPPED_CLOSINGS``...).

>>> from triage import lang
>>> "best regards" in lang.gather("CLOSINGS", ["en"])
True
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType

__all__ = ["FIELDS", "LANGUAGES", "gather", "module"]

#: Every language with a data module, in the order the cue lexicons list them.
LANGUAGES: tuple[str, ...] = ("en", "de", "hu", "ru", "fr", "es", "it", "pt")

#: What a language module may define (a module leaves out what it has no data for).
FIELDS: frozenset[str] = frozenset(
    {
        # greetings and introductions
        "GREETINGS",  # greetings every reader of the language uses
        "SUMMARY_GREETINGS",  # more greetings only the summariser's boilerplate test counts
        "NAME_SALUTATIONS",  # more salutations only the PII name finder looks for a name after
        "INTRODUCTIONS",  # self-introductions before a name (regex fragments)
        "AMBIGUOUS_INTRODUCTIONS",  # the introductions that are everyday phrases too
        "TITLES",  # titles before a name (regex fragments)
        "ACADEMIC_TITLES",  # academic titles before a name (regex fragments)
        "LOWERCASE_TITLES",  # titles that still count written in lower case
        # sign-offs
        "CLOSINGS",  # unambiguous closing phrases
        "WEAK_CLOSINGS",  # short closings that are ordinary words too
        "THANKS",  # thank-you lines that close a message
        "PII_SKIPPED_CLOSINGS",  # closings the PII name finder does not read as a signature opener
        "EVERYDAY_CLOSINGS",  # closings that are everyday words: after a comma they open no signature
        "MOBILE_SIGN_OFFS",  # "Sent from my iPhone" lines (regex fragments)
        # words and cues
        "NAME_STOPWORDS",  # capitalised words that are never a person's name
        "SUMMARY_CUES",  # summariser cue phrases by kind (thanks, pleasantry, problem, ...)
        "SENTIMENT_CUES",  # escalation cues by kind (regex fragments)
        "NEGATIONS",  # words that negate the cue after them (regex fragments)
    }
)


def module(code: str) -> ModuleType:
    """The data module of language ``code`` (``"en"``, ``"de"``...)."""
    if code not in LANGUAGES:
        raise ValueError(f"no language data for {code!r}; choose from {list(LANGUAGES)}")
    return importlib.import_module(f"{__name__}.{code}")


def gather(field: str, codes: Iterable[str], kind: str | None = None) -> tuple[str, ...]:
    """``field`` of each language in ``codes``, concatenated in that order (languages without it add nothing).

    For the dict fields (``SUMMARY_CUES``, ``SENTIMENT_CUES``) ``kind`` picks the entry.
    """
    if field not in FIELDS:
        raise KeyError(f"unknown language data field {field!r}")
    out: list[str] = []
    for code in codes:
        value = getattr(module(code), field, ())
        if kind is not None:
            value = value.get(kind, ())
        out.extend(value)
    return tuple(out)
