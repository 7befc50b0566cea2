"""The ``summarize`` pipeline step and helpers that turn a ticket into summariser parts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from triage.schema import MaskedSegment, Summary
from triage.summarize.extractive import Weights
from triage.tickets import Part, ticket_parts

if TYPE_CHECKING:  # pragma: no cover
    from triage.pipeline import TicketState, Triager


_EXTRACTIVE_OPTIONS = {
    "max_sentences",
    "max_words",
    "centrality",
    "kind",
    "max_candidates",
    "batch_size",
    "duplicate_threshold",
}


def build_summarizer(options: dict[str, Any], encoder: Any) -> Any:
    """A :class:`~triage.summarize.Summarizer` from step options (see :class:`SummarizeStep`).

    ``encoder`` may be a zero-argument callable returning the encoder; it is called only when needed.
    """
    from triage.summarize import Summarizer

    unknown = set(options) - _EXTRACTIVE_OPTIONS - {"method", "model", "weights", "abstractive"}
    if unknown:
        raise ValueError(
            f"unknown summarize options {sorted(unknown)}; known: "
            f"{sorted(_EXTRACTIVE_OPTIONS | {'method', 'model', 'weights', 'abstractive'})}"
        )
    kwargs = {k: options[k] for k in _EXTRACTIVE_OPTIONS if k in options}
    if "weights" in options:
        kwargs["weights"] = Weights(**options["weights"])
    if kwargs.get("centrality", "lexical") != "embedding":
        encoder = None
    elif callable(encoder) and not hasattr(encoder, "encode"):
        encoder = encoder()
    return Summarizer(
        encoder=encoder,
        method=options.get("method", "extractive"),
        model=options.get("model"),
        abstractive_options=options.get("abstractive"),
        **kwargs,
    )


class SummarizeStep:
    """Fill ``result.summary`` for a batch: extractive by default (one encoder call per batch).

    Options (``TriageConfig.options["summarize"]``): ``max_sentences`` (3), ``max_words`` (60),
    ``centrality`` ("lexical", default: no model; "embedding": e5 sentence embeddings, one encoder call per
    batch; "none"), ``kind`` ("passage"), ``max_candidates`` (40), ``duplicate_threshold`` (0.5),
    ``weights`` (dict of :class:`~triage.summarize.extractive.Weights` fields), ``method``
    ("extractive" | "abstractive"), ``model`` (a local seq2seq model directory for the abstractive backend)
    and ``abstractive`` (dict of :class:`~triage.summarize.AbstractiveSummarizer` options).

    Offsets (sentences, structured fields, facts) index each part's normalised text as the ticket gave it,
    before any masking (see :class:`~triage.schema.SummaryPoint`); after the ``redact`` step the texts
    quoted stay masked and the offsets are mapped back with the positions that step recorded.
    """

    name = "summarize"
    requires: tuple[str, ...] = ("normalize",)

    def __init__(self, triager: Triager) -> None:
        options = dict(triager.config.options.get(self.name, {}))
        self.summarizer = build_summarizer(options, lambda: triager.encoder)

    def run(self, states: list[TicketState]) -> None:
        from triage.pipeline import single_threaded_blas

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
