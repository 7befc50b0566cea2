"""Summaries of tickets and threads: extractive by default (any language), abstractive with a local model.

>>> from triage.summarize import Summarizer
>>> summary = Summarizer()("My order 12345 has not arrived. I already checked the tracking. Please help.")
>>> summary.text, summary.problem.text, [f.text for f in summary.facts]

``Summarizer`` takes tickets (a :class:`~triage.schema.Ticket`, a dict with any accepted field names, or a
string), one or a batch. In the pipeline, :class:`SummarizeStep` fills ``TriageResult.summary`` using the
shared encoder only when ``centrality="embedding"`` (ONE encoder call per batch for all tickets' sentences).
"""

from __future__ import annotations

from triage.summarize.abstractive import AbstractiveSummarizer, GeneratedSummary, thread_text
from triage.summarize.cues import find_facts
from triage.summarize.extractive import ExtractiveSummarizer, Weights
from triage.summarize.sentences import Sentence, split_sentences, word_count
from triage.summarize.step import SummarizeStep
from triage.summarize.summarizer import Summarizer
from triage.tickets import Part, ticket_parts

__all__ = [
    "AbstractiveSummarizer",
    "ExtractiveSummarizer",
    "GeneratedSummary",
    "Part",
    "Sentence",
    "SummarizeStep",
    "Summarizer",
    "Weights",
    "find_facts",
    "split_sentences",
    "thread_text",
    "ticket_parts",
    "word_count",
]
