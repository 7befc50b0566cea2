"""The ``summarize`` pipeline step and helpers that turn a ticket into summariser parts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field

from triage.schema import MaskedSegment, Summary
from triage.steps import StepContext, StepOptions, TicketState, options_for, single_threaded_blas
from triage.summarize.extractive import Weights
from triage.tickets import Part, ticket_parts


class SummarizeOptions(StepOptions):
    """Options of the ``summarize`` step (see :class:`~triage.summarize.Summarizer`)."""

    method: Literal["extractive", "abstractive"] = "extractive"
    model: str | Path | None = Field(None, description="A local seq2seq model folder (abstractive).")
    abstractive: dict[str, Any] | None = Field(None, description="AbstractiveSummarizer options.")
    max_sentences: int = Field(3, ge=1)
    max_words: int = Field(60, ge=1)
    centrality: Literal["embedding", "lexical", "none"] | None = Field(
        None, description="lexical (default, no model), embedding (e5 sentence embeddings) or none."
    )
    kind: Literal["query", "passage"] = "passage"
    max_candidates: int = Field(40, ge=1)
    weights: dict[str, float] | None = Field(None, description="Weights fields of the ranking features.")
    batch_size: int = Field(64, ge=1)
    duplicate_threshold: float = 0.5


def build_summarizer(options: SummarizeOptions, encoder: Any) -> Any:
    """A :class:`~triage.summarize.Summarizer` from the step's options.

    ``encoder`` may be a zero-argument callable returning the encoder; it is called only when needed.
    """
    from triage.summarize.summarizer import Summarizer

    if options.centrality != "embedding":
        encoder = None
    elif callable(encoder) and not hasattr(encoder, "encode"):
        encoder = encoder()
    extractive = options.model_dump(
        include={"max_sentences", "max_words", "centrality", "kind", "max_candidates", "batch_size"}
    )
    return Summarizer(
        encoder=encoder,
        method=options.method,
        model=options.model,
        abstractive_options=options.abstractive,
        weights=Weights(**options.weights) if options.weights is not None else None,
        duplicate_threshold=options.duplicate_threshold,
        **extractive,
    )


class SummarizeStep:
    """Fill ``result.summary`` for a batch: extractive by default (one encoder call per batch).

    Options (``TriageConfig.options["summarize"]``): :class:`SummarizeOptions`; ``method="abstractive"``
    with ``model`` (a local seq2seq folder) uses the abstractive backend.

    Offsets (sentences, structured fields, facts) index each part's normalised text as the ticket gave it,
    before any masking (see :class:`~triage.schema.SummaryPoint`); after the ``redact`` step the texts
    quoted stay masked and the offsets are mapped back with the positions that step recorded.
    """

    name = "summarize"
    requires: ClassVar[tuple[str, ...]] = ("state.message_texts", "state.normalized")
    assigns: ClassVar[tuple[str, ...]] = ("result.summary",)
    Options = SummarizeOptions

    def __init__(self, context: StepContext, options: SummarizeOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        self.summarizer = build_summarizer(options, lambda: context.encoder)

    def run(self, states: list[TicketState]) -> None:
        parts = [ticket_parts(s.ticket, s.message_texts, normalized=s.normalized) for s in states]
        with single_threaded_blas():  # per-ticket similarity matrices are tiny
            summaries, notes = self.summarizer.summarize_parts_with_notes(parts)
        for state, summary, note, doc in zip(states, summaries, notes, parts, strict=True):
            if state.result.redactions is not None:
                unmask_offsets(summary, doc, state.result.masked_parts)
            state.result.summary = summary if summary.text else Summary(text="", method=summary.method)
            if note:
                state.result.warnings.append(note)


def unmask_offsets(
    summary: Summary,
    parts: Sequence[Part],
    masked: Mapping[tuple[str, int | None], tuple[int, Sequence[MaskedSegment]]],
) -> None:
    """Give ``summary``'s offsets in the unmasked normalised parts (in place); its texts stay masked.

    The summariser read masked parts, so its offsets index them; ``masked`` (``TriageResult.masked_parts``,
    recorded by the redact step) says where each placeholder sits and what span it replaced. An offset into
    a part the redact step did not record (a field over ``max_input_chars``) cannot be mapped: it is None.
    """
    from triage.pii.step import original_span

    lengths = {(p.source, p.message_index): len(p.text) for p in parts}
    points = [*summary.sentences, summary.problem, summary.request, *summary.tried, summary.status]
    for item in [*points, *summary.facts]:
        if item is None or item.start is None or item.end is None:
            continue
        key = (item.source, item.message_index if item.source == "message" else None)
        entry = masked.get(key)
        if entry is None or lengths.get(key, 0) > entry[0]:  # not the masked text that was recorded
            item.start = item.end = None
            continue
        item.start, item.end = original_span(entry[1], item.start, item.end)
