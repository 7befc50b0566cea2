"""Pipeline steps: ``sentiment`` (sentiment, trajectory, cues, escalation risk) and ``priority`` (P1-P4 with
the rules that fired).

Options (``TriageConfig.options``)::

    {"sentiment": {"model": "sentiment", "per_message": true, "max_messages": 50},
     "priority": {"rules": "priority_rules.json"}}     # a file, or the rules inline as a mapping
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from triage.errors import ModelNotAvailableError
from triage.schema import Prediction, SentimentResult
from triage.sentiment.cues import CueDetector
from triage.sentiment.priority import PriorityRules, suggest_priority
from triage.sentiment.scorer import DEFAULT_MODEL, SentimentScorer, escalation_risk, ticket_parts
from triage.steps import StepContext, StepOptions, TicketState, options_for, single_threaded_blas

#: What the sentiment and priority steps read of a ticket (its parts, normalised by the normalize step).
_READS = ("state.message_texts", "state.normalized")


def _parts(state: TicketState) -> list:
    """The customer's parts of a pipeline ticket, reusing the normalised texts the normalize step kept."""
    return ticket_parts(state.ticket, state.message_texts, normalized=state.normalized)


class SentimentOptions(StepOptions):
    """Options of the ``sentiment`` step."""

    model: str | Path | None = Field(
        None,
        description="Sentiment head: bundled name or folder (default: the bundled one; must load if set).",
    )
    per_message: bool = Field(True, description="Score each customer message for the trajectory.")
    max_messages: int = Field(
        50, ge=1, description="Customer messages kept for the trajectory (the last ones)."
    )
    cue_kinds: list[str] | None = Field(None, description="Cue kinds to detect (default: all).")


class PriorityOptions(StepOptions):
    """Options of the ``priority`` step."""

    rules: str | Path | dict[str, Any] | None = Field(
        None, description="Priority rules: a JSON file, or the rules inline as a mapping (default: built-in)."
    )


class SentimentStep:
    """Fill ``result.sentiment`` for a batch: the ticket-level score reuses the pipeline's embedding; the
    customer parts of threads are encoded together in one batch for the per-message trajectory."""

    name = "sentiment"
    requires: ClassVar[tuple[str, ...]] = ("state.embedding", "state.text", *_READS)
    assigns: ClassVar[tuple[str, ...]] = ("result.sentiment",)
    Options = SentimentOptions

    def __init__(self, context: StepContext, options: SentimentOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        cues = CueDetector(kinds=tuple(options.cue_kinds)) if options.cue_kinds else None
        self.per_message = options.per_message
        self.max_messages = options.max_messages
        self.scorer = SentimentScorer(
            options.model if options.model is not None else DEFAULT_MODEL,
            encoder=context.encoder,
            cues=cues,
            max_chars=context.config.max_chars,
        )
        #: Why the default model could not be loaded (then results carry cues, a neutral zero-confidence
        #: label and a warning, so the rest of the pipeline still runs). A model named in options must load.
        self.missing: str | None = None
        try:
            head = self.scorer.head  # load now, so a broken model fails when the Triager is built
        except ModelNotAvailableError as exc:
            if options.model is not None:
                raise
            self.missing = str(exc)
        else:
            if getattr(head, "lexical_", None) is not None:
                head.lexical_.warm_up()

    def run(self, states: list[TicketState]) -> None:
        """Score every ticket of the batch."""
        if self.missing is not None:
            self._run_without_model(states)
            return
        items, t_emb, t_lang, p_lang = [], [], [], []
        for state in states:
            warnings: list[str] = []
            parts = _parts(state)
            customer = [p for p in parts if p.source == "message"]
            if len(customer) > self.max_messages:
                drop = {id(p) for p in customer[: len(customer) - self.max_messages]}
                parts = [p for p in parts if id(p) not in drop]
                warnings.append(f"sentiment trajectory uses the last {self.max_messages} customer messages")
            raw_len = len(state.ticket.customer_text)
            text = state.text
            if raw_len > self.scorer.max_input_chars:
                text = state.ticket.customer_text  # too long to be a message: scored neutral with a warning
            items.append((parts, text, warnings))
            t_emb.append(state.embedding if text is state.text else None)
            t_lang.append(state.result.language if state.result.language != "und" else None)
            langs = state.result.message_languages
            p_lang.append({i: lang for i, lang in enumerate(langs) if lang and lang != "und"})
        with single_threaded_blas():  # small products: a second BLAS thread only slows them down
            results = self.scorer.assemble(
                items,
                ticket_embeddings=t_emb,
                ticket_languages=t_lang,
                part_languages=p_lang,
                per_message=self.per_message,
            )
        for state, result in zip(states, results, strict=True):
            state.result.sentiment = result
            state.result.warnings.extend(f"sentiment: {w}" for w in result.warnings)

    def _run_without_model(self, states: list[TicketState]) -> None:
        for state in states:
            parts = _parts(state)
            cues = [
                c
                for p in parts
                for c in self.scorer.cues.detect(p.text, message_index=p.index, source=p.source)
            ]
            warning = f"sentiment model unavailable, cues only: {self.missing}"
            state.result.sentiment = SentimentResult(
                label="neutral",
                score=0.0,
                confidence=0.0,
                cues=cues,
                escalation_risk=escalation_risk(0.0, cues, None),
                warnings=[warning],
            )
            state.result.warnings.append(f"sentiment: {warning}")


class PriorityStep:
    """Fill ``result.priority`` with a P1-P4 suggestion and its reasons.

    Reads ``result.category`` (when the classify step ran), ``result.sentiment`` (cues, score, trend; cues are
    detected here when the sentiment step did not run) and ``ticket.metadata`` (VIP flag, tier...). If a
    trained
    priority head already filled ``result.priority``, its label is kept and the rules are added as evidence.
    """

    name = "priority"
    requires: ClassVar[tuple[str, ...]] = _READS
    assigns: ClassVar[tuple[str, ...]] = ("result.priority",)
    Options = PriorityOptions

    def __init__(self, context: StepContext, options: PriorityOptions | None = None) -> None:
        options = options_for(type(self), context, options)
        rules = options.rules
        if rules is None:
            self.rules = PriorityRules()
        elif isinstance(rules, dict):
            self.rules = PriorityRules.parse(rules, source="options.priority.rules")
        else:
            self.rules = PriorityRules.from_file(Path(str(rules)))
        self._cues: CueDetector | None = None

    def _detect(self, state: TicketState) -> list:
        if self._cues is None:
            self._cues = CueDetector()
        parts = _parts(state)
        return [c for p in parts for c in self._cues.detect(p.text, message_index=p.index, source=p.source)]

    def run(self, states: list[TicketState]) -> None:
        """Suggest a priority for every ticket of the batch."""
        for state in states:
            result = state.result
            cues = result.sentiment.cues if result.sentiment is not None else self._detect(state)
            suggestion = suggest_priority(
                self.rules,
                cues=cues,
                sentiment=result.sentiment,
                metadata=state.ticket.metadata,
                category=result.category,
            )
            if isinstance(result.priority, Prediction):  # a trained head decided: keep it, add the reasons
                result.priority.evidence.extend(
                    e.model_copy(update={"text": f"rules suggest {suggestion.label}: {e.text}"})
                    if e.label == "total"
                    else e
                    for e in suggestion.evidence
                )
            else:
                result.priority = suggestion
