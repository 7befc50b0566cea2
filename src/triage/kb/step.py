"""Pipeline steps: ``kb`` fills ``result.suggestions``; ``similar`` fills ``result.similar``.

Both are opt-in (they need a knowledge base / a ticket index) and reuse the ticket embedding the ``encode``
step computed: the ticket is never encoded twice. Options come from ``TriageConfig.options``::

    {"steps": [..., "kb", "similar"],
     "options": {"kb": {"path": "help-articles/", "k": 3},
                 "similar": {"path": "past-tickets.jsonl", "k": 5}}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from triage.errors import TriageError

if TYPE_CHECKING:  # pragma: no cover
    from triage.pipeline import TicketState, Triager

__all__ = ["KnowledgeBaseStep", "SimilarTicketsStep"]


def _options(triager: Triager, step: str, allowed: set[str]) -> dict[str, Any]:
    options = dict(triager.config.options.get(step) or {})
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TriageError(f"unknown options for the {step!r} step: {unknown}; allowed: {sorted(allowed)}")
    if not options.get("path"):
        what = "a knowledge base saved by `triage kb build`, or a folder of Markdown/HTML articles, a CSV"
        if step == "similar":
            what = "a ticket index saved by `triage similar index`, or a JSONL/CSV file of past tickets"
        raise TriageError(f"the {step!r} step needs options.{step}.path: {what}")
    return options


def _embeddings(states: list[TicketState]) -> np.ndarray:
    missing = [s.result.ticket_id for s in states if s.embedding is None]
    if missing:
        raise TriageError(f"tickets {missing[:5]} have no embedding: the 'encode' step must run first")
    return np.stack([np.asarray(s.embedding, dtype=np.float32) for s in states])


class KnowledgeBaseStep:
    """Suggest knowledge-base articles (with a draft reply in the customer's language) for each ticket.

    Options (``options["kb"]``): ``path`` (required), ``k`` (3), ``min_margin`` (abstain below),
    ``feedback`` (JSONL log path), ``mode`` (``fused``/``dense``/``bm25``), ``signature`` (ends drafts).
    """

    name = "kb"
    requires: tuple[str, ...] = ("encode",)

    def __init__(self, triager: Triager) -> None:
        from triage.kb.base import KnowledgeBase
        from triage.kb.suggest import ReplySuggester

        options = _options(triager, "kb", {"path", "k", "min_margin", "feedback", "mode", "signature"})
        self.kb = KnowledgeBase.open(options["path"], triager.encoder)
        if options.get("mode"):
            self.kb.mode = options["mode"]
        extra = {key: options[key] for key in ("min_margin", "signature") if key in options}
        self.suggester = ReplySuggester(
            self.kb, k=int(options.get("k", 3)), feedback=options.get("feedback"), **extra
        )

    def run(self, states: list[TicketState]) -> None:
        embeddings = _embeddings(states)
        languages = [s.result.language if s.result.language not in ("", "und") else None for s in states]
        sets = self.suggester.suggest_batch(
            [s.text for s in states], languages=languages, embeddings=embeddings
        )
        for state, found in zip(states, sets, strict=True):
            state.result.suggestions = found.suggestions


class SimilarTicketsStep:
    """Find similar past tickets (flagging likely duplicates) for each ticket.

    Options (``options["similar"]``): ``path`` (required: a saved ticket index or a JSONL/CSV of tickets),
    ``k`` (5), ``add`` (False: when True, each new ticket with an id is added to the in-memory index after
    it is searched, so later tickets in the run find it).
    """

    name = "similar"
    requires: tuple[str, ...] = ("encode",)

    def __init__(self, triager: Triager) -> None:
        from triage.kb.similar import TicketIndex

        options = _options(triager, "similar", {"path", "k", "add"})
        self.index = TicketIndex.open(options["path"], triager.encoder)
        self.k = int(options.get("k", 5))
        self.add = bool(options.get("add", False))

    def run(self, states: list[TicketState]) -> None:
        embeddings = _embeddings(states)
        exclude = [[s.ticket.id] if s.ticket.id else [] for s in states]
        languages = [s.result.language if s.result.language not in ("", "und") else None for s in states]
        found = self.index.find_similar_batch(embeddings, self.k, exclude=exclude, languages=languages)
        for state, similar in zip(states, found, strict=True):
            state.result.similar = similar
        if self.add:
            fresh = [
                (s, e)
                for s, e in zip(states, embeddings, strict=True)
                if s.ticket.id and s.ticket.id not in self.index
            ]
            if fresh:
                self.index.add(
                    [s.ticket for s, _ in fresh],
                    embeddings=np.stack([e for _, e in fresh]),
                    languages=[s.result.language if s.result.language != "und" else None for s, _ in fresh],
                )
