"""Pipeline steps: ``kb`` fills ``result.suggestions``; ``similar`` fills ``result.similar``.

Both are opt-in (they need a knowledge base / a ticket index) and reuse the ticket embedding the ``encode``
step computed: the ticket is never encoded twice. Options (:class:`KnowledgeBaseOptions`,
:class:`SimilarTicketsOptions`) come from ``TriageConfig.options``::

    {"steps": [..., "kb", "similar"],
     "options": {"kb": {"path": "help-articles/", "k": 3},
                 "similar": {"path": "past-tickets.jsonl", "k": 5}}}
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import numpy as np
from pydantic import Field

from triage.errors import TriageError
from triage.steps import StepContext, StepOptions, TicketState, options_for

__all__ = ["KnowledgeBaseOptions", "KnowledgeBaseStep", "SimilarTicketsOptions", "SimilarTicketsStep"]


class KnowledgeBaseOptions(StepOptions):
    """Options of the ``kb`` step."""

    path: str | Path = Field(
        description="a knowledge base saved by `triage kb build`, or a folder/CSV of articles"
    )
    k: int = Field(3, ge=1, description="Articles suggested per ticket.")
    min_margin: float | None = Field(None, description="Abstain when the top article wins by less.")
    feedback: str | Path | None = Field(None, description="JSONL file agents' feedback is logged to.")
    mode: Literal["fused", "dense", "bm25"] | None = Field(None, description="Retrieval mode.")
    signature: str | None = Field(None, description="Text that ends each draft reply.")


class SimilarTicketsOptions(StepOptions):
    """Options of the ``similar`` step."""

    path: str | Path = Field(
        description="a ticket index saved by `triage similar index`, or a JSONL/CSV file of past tickets"
    )
    k: int = Field(5, ge=1, description="Similar tickets listed per ticket.")
    add: bool = Field(
        False, description="Add each new ticket with an id to the in-memory index after search."
    )


def _embeddings(states: list[TicketState]) -> np.ndarray:
    missing = [s.result.ticket_id for s in states if s.embedding is None]
    if missing:
        raise TriageError(f"tickets {missing[:5]} have no embedding: the 'encode' step must run first")
    return np.stack([np.asarray(s.embedding, dtype=np.float32) for s in states])


class KnowledgeBaseStep:
    """Suggest knowledge-base articles (with a draft reply in the customer's language) for each ticket.

    Options (``options["kb"]``): :class:`KnowledgeBaseOptions`.
    """

    name = "kb"
    requires: ClassVar[tuple[str, ...]] = ("state.embedding", "state.text")
    assigns: ClassVar[tuple[str, ...]] = ("result.suggestions",)
    Options = KnowledgeBaseOptions

    def __init__(self, context: StepContext, options: KnowledgeBaseOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        from triage.kb.base import KnowledgeBase
        from triage.kb.suggest import ReplySuggester

        self.kb = KnowledgeBase.open(options.path, context.encoder)
        if options.mode:
            self.kb.mode = options.mode
        extra = options.model_dump(include={"min_margin", "signature"}, exclude_none=True)
        self.suggester = ReplySuggester(self.kb, k=options.k, feedback=options.feedback, **extra)

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

    Options (``options["similar"]``): :class:`SimilarTicketsOptions`; with ``add``, later tickets of the
    run find the earlier ones.
    """

    name = "similar"
    requires: ClassVar[tuple[str, ...]] = ("state.embedding",)
    assigns: ClassVar[tuple[str, ...]] = ("result.similar",)
    Options = SimilarTicketsOptions

    def __init__(self, context: StepContext, options: SimilarTicketsOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        from triage.kb.similar import TicketIndex

        self.index = TicketIndex.open(options.path, context.encoder)
        self.k = options.k
        self.add = options.add

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
